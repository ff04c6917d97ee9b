import type { IDataObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { apiError } from '../../shared/errors';
import { parseApiTimestamp } from '../../shared/time';
import { conversationKey, conversationVersion } from '../helpers/conversation';
import type { DecagonConnection, DecagonContext } from './index';
import { decagonApiRequest } from './index';

export const EXPORT_PATH = '/conversation/export';
/** Decagon's page size; a full page that comes without a cursor was probably cut short. */
export const FULL_PAGE = 100;
/** No export runs forever: 100,000 pages are 10 million conversations. */
export const HARD_PAGE_LIMIT = 100_000;
/** Empty pages, each with a new cursor, after which an export is taken to be stuck. */
const MAX_EMPTY_PAGES_IN_A_ROW = 50;

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
	/** The min_timestamp of the read on by time this page belongs to (undefined: the export's own start). */
	readFrom: number | undefined;
	nextCursor: string | undefined;
}

export interface PaginationOptions {
	startCursor?: string;
	/** 0 = no limit of our own (the hard limit still applies). */
	maxPages?: number;
	/** Empty pages in a row that an earlier read, resumed here, ended on: the bound on them holds across reads. */
	emptyPagesBefore?: number;
	/** Something the user should know of; a cut-short read is also in the result (`truncated`). */
	onWarning?: (message: string, kind: 'cut-short' | 'not-conversations' | 'echoed-end' | 'same-second') => void;
	/**
	 * What an error says about going on from `cursor`, the last page that worked (undefined before the
	 * first). Default: Export's Start Cursor option; the trigger, which has none, says its own.
	 */
	resumeHint?: (cursor: string | undefined, readOnFrom: number | undefined) => string;
	/**
	 * The time the export is ordered by (`timestamp_filter`, ascending). When a full page comes without a
	 * cursor, the export goes on from the second of the last conversation (see readOnDecision); repeats of
	 * that second are left out. Without it, such a page ends the export with a warning.
	 */
	readOnBy?: 'updated_at' | 'created_at';
	/**
	 * The exact end of the range (epoch ms), when max_timestamp is it rounded up to a whole second: a read on
	 * by time that would begin after it has nothing in the range left to read.
	 */
	endMs?: number;
}

export interface PaginationResult {
	pages: number;
	/** The cursor to resume from, or undefined when the export reached its end. */
	resumeCursor: string | undefined;
	stoppedByMaxPages: boolean;
	/** The read ended on a full page without a next cursor: Decagon probably cut the export short. */
	truncated: boolean;
	/** Why a truncated read did not read on by time (readOnBy was given but it was unsafe). */
	readOnRefusal?: string;
	/**
	 * Read to the end: not stopped (Max Pages, the consumer) before it, nor cut short. A stop right where
	 * a read on by time would begin leaves no cursor, so resumeCursor alone does not say it.
	 */
	complete: boolean;
	/**
	 * Seconds whose conversations beyond the first page Decagon's cursor may have skipped (100 or more
	 * updated in one second, under a cursor that is that second): the read is not known to be whole.
	 */
	sameSecondGaps?: number[];
	/** Where the read stopped to be resumed: the empty pages it ended on (see PaginationOptions.emptyPagesBefore). */
	emptyPagesInARow?: number;
	/**
	 * The min_timestamp of the last read on by time, if there was one: resumeCursor belongs to it (no
	 * resumeCursor: the export resumes from this second).
	 */
	readOnFrom?: number;
}

/** Where reading on by time stands after a read that ended on a full page without a cursor. */
export interface ReadOnCheck {
	/** The conversations did not come in ascending order of the time read on by. */
	outOfOrder: boolean;
	/** The second of the last conversation with a readable time. */
	lastSecond: number | undefined;
	/** min_timestamp and max_timestamp of the read (null/undefined: open). */
	min: number | null | undefined;
	max: number | undefined;
}

/**
 * Whether a read cut short (a full page without a cursor) can go on from the second of its last
 * conversation, and if not, why: reading on by time is only safe in ascending order, and must move forward.
 */
