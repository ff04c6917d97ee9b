/** Public types of the Decagon stand-in: the wire shapes it serves and the options that steer it. */

/** Which timestamp `min_timestamp`/`max_timestamp`, the order and the cursor apply to. */
export type TimestampField = 'created_at' | 'updated_at' | 'last_message_time';
export const TIMESTAMP_FIELDS: readonly TimestampField[] = ['created_at', 'updated_at', 'last_message_time'];

export type SortOrder = 'asc' | 'desc';

/** The three names Decagon's docs give the next-page cursor (text, sample code, example response). */
export type CursorField = 'next_page_cursor' | 'next_cursor' | 'next_page_updated_after';
export const CURSOR_FIELDS: readonly CursorField[] = ['next_page_cursor', 'next_cursor', 'next_page_updated_after'];

/** How the last page says "no more": `null`, the field left out, `""` or `0`. */
export type EndMarker = 'null' | 'missing' | 'empty' | 'zero';
export const END_MARKERS: readonly EndMarker[] = ['null', 'missing', 'empty', 'zero'];

/**
 * `iso`: `2024-01-01T21:42:10.309970Z`; `naive`: `2024-01-01 21:42:10.309970` (UTC, no zone);
 * `mixed`: per timestamp one of `Z`, `+00:00` or naive, and audit logs as `2024-05-06T14:11:26.799976`
 * (T, no zone), as in the docs' example.
 */
export type TimestampFormat = 'mixed' | 'iso' | 'naive';
export const TIMESTAMP_FORMATS: readonly TimestampFormat[] = ['mixed', 'iso', 'naive'];

/**
 * How an export request fails when a fault hits it:
 * - `429` / `429-no-retry-after`: rate-limit answer, with or without `Retry-After`;
 * - `500` / `502` / `503`: JSON error with that status;
 * - `reset`: 200 headers and part of the body, then the socket is destroyed;
 * - `truncated`: a complete HTTP 200 whose JSON body is cut in the middle;
 * - `hang`: never answered (close() still ends it);
 * - `401`: the key is refused for this one request (a revoked key, a failing auth backend): final, not retried.
 */
export type FaultKind = '429' | '429-no-retry-after' | '500' | '502' | '503' | 'reset' | 'truncated' | 'hang' | '401';
export const FAULT_KINDS: readonly FaultKind[] = ['429', '429-no-retry-after', '500', '502', '503', 'reset', 'truncated', 'hang', '401'];

export interface FaultSpec {
	/** 1-based number of the export request (counted since the last resetStats()/configure()). */
	request: number;
	kind: FaultKind;
}

export type MessageRole = 'USER' | 'AI' | 'AGENT';

export interface DecagonMessage {
	text: string;
	role: MessageRole;
	created_at: string;
}

export interface DecagonTag {
	name: string;
	level: number;
}

export interface DecagonAuditLog {
	text: string;
	payload: Record<string, unknown>;
	created_at: string;
}

/** One conversation exactly as `GET /conversation/export` returns it. */
export interface DecagonConversation {
	conversation_id: string;
	user_id: string;
	destination: string;
	created_at: string;
	updated_at: string;
	metadata: Record<string, unknown>;
	undeflected: boolean;
	summary: string | null;
	resolution: string | null;
	messages: DecagonMessage[];
	csat_rating: number | null;
	csat_role: string | null;
	/** Objects normally; with the `bareTagIds` quirk some are bare string ids. */
	tags: Array<DecagonTag | string>;
	notes: string | null;
	audit_logs: DecagonAuditLog[];
}

export interface DecagonStandinOptions {
	// --- server ---
	/** Port on 127.0.0.1; 0 picks a free one. Fixed at start. Default 0. */
	port: number;
	/** The only key accepted as `Authorization: Bearer <key>`; anything else gets 401. Default `test-decagon-key`. */
	apiKey: string;
	/** Keys answered with 403 (a key that exists but may not export). Default []. */
	forbiddenApiKeys: string[];

	// --- generated data (changing any of these at runtime regenerates the store) ---
	/** Seed of all generated data and of random faults. Default 1. */
	seed: number;
	/** Number of generated conversations. Default 250. */
	count: number;
	/** Messages per conversation, fixed or an inclusive [min, max] range. Default 6. */
	messagesPerConversation: number | [number, number];
	/** Approximate length of each message text in bytes. Default 80. */
	textBytes: number;
	/** created_at is spread over this many days before `nowEpoch`. Default 30. */
	spanDays: number;
	/** Reference "now" in epoch seconds; no generated timestamp is later. Default: real time at start. */
	nowEpoch: number;

	// --- presentation (applies to the next response, no regeneration) ---
	/** Timestamp text format, see TimestampFormat. Default `mixed`. */
	timestampFormat: TimestampFormat;
	/** Quirk: about half the tags are bare string ids instead of `{name, level}`. Default false. */
	bareTagIds: boolean;

