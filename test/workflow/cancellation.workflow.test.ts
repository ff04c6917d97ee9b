/**
 * A cancelled execution stops while a node waits out a server's long Retry-After, on n8n's real
 * engine: the harness cancels the run when its time is up and reports a run still going after that.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INode, INodeParameters } from 'n8n-workflow';

import { credentialRef, manualTriggerNode, packageNodeType, runWorkflow } from '../support/workflow-harness';

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

const trigger = manualTriggerNode('e5000000-0000-4000-8000-000000000001');

function nodeOf(name: string, type: string, credential: string, parameters: INodeParameters): INode {
	return { id: `e5000000-0000-4000-8000-${name.length.toString().padStart(12, '0')}`, name, type: packageNodeType(type), typeVersion: 1, position: [220, 0], parameters, credentials: credentialRef(credential) };
}

const cases: Array<[string, number, INode, Parameters<typeof runWorkflow>[0]['credentials']]> = [
	[
		'Decagon: a cancel ends the wait for a 429 Retry-After of 120 s',
		429,
		nodeOf('Decagon', 'decagon', 'decagonApi', { resource: 'conversation', operation: 'export', returnAll: true }),
		{ decagonApi: { region: 'custom', baseUrl: '', apiKey: 'test-key', requestsPerSecond: 10 } },
	],
	[
		'dembrane ECHO: a cancel ends the wait for a 503 Retry-After of 120 s',
		503,
		nodeOf('ECHO', 'dembraneEcho', 'dembraneEchoApi', { resource: 'project', operation: 'getMany', returnAll: true }),
		{ dembraneEchoApi: { baseUrl: '', authMethod: 'accessToken', accessToken: 'a.b.c', sessionToken: '' } },
	],
];

test.each(cases)('%s', async (_name, answer, node, credentials) => {
	status = answer;
	const type = Object.keys(credentials!)[0];
	// The harness cancels the run after 2.5 s; the message would end "; it was still running 3000 ms after
	// being cancelled" if the wait went on.
	await expect(
		runWorkflow({
			nodes: [trigger, node],
			connections: { [trigger.name]: { main: [[{ node: node.name, type: 'main', index: 0 }]] } },
			credentials: { [type]: { ...credentials![type], baseUrl: url } },
			timeoutMs: 2_500,
		}),
	).rejects.toThrow(/did not finish within 2500 ms$/);
	expect(requests).toBe(1);
});
