/** dembrane ECHO node cases that change the stand-in's data (added conversations), so they have a stand-in of their own. */
import type { ICredentialDataDecryptedObject, INode, INodeParameters } from 'n8n-workflow';

import { passwordCredentialData, startDembraneStandin } from '../standins/dembrane';
import { credentialRef, manualTriggerNode, packageNodeType, runWorkflow } from '../support/workflow-harness';

jest.setTimeout(60_000);

type Standin = Awaited<ReturnType<typeof startDembraneStandin>>;
let standin: Standin;
beforeAll(async () => {
	standin = await startDembraneStandin({ conversationsPerProject: 6 });
});
afterAll(async () => standin.close());

const trigger = manualTriggerNode('c3000000-0000-4000-8000-000000000001');
function echo(parameters: INodeParameters, extra: Partial<INode> = {}): INode {
	return { id: 'c3000000-0000-4000-8000-000000000002', name: 'ECHO', type: packageNodeType('dembraneEcho'), typeVersion: 1, position: [220, 0], parameters, credentials: credentialRef('dembraneEchoApi'), ...extra };
}
function run(node: INode, credential: ICredentialDataDecryptedObject = passwordCredentialData(standin) as ICredentialDataDecryptedObject) {
	return runWorkflow({ nodes: [trigger, node], connections: { [trigger.name]: { main: [[{ node: node.name, type: 'main', index: 0 }]] } }, credentials: { dembraneEchoApi: credential }, timeoutMs: 50_000 });
}
const project = (id: string) => ({ __rl: true, mode: 'id', value: id });

test('two conversations whose zip files have one name (same 8-character ID prefix and second): each transcript once, joined to its own conversation', async () => {
	const pid = standin.ids().projectIds[1];
	const created = '2025-06-01T12:00:00.000Z';
	const a = standin.addConversation(pid, { id: 'deadbeef-0000-4000-8000-00000000000a', participant_name: 'Sam', created_at: created }).id;
	const b = standin.addConversation(pid, { id: 'deadbeef-0000-4000-8000-00000000000b', participant_name: 'Sam', created_at: created }).id;
	standin.addChunk(a, 'Words of A.');
	standin.addChunk(b, 'Words of B.');
	expect(standin.zipEntryName(a)).toBe(standin.zipEntryName(b));
	const result = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(pid) }));
	expect(result.error).toBeUndefined();
	const items = result.outputOf('ECHO').filter((i) => String(i.json.conversationIdPrefix) === 'deadbeef' || String(i.json.conversationId ?? '').startsWith('deadbeef'));
	expect(items.map((i) => [i.json.conversationId, String(i.json.transcript).trim()]).sort()).toEqual([[a, 'Words of A.'], [b, 'Words of B.']]);
});

test('"No transcripts" in the zip with Match Conversation Details off: the notice names both options that fetch the rest', async () => {
	const awaiting = standin.ids().noTranscriptsProjectId;
	const lone = standin.addConversation(awaiting, { participant_name: 'Lone Voice' }).id;
	for (let i = 1; i <= 100; i++) standin.addChunk(lone, null);
	standin.addChunk(lone, 'Finally transcribed.');
	const result = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(awaiting), options: { matchDetails: false } }));
	expect(result.outputOf('ECHO')).toEqual([]);
	const hints = JSON.stringify(result.runData.ECHO[0].hints);
	expect(hints).toMatch(/Match Conversation Details/);
});

test('a Dashboard URL pasted with a trailing line break gives working links', async () => {
	const pid = standin.ids().projectIds[0];
	const result = await run(
		echo({ resource: 'conversation', operation: 'getMany', project: project(pid), returnAll: false, limit: 1, simplify: true }),
		passwordCredentialData(standin, { dashboardUrl: 'https://dashboard.example/\n' }) as ICredentialDataDecryptedObject,
	);
	const [item] = result.outputOf('ECHO');
	expect(item.json.dashboard_url).toMatch(/^https:\/\/dashboard\.example\/w\/[^\s]+\/overview$/);
});
