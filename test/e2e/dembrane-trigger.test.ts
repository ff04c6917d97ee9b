/**
 * The dembrane ECHO Trigger in a real n8n 2.41.1: publishing the workflow registers a webhook in the
 * stand-in project, the stand-in delivers real signed events (Python-style body, signature over the
 * sort_keys compact form). The webhook answers at once; the node's execute() step, the first of the
 * execution, drops redeliveries through n8n's deduplication store (kept in n8n's database, so across
 * restarts) and does the optional API fetches.
 */
import type { DembraneStandin } from '../standins/dembrane';
import { passwordCredentialData, PyFloat, pythonBody, startDembraneStandin } from '../standins/dembrane';
import { deliveryHeaders } from '../standins/dembrane/webhooks';
import type { CredentialFixture, N8nInstance, N8nServer, WorkflowFixture } from '../support/n8n-instance';
import { createN8nInstance } from '../support/n8n-instance';

jest.setTimeout(300_000);

const WORKFLOW_ID = 'wfE2eEchoTrig001';
const WEBHOOK_ID = '6c1f3d7e-2b4a-4e59-9c3d-0a1b2c3d4e5f';
const NODE = 'Dembrane ECHO Trigger';
const MANUAL_WORKFLOW_ID = 'wfE2eEchoTrigMan';
const MANUAL_WEBHOOK_ID = '7d2e4f8a-3c5b-4f6a-8d4e-1b2c3d4e5f60';
const MANUAL_SECRET = 'manual-e2e-secret-4b1d';
const GAP_WORKFLOW_ID = 'wfE2eEchoTrigGap';
const GAP_WEBHOOK_ID = '8e3f5a9b-4d6c-4a7b-9e5f-2c3d4e5f6a71';

let standin: DembraneStandin;
let n8n: N8nInstance;
let server: N8nServer;
let projectId: string;
/** The project of the workflow whose webhook gets an event before n8n has stored its secret. */
let gapProjectId: string;
let gapDelivery: Promise<Awaited<ReturnType<DembraneStandin['emit']>>> | undefined;

function workflow(credential: CredentialFixture, { id = WORKFLOW_ID, webhookId = WEBHOOK_ID, project = projectId } = {}): WorkflowFixture {
	return {
		id,
		name: id === WORKFLOW_ID ? 'dembrane: summarized conversations' : 'dembrane: events while registering',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: 'd4000000-0000-4000-8000-000000000001',
				name: NODE,
				type: 'n8n-nodes-conversation-export.dembraneEchoTrigger',
				typeVersion: 1,
				position: [0, 0],
				webhookId,
				parameters: {
					registration: 'automatic',
					project: { __rl: true, mode: 'id', value: project },
					events: ['conversation.summarized', 'conversation.transcribed'],
					options: {},
				},
				credentials: { dembraneEchoApi: { id: credential.id, name: credential.name } },
			},
			{
				id: 'd4000000-0000-4000-8000-000000000003',
				name: 'Handle delivery',
				type: 'n8n-nodes-base.noOp',
				typeVersion: 1,
				position: [440, 0],
				parameters: {},
			},
		],
		connections: {
			[NODE]: { main: [[{ node: 'Handle delivery', type: 'main', index: 0 }]] },
		},
	};
}

/**
 * Manual registration, at the version the node panel adds today (1.1): the secret is typed in the node,
 * and the whole transcript is fetched from the API (in the execution, not while dembrane waits).
 */
function manualWorkflow(credential: CredentialFixture): WorkflowFixture {
	return {
		id: MANUAL_WORKFLOW_ID,
		name: 'dembrane: manual webhook',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: 'd4000000-0000-4000-8000-000000000011',
				name: NODE,
				type: 'n8n-nodes-conversation-export.dembraneEchoTrigger',
				typeVersion: 1.1,
				position: [0, 0],
				webhookId: MANUAL_WEBHOOK_ID,
				parameters: {
					registration: 'manual',
					events: ['conversation.summarized'],
					// As pasted, with a line break: dembrane's secret has none.
					secret: `${MANUAL_SECRET}\n`,
					options: { fetchFullTranscript: true },
				},
				credentials: { dembraneEchoApi: { id: credential.id, name: credential.name } },
			},
			{ id: 'd4000000-0000-4000-8000-000000000012', name: 'Handle delivery', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [220, 0], parameters: {} },
		],
		connections: { [NODE]: { main: [[{ node: 'Handle delivery', type: 'main', index: 0 }]] } },
	};
}

