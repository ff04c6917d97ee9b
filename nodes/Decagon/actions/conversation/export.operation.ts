import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { limitField, returnAllField } from '../../../shared/descriptions';
import { JsonLinesCollector } from '../../../shared/jsonLines';
import { numberParameter, outputBinaryField, resultLimit, textParameter } from '../../../shared/parameters';
import { warnIfHeldInMemory } from '../../../shared/binaryData';
import { dateParameterToEpochMs, parseApiTimestamp } from '../../../shared/time';
import {
	conversationKey,
	conversationVersion,
	messageRows,
	simplifyConversation,
} from '../../helpers/conversation';
import type { DecagonConnection } from '../../transport';
import type { ExportPage, ExportQuery } from '../../transport/paginator';
import { paginateExport, secondOf, startCursorHint } from '../../transport/paginator';
import { metadataUserFilters } from '../../helpers/query';
import { exportOutputOptions, metadataFilterField, simplifyField } from '../common.descriptions';

const showForExport = { resource: ['conversation'], operation: ['export'] };

export const description: INodeProperties[] = [
	{ ...returnAllField, displayOptions: { show: showForExport } },
	{
		...limitField,
		displayOptions: { show: { ...showForExport, returnAll: [false] } },
		hint: 'Counts conversations (with Deduplicate off, every copy): One Item per Message gives every message of each',
	},
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		displayOptions: { show: showForExport },
		options: exportOutputOptions,
		default: 'conversation',
	},
	{ ...simplifyField, displayOptions: { show: showForExport } },
	{
		displayName: 'Put Output File in Field',
		name: 'binaryPropertyName',
		type: 'string',
		displayOptions: { show: { ...showForExport, output: ['jsonl'] } },
		default: 'data',
		hint: 'The name of the output binary field to put the file in',
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		displayOptions: { show: showForExport },
		default: {},
		options: [
			{
				displayName: 'After',
				name: 'after',
				type: 'dateTime',
				default: '',
				description: 'Only conversations whose chosen time (see Filter On) is at or after this moment (with Last Message, Decagon compares whole seconds)',
			},
			{
				displayName: 'Before',
				name: 'before',
				type: 'dateTime',
				default: '',
				description: 'Only conversations whose chosen time (see Filter On) is at or before this moment (with Last Message, Decagon compares whole seconds)',
			},
			{
				displayName: 'Filter On',
				name: 'filterOn',
				type: 'options',
				options: [
					{ name: 'Last Update', value: 'updated_at', description: 'When the conversation last changed' },
					{ name: 'Creation', value: 'created_at', description: 'When the conversation started' },
					{ name: 'Last Message', value: 'last_message_time', description: 'When its last message was sent' },
				],
				default: 'updated_at',
				description: 'Which time After and Before apply to; the export is also ordered by it, oldest first',
			},
			metadataFilterField,
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		displayOptions: { show: showForExport },
		default: {},
		options: [
			{
				displayName: 'Deduplicate',
				name: 'deduplicate',
				type: 'boolean',
				validateType: 'boolean',
				default: true,
				description:
					'Whether to return each conversation once, in its newest version. Decagon sends a conversation again when it changes during the export.',
			},
			{
				displayName: 'File Name',
				name: 'fileName',
				type: 'string',
				default: 'decagon-conversations.jsonl',
				displayOptions: { show: { '/output': ['jsonl'] } },
			},
			{
				displayName: 'Max Pages',
				name: 'maxPages',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description:
					'Stop after this many pages of 100 and report the cursor to resume from. 0 means no limit.',
			},
			{
				displayName: 'Start Cursor',
				name: 'startCursor',
				type: 'string',
				default: '',
				description:
					'Resume an earlier export from this cursor (an error or a stopped export tells you which). Empty starts from the oldest conversation.',
			},
		],
	},
];

type OutputMode = 'conversation' | 'message' | 'jsonl';

interface ExportOptions {
	deduplicate?: boolean;
	/** Text fields, as an expression may give them (a cursor from a number column is a number). */
	fileName?: unknown;
	maxPages?: number;
	startCursor?: unknown;
}

/** After and Before as the user gave them (epoch ms), before the query rounds them to whole seconds. */
interface ExactRange {
	afterMs?: number;
	beforeMs?: number;
}

/** The empty After/Before expressions already said in a node run (keyed by its context, gone with it). */
const emptyBoundHinted = new WeakMap<IExecuteFunctions, Set<string>>();

