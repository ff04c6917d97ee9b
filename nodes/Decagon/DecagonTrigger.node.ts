import type {
	IDataObject,
	INodeExecutionData,
	INodeParameters,
	INodeType,
	INodeTypeDescription,
	IPollFunctions,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { itemOutputOptions, metadataFilterField, simplifyField } from './actions/common.descriptions';
import { messageRows, simplifyConversation } from './helpers/conversation';
import type { SyncEmission, SyncSettings } from './helpers/incrementalSync';
import { pollOnce, readSyncState } from './helpers/incrementalSync';
import { metadataUserFilters } from './helpers/query';
import { openDecagonConnection } from './transport';
import { paginateExport } from './transport/paginator';
import { numberParameter } from '../shared/parameters';
import { dateParameterToEpochMs } from '../shared/time';

/** How many recent conversations "Fetch Test Event" shows. */
const TEST_EVENT_COUNT = 5;

export class DecagonTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Decagon Trigger',
		name: 'decagonTrigger',
		// The editor's Docs link: without it n8n appends its tracking query after the codex link's #anchor, which then matches no heading.
		documentationUrl: 'https://www.npmjs.com/package/n8n-nodes-conversation-export#decagon-trigger',
		icon: { light: 'file:decagon.svg', dark: 'file:decagon.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ "Conversation changes" }}',
		// n8n's node panel shows the trigger's description for the Decagon entry as a whole (node and trigger).
		description: 'Export Decagon conversations, or start a workflow once for each new or changed one',
		defaults: { name: 'Decagon Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'decagonApi', required: true }],
		properties: [
			{
				displayName: 'Start From',
				name: 'startFrom',
				type: 'options',
				options: [
					{ name: 'Now', value: 'now', description: 'Only changes after the workflow is activated' },
					{ name: 'A Date', value: 'date', description: 'Every conversation changed since a date' },
					{ name: 'The Beginning', value: 'beginning', description: 'Every conversation there is, oldest first' },
				],
				default: 'now',
				description:
					'Where the first poll after activation starts; later polls continue where the last one ended. Changing Start From, Start Date or the metadata filter starts over from here.',
			},
			{
				displayName: 'Start Date',
				name: 'startDate',
				type: 'dateTime',
				default: '',
				required: true,
				displayOptions: { show: { startFrom: ['date'] } },
			},
			{
				displayName: 'Output',
				name: 'output',
				type: 'options',
				options: itemOutputOptions,
				default: 'conversation',
			},
			simplifyField,
			{
				displayName: 'Filters',
				name: 'filters',
				type: 'collection',
				placeholder: 'Add Filter',
				default: {},
				options: [metadataFilterField],
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Lookback (Minutes)',
						name: 'lookbackMinutes',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 10,
						description:
							'Each poll reads this far back into the previous one, to catch conversations whose update arrived late. Repeats are removed.',
					},
					{
						displayName: 'Max Conversations per Poll',
						name: 'maxPerPoll',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 1000,
						description:
							'A poll stops after the page that reaches this many and the next poll continues exactly there. Pages hold up to 100.',
					},
					{
						displayName: 'Settle Time (Seconds)',
						name: 'settleSeconds',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 120,
						description:
							'Changes younger than this are left for the next poll, so that conversations still being written are read once they are complete',
					},
				],
			},
		],
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const output = this.getNodeParameter('output') as 'conversation' | 'message';
		const simplify = this.getNodeParameter('simplify') as boolean;
		const filters = this.getNodeParameter('filters', {}) as IDataObject;
		const options = this.getNodeParameter('options', {}) as IDataObject;
		const extraQuery: IDataObject = {};
		const userFilters = metadataUserFilters(this.getNode(), filters.metadata as IDataObject | undefined);
		if (userFilters) extraQuery.user_filters = userFilters;
		const manual = this.getMode() === 'manual';
		const budgetMs = pollBudgetMs.call(this);
		// Every request, retries and Retry-After waits included, ends before n8n gives up on the poll. Fetch
		// Test Event is one page someone waits for (n8n cannot stop it), with no poll to run into: a minute.
		const connection = await openDecagonConnection.call(
			this,
			manual
				? { deadlineMs: Date.now() + TEST_EVENT_TIME_LIMIT_MS, deadlineNote: 'Decagon kept failing or did not answer within a minute. Try Fetch Test Event again in a moment.' }
				: { deadlineMs: Date.now() + budgetMs * 0.8 },
		);
		const nowSeconds = Date.now() / 1000;

		if (manual) {
			// Fetch Test Event: the most recently changed real conversations; the sync state is untouched.
			const recent: IDataObject[] = [];
			await paginateExport.call(
				this,
				connection,
				{ ...extraQuery, timestamp_filter: 'updated_at', max_timestamp: Math.floor(nowSeconds), order: 'desc' },
				(page) => {
					recent.push(...page.conversations.slice(0, TEST_EVENT_COUNT - recent.length));
					return recent.length < TEST_EVENT_COUNT;
				},
				{ maxPages: 1 },
			);
			if (recent.length === 0) {
				// Returning nothing would leave the editor without a word (n8n records no run for it).
				throw new NodeOperationError(this.getNode(), 'No conversation to show: Decagon has none changed before now that matches the filters', {
					description: 'Check the Metadata filter and that this API key sees conversations; once one changes, Fetch Test Event shows it.',
				});
			}
			// A test event shows every message.
			return [toItems(recent.map((conversation) => ({ conversation, change: 'updated', newMessagesFrom: 0 })), output, simplify)];
		}

		const startFrom = this.getNodeParameter('startFrom') as SyncSettings['startFrom'];
		const settings: SyncSettings = {
			startFrom,
			lookbackSeconds: numberParameter(this.getNode(), options.lookbackMinutes ?? 10, 'Lookback (Minutes)', { min: 0, whole: false }) * 60,
			settleSeconds: numberParameter(this.getNode(), options.settleSeconds ?? 120, 'Settle Time (Seconds)', { min: 0, whole: false }),
			maxPerPoll: numberParameter(this.getNode(), options.maxPerPoll ?? 1000, 'Max Conversations per Poll', { min: 1 }),
			// The API host too: another region or Base URL is other data, whose history has not been read.
			startKey: startKeyOf(this.getNode().parameters, new URL(connection.baseUrl).host),
			formerStartKeys: [startKeyOf(this.getNode().parameters), startKeyOfVersion010(this.getNode().parameters)],
			outOfTime: outOfTimeAfter(budgetMs),
		};
		if (startFrom === 'date') {
			try {
				settings.startDate = dateParameterToEpochMs(this.getNodeParameter('startDate'), this.getTimezone()) / 1000;
			} catch (error) {
				throw new NodeOperationError(this.getNode(), `Start Date: ${(error as Error).message}`);
			}
		}

		const staticData = this.getWorkflowStaticData('node');
		const { emitted, state, notices, warnings } = await pollOnce(
			readSyncState(staticData.sync as IDataObject | undefined),
			settings,
			nowSeconds,
			async (query, startCursor, onPage, emptyPagesBefore) =>
				await paginateExport.call(this, connection, query, onPage, {
					startCursor,
					emptyPagesBefore,
					resumeHint: pollResumeHint,
					readOnBy: 'updated_at',
					// A cut-short window comes back in pollOnce's warnings, with its times.
					onWarning: (message, kind) => {
						if (kind === 'echoed-end') this.logger.info(`Decagon Trigger: ${message}`);
						else if (kind !== 'cut-short') this.logger.warn(`Decagon Trigger: ${message}`);
					},
				}),
			extraQuery,
		);
		// Stored only now that the poll has succeeded: a failed poll leaves the last checkpoint in place.
		staticData.sync = state as unknown as IDataObject;
		for (const notice of notices) this.logger.info(notice);
		for (const warning of warnings) this.logger.warn(warning);
		const items = toItems(emitted, output, simplify);
		// Changes that give no items (conversations without messages, as one item per message) start nothing.
		return items.length === 0 ? null : [items];
	}
}