/** Polls a condition until it holds (bounded): n8n activates published workflows after /healthz answers. */
async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = check();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
}

const liveHooks = () => standin.webhooks(projectId).filter((hook) => !hook.deleted_at);

const executionsOf = async () => await server.executions({ workflowId: WORKFLOW_ID, includeData: true });

beforeAll(async () => {
	standin = await startDembraneStandin({ conversationsPerProject: 5, webhookRetryDelaysMs: [200, 400, 800] });
	[projectId, gapProjectId] = standin
		.listProjects()
		.filter((project) => standin.conversations(project.id).length > 0)
		.map((project) => project.id);
	// n8n routes a webhook before its create() returns and before it stores the secret create() made;
	// an event in that gap reaches the node without a secret to check it against.
	standin.onWebhookCreated(async (hook) => {
		if (hook.project_id !== gapProjectId) return;
		standin.onWebhookCreated(undefined);
		gapDelivery = standin.emit('conversation.summarized', { projectId: gapProjectId, conversationId: standin.conversations(gapProjectId)[0].id });
		await waitFor('the first attempt of the delivery in the gap', () => standin.stats().deliveries.some((attempt) => attempt.webhookId === hook.id), 30_000);
	});
	const credential: CredentialFixture = {
		id: 'dembraneE2eCred1',
		name: 'dembrane stand-in',
		type: 'dembraneEchoApi',
		data: passwordCredentialData(standin),
	};
	n8n = await createN8nInstance({ credentials: [credential], workflows: [
			workflow(credential),
			manualWorkflow(credential),
			workflow(credential, { id: GAP_WORKFLOW_ID, webhookId: GAP_WEBHOOK_ID, project: gapProjectId }),
		],
	});
	server = await n8n.start({ publish: [WORKFLOW_ID, MANUAL_WORKFLOW_ID, GAP_WORKFLOW_ID] });
	await waitFor('the webhook registration', () => liveHooks().length > 0);
	await waitFor('the registration of the workflow that gets an event while registering', () => gapDelivery);
}, 300_000);

afterAll(async () => {
	await server?.stop();
	await n8n?.dispose();
	await standin?.close();
});

test('publishing registers the project webhook with our URL, the chosen events and a secret', () => {
	const hooks = standin.webhooks(projectId).filter((hook) => !hook.deleted_at);
	expect(hooks).toHaveLength(1);
	expect(hooks[0].url).toBe(`${server.baseUrl}/webhook/${WEBHOOK_ID}/webhook`);
	expect([...hooks[0].events].sort()).toEqual(['conversation.summarized', 'conversation.transcribed']);
	expect(hooks[0].secret).toMatch(/^[0-9a-f]{64}$/);
});

/** Items a node emitted in one stored execution. */
function itemsOf(run: Awaited<ReturnType<typeof executionsOf>>[number], node: string): Array<Record<string, unknown>> {
	return (run.data?.resultData.runData[node]?.[0]?.data?.main?.[0] ?? []).map((item) => item.json);
}

