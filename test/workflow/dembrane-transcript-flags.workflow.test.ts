/**
 * dembrane's listing says has_transcript false on every row when the query behind that flag fails
 * (bff/conversations.py: a failed grouped aggregate is an empty set). The zip path of Export Transcripts
 * tells so from the zip; Get Many with Transcript Required and the export read one by one (zip route
 * given up) tell so from the transcripts of the page's likeliest rows, and then check every row.
 */
import type { ICredentialDataDecryptedObject, INode, INodeParameters } from 'n8n-workflow';

import type { DembraneStandin } from '../standins/dembrane';
import { startDembraneStandin } from '../standins/dembrane';
import { credentialRef, manualTriggerNode, packageNodeType, runWorkflow } from '../support/workflow-harness';

let standin: DembraneStandin;
beforeAll(async () => {
	standin = await startDembraneStandin({ conversationsPerProject: 30 });
}, 60_000);
afterAll(async () => standin.close());

const trigger = manualTriggerNode('c3100000-0000-4000-8000-000000000001');
const echo = (parameters: INodeParameters): INode => ({
	id: 'c3100000-0000-4000-8000-000000000002',
	name: 'ECHO',
	type: packageNodeType('dembraneEcho'),
	typeVersion: 1,
	position: [220, 0],
	parameters,
	credentials: credentialRef('dembraneEchoApi'),
});
function run(node: INode) {
	const credential: ICredentialDataDecryptedObject = { baseUrl: standin.url, authMethod: 'accessToken', accessToken: standin.issueAccessToken({ ttlSeconds: 600 }), sessionToken: '' };
	return runWorkflow({
		nodes: [trigger, node],
		connections: { [trigger.name]: { main: [[{ node: node.name, type: 'main', index: 0 }]] } },
		credentials: { dembraneEchoApi: credential },
		timeoutMs: 110_000,
	});
}
const project = (id: string) => ({ __rl: true, mode: 'id', value: id });
/** A project where some conversations have a transcript and some do not. */
function mixedProject() {
	const found = standin.listProjects().find((p) => {
		const texts = standin.conversations(p.id).map((c) => standin.transcript(c.id) !== '');
		return texts.includes(true) && texts.includes(false);
	})!;
	const transcribed = standin.conversations(found.id).filter((c) => standin.transcript(c.id) !== '').map((c) => c.id).sort();
	return { id: found.id, transcribed };
}

test('Get Many with Transcript Required while the flags fail: every conversation with a transcript, and only those', async () => {
	const { id, transcribed } = mixedProject();
	standin.configure({ transcriptFlagsFail: true });
	try {
		const result = await run(echo({ resource: 'conversation', operation: 'getMany', project: project(id), returnAll: true, filters: { transcriptRequired: true } }));
		expect(result.error).toBeUndefined();
		expect(result.outputOf('ECHO').map((item) => String(item.json.id)).sort()).toEqual(transcribed);
		expect(result.outputOf('ECHO').every((item) => item.json.has_transcript === true)).toBe(true);
	} finally {
		standin.configure({ transcriptFlagsFail: false });
	}
}, 120_000);

test('Export Transcripts read one by one (the zip route failed twice) while the flags fail: every transcript', async () => {
	const { id, transcribed } = mixedProject();
	standin.configure({ transcriptFlagsFail: true, faults: [1, 2].map((request) => ({ request, kind: '500' as const, path: '/transcripts' })) });
	try {
		const result = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(id) }));
		expect(result.error).toBeUndefined();
		expect(result.outputOf('ECHO').map((item) => String(item.json.conversationId)).sort()).toEqual(transcribed);
	} finally {
		standin.configure({ transcriptFlagsFail: false, faults: [] });
	}
}, 120_000);

test('a project where no conversation has a transcript yet is still "no transcripts", after a look at a few', async () => {
	const empty = standin.listProjects().find((p) => p.name === 'Awaiting transcription')!;
	const requests = () => standin.stats().requests.length + standin.stats().requestsDropped;
	const before = requests();
	const result = await run(echo({ resource: 'conversation', operation: 'getMany', project: project(empty.id), returnAll: true, filters: { transcriptRequired: true } }));
	expect(result.error).toBeUndefined();
	expect(result.outputOf('ECHO')).toEqual([]);
	expect(requests() - before).toBeLessThan(20);
}, 120_000);