/** Turns the node's filters into the export's query parameters, and the exact range they stand for. */
export function buildExportQuery(this: IExecuteFunctions, filters: IDataObject, itemIndex: number): { query: ExportQuery; range: ExactRange } {
	const node = this.getNode();
	const query: ExportQuery = { timestamp_filter: String(filters.filterOn ?? 'updated_at') };
	const bound = (name: 'after' | 'before'): number | undefined => {
		const value = filters[name];
		if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
			// A misspelt field in the expression would otherwise export all of history without a word.
			const raw = (node.parameters.filters as IDataObject | undefined)?.[name];
			const said = emptyBoundHinted.get(this) ?? new Set<string>();
			if (typeof raw === 'string' && raw.startsWith('=') && raw.trim() !== '=' && !said.has(name)) {
				// Once per node run, not once per input item.
				emptyBoundHinted.set(this, said.add(name));
				this.addExecutionHints({
					message: `Filters → ${name === 'after' ? 'After' : 'Before'} is an expression that gave nothing, so the export has no ${name === 'after' ? 'start' : 'end'}. Check the field it reads.`,
					type: 'warning',
					location: 'outputPane',
				});
			}
			return undefined;
		}
		try {
			return dateParameterToEpochMs(value, this.getTimezone());
		} catch (error) {
			throw new NodeOperationError(node, `Filter "${name === 'after' ? 'After' : 'Before'}": ${(error as Error).message}`, {
				itemIndex,
				description: 'Use a date such as 2025-01-31T00:00:00, or an expression like {{ $now.minus({ days: 1 }) }}',
			});
		}
	};
	const after = bound('after');
	const before = bound('before');
	if (after !== undefined && before !== undefined && after > before) {
		throw new NodeOperationError(node, 'Filter "After" is later than "Before", so no conversation can match', {
			itemIndex,
			description: `After is ${new Date(after).toISOString()} and Before is ${new Date(before).toISOString()}. Swap them or correct one.`,
		});
	}
	// Decagon takes whole seconds; round outwards so the chosen moments stay inside the range (the node
	// leaves out what the rounding adds).
	if (after !== undefined) query.min_timestamp = Math.floor(after / 1000);
	if (before !== undefined) query.max_timestamp = Math.ceil(before / 1000);

	query.user_filters = metadataUserFilters(node, filters.metadata as IDataObject | undefined, itemIndex);
	return { query, range: { afterMs: after, beforeMs: before } };
}

/**
 * Where to resume after Limit ended inside the first page of a read (no cursor to go back to): by time,
 * from the second of the last conversation kept (or the next second, when nothing left out shares it), when
 * the page came in ascending order and all it left out lies at or after that second. Undefined when that
 * is not so, or it would not move past `start`.
 */
function resumeSecondInsidePage(records: Array<{ key: string; record: IDataObject }>, kept: (key: string) => boolean, field: string, start: number | undefined): number | undefined {
	// A conversation twice in the page counts where it first came.
	const firstCopies = new Set<string>();
	const page = records.filter(({ key }) => !firstCopies.has(key) && firstCopies.add(key));
	const seconds = page.map(({ record }) => secondOf(record, field));
	if (seconds.some((second, i) => second === undefined || (i > 0 && second < seconds[i - 1]!))) return undefined;
	let from: number | undefined;
	for (const [i, { key }] of page.entries()) if (kept(key)) from = seconds[i];
	if (from === undefined) return undefined;
	const last = from;
	const leftOut = seconds.filter((_, i) => !kept(page[i].key)) as number[];
	if (leftOut.some((second) => second < last)) return undefined;
	const resumeAt = leftOut.some((second) => second === last) ? last : last + 1;
	return start !== undefined && resumeAt <= start ? undefined : resumeAt;
}

