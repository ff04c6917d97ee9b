/**
 * The dembrane ECHO Trigger's execution step on n8n's real engine: the run starts at the trigger with
 * the items its webhook returned on the stack, as n8n starts a webhook's execution, and the trigger's
 * execute() checks for redeliveries and fetches from the stand-in over real HTTP.
 * n8n keeps processed deliveries in its database; in-process, n8n-core's DataDeduplicationService gets
 * an in-memory store with the same contract (entries mode, node scope, maxEntries). The real store is
 * exercised in a real n8n by test/e2e/dembrane-trigger.test.ts and test/queue.
 */
import { DataDeduplicationService } from 'n8n-core';
import type {
	DeduplicationItemTypes,
	DeduplicationScope,
	ICheckProcessedContextData,
	ICheckProcessedOptions,
	ICredentialDataDecryptedObject,
	IDataDeduplicator,
	IDataObject,
	IDeduplicationOutput,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	INodeParameters,
	INodeType,
	INodeTypeDescription,
	WorkflowExecuteMode,
} from 'n8n-workflow';

import { eventItem } from '../../nodes/DembraneEcho/helpers/conversation';
import { passwordCredentialData, startDembraneStandin } from '../standins/dembrane';
import { credentialRef, packageNodeType, runWorkflow } from '../support/workflow-harness';

jest.setTimeout(60_000);

/** Entries mode only, as the trigger uses it; fails on demand like a database that is down. */
class MemoryDeduplicator implements IDataDeduplicator {
	readonly stores = new Map<string, string[]>();
	readonly calls: Array<{ scope: DeduplicationScope; options: ICheckProcessedOptions }> = [];
	failNext = false;

	private storeOf(scope: DeduplicationScope, context: ICheckProcessedContextData): string[] {
		const key = `${context.workflow.id}|${scope === 'node' ? `n:${context.node?.id}` : ''}`;
		if (!this.stores.has(key)) this.stores.set(key, []);
		return this.stores.get(key)!;
	}

	async checkProcessedAndRecord(items: DeduplicationItemTypes[], scope: DeduplicationScope, context: ICheckProcessedContextData, options: ICheckProcessedOptions): Promise<IDeduplicationOutput> {
		this.calls.push({ scope, options });
		if (this.failNext) {
			this.failNext = false;
			throw new Error('connection to the database lost');
		}
		const store = this.storeOf(scope, context);
		const result: IDeduplicationOutput = { new: [], processed: [] };
		for (const item of items) {
			if (store.includes(String(item))) result.processed.push(item);
			else {
				result.new.push(item);
				store.push(String(item));
			}
		}
		if (options.maxEntries) store.splice(0, Math.max(0, store.length - options.maxEntries));
		return result;
	}

	async removeProcessed(items: DeduplicationItemTypes[], scope: DeduplicationScope, context: ICheckProcessedContextData): Promise<void> {
		const store = this.storeOf(scope, context);
		for (const item of items) {
			const index = store.indexOf(String(item));
			if (index >= 0) store.splice(index, 1);
		}
	}

	async clearAllProcessedItems(scope: DeduplicationScope, context: ICheckProcessedContextData): Promise<void> {
		this.storeOf(scope, context).length = 0;
	}

	async getProcessedDataCount(scope: DeduplicationScope, context: ICheckProcessedContextData): Promise<number> {
		return this.storeOf(scope, context).length;
	}

	recorded(): string[] {
		return [...this.stores.values()].flat();
	}
}

type Standin = Awaited<ReturnType<typeof startDembraneStandin>>;
let standin: Standin;
let projectId: string;
const dedup = new MemoryDeduplicator();

beforeAll(async () => {
	await DataDeduplicationService.init(dedup);
	standin = await startDembraneStandin({ conversationsPerProject: 5 });
	projectId = standin.listProjects().find((project) => standin.conversations(project.id).length > 0)!.id;
});
afterAll(async () => standin?.close());
beforeEach(() => {
	dedup.stores.clear();
	dedup.calls.length = 0;
	dedup.failNext = false;
});

const TRIGGER = 'Dembrane ECHO Trigger';

function triggerNode(options: IDataObject, extra: Partial<INode> = {}): INode {
	return {
		id: 'c7000000-0000-4000-8000-000000000001',
		name: TRIGGER,
		type: packageNodeType('dembraneEchoTrigger'),
		typeVersion: 1.1,
		position: [0, 0],
		webhookId: 'c7000000-0000-4000-8000-0000000000ff',
		parameters: { registration: 'manual', events: ['conversation.summarized', 'report.generated'], secret: 's', options: options as INodeParameters },
		credentials: credentialRef('dembraneEchoApi'),
		...extra,
	};
}

