/**
 * Proves the workflow harness on n8n's real engine with test-only nodes (harness-probe-nodes.ts)
 * against a loopback server: credentials (defaults, expressions, generic authenticate, expirable
 * pre-authentication), parameter expressions, pairedItem, Continue On Fail, NodeApiError, streamed
 * binary data, static data and the run timeout.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INode, IConnections, NodeApiError } from 'n8n-workflow';

import {
	credentialRef,
	getHarnessRuntime,
	manualTriggerNode,
	readBinary,
	runWorkflow,
} from '../support/workflow-harness';
import type { RunWorkflowOptions } from '../support/workflow-harness';
import {
	HarnessSessionApi,
	Probe,
	PROBE_TYPE,
	Seed,
	SEED_TYPE,
	SessionProbe,
	SESSION_PROBE_TYPE,
} from './harness-probe-nodes';

jest.setTimeout(20_000);

const API_KEY = 'test-decagon-key';

interface Loopback {
	url: string;
	requests: Array<{ method: string; path: string; authorization?: string }>;
	/** Token the /session-data endpoint accepts; /login replaces it. */
	sessionToken?: string;
	logins: number;
	close(): Promise<void>;
}

function jsonLines(bytes: number): string {
	const lines: string[] = [];
	let size = 0;
	for (let i = 0; size < bytes; i++) {
		const line = `${JSON.stringify({ conversation_id: `c-${i}`, text: 'x'.repeat(80) })}\n`;
		lines.push(line);
		size += line.length;
	}
	return lines.join('');
}

const DOWNLOAD_BODY = jsonLines(3 * 1024 * 1024);