function readOnDecision(check: ReadOnCheck, field: string): { from: number } | { reason: string; stuck?: boolean } {
	if (check.outOfOrder) return { reason: `the conversations did not come in ${field} order, so reading on by time could skip some` };
	const from = check.lastSecond;
	if (from === undefined || (check.min !== null && check.min !== undefined && from <= check.min)) {
		return { reason: `reading on by time would not move forward (more than ${FULL_PAGE} conversations within one second, or they have no ${field})`, stuck: true };
	}
	if (check.max !== undefined && from > check.max) {
		return { reason: 'the last conversation lies after the end of the window asked for, so reading on by time would leave the window' };
	}
	return { from };
}

/** The whole second of a conversation's time field, if readable. */
export function secondOf(conversation: IDataObject, field: string): number | undefined {
	const ms = parseApiTimestamp(conversation[field]);
	return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/**
 * Reads `GET /conversation/export` page by page, handing each page to `onPage`, which may return false
 * to stop early. Ends on an end marker, or on an empty page that sends back the cursor it was asked
 * with (twice in a row); follows an empty page with a new cursor; fails clearly on a repeating cursor or a long run of
 * empty pages. When a page fails, the error names the last cursor that worked, to resume from.
 */
export async function paginateExport(
	this: DecagonContext,
	connection: DecagonConnection,
	query: ExportQuery,
	onPage: (page: ExportPage) => boolean | void | Promise<boolean | void>,
	options: PaginationOptions = {},
): Promise<PaginationResult> {
	const node = this.getNode();
	const hint = options.resumeHint ?? startCursorHint;
	let readOnFrom: number | undefined;
	const resumeText = (at: string | undefined) => hint(at, readOnFrom);
	const seenCursors = new Set<string>();
	const maxPages = options.maxPages && options.maxPages > 0 ? Math.min(options.maxPages, HARD_PAGE_LIMIT) : HARD_PAGE_LIMIT;
	let cursor = options.startCursor?.trim() || undefined;
	if (cursor) seenCursors.add(cursor);
	const field = options.readOnBy;
	// Reading on by time: the order seen in this read, and the conversations of its last second (sent
	// again by the next read, so left out there unless they changed).
	let order = { lastSecond: -Infinity, outOfOrder: false };
	let atLastSecond = new Map<string, number>();
	let repeats = new Map<string, number>();
	// The page before, conversation → version: Decagon repeats its last ones at the top of the next page.
	let previousPage = new Map<string, number>();
	let emptyInARow = options.emptyPagesBefore ?? 0;
	let askedAgain = false;
	const sameSecondGaps: number[] = [];
	const withGaps = (result: PaginationResult): PaginationResult => (sameSecondGaps.length > 0 ? { ...result, sameSecondGaps } : result);

	for (let number = 1; ; number++) {
		if (number > maxPages) {
			if (maxPages === HARD_PAGE_LIMIT) {
				throw new NodeOperationError(node, `The export passed ${HARD_PAGE_LIMIT} pages without ending`, {
					description: `Narrow the time range. ${resumeText(cursor)}`,
				});
			}
			return withGaps({ pages: number - 1, resumeCursor: cursor, stoppedByMaxPages: true, truncated: false, complete: false, readOnFrom, emptyPagesInARow: emptyInARow });
		}
		const qs: IDataObject = { ...query };
		if (readOnFrom !== undefined) qs.min_timestamp = readOnFrom;
		if (cursor !== undefined) qs.cursor = cursor;
		let body: IDataObject;
		try {
			body = await decagonApiRequest.call(this, connection, EXPORT_PATH, qs);
		} catch (error) {
			// The Export's own Start Cursor may be what Decagon refused: resuming "at" it would fail the same way.
			const atStartCursor = number === 1 && cursor !== undefined && options.resumeHint === undefined;
			throw withResumeHint(
				error,
				atStartCursor
					? `Failed on the first page, asked for with Options > Start Cursor "${cursor}". If Decagon refused that cursor, correct it, or clear it to start from the beginning.`
					: `Failed on page ${number}. ${resumeText(cursor)}`,
			);
		}
		const entries = body.conversations;
		if (!Array.isArray(entries)) {
			throw apiError(node, {
				message: `Decagon's export response on page ${number} has no "conversations" list`,
				description: resumeText(cursor),
			});
		}
		// A null (or any non-object) in the list is no conversation: left out, and said, rather than a crash.
		const conversations = (entries as unknown[]).filter((entry): entry is IDataObject => entry !== null && typeof entry === 'object' && !Array.isArray(entry));
		if (conversations.length < entries.length) {
			options.onWarning?.(`Decagon's page ${number} held ${entries.length - conversations.length} entries that are not conversations (null, or not an object); they were left out.`, 'not-conversations');
		}
		const nextCursor = readNextCursor(body);
		let delivered = conversations;
		if (field) {
			delivered = delivered.filter((conversation) => {
				const key = conversationKey(conversation);
				const version = key === undefined ? undefined : repeats.get(key);
				return version === undefined || conversationVersion(conversation) > version;
			});
			const pageVersions = new Map<string, number>();
			for (const conversation of conversations) {
				const key = conversationKey(conversation);
				const version = conversationVersion(conversation);
				const before = key === undefined ? undefined : (pageVersions.get(key) ?? previousPage.get(key));
				if (key !== undefined) pageVersions.set(key, Math.max(version, before ?? -Infinity));
				// A repeat (of the page before, or earlier in this one) is not disorder.
				if (before !== undefined && version <= before) continue;
				const second = secondOf(conversation, field);
				if (second === undefined) continue;
				if (second < order.lastSecond) order.outOfOrder = true;
				if (second > order.lastSecond) atLastSecond = new Map();
				order.lastSecond = Math.max(order.lastSecond, second);
				if (key !== undefined && second === order.lastSecond) atLastSecond.set(key, version);
			}
			previousPage = pageVersions;
		}
		const page: ExportPage = { number, conversations: delivered, cursor, nextCursor, readFrom: readOnFrom };
		const keepGoing = await onPage(page);

		// A cursor that is the second of the last conversation is a time. Were Decagon to read it as "after
		// that second", the conversations of that second that did not fit on this page would never come;
		// reading on from the second itself gets them (its repeats left out). The docs' example cursor is
		// such a whole number, and nothing says which way Decagon compares it.
		// Only by last update: the cursor is named for that time (next_page_updated_after), and under a
		// creation filter a conversation updated later than it was created would be skipped.
		const cursorSecond = nextCursor !== undefined && field === 'updated_at' && /^\d{1,12}$/.test(nextCursor) ? Number(nextCursor) : undefined;
		const timeCursor = cursorSecond !== undefined && (cursorSecond === order.lastSecond || cursorSecond === readOnFrom);
		const truncated = nextCursor === undefined && entries.length >= FULL_PAGE;
		const decision =
			(truncated || timeCursor) && field
				? readOnDecision({ outOfOrder: order.outOfOrder, lastSecond: order.lastSecond === -Infinity ? undefined : order.lastSecond, min: readOnFrom ?? query.min_timestamp, max: query.max_timestamp }, field)
				: undefined;
		if (decision && 'from' in decision && options.endMs !== undefined && decision.from * 1000 > options.endMs) {
			return withGaps({ pages: number, resumeCursor: undefined, stoppedByMaxPages: false, truncated: false, complete: true, readOnFrom });
		}
		if (decision && 'from' in decision) {
			// Stopped by the consumer (Limit) where the next read would begin: resume there, by time.
			if (keepGoing === false) {
				return withGaps({ pages: number, resumeCursor: undefined, stoppedByMaxPages: false, truncated: false, complete: false, readOnFrom: decision.from });
			}
			readOnFrom = decision.from;
			repeats = atLastSecond;
			order = { lastSecond: -Infinity, outOfOrder: false };
			atLastSecond = new Map();
			cursor = undefined;
			seenCursors.clear();
			continue;
		}
		if (timeCursor && decision && 'stuck' in decision && entries.length >= FULL_PAGE) {
			sameSecondGaps.push(Number(cursorSecond));
			options.onWarning?.(
				`Decagon's next cursor after page ${number} is the second ${new Date(Number(cursorSecond) * 1000).toISOString()}, in which ${FULL_PAGE} or more conversations were updated. Reading on from that second returns the same page, so the export follows the cursor; if Decagon reads it as "after that second", conversations of that second beyond the first ${FULL_PAGE} are missing, and no narrower range can get them.`,
				'same-second',
			);
		}
		if (nextCursor === undefined) {
			const readOnRefusal = decision?.reason;
			// Also when the consumer stops on this page (Limit): with no way on, it is the only word of what is left.
			if (truncated) {
				options.onWarning?.(
					`Page ${number} was full (${entries.length} conversations) but came without a next cursor${readOnRefusal ? `, and ${readOnRefusal}` : ''}: Decagon may have cut the export short. Check the count, or export a narrower time range.`,
					'cut-short',
				);
			}
			return withGaps({ pages: number, resumeCursor: undefined, stoppedByMaxPages: false, truncated, complete: !truncated, readOnFrom, readOnRefusal });
		}
		if (conversations.length === 0 && cursor !== undefined && nextCursor === cursor) {
			// Nothing past the cursor sent, which comes back as the watermark still: a server that has nothing
			// newer says so. Asked once more, so that a passing empty answer does not end the export early.
			if (askedAgain || keepGoing === false) {
				if (askedAgain) {
					// Not silent: were Decagon to answer so with more left, the rest of the range would not be read.
					options.onWarning?.(
						`Decagon answered page ${number} empty, twice, with the cursor it was asked with ("${cursor}"): taken as the end of the export.`,
						'echoed-end',
					);
				}
				return withGaps({ pages: number, resumeCursor: askedAgain ? undefined : cursor, stoppedByMaxPages: false, truncated: false, complete: askedAgain, readOnFrom });
			}
			askedAgain = true;
			continue;
		}
		askedAgain = false;
		if (nextCursor === cursor || seenCursors.has(nextCursor)) {
			throw apiError(node, {
				message: `Decagon returned cursor "${nextCursor}" again on page ${number}; the export would loop forever`,
				description: `Stopped after ${number} pages. This is a problem on Decagon's side; try again later or export a narrower time range.`,
			});
		}
		// An empty page with a new cursor is followed (a page can be emptied by filtering after paging), but
		// not without end.
		emptyInARow = conversations.length === 0 ? emptyInARow + 1 : 0;
		if (emptyInARow >= MAX_EMPTY_PAGES_IN_A_ROW) {
			throw apiError(node, {
				message: `Decagon returned ${emptyInARow} empty pages in a row, each with a new cursor`,
				description: `Stopped to avoid an endless export. ${resumeText(nextCursor)}`,
			});
		}
		seenCursors.add(nextCursor);
		cursor = nextCursor;
		if (keepGoing === false) return withGaps({ pages: number, resumeCursor: cursor, stoppedByMaxPages: false, truncated: false, complete: false, readOnFrom, emptyPagesInARow: emptyInARow });
	}
}

/**
 * Export's way back in: its Start Cursor option, and After when the export had read on by time. `lead`
 * says why one would (after a failure: to resume; after Max Pages: to continue).
 */
export function startCursorHint(cursor: string | undefined, readOnFrom: number | undefined, lead = 'To resume where it stopped'): string {
	if (readOnFrom === undefined) {
		return cursor === undefined ? 'No page was read yet; run the node again.' : `${lead}, set Options > Start Cursor to "${cursor}".`;
	}
	const after = `Filters > After to ${new Date(readOnFrom * 1000).toISOString()}`;
	const what = cursor === undefined ? after : `${after} and Options > Start Cursor to "${cursor}"`;
	// Decagon takes whole seconds: that second is read again.
	return `${lead}, set ${what} (conversations of that second that this run returned come again).`;
}

function withResumeHint(error: unknown, hint: string) {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		error.description = error.description ? `${error.description} ${hint}` : hint;
	}
	return error;
}