/** Runs one export for one input item and returns its output items. */
export async function execute(
	this: IExecuteFunctions,
	connection: DecagonConnection,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const limit = resultLimit.call(this, itemIndex);
	const output = this.getNodeParameter('output', itemIndex) as OutputMode;
	const simplify = this.getNodeParameter('simplify', itemIndex) as boolean;
	const filters = this.getNodeParameter('filters', itemIndex, {}) as IDataObject;
	const options = this.getNodeParameter('options', itemIndex, {}) as ExportOptions;
	const deduplicate = options.deduplicate !== false;
	// Checked before any request: at 1 request per second, a blank field name found at the end wastes the export.
	const binaryPropertyName = output === 'jsonl' ? outputBinaryField.call(this, itemIndex) : undefined;
	const { query, range } = buildExportQuery.call(this, filters, itemIndex);
	// Ascending by the filtered time, so a cut-short export can read on from its last second.
	const readOnBy = query.timestamp_filter === 'updated_at' || query.timestamp_filter === 'created_at' ? query.timestamp_filter : undefined;
	// What Decagon's whole seconds add around After and Before is left out (a conversation without a readable time is kept).
	const bounded = readOnBy !== undefined && (range.afterMs !== undefined || range.beforeMs !== undefined);
	const inRange = (conversation: IDataObject) => {
		const ms = bounded ? parseApiTimestamp(conversation[readOnBy]) : NaN;
		return Number.isNaN(ms) || ((range.afterMs === undefined || ms >= range.afterMs) && (range.beforeMs === undefined || ms <= range.beforeMs));
	};

	// One collector for every output mode: newest copy per conversation. A file keeps its pages deflated
	// until it is streamed out; items are objects in n8n's memory anyway, so they are kept as parsed.
	const collector = new JsonLinesCollector(output === 'jsonl' ? 'deflated' : 'objects');
	let received = 0;
	// Where the newest page was asked from (its cursor, and the second its read on by time began at), and its
	// records: where to resume when Limit cuts that page short.
	let lastPage: Pick<ExportPage, 'cursor' | 'readFrom'> & { records: Array<{ key: string; record: IDataObject }> } = {
		cursor: undefined,
		readFrom: undefined,
		records: [],
	};
	const result = await paginateExport.call(
		this,
		connection,
		query,
		(page) => {
			const records = page.conversations.filter(inRange).map((conversation) => {
				received++;
				const key = deduplicate ? (conversationKey(conversation) ?? `#${received}`) : `#${received}`;
				return { key, version: conversationVersion(conversation), record: conversation };
			});
			lastPage = { cursor: page.cursor, readFrom: page.readFrom, records };
			collector.addPage(records);
			return collector.size < limit;
		},
		{
			startCursor: textParameter(options.startCursor) || undefined,
			readOnBy,
			endMs: range.beforeMs,
			maxPages: options.maxPages === undefined ? undefined : numberParameter(this.getNode(), options.maxPages, 'Max Pages', { min: 0, itemIndex }),
			onWarning: (message, kind) => {
				// How Decagon may end every export: a notice, not a warning.
				const type = kind === 'echoed-end' ? 'info' : 'warning';
				this.logger[type === 'info' ? 'info' : 'warn'](message);
				this.addExecutionHints({ message, type, location: 'outputPane' });
			},
		},
	);
	// Limit reached inside a page: the rest of that page is not in this output, so resuming must read the
	// page again (its first conversations come twice; none is skipped), not start after it.
	const cutShort = collector.size > limit;
	if (cutShort) collector.truncate(limit);
	let resumeCursor = cutShort ? lastPage.cursor : result.resumeCursor;
	let resumeFrom = cutShort ? lastPage.readFrom : result.readOnFrom;
	const startCursor = textParameter(options.startCursor) || undefined;
	const runsOwnStart = lastPage.cursor === undefined || (lastPage.cursor === startCursor && lastPage.readFrom === undefined);
	if (cutShort && runsOwnStart) {
		// The first page of a read (or of this run): going back to its start would return the same ones again.
		const start = lastPage.readFrom ?? query.min_timestamp;
		const from = readOnBy ? resumeSecondInsidePage(lastPage.records, (key) => collector.has(key), readOnBy, start) : undefined;
		if (from !== undefined) {
			resumeFrom = from;
			resumeCursor = undefined;
		} else if (output === 'jsonl') {
			// Only the file reports where to resume; items give no resume point to warn about.
			const why = readOnBy
				? `more than ${limit} conversations within one second, or not in time order`
				: 'Filter On Last Message gives no time in the conversations to resume from';
			this.addExecutionHints({
				message: `Limit ended inside a page that cannot be resumed partway (${why}), so an export resumed from here returns the same ones again. Raise Limit to get past them.`,
				type: 'warning',
				location: 'outputPane',
			});
		}
	}
	const complete = !cutShort && result.complete && result.sameSecondGaps === undefined;
	if (result.stoppedByMaxPages) {
		this.addExecutionHints({
			message: `Stopped after ${result.pages} pages (Max Pages). ${startCursorHint(result.resumeCursor, result.readOnFrom, 'To continue')}`,
			type: 'info',
			location: 'outputPane',
		});
	}
	const pairedItem = { item: itemIndex };

	if (binaryPropertyName !== undefined) {
		const fileName = textParameter(options.fileName) || 'decagon-conversations.jsonl';
		const transform = simplify ? (record: unknown) => simplifyConversation(record as IDataObject) : undefined;
		const binary = await this.helpers.prepareBinaryData(
			collector.toStream(transform),
			fileName,
			'application/x-ndjson',
		);
		warnIfHeldInMemory.call(this, binary, `The JSON Lines file ${fileName}`);
		return [
			{
				json: {
					conversations: collector.size,
					received,
					pages: result.pages,
					fileName,
					complete,
					resumeCursor: complete ? null : (resumeCursor ?? null),
					// When it stopped after reading on by time (Decagon sent no cursor): resume with After = this too.
					resumeAfter: complete || resumeFrom === undefined ? null : new Date(resumeFrom * 1000).toISOString(),
				},
				binary: { [binaryPropertyName]: binary },
				pairedItem,
			},
		];
	}

	const items: INodeExecutionData[] = [];
	for (const conversation of collector.records()) {
		const record = conversation as IDataObject;
		if (output === 'message') {
			for (const row of messageRows(record, simplify)) items.push({ json: row, pairedItem });
		} else {
			items.push({ json: simplify ? simplifyConversation(record) : record, pairedItem });
		}
	}
	return items;
}
