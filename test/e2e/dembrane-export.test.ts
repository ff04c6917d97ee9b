/**
 * dembrane ECHO in a real n8n 2.41.1: a project zip of 2,000 conversations with Unicode participant
 * names, streamed and split into exactly one item per transcript file, joined to its conversation.
 */
import { unzipSync } from 'fflate';

import type { DembraneStandin } from '../standins/dembrane';
import { passwordCredentialData, startDembraneStandin } from '../standins/dembrane';
import type { CredentialFixture, N8nInstance, WorkflowFixture } from '../support/n8n-instance';
import { createN8nInstance } from '../support/n8n-instance';
import { echoActionWorkflow } from './dembrane-workflows';

jest.setTimeout(600_000);

let standin: DembraneStandin;
let n8n: N8nInstance;
let projectId: string;

function exportWorkflow(id: string, credential: CredentialFixture, parameters: Record<string, unknown>): WorkflowFixture {
	return echoActionWorkflow(id, credential, { resource: 'project', operation: 'exportTranscripts', project: { __rl: true, mode: 'id', value: projectId }, ...parameters });
}

beforeAll(async () => {
	// The zip limit of production is lifted so the zip itself holds all 2,000.
	standin = await startDembraneStandin({ conversationsPerProject: 2000, chunksPerConversation: 3, chunkTextBytes: 120, zipConversationLimit: 0 });
	projectId = standin.listProjects().find((project) => standin.conversations(project.id).length === 2000)!.id;
	const credential: CredentialFixture = {
		id: 'dembraneE2eExp01',
		name: 'dembrane stand-in',
		type: 'dembraneEchoApi',
		data: passwordCredentialData(standin),
	};
	// A session token of no known login: the first request draws a 401, and n8n must log in again.
	const staleSession: CredentialFixture = {
		id: 'dembraneE2eExp02',
		name: 'dembrane stand-in, stale session',
		type: 'dembraneEchoApi',
		data: passwordCredentialData(standin, { sessionToken: standin.issueAccessToken({ ttlSeconds: -60 }) }),
	};
	const staleSessionToo: CredentialFixture = { ...staleSession, id: 'dembraneE2eExp03', name: 'dembrane stand-in, stale session too' };
	n8n = await createN8nInstance({
		credentials: [credential, staleSession, staleSessionToo],
		workflows: [
			exportWorkflow('wfE2eEchoSplit01', credential, {}),
			exportWorkflow('wfE2eEchoZip0001', credential, { output: 'zip' }),
			echoActionWorkflow('wfE2eEchoMiss001', credential, { resource: 'conversation', operation: 'get', conversationId: '00000000-0000-4000-8000-000000000000' }),
			echoActionWorkflow('wfE2eEchoNoTr001', credential, {
				resource: 'project',
				operation: 'exportTranscripts',
				project: { __rl: true, mode: 'id', value: standin.ids().noTranscriptsProjectId },
			}),
			echoActionWorkflow('wfE2eEcho503001', credential, { resource: 'conversation', operation: 'getMany', project: { __rl: true, mode: 'id', value: projectId }, limit: 5 }),
			echoActionWorkflow('wfE2eEchoRenew01', staleSession, { resource: 'project', operation: 'getMany', returnAll: true }),
			echoActionWorkflow('wfE2eEchoRenew02', staleSessionToo, {
				resource: 'report',
				operation: 'getLatest',
				project: { __rl: true, mode: 'id', value: '00000000-0000-4000-8000-00000000beef' },
			}),
		],
	});
}, 300_000);

afterAll(async () => {
	await n8n?.dispose();
	await standin?.close();
});

test('a zip of 2,000 conversations becomes exactly one item per transcript, Unicode names intact', async () => {
	const response = await fetch(`${standin.url}/api/projects/${projectId}/transcripts`, {
		headers: { authorization: `Bearer ${standin.issueAccessToken()}` },
	});
	const files = unzipSync(new Uint8Array(await response.arrayBuffer()));
	const fileCount = Object.keys(files).length;
	expect(fileCount).toBeGreaterThan(1500);

	const result = await n8n.execute('wfE2eEchoSplit01');
	expect(result.error?.message).toBeUndefined();
	const items = result.outputOf('ECHO');
	expect(items).toHaveLength(fileCount);
	expect(new Set(items.map((item) => item.conversationId)).size).toBe(fileCount);
	for (const item of items) {
		expect(item.matched).toBe(true);
		expect(item.transcript).toBe(Buffer.from(files[item.fileName as string]).toString('utf8'));
		expect(item.participantName ?? null).toBe(standin.conversation(String(item.conversationId))!.participant_name ?? null);
	}
	expect(items.some((item) => /[^\x00-\x7f]/.test(String(item.participantName ?? '')))).toBe(true);
	console.log(`2,000-conversation zip → ${items.length} items: node ${String(result.run.data.resultData.runData.ECHO[0].executionTime)} ms, peak RSS ${result.peakRssKb ?? '?'} kB`);
});

test('the zip as one file', async () => {
	const result = await n8n.execute('wfE2eEchoZip0001');
	expect(result.status).toBe('success');
	const [item] = result.outputOf('ECHO');
	expect(String(item.fileName)).toMatch(/_transcripts\.zip$/);
	expect(Number(item.bytes)).toBeGreaterThan(100_000);
});

describe("error answers read alike on every n8n version (n8n 1.x's request helper drops an error's response)", () => {
	test('a missing conversation: a 404 that says to check the ID, not a credential problem', async () => {
		const result = await n8n.execute('wfE2eEchoMiss001');
		expect(result.status).not.toBe('success');
		const error = result.errorOf('ECHO') ?? result.error;
		expect(error?.message).toMatch(/404/);
		expect(String(error?.description)).toMatch(/Check the ID/);
	});

	test("a project without transcripts: dembrane's 404 read as its notice, no error", async () => {
		const result = await n8n.execute('wfE2eEchoNoTr001');
		expect(result.error?.message).toBeUndefined();
		expect(result.outputOf('ECHO')).toEqual([]);
	});

	test('a 503 on a listing is retried', async () => {
		standin.configure({ faults: [{ request: 1, kind: '503', path: '/api/v2/bff/conversations' }] });
		try {
			const result = await n8n.execute('wfE2eEcho503001');
			expect(result.error?.message).toBeUndefined();
			expect(result.outputOf('ECHO')).toHaveLength(5);
			expect(standin.stats().faultsInjected).toBeGreaterThanOrEqual(1);
		} finally {
			standin.configure({ faults: [] });
		}
	});

	test("an error answer after n8n logged in again reads as it would with a fresh session (dembrane's own message)", async () => {
		const result = await n8n.execute('wfE2eEchoRenew02');
		expect(result.status).not.toBe('success');
		const error = result.errorOf('ECHO') ?? result.error;
		expect(error?.message).toMatch(/Project not found/);
	});

	test('a 401 makes n8n log in again, once, and the run succeeds', async () => {
		const before = standin.stats().logins;
		const result = await n8n.execute('wfE2eEchoRenew01');
		expect(result.error?.message).toBeUndefined();
		expect(result.outputOf('ECHO').length).toBeGreaterThan(0);
		expect(standin.stats().logins).toBe(before + 1);
	});
});
