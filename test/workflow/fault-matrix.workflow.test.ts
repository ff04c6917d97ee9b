/**
 * The fault-injection matrix: every failure a user can meet, named, against the stand-ins over real
 * HTTP on n8n's real engine. Each case ends in exactly-once output or a clear error (a message and a
 * "what to do" description), within its time bound, and no API key, password or token appears in the
 * error, in the run data n8n would store, or in anything written to stdout/stderr during the run.
 *
 * The webhook cases of the matrix (bad signature, malformed JSON, redelivered webhook, unknown event)
 * need n8n's webhook server: they run in a real n8n in test/e2e/dembrane-trigger.test.ts, and at scale
 * in test/queue/queue-mode.test.ts.
 */
import { unzipSync } from 'fflate';
import type { ICredentialDataDecryptedObject, INode, INodeParameters } from 'n8n-workflow';

import type { DecagonStandin } from '../standins/decagon';
import { startDecagonStandin } from '../standins/decagon';
import type { FaultSpec as DecagonFault } from '../standins/decagon/types';
import { passwordCredentialData, startDembraneStandin } from '../standins/dembrane';
import type { WorkflowRunResult } from '../support/workflow-harness';
import { credentialRef, manualTriggerNode, packageNodeType, readBinary, runWorkflow } from '../support/workflow-harness';
import { DEMBRANE_REQUEST_PROBE_TYPE, DembraneRequestProbe } from './harness-probe-nodes';

jest.setTimeout(90_000);

const API_KEY = 'fault-matrix-decagon-key-5f1c';
const RATE = 50;
const COUNT = 250;
const CASE_TIMEOUT_MS = 60_000;

type DembraneStandin = Awaited<ReturnType<typeof startDembraneStandin>>;
let decagon: DecagonStandin;
let dembrane: DembraneStandin;
let dembraneProjectId: string;

beforeAll(async () => {
	decagon = await startDecagonStandin({ count: COUNT, rateLimitPerSecond: RATE, apiKey: API_KEY });
	dembrane = await startDembraneStandin({ conversationsPerProject: 30 });
	dembraneProjectId = dembrane.ids().unicodeProjectId;
});
afterAll(async () => {
	await decagon?.close();
	await dembrane?.close();
});

const trigger = manualTriggerNode('f0000000-0000-4000-8000-000000000001');

function node(name: string, type: string, credentialType: string, parameters: INodeParameters): INode {
	return {
		id: 'f0000000-0000-4000-8000-000000000002',
		name,
		type: packageNodeType(type),
		typeVersion: 1,
		position: [220, 0],
		parameters,
		credentials: credentialRef(credentialType),
	};
}

/** Runs one workflow and collects what it wrote to stdout and stderr meanwhile. */
async function runCapturing(
	target: INode,
	credentials: Record<string, ICredentialDataDecryptedObject>,
): Promise<{ result: WorkflowRunResult; output: string }> {
	const written: string[] = [];
	const spies = [process.stdout, process.stderr].map((stream) =>
		jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown) => {
			written.push(String(chunk));
			return true;
		}) as never),
	);
	try {
		const result = await runWorkflow({
			nodes: [trigger, target],
			connections: { [trigger.name]: { main: [[{ node: target.name, type: 'main', index: 0 }]] } },
			credentials,
			timeoutMs: CASE_TIMEOUT_MS,
		});
		return { result, output: written.join('') };
	} finally {
		for (const spy of spies) spy.mockRestore();
	}
}

function expectNoSecrets(secrets: string[], result: WorkflowRunResult, output: string): void {
	const stored = JSON.stringify(result.run);
	for (const secret of secrets.filter((s) => s.length >= 8)) {
		expect(stored).not.toContain(secret);
		expect(output).not.toContain(secret);
		expect(`${result.error?.message ?? ''} ${(result.error as { description?: string } | undefined)?.description ?? ''}`).not.toContain(secret);
	}
}

function expectClearError(result: WorkflowRunResult, message: RegExp): void {
	expect(result.status).toBe('error');
	expect(result.error?.message).toMatch(message);
	// Says what to do, not only what went wrong.
	expect(String((result.error as { description?: string } | undefined)?.description ?? '')).not.toBe('');
}

// ---------------------------------------------------------------------------------------------
// Decagon export

interface DecagonCase {
	name: string;
	configure: Parameters<DecagonStandin['configure']>[0];
	apiKey?: string;
	/** undefined: exactly-once output of every conversation (newest copies); otherwise the error. */
	error?: RegExp;
}

