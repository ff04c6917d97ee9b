import type { IDataObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { apiError } from '../../shared/errors';
import type { DecagonConnection, DecagonContext } from './index';
import { decagonApiRequest } from './index';

export const EXPORT_PATH = '/conversation/export';
/** Decagon's page size; a full page that comes without a cursor was probably cut short. */
export const FULL_PAGE = 100;
/** No export runs forever: 100,000 pages are 10 million conversations. */
export const HARD_PAGE_LIMIT = 100_000;

/**
 * The docs name the cursor three ways: `next_page_cursor` (text), `next_page_updated_after` (example
 * response) and `next_cursor` (sample code). The first one carrying a value wins.
 */
const CURSOR_FIELDS = ['next_page_cursor', 'next_cursor', 'next_page_updated_after'] as const;

/** null, missing, empty and 0 all mean "no more pages". */
export function readNextCursor(body: IDataObject): string | undefined {
	for (const field of CURSOR_FIELDS) {
		const value = body[field];
		if (value === null || value === undefined || value === '' || value === 0 || value === '0') continue;
		if (typeof value === 'string' || typeof value === 'number') return String(value);
	}
	return undefined;
}

export interface ExportQuery {
	min_timestamp?: number;
	max_timestamp?: number;
	timestamp_filter?: string;
	user_filters?: string;
	/** `asc` (Decagon's default, oldest first) or `desc`. */
	order?: 'asc' | 'desc';
}

export interface ExportPage {
	number: number;
	conversations: IDataObject[];
	/** The cursor this page was asked with (undefined for the first page of a fresh export). */
	cursor: string | undefined;
	nextCursor: string | undefined;
}

export interface PaginationOptions {
	startCursor?: string;
	/** 0 = no limit of our own (the hard limit still applies). */
	maxPages?: number;
	onWarning?: (message: string) => void;
	/**
	 * What an error says about going on from `cursor`, the last page that worked (undefined before the
	 * first). Default: Export's Start Cursor option; the trigger, which has none, says its own.
	 */
	resumeHint?: (cursor: string | undefined) => string;
}

export interface PaginationResult {
	pages: number;
	/** The cursor to resume from, or undefined when the export reached its end. */
	resumeCursor: string | undefined;
	stoppedByMaxPages: boolean;
	/** The read ended on a full page without a next cursor: Decagon probably cut the export short. */
	truncated: boolean;
}

/**
 * Reads `GET /conversation/export` page by page, handing each page to `onPage`, which may return false
 * to stop early. Ends on an end marker; fails clearly on a repeating cursor or an empty page that
 * still has a cursor. When a page fails, the error names the last cursor that worked, to resume from.
 */
export async function paginateExport(
	this: DecagonContext,
	connection: DecagonConnection,
	query: ExportQuery,
	onPage: (page: ExportPage) => boolean | void | Promise<boolean | void>,
	options: PaginationOptions = {},
): Promise<PaginationResult> {
	const node = this.getNode();
	const resumeText = options.resumeHint ?? startCursorHint;
	const seenCursors = new Set<string>();
	const maxPages = options.maxPages && options.maxPages > 0 ? Math.min(options.maxPages, HARD_PAGE_LIMIT) : HARD_PAGE_LIMIT;
	let cursor = options.startCursor?.trim() || undefined;
	if (cursor) seenCursors.add(cursor);

	for (let number = 1; ; number++) {
		if (number > maxPages) {
			if (maxPages === HARD_PAGE_LIMIT) {
				throw new NodeOperationError(node, `The export passed ${HARD_PAGE_LIMIT} pages without ending`, {
					description: `Narrow the time range. ${resumeText(cursor)}`,
				});
			}
			return { pages: number - 1, resumeCursor: cursor, stoppedByMaxPages: true, truncated: false };
		}
		const qs: IDataObject = { ...query };
		if (cursor !== undefined) qs.cursor = cursor;
		let body: IDataObject;
		try {
			body = await decagonApiRequest.call(this, connection, EXPORT_PATH, qs);
		} catch (error) {
			throw withResumeHint(error, `Failed on page ${number}. ${resumeText(cursor)}`);
		}
		const conversations = body.conversations;
		if (!Array.isArray(conversations)) {
			throw apiError(node, {
				message: `Decagon's export response on page ${number} has no "conversations" list`,
				description: resumeText(cursor),
			});
		}
		const nextCursor = readNextCursor(body);
		const page: ExportPage = { number, conversations: conversations as IDataObject[], cursor, nextCursor };
		const keepGoing = await onPage(page);

		if (nextCursor === undefined) {
			const truncated = conversations.length >= FULL_PAGE;
			if (truncated) {
				options.onWarning?.(
					`Page ${number} was full (${conversations.length} conversations) but came without a next cursor: Decagon may have cut the export short. Check the count, or export a narrower time range.`,
				);
			}
			return { pages: number, resumeCursor: undefined, stoppedByMaxPages: false, truncated };
		}
		if (nextCursor === cursor || seenCursors.has(nextCursor)) {
			throw apiError(node, {
				message: `Decagon returned cursor "${nextCursor}" again on page ${number}; the export would loop forever`,
				description: `Stopped after ${number} pages. This is a problem on Decagon's side; try again later or export a narrower time range.`,
			});
		}
		if (conversations.length === 0) {
			throw apiError(node, {
				message: `Decagon returned an empty page ${number} that still has a next cursor`,
				description: `Stopped to avoid an endless export. ${resumeText(nextCursor)}`,
			});
		}
		seenCursors.add(nextCursor);
		cursor = nextCursor;
		if (keepGoing === false) return { pages: number, resumeCursor: cursor, stoppedByMaxPages: false, truncated: false };
	}
}

function startCursorHint(cursor: string | undefined): string {
	return cursor === undefined
		? 'No page was read yet; run the node again.'
		: `To resume where it stopped, set Options > Start Cursor to "${cursor}".`;
}

function withResumeHint(error: unknown, hint: string) {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		error.description = error.description ? `${error.description} ${hint}` : hint;
	}
	return error;
}
