/**
 * The action nodes as tools of n8n's AI Agent, in a real n8n: the agent's model (a scripted stand-in of
 * OpenAI's Chat Completions API) calls the Decagon and dembrane ECHO tools with `$fromAI` values, and the
 * stand-in answers with what the tool gave it, so the agent's output shows what a model would read:
 * the items, or with On Error → Continue the error and what to do.
 * Needs `npm run build` first (scripts/test.sh does it).
 */
import type { ChatModelStandin, ToolCallScript } from '../support/chat-model-standin';
import { TOOL_ANSWER_MARKER, startChatModelStandin } from '../support/chat-model-standin';
import type { DecagonStandin } from '../standins/decagon';
import { startDecagonStandin } from '../standins/decagon';
import type { DembraneStandin } from '../standins/dembrane';
import { passwordCredentialData, startDembraneStandin } from '../standins/dembrane';
import type { CredentialFixture, N8nInstance, WorkflowFixture } from '../support/n8n-instance';
import { createN8nInstance } from '../support/n8n-instance';
import { PACKAGE, decagonCredential } from './decagon-workflows';

jest.setTimeout(300_000);

const API_KEY = 'test-decagon-key-for-the-agent';
const WRONG_KEY = 'sk-ai-tool-WRONG-key-8e3f0b2c';
const DAY = 86_400;

let decagon: DecagonStandin;
let dembrane: DembraneStandin;
let chat: ChatModelStandin;
let n8n: N8nInstance;
let after: string;
let conversationId: string;

const scripts: Record<string, () => ToolCallScript> = {
	'decagon-recent': () => ({ tool: /decagon/i, arguments: { after, limit: 3 } }),
	'decagon-bad-date': () => ({ tool: /decagon/i, arguments: { after: 'last tuesday', limit: 3 } }),
	'echo-transcript': () => ({ tool: /echo/i, arguments: { conversation_id: conversationId } }),
};

function agentWorkflow(id: string, scenario: string, tool: { name: string; type: string; parameters: Record<string, unknown>; credentials: Record<string, unknown>; onError?: string }, model: CredentialFixture): WorkflowFixture {
	return {
		id,
		name: `AI Agent: ${scenario}`,
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{ id: `${id}-start`, name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				id: `${id}-agent`,
				name: 'AI Agent',
				type: '@n8n/n8n-nodes-langchain.agent',
				typeVersion: 3,
				position: [220, 0],
				parameters: { promptType: 'define', text: `SCENARIO ${scenario}: use the tool and report what it returned.`, options: {} },
			},
			{
				id: `${id}-model`,
				name: 'OpenAI Chat Model',
				type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
				typeVersion: 1.2,
				position: [160, 200],
				parameters: { model: { __rl: true, mode: 'id', value: 'gpt-4o-mini' }, options: {} },
				credentials: { openAiApi: { id: model.id, name: model.name } },
			},
			{ id: `${id}-tool`, position: [320, 200], typeVersion: 1, ...tool },
		],
		connections: {
			Start: { main: [[{ node: 'AI Agent', type: 'main', index: 0 }]] },
			'OpenAI Chat Model': { ai_languageModel: [[{ node: 'AI Agent', type: 'ai_languageModel', index: 0 }]] },
			[tool.name]: { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] },
		},
	};
}

const exportRequests = () => decagon.stats().requests.filter((request) => request.path.endsWith('/conversation/export'));

/** What the tool gave the model, as the stand-in echoed it into the agent's output. */
function toolAnswerOf(output: Array<Record<string, unknown>>): string {
	expect(output).toHaveLength(1);
	const text = String(output[0].output);
	expect(text.startsWith(TOOL_ANSWER_MARKER)).toBe(true);
	return text.slice(TOOL_ANSWER_MARKER.length);
}

beforeAll(async () => {
	decagon = await startDecagonStandin({ count: 60, pageSize: 100, apiKey: API_KEY });
	after = new Date((decagon.nowEpoch() - 10 * DAY) * 1000).toISOString();
	dembrane = await startDembraneStandin({ conversationsPerProject: 3, chunksPerConversation: 2 });
	const project = dembrane.listProjects().find((candidate) => dembrane.conversations(candidate.id).length === 3)!;
	conversationId = String(dembrane.conversations(project.id)[0].id);
	chat = await startChatModelStandin((prompt) => {
		const scenario = /SCENARIO ([\w-]+)/.exec(prompt)?.[1] ?? '';
		if (!scripts[scenario]) throw new Error(`no script for "${prompt}"`);
		return scripts[scenario]();
	});

	const decagonKey = decagonCredential('decagonAiTool001', 'Decagon stand-in', decagon.url, API_KEY, 50);
	const wrongKey = decagonCredential('decagonAiTool002', 'Decagon wrong key', decagon.url, WRONG_KEY, 50);
	const echo: CredentialFixture = { id: 'dembraneAiTool01', name: 'dembrane stand-in', type: 'dembraneEchoApi', data: passwordCredentialData(dembrane) };
	const model: CredentialFixture = { id: 'openAiStandin001', name: 'OpenAI stand-in', type: 'openAiApi', data: { apiKey: 'sk-standin-not-a-key', url: `${chat.url}/v1` } };
	const decagonTool = (onError?: string, credential = decagonKey) => ({
		name: 'Decagon',
		type: `${PACKAGE}.decagonTool`,
		parameters: {
			resource: 'conversation',
			operation: 'export',
			returnAll: false,
			limit: "={{ $fromAI('limit', 'How many conversations to return', 'number') }}",
			simplify: true,
			filters: { after: "={{ $fromAI('after', 'ISO 8601 date-time to start from', 'string') }}" },
		},
		credentials: { decagonApi: { id: credential.id, name: credential.name } },
		...(onError ? { onError } : {}),
	});
	n8n = await createN8nInstance({
		credentials: [decagonKey, wrongKey, echo, model],
		workflows: [
			agentWorkflow('wfAiToolDecagon1', 'decagon-recent', decagonTool(), model),
			agentWorkflow('wfAiToolBadDate1', 'decagon-bad-date', decagonTool('continueRegularOutput'), model),
			agentWorkflow('wfAiToolWrongKy1', 'decagon-recent', decagonTool('continueRegularOutput', wrongKey), model),
			agentWorkflow('wfAiToolWrongKy2', 'decagon-recent', decagonTool(undefined, wrongKey), model),
			agentWorkflow(
				'wfAiToolEcho0001',
				'echo-transcript',
				{
					name: 'Dembrane ECHO',
					type: `${PACKAGE}.dembraneEchoTool`,
					parameters: {
						resource: 'conversation',
						operation: 'getTranscript',
						conversationId: "={{ $fromAI('conversation_id', 'The conversation ID', 'string') }}",
					},
					credentials: { dembraneEchoApi: { id: echo.id, name: echo.name } },
				},
				model,
			),
		],
	});
}, 300_000);

