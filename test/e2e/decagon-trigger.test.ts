/**
 * The Decagon Trigger in a real n8n 2.41.1: the workflow is published, `n8n start` runs it, and n8n's
 * own poll scheduler (every minute, on the minute) calls the node. A conversation added to the
 * stand-in comes out as an execution; a message added to it later comes out again as "updated".
 * Slow by nature: each step waits for the next full minute, so this file takes about 1.5-3.5 minutes.
 */
import type { DecagonStandin } from '../standins/decagon';
import { startDecagonStandin } from '../standins/decagon';
import type { N8nInstance, N8nServer } from '../support/n8n-instance';
import { DEFAULT_N8N_VERSION, createN8nInstance } from '../support/n8n-instance';
import { decagonCredential, triggerWorkflow } from './decagon-workflows';

jest.setTimeout(480_000);

const WORKFLOW_ID = 'wfE2eTrigger0001';
const POLL_WAIT_MS = 150_000; // one poll interval, the stand-in's pacing and n8n's slack, twice over

let standin: DecagonStandin;
let n8n: N8nInstance;
let server: N8nServer;

beforeAll(async () => {
	standin = await startDecagonStandin({ count: 30 });
	const credential = decagonCredential('decagonE2eTrig01', 'Decagon stand-in', standin.url, 'test-decagon-key');
	n8n = await createN8nInstance({
		credentials: [credential],
		workflows: [
			triggerWorkflow(WORKFLOW_ID, 'Decagon Trigger: new and changed conversations', credential, {
				// Everything changed from now on; the 30 generated conversations are all older.
				startFrom: 'date',
				startDate: new Date().toISOString(),
				output: 'conversation',
				options: { settleSeconds: 0, lookbackMinutes: 1 },
			}),
		],
	});
	const started = Date.now();
	server = await n8n.start({ publish: [WORKFLOW_ID] });
	console.log(`n8n start: healthy after ${Date.now() - started} ms at ${server.baseUrl}`);
}, 300_000);

afterAll(async () => {
	const peaks = await server?.stop();
	if (peaks) console.log(`n8n start peak RSS ${peaks.peakRssKb ?? '?'} kB (with task runner ${peaks.peakRssKbWithChildren ?? '?'} kB)`);
	await n8n?.dispose();
	await standin?.close();
});

test('a new conversation starts the workflow, and after an n8n restart a new message in it starts it again as "updated"', async () => {
	const now = new Date().toISOString();
	const added = standin.addConversation({
		created_at: now,
		messages: [{ text: 'Hello from the e2e test', role: 'USER', created_at: now }],
	});
	const id = added.conversation_id;

	let waited = Date.now();
	const first = await server.waitForExecution({
		workflowId: WORKFLOW_ID,
		timeoutMs: POLL_WAIT_MS,
		predicate: (execution) => execution.outputOf('Decagon Trigger').some((item) => item.conversation_id === id),
	});
	console.log(`first execution ${first.id} after ${Date.now() - waited} ms`);
	expect(first.mode).toBe('trigger');
	expect(first.status).toBe('success');
	const firstItems = first.outputOf('Decagon Trigger');
	// Only what changed after Start Date: the one conversation, as new, with its message.
	expect(firstItems.map((item) => [item.conversation_id, item.change_type])).toEqual([[id, 'new']]);
	expect((firstItems[0].messages as unknown[]).length).toBe(1);

	// n8n restarts between the two polls: the trigger's state lives in the workflow's static data only.
	await server.stop();
	server = await n8n.start();
	standin.addMessage(id, 'A second message from the e2e test');
	waited = Date.now();
	const second = await server.waitForExecution({
		workflowId: WORKFLOW_ID,
		timeoutMs: POLL_WAIT_MS,
		predicate: (execution) => execution.id !== first.id && execution.outputOf('Decagon Trigger').length > 0,
	});
	console.log(`second execution ${second.id} after ${Date.now() - waited} ms`);
	const secondItems = second.outputOf('Decagon Trigger');
	expect(secondItems.map((item) => [item.conversation_id, item.change_type])).toEqual([[id, 'updated']]);
	expect((secondItems[0].messages as Array<{ text: string }>).map((m) => m.text)).toEqual([
		'Hello from the e2e test',
		'A second message from the e2e test',
	]);

	// Nothing else ran. Pacing is per execution: n8n polls once when it activates the workflow at start-up,
	// and when that lands within a second of the minute's poll the two can meet Decagon's limit once,
	// which the shared retry policy absorbs (Retry-After). Without a restart there are none.
	const all = await server.executions({ workflowId: WORKFLOW_ID });
	expect(all.map((execution) => execution.status)).toEqual(['success', 'success']);
	expect(standin.stats().rateLimited).toBeLessThanOrEqual(2);
});

test("the credential test: a wrong key, a URL with a path and the right key (n8n 2.x: each with the credential's own message)", async () => {
	// A stand-in of its own: the trigger's polls must not share its rate limit.
	const apart = await startDecagonStandin({ count: 1 });
	try {
		const credentialTest = async (data: Record<string, unknown>) => {
			// Decagon allows 1 request per second; n8n repeats a request that drew a 401 at once.
			await new Promise((resolve) => setTimeout(resolve, 2_100));
			const answer = await server.rest<{ status?: string; message?: string; data?: { status: string; message: string } }>('/credentials/test', {
				method: 'POST',
				body: { credentials: { id: 'decagonE2eTrig01', name: 'Decagon stand-in', type: 'decagonApi', data: { region: 'custom', requestsPerSecond: 1, ...data } } },
			});
			return answer.data ?? answer;
		};
		const wrongKey = await credentialTest({ baseUrl: apart.url, apiKey: 'not-the-key' });
		const withPath = await credentialTest({ baseUrl: `${apart.url}/v1`, apiKey: apart.apiKey });
		expect(await credentialTest({ baseUrl: apart.url, apiKey: apart.apiKey })).toEqual(expect.objectContaining({ status: 'OK' }));
		expect(wrongKey.status).toBe('Error');
		expect(withPath.status).toBe('Error');
		// n8n 1.x's credential test never applies a credential's rules: its request error keeps no response.
		if (!DEFAULT_N8N_VERSION.startsWith('1.')) {
			expect(wrongKey.message).toMatch(/API key/);
			expect(withPath.message).toMatch(/No Decagon export API at this URL/);
		}
	} finally {
		await apart.close();
	}
});
