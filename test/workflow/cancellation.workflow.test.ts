/**
 * A cancelled execution stops while a node waits out a server's long Retry-After, on n8n's real
 * engine: the harness cancels the run when its time is up and reports a run still going after that.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INode } from 'n8n-workflow';

import { credentialRef, MANUAL_TRIGGER_TYPE, packageNodeType, runWorkflow } from '../support/workflow-harness';

jest.setTimeout(30_000);

/** Answers every request with `status` and `Retry-After: 120`, and counts them. */
let server: Server;
let url: string;
let requests = 0;
let status = 429;
beforeAll(async () => {
	server = createServer((request, response) => {
		requests++;
		request.resume();
		response.writeHead(status, { 'content-type': 'application/json', 'retry-after': '120' });
		response.end(JSON.stringify({ detail: 'Slow down' }));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
	requests = 0;
});

const trigger: INode = {
	id: 'e5000000-0000-4000-8000-000000000001',
	name: "When clicking 'Execute workflow'",
	type: MANUAL_TRIGGER_TYPE,
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

function runUntilCancelled(node: INode, credentials: Parameters<typeof runWorkflow>[0]['credentials']) {
	return runWorkflow({
		nodes: [trigger, node],
		connections: { [trigger.name]: { main: [[{ node: node.name, type: 'main', index: 0 }]] } },
		credentials,
		timeoutMs: 2_500,
	});
}

test('Decagon: a cancel ends the wait for a 429 Retry-After of 120 s', async () => {
	status = 429;
	const node: INode = {
		id: 'e5000000-0000-4000-8000-000000000002',
		name: 'Decagon',
		type: packageNodeType('decagon'),
		typeVersion: 1,
		position: [220, 0],
		parameters: { resource: 'conversation', operation: 'export', returnAll: true },
		credentials: credentialRef('decagonApi'),
	};
	const started = Date.now();
	// The message would end "; it was still running 3000 ms after being cancelled" if the wait went on.
	await expect(
		runUntilCancelled(node, { decagonApi: { region: 'custom', baseUrl: url, apiKey: 'test-key', requestsPerSecond: 10 } }),
	).rejects.toThrow(/did not finish within 2500 ms$/);
	expect(Date.now() - started).toBeLessThan(5_000);
	expect(requests).toBe(1);
});

test('dembrane ECHO: a cancel ends the wait for a 503 Retry-After of 120 s', async () => {
	status = 503;
	const node: INode = {
		id: 'e5000000-0000-4000-8000-000000000003',
		name: 'ECHO',
		type: packageNodeType('dembraneEcho'),
		typeVersion: 1,
		position: [220, 0],
		parameters: { resource: 'project', operation: 'getMany', returnAll: true },
		credentials: credentialRef('dembraneEchoApi'),
	};
	const started = Date.now();
	await expect(
		runUntilCancelled(node, { dembraneEchoApi: { baseUrl: url, authMethod: 'accessToken', accessToken: 'a.b.c', sessionToken: '' } }),
	).rejects.toThrow(/did not finish within 2500 ms$/);
	expect(Date.now() - started).toBeLessThan(5_000);
	expect(requests).toBe(1);
});