/** A failed poll stores nothing: the next one starts from the same checkpoint. */
function pollResumeHint(cursor: string | undefined): string {
	return cursor === undefined
		? 'The next poll tries again.'
		: 'The next poll tries again from the same place. If Decagon keeps refusing it, change Start From (to Now, say) to start the sync over.';
}

/**
 * A poll ends within this, whatever n8n allows: n8n 1.x and 2.x without its durable scheduler (the
 * default) start the next poll on schedule even while the last one runs, and two polls reading one
 * checkpoint would emit the same conversations twice. n8n's shortest poll interval is a minute.
 */
export const POLL_TIME_LIMIT_MS = 50_000;

/** Fetch Test Event waits this long at most, a 429's Retry-After included. */
const TEST_EVENT_TIME_LIMIT_MS = 60_000;

/**
 * How long this poll may take: n8n 2.x's durable poll scheduler abandons a poll that runs past its budget
 * (36 s by default) and keeps none of its progress; without it n8n 2.x says 5 minutes, and n8n 1.x
 * nothing. Never more than POLL_TIME_LIMIT_MS.
 */
export function pollBudgetMs(this: IPollFunctions): number {
	const context = this as IPollFunctions & { getPollBudgetMs?: () => number };
	const budget = typeof context.getPollBudgetMs === 'function' ? context.getPollBudgetMs() : undefined;
	return typeof budget === 'number' && Number.isFinite(budget) && budget > 0 ? Math.min(budget, POLL_TIME_LIMIT_MS) : POLL_TIME_LIMIT_MS;
}