/** What the workflow does with a delivery: passes it on (the harness loads no n8n-nodes-base nodes). */
class HandleDelivery implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Handle Delivery',
		name: 'handleDelivery',
		group: ['transform'],
		version: 1,
		description: 'Passes items on',
		defaults: { name: 'Handle delivery' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [this.getInputData().map((item, index) => ({ json: item.json, pairedItem: { item: index } }))];
	}
}
const HANDLE_TYPE = 'harness-test.handleDelivery';
const handle: INode = { id: 'c7000000-0000-4000-8000-000000000002', name: 'Handle delivery', type: HANDLE_TYPE, typeVersion: 1, position: [220, 0], parameters: {} };

/** A summarized event as dembrane sends it, with a short transcript in the payload. */
function summarized(conversationId: string, timestamp = '2026-11-20T10:00:00.123456+00:00'): IDataObject {
	return {
		event: 'conversation.summarized',
		timestamp,
		conversation: { id: conversationId, transcript: 'Hallo', summary: 'Kurz' },
		project: { id: projectId, name: 'Stadtgespräch', language: 'de' },
		dashboardUrl: 'https://dashboard.example/overview',
	};
}

/** One delivery: the run starts at the trigger with what its webhook returned for this payload. */
function deliver(payload: IDataObject, options: IDataObject = {}, { mode = 'webhook', node = {} }: { mode?: WorkflowExecuteMode; node?: Partial<INode> } = {}) {
	const trigger = triggerNode(options, node);
	return runWorkflow({
		nodes: [trigger, handle],
		connections: { [TRIGGER]: { main: [[{ node: handle.name, type: 'main', index: 0 }]] } },
		credentials: { dembraneEchoApi: passwordCredentialData(standin) as ICredentialDataDecryptedObject },
		mode,
		startNodeName: TRIGGER,
		webhookData: [[{ json: eventItem(payload) }]],
		workflowId: 'wfTriggerWorkflow1',
		extraNodeTypes: { [HANDLE_TYPE]: new HandleDelivery() },
		timeoutMs: 50_000,
	});
}

test('a delivery emits its event once, with the whole transcript fetched; the same delivery again emits nothing', async () => {
	const conversationId = standin.conversations(projectId)[0].id;
	const first = await deliver(summarized(conversationId), { fetchFullTranscript: true });
	expect(first.status).toBe('success');
	const [item] = first.outputOf(TRIGGER);
	expect(item.json).toEqual(
		expect.objectContaining({
			event: 'conversation.summarized',
			conversationId,
			projectId,
			transcript: standin.transcript(conversationId),
			summary: 'Kurz',
			deliveryId: `conversation.summarized|${conversationId}|2026-11-20T10:00:00.123456+00:00`,
		}),
	);
	expect(item.pairedItem).toEqual({ item: 0 });
	expect(first.outputOf('Handle delivery')).toHaveLength(1);
	expect(dedup.calls).toEqual([{ scope: 'node', options: { mode: 'entries', maxEntries: 10_000 } }]);

	const again = await deliver(summarized(conversationId), { fetchFullTranscript: true });
	expect(again.status).toBe('success');
	expect(again.outputOf(TRIGGER)).toEqual([]);
	expect(again.runData['Handle delivery']).toBeUndefined();

	// Another delivery about the same conversation (a later timestamp) is not a redelivery.
	const later = await deliver(summarized(conversationId, '2026-11-20T11:00:00.000001+00:00'));
	expect(later.outputOf(TRIGGER)).toHaveLength(1);
});

test('conversation.transcribed with Fetch Full Transcript gets the whole transcript, not the cut one in the event', async () => {
	// dembrane's event carries at most 2,000 chunks: without the fetch, a long conversation's end is lost.
	const conversationId = standin.conversations(projectId)[3].id;
	const payload = { ...summarized(conversationId), event: 'conversation.transcribed', conversation: { id: conversationId, transcript: 'Hallo' } };
	const trigger = triggerNode({ fetchFullTranscript: true });
	const result = await deliver(payload, { fetchFullTranscript: true }, { node: { parameters: { ...trigger.parameters, events: ['conversation.transcribed'] } } });
	expect(result.status).toBe('success');
	const [item] = result.outputOf(TRIGGER);
	expect(standin.wholeTranscript(conversationId)).not.toBe('Hallo');
	expect(item.json).toEqual(expect.objectContaining({ event: 'conversation.transcribed', conversationId, transcript: standin.wholeTranscript(conversationId) }));
});

test('test runs ("Listen for test event") neither check nor record; Ignore Redeliveries off lets every copy through', async () => {
	const conversationId = standin.conversations(projectId)[1].id;
	for (let i = 0; i < 2; i++) expect((await deliver(summarized(conversationId), {}, { mode: 'manual' })).outputOf(TRIGGER)).toHaveLength(1);
	expect(dedup.calls).toEqual([]);
	for (let i = 0; i < 2; i++) expect((await deliver(summarized(conversationId), { ignoreRedeliveries: false })).outputOf(TRIGGER)).toHaveLength(1);
	expect(dedup.calls).toEqual([]);
});

