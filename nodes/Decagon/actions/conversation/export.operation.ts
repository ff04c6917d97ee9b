import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { limitField, returnAllField } from '../../../shared/descriptions';
import { JsonLinesCollector } from '../../../shared/jsonLines';
import { numberParameter, outputBinaryField, resultLimit } from '../../../shared/parameters';
import { dateParameterToEpochMs } from '../../../shared/time';
import {
	conversationKey,
	conversationVersion,
	messageRows,
	simplifyConversation,
} from '../../helpers/conversation';
import type { DecagonConnection } from '../../transport';
import type { ExportQuery } from '../../transport/paginator';
import type { ExportPage } from '../../transport/paginator';
import { paginateExport, startCursorHint } from '../../transport/paginator';
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
				description: 'Only conversations whose chosen time (see Filter On) is at or after this moment',
			},
			{
				displayName: 'Before',
				name: 'before',
				type: 'dateTime',
				default: '',
				description: 'Only conversations whose chosen time (see Filter On) is at or before this moment',
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
	fileName?: string;
	maxPages?: number;
	startCursor?: string;
}

/** Turns the node's filters into the export's query parameters. */
export function buildExportQuery(this: IExecuteFunctions, filters: IDataObject, itemIndex: number): ExportQuery {
	const node = this.getNode();
	const query: ExportQuery = { timestamp_filter: String(filters.filterOn ?? 'updated_at') };
	const bound = (name: 'after' | 'before'): number | undefined => {
		const value = filters[name];
		if (value === undefined || value === null || value === '') return undefined;
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
	// Decagon takes whole seconds; round outwards so the chosen moments stay inside the range.
	if (after !== undefined) query.min_timestamp = Math.floor(after / 1000);
	if (before !== undefined) query.max_timestamp = Math.ceil(before / 1000);

	query.user_filters = metadataUserFilters(node, filters.metadata as IDataObject | undefined, itemIndex);
	return query;
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
	const query = buildExportQuery.call(this, filters, itemIndex);

	// One collector for every output mode: newest copy per conversation. A file keeps its pages deflated
	// until it is streamed out; items are objects in n8n's memory anyway, so they are kept as parsed.
	const collector = new JsonLinesCollector(output === 'jsonl' ? 'deflated' : 'objects');
	let received = 0;
	// Where the newest page was asked from (its cursor, and the second its read on by time began at): where
	// to resume when Limit cuts that page short.
	let lastPage: Pick<ExportPage, 'cursor' | 'readFrom'> = { cursor: undefined, readFrom: undefined };
	const result = await paginateExport.call(
		this,
		connection,
		query,
		(page) => {
			lastPage = page;
			const records = page.conversations.map((conversation) => {
				received++;
				const key = deduplicate ? (conversationKey(conversation) ?? `#${received}`) : `#${received}`;
				return { key, version: conversationVersion(conversation), record: conversation };
			});
			collector.addPage(records);
			return collector.size < limit;
		},
		{
			startCursor: options.startCursor,
			// Ascending by the filtered time, so a cut-short export can read on from its last second.
			readOnBy: query.timestamp_filter === 'updated_at' || query.timestamp_filter === 'created_at' ? query.timestamp_filter : undefined,
			maxPages: options.maxPages === undefined ? undefined : numberParameter(this.getNode(), options.maxPages, 'Max Pages', { min: 0, itemIndex }),
			onWarning: (message) => {
				this.logger.warn(message);
				this.addExecutionHints({ message, type: 'warning', location: 'outputPane' });
			},
		},
	);
	// Limit reached inside a page: the rest of that page is not in this output, so resuming must read the
	// page again (its first conversations come twice; none is skipped), not start after it.
	const cutShort = collector.size > limit;
	if (cutShort) collector.truncate(limit);
	const resumeCursor = cutShort ? lastPage.cursor : result.resumeCursor;
	const resumeFrom = cutShort ? lastPage.readFrom : result.readOnFrom;
	const complete = !cutShort && result.complete;
	if (result.stoppedByMaxPages) {
		this.addExecutionHints({
			message: `Stopped after ${result.pages} pages (Max Pages). ${startCursorHint(result.resumeCursor, result.readOnFrom, 'To continue')}`,
			type: 'info',
			location: 'outputPane',
		});
	}
	const pairedItem = { item: itemIndex };

	if (output === 'jsonl') {
		const fileName = options.fileName?.trim() || 'decagon-conversations.jsonl';
		const binaryPropertyName = outputBinaryField.call(this, itemIndex);
		const transform = simplify ? (record: unknown) => simplifyConversation(record as IDataObject) : undefined;
		const binary = await this.helpers.prepareBinaryData(
			collector.toStream(transform),
			fileName,
			'application/x-ndjson',
		);
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