afterAll(async () => {
	await n8n?.dispose();
	await Promise.all([decagon?.close(), dembrane?.close(), chat?.close()]);
});

test('the agent calls the Decagon tool with $fromAI values: After and Limit reach the export, and the model reads the rows', async () => {
	decagon.resetStats();
	const requestsBefore = chat.requests.length;
	const result = await n8n.execute('wfAiToolDecagon1');
	expect({ status: result.status, error: result.error?.message }).toEqual({ status: 'success', error: undefined });
	const rows = JSON.parse(toolAnswerOf(result.outputOf('AI Agent'))) as Array<Record<string, unknown>>;
	expect(rows).toHaveLength(3);
	const known = new Set(decagon.conversations().map((conversation) => conversation.conversation_id));
	for (const row of rows) {
		expect(known.has(String(row.conversation_id))).toBe(true);
		// Simplify's flat rows: ISO times, the transcript as text.
		expect(Date.parse(String(row.updated_at))).toBeGreaterThanOrEqual(Date.parse(after));
		expect(typeof row.transcript).toBe('string');
	}
	const exports = exportRequests();
	expect(exports.length).toBeGreaterThanOrEqual(1);
	expect(Number(exports[0].query.min_timestamp)).toBe(Math.floor(Date.parse(after) / 1000));
	// The tool was offered to the model under the node's name.
	expect(chat.requests.slice(requestsBefore).map((request) => request.tools)).toEqual([['Decagon'], ['Decagon']]);
});

test('a date the tool cannot read: with On Error → Continue the model gets the error and the forms it takes, never the API key', async () => {
	decagon.resetStats();
	const result = await n8n.execute('wfAiToolBadDate1');
	expect(result.status).toBe('success');
	const answer = toolAnswerOf(result.outputOf('AI Agent'));
	expect(answer).toMatch(/last tuesday/);
	expect(answer).toMatch(/2025-01-31/);
	expect(answer).not.toContain(API_KEY);
	expect(exportRequests()).toEqual([]);
});

test('a wrong API key: with On Error → Continue the model gets the message and what to do; without it, n8n 2.x passes on only the message and n8n 1.x fails the agent run (as the README says)', async () => {
	const continued = await n8n.execute('wfAiToolWrongKy1');
	expect(continued.status).toBe('success');
	const withDescription = JSON.parse(toolAnswerOf(continued.outputOf('AI Agent'))) as Array<Record<string, unknown>>;
	expect(withDescription).toEqual([{ error: expect.stringMatching(/API key/i), description: expect.stringMatching(/check the API key/i) }]);

	const failed = await n8n.execute('wfAiToolWrongKy2');
	if (n8n.runtime.version.startsWith('1.')) {
		expect(failed.status).toBe('error');
	} else {
		expect(failed.status).toBe('success');
		const messageOnly = toolAnswerOf(failed.outputOf('AI Agent'));
		expect(messageOnly).toContain(JSON.stringify(withDescription[0].error));
		expect(messageOnly).not.toMatch(/check the API key/i);
	}
	for (const run of [continued, failed]) {
		const everything = [run.log, run.stderr, JSON.stringify(run.run)].join('\n');
		expect(everything).not.toContain(WRONG_KEY);
		expect(everything).not.toContain(WRONG_KEY.slice(7));
	}
});

test('the agent calls the dembrane ECHO tool: Get Transcript gives the model the whole transcript', async () => {
	const result = await n8n.execute('wfAiToolEcho0001');
	expect({ status: result.status, error: result.error?.message }).toEqual({ status: 'success', error: undefined });
	const answer = toolAnswerOf(result.outputOf('AI Agent'));
	const transcript = dembrane.transcript(conversationId);
	expect(transcript.length).toBeGreaterThan(0);
	expect(answer).toContain(JSON.stringify(transcript).slice(1, -1));
	expect(answer).toContain(conversationId);
});