test('a failed fetch fails the execution with the API error and forgets the delivery, so a retry runs it', async () => {
	const missing = '0f0f0f0f-0000-4000-8000-00000000dead';
	const failed = await deliver(summarized(missing), { fetchFullTranscript: true });
	expect(failed.status).toBe('error');
	const error = failed.errorOf(TRIGGER)!;
	expect(error.message).toMatch(/dembrane/i);
	expect(JSON.stringify(error)).not.toContain(standin.password);
	expect(dedup.recorded()).toEqual([]);

	const retried = await deliver(summarized(missing));
	expect(retried.outputOf(TRIGGER)).toHaveLength(1);
});

test('with On Error → Continue, a failed fetch keeps the event and puts the error and its description beside it', async () => {
	const missing = '0f0f0f0f-0000-4000-8000-00000000beef';
	const result = await deliver(summarized(missing), { fetchFullTranscript: true }, { node: { onError: 'continueRegularOutput' } });
	expect(result.status).toBe('success');
	const [item] = result.outputOf(TRIGGER);
	// The README promises `error` and `description`: the description says what to do (check the ID, the account).
	expect(item.json).toEqual(
		expect.objectContaining({
			event: 'conversation.summarized',
			conversationId: missing,
			transcript: 'Hallo',
			error: expect.stringMatching(/404.*Conversation not found/),
			description: expect.stringMatching(/Check the ID/),
		}),
	);
	expect(result.outputOf('Handle delivery')).toHaveLength(1);
	// It went on, so it counts as handled: a redelivery emits nothing.
	expect((await deliver(summarized(missing), { fetchFullTranscript: true })).outputOf(TRIGGER)).toEqual([]);
});

test("when n8n's deduplication store fails, the delivery goes on (at worst once more) instead of being lost", async () => {
	const conversationId = standin.conversations(projectId)[2].id;
	dedup.failNext = true;
	const result = await deliver(summarized(conversationId));
	expect(result.status).toBe('success');
	expect(result.outputOf(TRIGGER)).toHaveLength(1);
});

test('report.generated with Fetch Report Content: the report’s Markdown and title', async () => {
	const report = standin.generateReport(projectId);
	await standin.idle();
	const payload = {
		event: 'report.generated',
		timestamp: '2026-11-20T12:00:00.000000+00:00',
		report: { id: report.id, status: report.status, language: report.language, date_created: report.date_created },
		project: { id: projectId },
		dashboardUrl: 'https://dashboard.example/report',
	};
	const result = await deliver(payload, { fetchReportContent: true });
	const [item] = result.outputOf(TRIGGER);
	expect(item.json).toEqual(expect.objectContaining({ event: 'report.generated', reportId: report.id, reportContent: report.content }));
	expect(typeof item.json.reportTitle === 'string' || item.json.reportTitle === null).toBe(true);
});

test('with On Error → Continue (using error output), a failed fetch sends the event to the error output, not on as a success', async () => {
	// Downstream of the success output, an item whose fetch failed would pass for a complete event (its
	// transcript the event's own, cut at 2,000 chunks).
	const missing = '0f0f0f0f-0000-4000-8000-00000000cafe';
	const result = await deliver(summarized(missing), { fetchFullTranscript: true }, { node: { onError: 'continueErrorOutput' } });
	expect(result.status).toBe('success');
	expect(result.outputOf(TRIGGER, 0)).toEqual([]);
	const [failed] = result.outputOf(TRIGGER, 1);
	expect(failed.json).toEqual({
		error: expect.stringMatching(/404.*Conversation not found/),
		message: expect.objectContaining({ event: 'conversation.summarized', conversationId: missing, description: expect.stringMatching(/Check the ID/) }),
	});
	expect(result.runData['Handle delivery']).toBeUndefined();
});

test('the fetch options fetch only what they name: no transcript for conversation.started, no report with Fetch Report Content off', async () => {
	// IDs dembrane does not know: a fetch would fail the execution.
	const unknown = '0f0f0f0f-0000-4000-8000-00000000f00d';
	const startedEvent = { ...summarized(unknown), event: 'conversation.started', conversation: { id: unknown, transcript: '' } };
	const onStart = await deliver(startedEvent, { fetchFullTranscript: true, fetchReportContent: true });
	expect(onStart.status).toBe('success');
	expect(onStart.outputOf(TRIGGER)).toEqual([{ json: expect.objectContaining({ event: 'conversation.started', conversationId: unknown, transcript: '' }), pairedItem: { item: 0 } }]);
	const report = { event: 'report.generated', timestamp: '2026-11-20T12:00:00.000000+00:00', report: { id: 987654 }, project: { id: projectId } };
	const withoutContent = await deliver(report, { fetchFullTranscript: true });
	expect(withoutContent.status).toBe('success');
	const [item] = withoutContent.outputOf(TRIGGER);
	expect(item.json).toEqual(expect.objectContaining({ event: 'report.generated', reportId: 987654 }));
	expect(item.json).not.toHaveProperty('reportContent');
});