const decagonCases: DecagonCase[] = [
	{ name: '429 with Retry-After', configure: { faults: [{ request: 2, kind: '429' }] as DecagonFault[] } },
	{ name: '429 without Retry-After', configure: { faults: [{ request: 2, kind: '429-no-retry-after' }] as DecagonFault[] } },
	{ name: '500', configure: { faults: [{ request: 1, kind: '500' }] as DecagonFault[] } },
	{ name: '502', configure: { faults: [{ request: 2, kind: '502' }] as DecagonFault[] } },
	{ name: '503', configure: { faults: [{ request: 3, kind: '503' }] as DecagonFault[] } },
	{ name: 'connection reset mid-body', configure: { faults: [{ request: 2, kind: 'reset' }] as DecagonFault[] } },
	{ name: 'truncated JSON', configure: { faults: [{ request: 2, kind: 'truncated' }] as DecagonFault[] } },
	{ name: 'duplicates across pages', configure: { duplicatesAcrossPages: 7 } },
	{ name: 'an update during the export', configure: { updateDuringExport: { afterPage: 1, count: 20 } } },
	{ name: 'repeating cursor', configure: { repeatCursor: 2 }, error: /again.*loop forever/ },
	// String cursors (the sample code's field): a new cursor, followed.
	{ name: 'empty page with a cursor', configure: { emptyPageWithCursor: 2, cursorField: 'next_cursor' } },
	// Integer cursors (a time): the empty page sends back the one it was asked with; asked again, it passes.
	{ name: 'empty page that sends back its cursor', configure: { emptyPageWithCursor: 2 } },
	{ name: 'empty last page that sends back its cursor', configure: { echoCursorAtEnd: true } },
	{ name: 'a 500 on every attempt', configure: { faults: [1, 2, 3, 4, 5, 6, 7, 8].map((request) => ({ request, kind: '500' })) as DecagonFault[] }, error: /500/ },
	{ name: 'wrong API key', configure: {}, apiKey: 'fault-matrix-wrong-key-77aa', error: /401/ },
	{ name: 'missing API key', configure: {}, apiKey: '', error: /401/ },
];

// With cursors (by default as production sends them: next_page_cursor null, the cursor in
// next_page_updated_after), and as a production client saw Decagon: full pages without a cursor, so the
// export reads on by time. The cases about cursors themselves have no meaning without them.
const pageShapes: Array<[string, boolean, DecagonCase[]]> = [
	['with cursors', false, decagonCases],
	['full pages without a cursor', true, decagonCases.filter((c) => !/repeating cursor|empty .*page/.test(c.name))],
];

describe.each(pageShapes)('Decagon export, %s', (_shape, cursorless, cases) => {
	beforeEach(() => {
		decagon.configure({
			count: COUNT,
			rateLimitPerSecond: RATE,
			// At 50 a second the pacer's margin is 5 ms, which a loaded machine's scheduling can eat (a 429 seen
			// once in a mutation run); this matrix is about faults, the pacing's precision is benchmarked.
			rateLimitToleranceMs: 5,
			faults: [],
			duplicatesAcrossPages: 0,
			updateDuringExport: null,
			repeatCursor: 0,
			emptyPageWithCursor: 0,
			echoCursorAtEnd: false,
			fullPageWithoutCursor: cursorless,
			cursorField: 'next_page_updated_after',
		});
		decagon.resetStats();
	});

	test.each(cases)('$name', async ({ configure, apiKey, error }) => {
		decagon.configure(configure);
		const key = apiKey ?? API_KEY;
		const { result, output } = await runCapturing(node('Decagon', 'decagon', 'decagonApi', { resource: 'conversation', operation: 'export', returnAll: true }), {
			decagonApi: { region: 'custom', baseUrl: decagon.url, apiKey: key, requestsPerSecond: RATE },
		});
		expectNoSecrets([API_KEY, key], result, output);
		if (error) {
			expectClearError(result, error);
			return;
		}
		expect(result.error).toBeUndefined();
		const items = result.outputOf('Decagon');
		const current = new Map(decagon.conversations().map((c) => [c.conversation_id, c]));
		expect(items).toHaveLength(current.size);
		expect(new Set(items.map((item) => item.json.conversation_id)).size).toBe(current.size);
		for (const { json } of items) expect(json.updated_at).toBe(current.get(String(json.conversation_id))?.updated_at);
		expect(decagon.stats().rateLimited).toBe(0); // injected 429s are faults; the pacing itself never meets the limit
	});
});

// ---------------------------------------------------------------------------------------------
// dembrane ECHO

function password(overrides: ICredentialDataDecryptedObject = {}): ICredentialDataDecryptedObject {
	return passwordCredentialData(dembrane, overrides) as ICredentialDataDecryptedObject;
}

const exportItems = (options: INodeParameters = {}) =>
	node('ECHO', 'dembraneEcho', 'dembraneEchoApi', {
		resource: 'project',
		operation: 'exportTranscripts',
		project: { __rl: true, mode: 'id', value: dembraneProjectId },
		options,
	});