	// --- paging ---
	/** Conversations per page, 1..100 (Decagon's maximum is 100). Default 100. */
	pageSize: number;
	/**
	 * Name of the next-cursor field; `next_page_updated_after` sends integer cursors. Default
	 * `next_page_updated_after`, the docs' example response: a production client found no usable
	 * `next_page_cursor` in real responses (see nullPageCursorBeside).
	 */
	cursorField: CursorField;
	/**
	 * With `next_page_updated_after`: the integer cursor is the whole second (epoch seconds) of the page's
	 * last conversation, as the docs' example value (151050148) looks, and is read as "after that second":
	 * the conversations of that second that did not fit on the page are skipped. How production compares
	 * it is not documented; this is the reading that loses data. Default false (microseconds, exact).
	 */
	integerCursorSeconds: boolean;
	/**
	 * With another cursorField, also send `next_page_cursor: null` on every page, as a production client saw
	 * (its cursor in another field). Default true.
	 */
	nullPageCursorBeside: boolean;
	/** How the last page marks the end. Default `null`. */
	endMarker: EndMarker;

	// --- pacing ---
	/** Requests per second on every non-control route; 0 turns the limiter off. Default 1 (Decagon's limit). */
	rateLimitPerSecond: number;
	/** Accept a request this many ms early. Default 0. */
	rateLimitToleranceMs: number;
	/** Send `Retry-After` with 429 answers. Default true. */
	retryAfterHeader: boolean;
	/** `Retry-After` as delta seconds (`1`) or as an HTTP-date. Default `seconds`. */
	retryAfterFormat: 'seconds' | 'http-date';
	/** Delay before answering each export request, in ms. Default 0. */
	latencyMs: number;

	// --- quirks (all off by default) ---
	/** Each page after the first starts with the last N conversations of the previous page (overlapping pages). Default 0. */
	duplicatesAcrossPages: number;
	/**
	 * After serving page `afterPage` of an export, the first `count` conversations of that page get a new
	 * message (newer updated_at), so an export on updated_at meets them again later. Once until resetStats()
	 * (an export without cursors has a page 1 in every read). Default null.
	 */
	updateDuringExport: { afterPage: number; count: number } | null;
	/** Fail given export requests in given ways. Default []. */
	faults: FaultSpec[];
	/** Probability (0..1) that an export request fails with a random kind of `faultKinds`, drawn from `seed`. Default 0. */
	faultRate: number;
	/** Kinds `faultRate` draws from. Default: all but `hang` and `401`. */
	faultKinds: FaultKind[];
	/** From this page number on, the next cursor is the one the request sent (a looping server). 0 = off. */
	repeatCursor: number;
	/** This page number comes back with no conversations but a non-end cursor, once (until resetStats). 0 = off. */
	emptyPageWithCursor: number;
	/**
	 * The last page carries a cursor too, and the page asked for with it comes back empty with that same
	 * cursor: a server that always sends its watermark and has nothing past it. Default false.
	 */
	echoCursorAtEnd: boolean;
	/**
	 * A full page is answered with the end marker even when more remain (an export cut short): every full
	 * page (true), or those from this page number of a read on (1 is a read's first page). Default false.
	 */
	fullPageWithoutCursor: boolean | number;
}

/** One request the stand-in received on a non-control route. */
export interface DecagonStandinRequest {
	/** Arrival, epoch ms from `performance.timeOrigin + performance.now()`: monotonic within the process. */
	at: number;
	method: string;
	path: string;
	query: Record<string, string>;
	/** Status sent, 0 when never answered (`hang`, or closed while waiting). */
	status: number;
	/** The `cursor` query parameter as sent, null when absent. */
	cursorSent: string | null;
	conversationsReturned: number;
	/** Page number within its export (1 = no cursor), for export requests that parsed. */
	page?: number;
	/** The injected fault, if any. */
	fault?: FaultKind;
	/** Time from arrival to the end of the answer, in ms. */
	durationMs?: number;
}

export interface DecagonStandinStats {
	/** Non-control requests, oldest first; only the newest 10,000 are kept (see requestsDropped). */
	requests: DecagonStandinRequest[];
	requestsDropped: number;
	/** Requests refused by the rate limiter (injected 429 faults are counted in faultsInjected instead). */
	rateLimited: number;
	/** Export requests that passed the rate limiter; faults are numbered by this count. */
	exportRequests: number;
	faultsInjected: number;
	/** 401 and 403 answers. */
	unauthorized: number;
	/** Export pages answered with 200 and a whole body. */
	pagesServed: number;
	/** Conversations in those pages, repeats included. */
	conversationsServed: number;
	/** Conversation ids that `updateDuringExport` gave a new message, in order. */
	updatedDuringExport: string[];
	/** Whether the empty page of `emptyPageWithCursor` was served (it is served once). */
	emptyPageServed: boolean;
}

/** What addConversation() accepts: any conversation field; timestamps in any of the served formats. */
export type DecagonConversationInput = Partial<DecagonConversation>;