/**
 * Stop asking for pages once half the budget is spent: a page takes about a second at Decagon's rate
 * limit, but a retried one can take tens of seconds, and what was read must still be emitted in time.
 */
function outOfTimeAfter(budgetMs: number): () => boolean {
	const stopAt = Date.now() + budgetMs / 2;
	return () => Date.now() >= stopAt;
}

/** Start From and Start Date as typed in the node (expressions not evaluated). */
function startSetting(parameters: INodeParameters) {
	return {
		startFrom: parameters.startFrom ?? 'now',
		startDate: parameters.startFrom === 'date' ? (parameters.startDate ?? null) : null,
	};
}

/**
 * What decides where the sync starts, as typed in the node (see SyncSettings.startKey). The metadata
 * filter as the query gets it: keys trimmed, in key order, an emptied filter the same as none, so an edit
 * that leaves the query as it was does not start the sync over (and emit everything again).
 */
function startKeyOf(parameters: INodeParameters, host?: string): string {
	const metadata = ((parameters.filters as IDataObject | undefined)?.metadata as IDataObject | undefined)?.filter;
	const pairs = Array.isArray(metadata)
		? // The type only where it is not the default text: keys stored before Value Type existed stay the same.
			(metadata as IDataObject[]).map((pair) => [String(pair.key ?? '').trim(), pair.value ?? '', ...(pair.valueType && pair.valueType !== 'string' ? [pair.valueType] : [])] as const)
		: [];
	pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
	return JSON.stringify({ ...startSetting(parameters), metadata: pairs, ...(host === undefined ? {} : { host }) });
}

/** startKeyOf in version 0.1.0: the filters as stored, so states stored then go on after an update. */
function startKeyOfVersion010(parameters: INodeParameters): string {
	return JSON.stringify({ ...startSetting(parameters), filters: parameters.filters ?? {} });
}

function toItems(emitted: SyncEmission[], output: 'conversation' | 'message', simplify: boolean): INodeExecutionData[] {
	const items: INodeExecutionData[] = [];
	for (const { conversation, change, newMessagesFrom } of emitted) {
		if (output === 'message') {
			// The messages new to this trigger: the ones it emitted with an earlier version are not repeated.
			for (const row of messageRows(conversation, simplify).slice(newMessagesFrom)) items.push({ json: { change_type: change, ...row } });
		} else {
			const json = simplify ? simplifyConversation(conversation) : conversation;
			items.push({ json: { change_type: change, ...json } });
		}
	}
	return items;
}
