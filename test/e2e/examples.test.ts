/**
 * The example workflows in examples/ run in a real n8n against the stand-ins. Only the last node of
 * each (Google Sheets, Slack, Postgres, disk) is replaced by a No Op node of the same name, since those
 * need the user's own accounts; the project IDs are pointed at the stand-in's. `n8n execute` starts only
 * from a manual trigger, so Schedule Triggers become Manual Triggers of the same name; the polling
 * example is published instead, polling every minute.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import type { DecagonStandin } from '../standins/decagon';
import { startDecagonStandin } from '../standins/decagon';
import type { DembraneStandin } from '../standins/dembrane';
import { passwordCredentialData, startDembraneStandin } from '../standins/dembrane';
import type { CredentialFixture, N8nInstance, N8nServer, WorkflowFixture } from '../support/n8n-instance';
import { createN8nInstance, REPO_ROOT } from '../support/n8n-instance';

jest.setTimeout(600_000);

const EXAMPLES = path.join(REPO_ROOT, 'examples');
const USER_ACCOUNT_NODES = ['n8n-nodes-base.googleSheets', 'n8n-nodes-base.slack', 'n8n-nodes-base.postgres', 'n8n-nodes-base.readWriteFile'];

type Node = { name: string; type: string; typeVersion: number; parameters: Record<string, unknown>; credentials?: unknown };
let decagon: DecagonStandin;
let dembrane: DembraneStandin;
let n8n: N8nInstance;
let server: N8nServer | undefined;
let projectId: string;
const workflows = new Map<string, WorkflowFixture>();

function load(file: string): WorkflowFixture {
	const workflow = JSON.parse(readFileSync(path.join(EXAMPLES, file), 'utf8')) as WorkflowFixture;
	workflow.nodes = (workflow.nodes as Node[]).map((node) => {
		if (USER_ACCOUNT_NODES.includes(node.type)) {
			const { credentials: _accountOfTheUser, ...rest } = node;
			return { ...rest, type: 'n8n-nodes-base.noOp', typeVersion: 1, parameters: {} };
		}
		if (node.type === 'n8n-nodes-base.scheduleTrigger') {
			return { ...node, type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} };
		}
		if (node.type.endsWith('.decagonTrigger')) {
			return {
				...node,
				parameters: { ...node.parameters, pollTimes: { item: [{ mode: 'everyMinute' }] }, startFrom: 'date', startDate: new Date().toISOString(), options: { settleSeconds: 0, lookbackMinutes: 1 } },
			};
		}
		const project = node.parameters.project as { value?: string } | undefined;
		if (project && typeof project === 'object') project.value = projectId;
		return node;
	});
	return workflow;
}

beforeAll(async () => {
	decagon = await startDecagonStandin({ count: 120, spanDays: 3, rateLimitPerSecond: 1 });
	dembrane = await startDembraneStandin({ conversationsPerProject: 8, webhookRetryDelaysMs: [200, 400, 800] });
	projectId = dembrane.listProjects().find((project) => dembrane.conversations(project.id).length > 0)!.id;
	const credentials: CredentialFixture[] = [
		{ id: 'decagon-credential', name: 'Decagon account', type: 'decagonApi', data: { region: 'custom', baseUrl: decagon.url, apiKey: 'test-decagon-key', requestsPerSecond: 1 } },
		{
			id: 'dembrane-credential',
			name: 'dembrane ECHO account',
			type: 'dembraneEchoApi',
			data: passwordCredentialData(dembrane),
		},
	];
	for (const file of readdirSync(EXAMPLES).filter((name) => name.endsWith('.json'))) workflows.set(file, load(file));
	n8n = await createN8nInstance({ credentials, workflows: [...workflows.values()] });
}, 300_000);

afterAll(async () => {
	await server?.stop();
	await n8n?.dispose();
	await decagon?.close();
	await dembrane?.close();
});

const idOf = (file: string) => workflows.get(file)!.id;

test('every example is valid workflow JSON using our node types', () => {
	expect([...workflows.keys()].sort()).toEqual([
		'decagon-changes-to-postgres.json',
		'decagon-nightly-to-google-sheets.json',
		'dembrane-summarized-to-slack.json',
		'dembrane-weekly-transcript-archive.json',
	]);
});

test('nightly Decagon → Sheets: yesterday\'s changed conversations reach the Sheets step as flat rows', async () => {
	const result = await n8n.execute(idOf('decagon-nightly-to-google-sheets.json'));
	expect(result.error?.message).toBeUndefined();
	const rows = result.outputOf('Append or update rows');
	const dayStart = new Date();
	dayStart.setUTCHours(0, 0, 0, 0);
	const expected = decagon.conversations().filter((c) => {
		const updated = Date.parse(c.updated_at.includes('Z') || c.updated_at.includes('+') ? c.updated_at : `${c.updated_at.replace(' ', 'T')}Z`);
		return updated >= dayStart.getTime() - 86_400_000 && updated < dayStart.getTime();
	});
	// The window is in the workflow's time zone (n8n's default, UTC here).
	expect(rows).toHaveLength(expected.length);
	for (const row of rows) expect(typeof row.transcript).toBe('string');
});

test('weekly archive: the zip reaches the disk step, the index reaches the sheet', async () => {
	const result = await n8n.execute(idOf('dembrane-weekly-transcript-archive.json'));
	expect(result.error?.message).toBeUndefined();
	expect(String(result.outputOf('Write zip to disk')[0].fileName)).toMatch(/_transcripts\.zip$/);
	expect(result.outputOf('Index sheet')).toHaveLength(dembrane.conversations(projectId).length);
});

test('published: dembrane summarized → Slack, and Decagon changes → Postgres', async () => {
	const id = idOf('dembrane-summarized-to-slack.json');
	const pollingId = idOf('decagon-changes-to-postgres.json');
	server = await n8n.start({ publish: [id, pollingId] });
	const deadline = Date.now() + 60_000;
	while (dembrane.webhooks(projectId).filter((hook) => !hook.deleted_at).length === 0) {
		if (Date.now() > deadline) throw new Error('the example did not register its webhook');
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
	const conversationId = dembrane.conversations(projectId)[0].id;
	const deliveries = await dembrane.emit('conversation.summarized', { projectId, conversationId });
	expect(deliveries.map((d) => d.status)).toEqual([200]);
	const execution = await server.waitForExecution({
		workflowId: id,
		timeoutMs: 60_000,
		intervalMs: 500,
		predicate: (e) => e.outputOf('Post to Slack').length > 0,
	});
	expect(execution.outputOf('Post to Slack')[0]).toEqual(expect.objectContaining({ conversationId, event: 'conversation.summarized' }));

	const changed = decagon.addMessage(decagon.conversations()[5].conversation_id, 'A change for the Postgres example');
	const upsert = await server.waitForExecution({
		workflowId: pollingId,
		timeoutMs: 150_000,
		predicate: (e) => e.outputOf('Upsert conversation').some((row) => row.conversation_id === changed.conversation_id),
	});
	expect(upsert.status).toBe('success');
});