/** Waits until the workflow has `count` finished executions (bounded), and returns them. */
async function finishedRuns(workflowId: string, count: number) {
	const deadline = Date.now() + 60_000;
	for (;;) {
		const runs = await server.executions({ workflowId, includeData: true });
		if (runs.filter((run) => run.status !== 'running' && run.status !== 'new').length >= count) return runs;
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${count} executions of ${workflowId} (have ${runs.length})`);
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

test('a signed delivery runs the workflow once; redeliveries of it, before and after an n8n restart, start nothing downstream', async () => {
	const conversationId = standin.conversations(projectId)[0].id;
	expect(await executionsOf()).toHaveLength(0);
	const [delivery] = await standin.emit('conversation.summarized', { projectId, conversationId });
	expect(delivery.delivered).toBe(true);
	expect(delivery.status).toBe(200);
	const signature = Object.entries(delivery.headers).find(([name]) => name.toLowerCase() === 'x-webhook-signature')?.[1];
	expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);

	const execution = await server.waitForExecution({
		workflowId: WORKFLOW_ID,
		timeoutMs: 60_000,
		intervalMs: 500,
		predicate: (e) => e.outputOf(NODE).some((item) => item.conversationId === conversationId),
	});
	const [item] = execution.outputOf(NODE);
	expect(item).toEqual(expect.objectContaining({ event: 'conversation.summarized', conversationId, projectId }));
	expect((item.payload as { timestamp: string }).timestamp).toMatch(/\+00:00$/);
	await finishedRuns(WORKFLOW_ID, 1);

	// dembrane resends the identical payload (5-60 s later) when it did not see our answer: same body,
	// same headers. Each resend is answered 200 and starts an execution in which the trigger emits nothing.
	const resend = async () => {
		const resent = await fetch(delivery.url, { method: 'POST', body: delivery.body, headers: delivery.headers });
		expect(resent.status).toBe(200);
		await resent.text();
	};
	for (let i = 0; i < 3; i++) await resend();
	await finishedRuns(WORKFLOW_ID, 4);

	// The record is in n8n's database, not in the process: a restarted n8n still knows the delivery.
	// Same address, as a real deployment keeps: the webhook registered in dembrane stays valid.
	const port = Number(new URL(server.baseUrl).port);
	await server.stop();
	server = await n8n.start({ port });
	const deadline = Date.now() + 60_000;
	for (;;) {
		const resent = await fetch(delivery.url, { method: 'POST', body: delivery.body, headers: delivery.headers });
		await resent.text();
		if (resent.status === 200) break;
		// n8n answers 404 until it has activated the published workflow again.
		expect(resent.status).toBe(404);
		if (Date.now() > deadline) throw new Error('The webhook never came back after the restart');
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
	// The restart left the registration as it was: one webhook in dembrane, no second one.
	expect(liveHooks()).toHaveLength(1);
	const runs = await finishedRuns(WORKFLOW_ID, 5);
	expect(runs).toHaveLength(5);
	expect(runs.every((run) => run.status === 'success')).toBe(true);
	const emitted = runs.flatMap((run) => itemsOf(run, NODE));
	expect(emitted).toHaveLength(1);
	const handled = runs.flatMap((run) => itemsOf(run, 'Handle delivery'));
	expect(handled).toEqual([expect.objectContaining({ deliveryId: item.deliveryId, conversationId })]);
});

test('an event sent while n8n registers the webhook is refused with 503 (not run unchecked), and runs once when dembrane retries', async () => {
	expect(gapDelivery).toBeDefined();
	const [delivery] = await gapDelivery!;
	const attempts = standin.stats().deliveries.filter((attempt) => attempt.webhookId === delivery.webhookId);
	// The first attempt came before n8n had stored the webhook's secret: refused, and dembrane retries 5xx.
	expect(attempts[0]).toEqual(expect.objectContaining({ attempt: 1, status: 503 }));
	expect(delivery).toEqual(expect.objectContaining({ delivered: true, status: 200 }));
	const runs = await finishedRuns(GAP_WORKFLOW_ID, 1);
	await new Promise((resolve) => setTimeout(resolve, 1000));
	expect(await server.executions({ workflowId: GAP_WORKFLOW_ID, includeData: true })).toHaveLength(1);
	expect(runs[0].status).toBe('success');
	expect(itemsOf(runs[0], 'Handle delivery')).toEqual([expect.objectContaining({ event: 'conversation.summarized', projectId: gapProjectId })]);
});

test('a wrong signature is refused with 401 and starts nothing', async () => {
	const conversationId = standin.conversations(projectId)[1].id;
	const before = (await executionsOf()).length;
	const hook = standin.webhooks(projectId).find((h) => !h.deleted_at)!;
	const body = JSON.stringify({ event: 'conversation.summarized', timestamp: new Date().toISOString(), conversation: { id: conversationId } });
	const response = await fetch(hook.url, {
		method: 'POST',
		body,
		headers: { 'content-type': 'application/json', 'x-webhook-signature': `sha256=${'0'.repeat(64)}`, 'x-webhook-event': 'conversation.summarized' },
	});
	expect(response.status).toBe(401);
	const unsigned = await fetch(hook.url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
	expect(unsigned.status).toBe(401);
	await new Promise((resolve) => setTimeout(resolve, 2000));
	expect((await executionsOf()).length).toBe(before);
});

test('an event the workflow did not choose is answered 200 and starts nothing', async () => {
	const before = (await executionsOf()).length;
	const conversationId = standin.conversations(projectId)[2].id;
	const [delivery] = await standin.emit('conversation.started', { projectId, conversationId });
	// The webhook is not subscribed to conversation.started, so dembrane does not even send it.
	expect(delivery === undefined || delivery.status === 200).toBe(true);
	await new Promise((resolve) => setTimeout(resolve, 2000));
	expect((await executionsOf()).length).toBe(before);
});

test('Manual registration (version 1.1): answers at once while the execution fetches the whole transcript, runs once per delivery, refuses a wrong signature, leaves static data untouched', async () => {
	const url = `${server.baseUrl}/webhook/${MANUAL_WEBHOOK_ID}/webhook`;
	const conversationId = standin.conversations(projectId)[3].id;
	const payload = {
		event: 'conversation.summarized',
		timestamp: '2026-11-20T10:00:00.123456+00:00',
		conversation: { id: conversationId, participant_name: 'Zoë', duration: new PyFloat(245), transcript: 'Hallo', summary: 'Kurz' },
		project: { id: projectId, name: 'Stadtgespräch', language: 'de' },
		dashboardUrl: 'https://dashboard.example/overview',
	};
	const body = pythonBody(payload);
	const headers = deliveryHeaders('conversation.summarized', payload, body, MANUAL_SECRET, 'production');

	// A slow API must not slow the answer: dembrane waits 30 s at most, then retries.
	standin.configure({ latencyMs: 3000 });
	try {
		const started = Date.now();
		const response = await fetch(url, { method: 'POST', body, headers });
		expect(response.status).toBe(200);
		// What someone testing the URL by hand reads (n8n's default was the text "firstEntryJson").
		expect(await response.json()).toEqual({ received: true, started: true });
		expect(Date.now() - started).toBeLessThan(2000);
		await finishedRuns(MANUAL_WORKFLOW_ID, 1);
	} finally {
		standin.configure({ latencyMs: 0 });
	}
	const resent = await fetch(url, { method: 'POST', body, headers });
	expect(resent.status).toBe(200);
	await resent.text();
	const wrong = await fetch(url, { method: 'POST', body, headers: { ...headers, 'X-Webhook-Signature': `sha256=${'0'.repeat(64)}` } });
	expect(wrong.status).toBe(401);
	await wrong.text();
	// dembrane does not retry a 401: the refusal must show where the user looks.
	await waitFor('the refusal in n8n’s log', () => server.logTail().includes('refused a delivery whose signature is invalid'), 10_000);

	const runs = await finishedRuns(MANUAL_WORKFLOW_ID, 2);
	expect(runs).toHaveLength(2);
	expect(runs.every((run) => run.status === 'success')).toBe(true);
	expect(runs.flatMap((run) => itemsOf(run, NODE))).toEqual([
		expect.objectContaining({
			event: 'conversation.summarized',
			conversationId,
			projectId,
			// The event carried 'Hallo'; the node fetched the whole transcript from the API.
			transcript: standin.transcript(conversationId),
			summary: 'Kurz',
			dashboardUrl: 'https://dashboard.example/overview',
		}),
	]);
	expect(runs.flatMap((run) => itemsOf(run, 'Handle delivery'))).toHaveLength(1);
	// Manual mode keeps nothing in static data: no entry for the node, nothing for n8n to save per delivery.
	const stored = await server.api<{ staticData?: Record<string, unknown> | null }>(`/workflows/${MANUAL_WORKFLOW_ID}`);
	expect(stored).toHaveProperty('staticData');
	expect(Object.keys(stored.staticData ?? {}).filter((key) => key.startsWith('node:'))).toEqual([]);
});

test("the credential test checks the login as edited, not the session n8n keeps from the one before", async () => {
	// What the editor sends for fields it shows redacted: n8n puts the stored values back (the stored session is valid).
	const REDACTED = '__n8n_BLANK_VALUE_e5362baf-c777-4d57-a609-6eaf1f9e87f6';
	const credentialTest = async (password: string) => {
		const answer = await server.rest<{ status?: string; message?: string; data?: { status: string; message: string } }>('/credentials/test', {
			method: 'POST',
			body: {
				credentials: {
					id: 'dembraneE2eCred1',
					name: 'dembrane stand-in',
					type: 'dembraneEchoApi',
					data: { ...passwordCredentialData(standin), password, sessionToken: REDACTED, sessionPasswordFingerprint: REDACTED },
				},
			},
		});
		return answer.data ?? answer;
	};
	const wrong = await credentialTest('edited-to-a-wrong-one');
	expect(wrong.status).toBe('Error');
	expect(wrong.message).toMatch(/wrong email or password/);
	expect(await credentialTest(standin.password)).toEqual(expect.objectContaining({ status: 'OK' }));
});

test('unpublishing deletes the webhook in dembrane', async () => {
	await server.api(`/workflows/${WORKFLOW_ID}/deactivate`, { method: 'POST' });
	await waitFor('the webhook deletion', () => liveHooks().length === 0, 30_000);
	expect(liveHooks()).toHaveLength(0);
});