async function startLoopback(): Promise<Loopback> {
	const state: Omit<Loopback, 'url' | 'close'> = { requests: [], logins: 0 };
	const send = (res: ServerResponse, status: number, body: unknown) => {
		res.writeHead(status, { 'content-type': 'application/json' });
		res.end(JSON.stringify(body));
	};
	const readBody = async (req: IncomingMessage) => {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		return Buffer.concat(chunks).toString('utf8');
	};

	const server: Server = createServer((req, res) => {
		void (async () => {
			const url = new URL(req.url ?? '/', 'http://127.0.0.1');
			const authorization = req.headers.authorization;
			state.requests.push({ method: req.method ?? '', path: url.pathname, authorization });

			if (url.pathname === '/login') {
				const { password } = JSON.parse(await readBody(req)) as { password?: string };
				if (password !== 'secret') return send(res, 401, { message: 'bad login' });
				state.sessionToken = `session-${++state.logins}`;
				return send(res, 200, { token: state.sessionToken });
			}
			if (url.pathname === '/session-data') {
				if (!state.sessionToken || authorization !== `Session ${state.sessionToken}`) {
					return send(res, 401, { message: 'session expired' });
				}
				return send(res, 200, { ok: true, token: state.sessionToken });
			}
			if (authorization !== `Bearer ${API_KEY}`) return send(res, 401, { message: 'Invalid API key' });
			if (url.pathname === '/hang') return; // never answers
			if (url.pathname === '/echo') {
				const label = url.searchParams.get('label');
				if (label === 'fail') return send(res, 500, { message: 'label fail is rejected' });
				return send(res, 200, { path: url.pathname, label, authorization });
			}
			if (url.pathname === '/download') {
				res.writeHead(200, { 'content-type': 'application/x-ndjson' });
				// Several writes, so the client really receives a stream of chunks.
				const chunk = 256 * 1024;
				for (let offset = 0; offset < DOWNLOAD_BODY.length; offset += chunk) {
					res.write(DOWNLOAD_BODY.slice(offset, offset + chunk));
					await new Promise((resolve) => setImmediate(resolve));
				}
				return res.end();
			}
			send(res, 404, { message: 'not found' });
		})();
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return Object.assign(state, {
		url: `http://127.0.0.1:${port}`,
		close: async () => {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	});
}

let loopback: Loopback;
beforeAll(async () => {
	loopback = await startLoopback();
});
afterAll(async () => {
	await loopback.close();
});
beforeEach(() => {
	loopback.requests.length = 0;
});

const start = manualTriggerNode('0f6c2a34-0000-4000-8000-000000000001');

function seed(items: object[]): INode {
	return {
		id: '0f6c2a34-0000-4000-8000-000000000002',
		name: 'Seed',
		type: SEED_TYPE,
		typeVersion: 1,
		position: [220, 0],
		parameters: { items: JSON.stringify(items) },
	};
}

function probe(parameters: INode['parameters'], extra: Partial<INode> = {}): INode {
	return {
		id: '0f6c2a34-0000-4000-8000-000000000003',
		name: 'Probe',
		type: PROBE_TYPE,
		typeVersion: 1,
		position: [440, 0],
		parameters,
		credentials: credentialRef('decagonApi'),
		...extra,
	};
}

function chain(...names: string[]): IConnections {
	const connections: IConnections = {};
	for (let i = 0; i < names.length - 1; i++) {
		connections[names[i]] = { main: [[{ node: names[i + 1], type: 'main', index: 0 }]] };
	}
	return connections;
}

function run(nodes: INode[], overrides: Partial<RunWorkflowOptions> = {}) {
	return runWorkflow({
		nodes,
		connections: chain(...nodes.map((node) => node.name)),
		credentials: { decagonApi: { region: 'custom', baseUrl: loopback.url, apiKey: API_KEY } },
		extraNodeTypes: {
			[SEED_TYPE]: new Seed(),
			[PROBE_TYPE]: new Probe(),
			[SESSION_PROBE_TYPE]: new SessionProbe(),
		},
		extraCredentialTypes: [new HarnessSessionApi()],
		timeoutMs: 10_000,
		...overrides,
	});
}

test('reports which expression engine runs this layer', async () => {
	const { expressionEngine, expressionEngineNotes, binaryDataMode } = await getHarnessRuntime();
	expect(['legacy', 'vm', 'quickjs']).toContain(expressionEngine);
	// Visible in the test output, so a run on Node 20 does not pass for a run on the vm engine.
	process.stdout.write(
		`workflow harness: expression engine ${expressionEngine}, binary data ${binaryDataMode}` +
			(expressionEngineNotes.length ? ` (skipped: ${expressionEngineNotes.join(' | ')})` : '') +
			'\n',
	);
});

test('credentials, parameter expressions and pairedItem flow through the real engine', async () => {
	const result = await run(
		[
			start,
			seed([{ name: 'ada' }, { name: 'bob' }, { name: 'cyd' }]),
			probe({ operation: 'echo', label: '={{ $json.name.toUpperCase() }}-{{ $itemIndex }}' }),
		],
		{
			credentials: {
				// An expression in the stored credential, resolved by the credentials helper;
				// requestsPerSecond is left out so its default (1) must be applied.
				decagonApi: { region: 'custom', baseUrl: loopback.url, apiKey: '={{ "test-" + "decagon-key" }}' },
			},
		},
	);

	expect(result.error).toBeUndefined();
	expect(result.status).toBe('success');
	expect(result.nodeExecutionOrder).toEqual([start.name, 'Seed', 'Probe']);
	const items = result.outputOf('Probe');
	expect(items.map((item) => item.json.label)).toEqual(['ADA-0', 'BOB-1', 'CYD-2']);
	expect(items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
	for (const item of items) {
		expect(item.json.authorization).toBe(`Bearer ${API_KEY}`);
		expect(item.json.requestsPerSecond).toBe(1);
	}
	expect(loopback.requests.map((r) => r.authorization)).toEqual(Array(3).fill(`Bearer ${API_KEY}`));
});

test('a 401 becomes a NodeApiError that fails the execution', async () => {
	const result = await run([start, seed([{ name: 'ada' }]), probe({ label: '={{ $json.name }}' })], {
		credentials: { decagonApi: { region: 'custom', baseUrl: loopback.url, apiKey: 'wrong-key' } },
	});

	expect(result.status).toBe('error');
	expect(result.error?.name).toBe('NodeApiError');
	expect((result.error as NodeApiError).httpCode).toBe('401');
	expect((result.error as NodeApiError).node.name).toBe('Probe');
	expect(result.errorOf('Probe')?.message).toBe(result.error?.message);
	expect(loopback.requests[0].authorization).toBe('Bearer wrong-key');
});

test('Continue On Fail (regular output) keeps the error item in place with its pairedItem', async () => {
	const result = await run([
		start,
		seed([{ name: 'ada' }, { name: 'fail' }, { name: 'cyd' }]),
		probe({ label: '={{ $json.name }}' }, { onError: 'continueRegularOutput' }),
	]);

	expect(result.status).toBe('success');
	const items = result.outputOf('Probe');
	expect(items).toHaveLength(3);
	expect(items[0].json.label).toBe('ada');
	// NodeApiError's text for a 5xx, as n8n shows it.
	expect(items[1].json.error).toBe('The service was not able to process your request');
	expect(items[1].pairedItem).toEqual({ item: 1 });
	expect(items[2].json.label).toBe('cyd');
});

test('Continue On Fail (error output) routes the failed item to the error branch', async () => {
	const result = await run([
		start,
		seed([{ name: 'ada' }, { name: 'fail' }, { name: 'cyd' }]),
		probe({ label: '={{ $json.name }}' }, { onError: 'continueErrorOutput' }),
	]);

	expect(result.status).toBe('success');
	expect(result.outputOf('Probe', 0).map((item) => item.json.label)).toEqual(['ada', 'cyd']);
	const errors = result.outputOf('Probe', 1);
	expect(errors).toHaveLength(1);
	expect(errors[0].json).toEqual(expect.objectContaining({ name: 'fail', error: expect.any(String) }));
	expect(errors[0].pairedItem).toEqual({ item: 1 });
});

test('expirable credential: pre-authenticates when empty, stores the token, refreshes after a 401', async () => {
	const sessionProbe: INode = {
		id: '0f6c2a34-0000-4000-8000-000000000004',
		name: 'Session Probe',
		type: SESSION_PROBE_TYPE,
		typeVersion: 1,
		position: [220, 0],
		parameters: {},
		credentials: credentialRef('harnessSessionApi'),
	};
	const stored = { baseUrl: loopback.url, email: 'me@example.com', password: 'secret', sessionToken: '' };

	const first = await run([start, sessionProbe], { credentials: { harnessSessionApi: stored } });
	expect(first.error).toBeUndefined();
	expect(first.outputOf('Session Probe')[0].json).toEqual({ ok: true, token: 'session-1' });
	expect(first.credentials.preAuthenticationCalls).toEqual([
		{ type: 'harnessSessionApi', node: 'Session Probe', expired: false },
	]);
	expect(first.credentials.stored('harnessSessionApi')).toEqual({ ...stored, sessionToken: 'session-1' });

	// The server forgets the session; the stored token now draws a 401 and must be refreshed.
	loopback.sessionToken = 'revoked';
	loopback.requests.length = 0;
	const second = await run([start, sessionProbe], {
		credentials: { harnessSessionApi: first.credentials.stored('harnessSessionApi')! },
	});
	expect(second.error).toBeUndefined();
	expect(second.outputOf('Session Probe')[0].json).toEqual({ ok: true, token: 'session-2' });
	expect(second.credentials.preAuthenticationCalls).toEqual([
		{ type: 'harnessSessionApi', node: 'Session Probe', expired: true },
	]);
	expect(loopback.requests.map((r) => `${r.method} ${r.path} ${r.authorization ?? ''}`.trim())).toEqual([
		'GET /session-data Session session-1',
		'POST /login',
		'GET /session-data Session session-2',
	]);
	expect(second.credentials.updates.map((u) => u.data.sessionToken)).toEqual(['session-2']);
});

test('a streamed download becomes binary data through prepareBinaryData', async () => {
	const result = await run([
		start,
		probe({ operation: 'download', path: '/download', fileName: 'export.jsonl' }),
	]);

	expect(result.error).toBeUndefined();
	const [item] = result.outputOf('Probe');
	const binary = item.binary!.data;
	expect(binary).toEqual(
		expect.objectContaining({ fileName: 'export.jsonl', mimeType: 'application/x-ndjson' }),
	);
	expect(binary.bytes).toBe(Buffer.byteLength(DOWNLOAD_BODY));
	const { binaryDataMode } = await getHarnessRuntime();
	if (binaryDataMode.startsWith('filesystem')) expect(binary.id).toMatch(/^filesystem-v2:/);
	expect((await readBinary(binary)).toString('utf8')).toBe(DOWNLOAD_BODY);
});

test('workflow static data goes in and comes back out', async () => {
	const result = await run([start, probe({ operation: 'countRuns' })], {
		staticData: { 'node:Probe': { runs: 2 } },
	});

	expect(result.outputOf('Probe')[0].json).toEqual({ runs: 3 });
	expect(result.staticData).toEqual({ 'node:Probe': { runs: 3 } });
});

test('a run that does not finish in time is cancelled and rejected', async () => {
	const started = Date.now();
	await expect(run([start, probe({ path: '/hang' })], { timeoutMs: 500 })).rejects.toThrow(
		'did not finish within 500 ms',
	);
	expect(Date.now() - started).toBeLessThan(5_000);
});