/** Export Transcripts (items) gives every transcript of the zip once, with no error and no secret shown. */
async function exportsEveryTranscriptOnce() {
	const expected = dembrane.conversations(dembraneProjectId).filter((c) => dembrane.zipFileBody(c.id) !== null).length;
	const captured = await runCapturing(exportItems(), { dembraneEchoApi: password() });
	expectNoSecrets([dembrane.password], captured.result, captured.output);
	expect(captured.result.error).toBeUndefined();
	const items = captured.result.outputOf('ECHO');
	expect(items).toHaveLength(expected);
	expect(new Set(items.map((item) => item.json.fileName)).size).toBe(expected);
	return captured;
}

const exportZipFile = () =>
	node('ECHO', 'dembraneEcho', 'dembraneEchoApi', {
		resource: 'project',
		operation: 'exportTranscripts',
		project: { __rl: true, mode: 'id', value: dembraneProjectId },
		output: 'zip',
	});

describe('dembrane ECHO', () => {
	beforeEach(() => dembrane.configure({ zipQuirk: null, faults: [], latencyMs: 0, accessTokenTtlSeconds: 900 }));

	test('expired token mid-run: renewed, every transcript once', async () => {
		// Tokens live 1 s and every request takes 800 ms: the token issued at the start expires during the
		// run (zip, listing, dashboard context), n8n's 401 handling logs in again and the run goes on.
		dembrane.configure({ accessTokenTtlSeconds: 1, latencyMs: 800 });
		const before = dembrane.stats().logins;
		const { result, output } = await exportsEveryTranscriptOnce();
		expect(dembrane.stats().logins).toBeGreaterThanOrEqual(before + 2);
		const stored = result.credentials.stored('dembraneEchoApi')?.sessionToken;
		if (typeof stored === 'string') expectNoSecrets([stored], result, output);
	});

	test.each([
		['corrupt zip', 'corrupt', /refused.*corrupt/],
		['truncated zip', 'truncated', /refused.*(truncated|corrupt)/],
		['zip bomb', 'bomb', /refused.*(more than|larger)/],
		['path traversal', 'zip-slip', /refused.*unsafe entry name/],
	] as const)('%s: a clear error, no items', async (_name, quirk, message) => {
		dembrane.configure({ zipQuirk: quirk });
		const { result, output } = await runCapturing(exportItems({ maxTotalMegabytes: 50 }), { dembraneEchoApi: password() });
		expectNoSecrets([dembrane.password], result, output);
		expectClearError(result, message);
		expect(result.runData.ECHO?.[0]?.data).toBeUndefined(); // nothing half-emitted
	});

	test('5xx and a reset on the listing are retried: every transcript once', async () => {
		dembrane.configure({
			faults: [
				{ request: 1, kind: '503', path: '/api/v2/bff/conversations' },
				{ request: 2, kind: 'reset', path: '/api/v2/bff/conversations' },
			],
		});
		await exportsEveryTranscriptOnce();
	});

	test('the zip download reset mid-body: asked for again, every transcript once', async () => {
		dembrane.configure({ faults: [{ request: 1, kind: 'reset', path: '/transcripts' }] });
		await exportsEveryTranscriptOnce();
	});

	test('the zip download reset mid-body with Zip File output: asked for again, the file whole', async () => {
		dembrane.configure({ faults: [{ request: 1, kind: 'reset', path: '/transcripts' }] });
		const { result, output } = await runCapturing(exportZipFile(), { dembraneEchoApi: password() });
		expectNoSecrets([dembrane.password], result, output);
		expect(result.error).toBeUndefined();
		const [item] = result.outputOf('ECHO');
		const bytes = await readBinary(item.binary!.data);
		expect(bytes.length).toBe(item.json.bytes);
		expect(unzipSync(new Uint8Array(bytes))).toBeTruthy();
	});

	test("the zip route failing (5xx) on its one retry too: the transcripts are read one by one, each once, with a warning; Zip File output fails saying why", async () => {
		const plain = await runCapturing(exportItems(), { dembraneEchoApi: password() });
		const expected = new Map(plain.result.outputOf('ECHO').map((item) => [item.json.conversationId, item.json.transcript]));
		dembrane.configure({
			faults: [
				{ request: 1, kind: '503', path: '/transcripts' },
				{ request: 2, kind: '502', path: '/transcripts' },
			],
		});
		const { result, output } = await runCapturing(exportItems(), { dembraneEchoApi: password() });
		expectNoSecrets([dembrane.password], result, output);
		expect(result.error).toBeUndefined();
		const items = result.outputOf('ECHO');
		expect(new Map(items.map((item) => [item.json.conversationId, item.json.transcript]))).toEqual(expected);
		expect(items).toHaveLength(expected.size);
		expect(JSON.stringify(result.runData.ECHO?.[0]?.hints ?? [])).toMatch(/zip route failed.*read one by one/);

		dembrane.configure({
			faults: [
				{ request: 1, kind: '503', path: '/transcripts' },
				{ request: 2, kind: '503', path: '/transcripts' },
			],
		});
		const faultsBefore = dembrane.stats().faultsInjected;
		const failed = await runCapturing(exportZipFile(), { dembraneEchoApi: password() });
		expectClearError(failed.result, /503/);
		expect(String((failed.result.error as { description?: string }).description)).toMatch(/One Item per Conversation/);
		expect(dembrane.stats().faultsInjected - faultsBefore).toBe(2); // asked twice, not six times
	});

	test('the zip route failing one way, then its body breaking off: asked twice in all, then the transcripts are read one by one', async () => {
		const plain = await runCapturing(exportItems(), { dembraneEchoApi: password() });
		const expected = new Map(plain.result.outputOf('ECHO').map((item) => [item.json.conversationId, item.json.transcript]));
		dembrane.configure({
			faults: [
				{ request: 1, kind: '503', path: '/transcripts' },
				{ request: 2, kind: 'reset', path: '/transcripts' },
			],
		});
		dembrane.resetStats();
		const { result, output } = await runCapturing(exportItems(), { dembraneEchoApi: password() });
		expectNoSecrets([dembrane.password], result, output);
		expect(result.error).toBeUndefined();
		expect(new Map(result.outputOf('ECHO').map((item) => [item.json.conversationId, item.json.transcript]))).toEqual(expected);
		expect(dembrane.stats().requests.filter((request) => request.path.endsWith('/transcripts'))).toHaveLength(2);
		expect(JSON.stringify(result.runData.ECHO?.[0]?.hints ?? [])).toMatch(/zip route failed.*broke off.*read one by one/);
	});

	test('a route that gives no answer in time counts as dembrane giving up (Export Transcripts then reads one by one), not as an unreachable host', async () => {
		dembrane.configure({ faults: [{ request: 1, kind: 'hang', path: '/api/v2/me' }] });
		const probe: INode = { ...node('Probe', 'dembraneEcho', 'dembraneEchoApi', { path: '/api/v2/me', timeoutMs: 1500, maxAttempts: 1 }), type: DEMBRANE_REQUEST_PROBE_TYPE };
		const result = await runWorkflow({
			nodes: [trigger, probe],
			connections: { [trigger.name]: { main: [[{ node: 'Probe', type: 'main', index: 0 }]] } },
			credentials: { dembraneEchoApi: password() },
			extraNodeTypes: { [DEMBRANE_REQUEST_PROBE_TYPE]: new DembraneRequestProbe() },
			timeoutMs: 30_000,
		});
		const [item] = result.outputOf('Probe');
		expect(item.json).toEqual({ error: expect.stringMatching(/no answer in time/), gaveUp: true });
	});

	test('a listing whose body breaks off on every attempt: an error that names dembrane and what happened (n8n swaps a message holding a network code for its own)', async () => {
		dembrane.configure({ faults: Array.from({ length: 6 }, (_, i) => ({ request: i + 1, kind: 'reset' as const, path: '/api/v2/bff/conversations' })) });
		const { result, output } = await runCapturing(exportItems(), { dembraneEchoApi: password() });
		expectNoSecrets([dembrane.password], result, output);
		expectClearError(result, /Could not reach dembrane at .*a response cut off \(the connection was reset\), still failing after 6 attempts/);
	}, 120_000);

	test('the zip download reset on every attempt with Zip File output: a clear error after the retries, naming no code', async () => {
		dembrane.configure({ faults: Array.from({ length: 6 }, (_, i) => ({ request: i + 1, kind: 'reset' as const, path: '/transcripts' })) });
		const { result, output } = await runCapturing(exportZipFile(), { dembraneEchoApi: password() });
		expectNoSecrets([dembrane.password], result, output);
		expectClearError(result, /download from dembrane broke off: the connection was reset, still failing after 2 attempts/);
	}, 120_000);

	test.each([
		['wrong password', () => password({ password: 'fault-matrix-wrong-password-1' }), /wrong email or password/],
		['missing password', () => password({ password: '' }), /password/i],
		['an expired pasted token', () => ({ baseUrl: dembrane.url, authMethod: 'accessToken', accessToken: dembrane.issueAccessToken({ ttlSeconds: -60 }), sessionToken: '' }), /401/],
	] as const)('%s: a clear error that never shows it', async (_name, credential, message) => {
		const data = credential() as ICredentialDataDecryptedObject;
		const { result, output } = await runCapturing(exportItems(), { dembraneEchoApi: data });
		expectNoSecrets([dembrane.password, String(data.password ?? ''), String(data.accessToken ?? '')], result, output);
		expectClearError(result, message);
	});
});
