import type { IDataObject } from 'n8n-workflow';

import type { ExportPage, ExportQuery, PaginationResult } from '../transport/paginator';
import { FULL_PAGE } from '../transport/paginator';
import { MESSAGE_COUNT_CAP, conversationKey, conversationVersion, messagesOf } from './conversation';
import { parseApiTimestamp } from '../../shared/time';

/**
 * Incremental sync of Decagon conversations, exactly once per version, in the style of Singer/Airbyte
 * incremental streams. Each poll reads the window [watermark − lookback, pollStart − settle] on
 * `updated_at`; the watermark moves to the window's end only when the window has been read whole. The
 * lookback overlap catches late writes; the seen-set (conversation id → version emitted) removes what
 * the overlap and Decagon's own re-sends bring twice. It only has to cover the overlap, so entries older
 * than the next window's start are dropped. All of it lives in workflow static data.
 *
 * Decagon sometimes ends a full page without a cursor; the paginator then reads the window on by time
 * (readOnBy), and a poll that stops there keeps the second to read on from as its pending window's start.
 */

export interface SyncState {
	/** Epoch seconds: every update at or before it has been emitted. */
	watermark?: number;
	/** A window being read across polls because a poll hit its cap. `min` null = from the beginning. */
	pending?: { min: number | null; max: number; cursor: string | null; emptyPages?: number };
	/** conversation_id → version emitted last (see conversationVersion). */
	seen: Record<string, number>;
	/**
	 * Epoch seconds: after the last whole window, `seen` holds every dated conversation emitted with a
	 * version from here on (less a second); older entries were dropped. A window that reaches further back
	 * (Lookback raised) cannot tell what it brings from there, so it emits none of it: it was emitted
	 * before, or changed so late that the Lookback of that time did not reach it (Export with After and
	 * Before reads such a range again).
	 */
	rememberedFrom?: number;
	/**
	 * conversation_id → epoch seconds to remember it until, only for conversations emitted without a
	 * readable updated_at: their version does not say when they changed, but the window that brought
	 * them ended no earlier than that.
	 */
	undatedSeenUntil?: Record<string, number>;
	/** Epoch seconds no window reads below: the activation ('now') or the Start Date ('date'). */
	floor?: number;
	/** The start and filter this state was built for; see startFingerprint. */
	fingerprint?: string;
}

export interface SyncSettings {
	lookbackSeconds: number;
	settleSeconds: number;
	maxPerPoll: number;
	startFrom: 'now' | 'date' | 'beginning';
	/** Epoch seconds, for startFrom 'date'. */
	startDate?: number;
	/**
	 * Whether the poll should stop asking for pages now (n8n's poll budget is running out): it then
	 * checkpoints where it is, as at Max Conversations per Poll, and the next poll goes on from there.
	 */
	outOfTime?: () => boolean;
	/**
	 * Start From, Start Date and the filter as the user typed them (expressions not evaluated), when known:
	 * editing them starts over, an expression such as `$today.minus(…)` that moves with time does not.
	 */
	startKey?: string;
	/** What startKey was for the same setting in earlier versions of the node: a state stored under one goes on. */
	formerStartKeys?: string[];
}

export type ChangeType = 'new' | 'updated';

export interface SyncEmission {
	conversation: IDataObject;
	change: ChangeType;
	/**
	 * The index of its first message this trigger has not emitted: the message count of the version it
	 * emitted before, where it still remembers that (within the Lookback); otherwise the first message
	 * sent since what it remembers (after a whole window), or since the start (Now, A Date), or 0.
	 */
	newMessagesFrom: number;
}

export interface PollResult {
	emitted: SyncEmission[];
	state: SyncState;
	/** For the log at info level. */
	notices: string[];
	/** For the log at warn level: possible data loss the user can act on. */
	warnings: string[];
}

/**
 * Reads one window with paginateExport, reading on by updated_at where Decagon cuts it short: onPage
 * returns false to stop after that page.
 */
export type WindowReader = (
	query: ExportQuery,
	startCursor: string | undefined,
	onPage: (page: ExportPage) => boolean,
	/** Empty pages the read resumed here ended on (see PaginationOptions.emptyPagesBefore). */
	emptyPagesBefore?: number,
) => Promise<PaginationResult>;

export function emptySyncState(): SyncState {
	return { seen: {} };
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function numberRecord(value: unknown): Record<string, number> {
	const record: Record<string, number> = {};
	if (!value || typeof value !== 'object') return record;
	for (const [key, entry] of Object.entries(value as IDataObject)) {
		if (isFiniteNumber(entry)) record[key] = entry;
	}
	return record;
}

/** Reads a stored state defensively: static data may come from an older version or be edited by hand. */
export function readSyncState(stored: IDataObject | undefined): SyncState {
	const state = emptySyncState();
	if (!stored) return state;
	if (isFiniteNumber(stored.watermark)) state.watermark = stored.watermark;
	const pending = stored.pending as SyncState['pending'] | undefined;
	if (pending && isFiniteNumber(pending.max)) {
		state.pending = {
			min: isFiniteNumber(pending.min) ? pending.min : null,
			max: pending.max,
			cursor: typeof pending.cursor === 'string' ? pending.cursor : null,
		};
		if (isFiniteNumber(pending.emptyPages) && pending.emptyPages > 0) state.pending.emptyPages = pending.emptyPages;
	}
	state.seen = numberRecord(stored.seen);
	const undated = numberRecord(stored.undatedSeenUntil);
	if (Object.keys(undated).length > 0) state.undatedSeenUntil = undated;
	if (isFiniteNumber(stored.floor)) state.floor = stored.floor;
	if (isFiniteNumber(stored.rememberedFrom)) state.rememberedFrom = stored.rememberedFrom;
	if (typeof stored.fingerprint === 'string') state.fingerprint = stored.fingerprint;
	return state;
}

/**
 * What decides where the sync starts and which conversations it reads. When it changes, the stored
 * state belongs to another query and the sync starts over.
 */
export function startFingerprint(settings: SyncSettings, extraQuery: ExportQuery): string {
	if (settings.startKey !== undefined) return settings.startKey;
	return JSON.stringify({
		startFrom: settings.startFrom,
		startDate: settings.startFrom === 'date' && settings.startDate !== undefined ? Math.floor(settings.startDate) : null,
		userFilters: extraQuery.user_filters ?? null,
	});
}

/** The update time (epoch ms) a version number stands for; see conversationVersion. */
function versionTimeMs(version: number): number {
	return Math.floor(version / 1000);
}

function isoSeconds(seconds: number): string {
	return new Date(seconds * 1000).toISOString();
}

/** The state to continue from: a copy of the stored one, or a fresh one when the query changed. */
function startingState(stored: SyncState, fingerprint: string, formerFingerprints: string[], warnings: string[]): SyncState {
	if (stored.fingerprint !== undefined && stored.fingerprint !== fingerprint && !formerFingerprints.includes(stored.fingerprint)) {
		warnings.push(
			'Decagon Trigger: Start From, Start Date, the metadata filter or the API host (region or Base URL of the credential) changed since the last poll; starting over as on a first activation',
		);
		return { seen: {}, fingerprint };
	}
	const state: SyncState = {
		watermark: stored.watermark,
		pending: stored.pending ? { ...stored.pending } : undefined,
		seen: { ...stored.seen },
		fingerprint,
	};
	if (stored.undatedSeenUntil) state.undatedSeenUntil = { ...stored.undatedSeenUntil };
	if (stored.floor !== undefined) state.floor = stored.floor;
	if (stored.rememberedFrom !== undefined) state.rememberedFrom = stored.rememberedFrom;
	// A state from before fingerprints keeps its place, pending cursor included: the query it came from
	// is taken to be today's (reading a large backfill again from its start could take one poll hours).
	return state;
}

/**
 * One poll. Returns what to emit and the state to store; the caller stores it only after this returns,
 * so a poll that throws changes nothing and the next one repeats from the last checkpoint.
 */
export async function pollOnce(
	stored: SyncState,
	settings: SyncSettings,
	nowSeconds: number,
	readWindow: WindowReader,
	extraQuery: ExportQuery = {},
): Promise<PollResult> {
	const notices: string[] = [];
	const warnings: string[] = [];
	const emitted: SyncEmission[] = [];
	const state = startingState(stored, startFingerprint(settings, extraQuery), settings.formerStartKeys ?? [], warnings);
	const done = () => ({ emitted, state, notices, warnings });
	const pollFull = () => emitted.length >= settings.maxPerPoll || settings.outOfTime?.() === true;
	const windowEnd = Math.floor(nowSeconds - settings.settleSeconds);

	if (state.watermark === undefined) {
		// First activation: decide where history starts.
		if (settings.startFrom === 'now') {
			state.watermark = windowEnd;
			// The lookback of later polls must not reach into changes made before activation.
			state.floor = Math.floor(nowSeconds);
			return done();
		}
		if (settings.startFrom === 'date') {
			const start = Math.floor(settings.startDate ?? windowEnd);
			state.watermark = start;
			state.floor = start;
		} else {
			state.watermark = 0;
			state.pending = { min: null, max: windowEnd, cursor: null };
		}
	}

	const window: NonNullable<SyncState['pending']> | undefined =
		state.pending ??
		(windowEnd > state.watermark
			? {
					// Whole seconds: Decagon refuses a fractional min_timestamp (a Lookback of 0.5 minutes is 30 s, 0.33 is not whole).
					min: Math.max(0, Math.floor(state.watermark - settings.lookbackSeconds), state.floor ?? 0),
					max: windowEnd,
					cursor: null,
				}
			: undefined);
	if (!window) return done();
	if (window.min !== null && window.max < window.min) {
		// A computed window still before the floor (settle time not yet passed since activation, or a future
		// Start Date) waits; a stored one that ended up so (edited by hand) is dropped, never kept forever.
		state.pending = undefined;
		return done();
	}

	const watermarkBefore = state.watermark;
	// Where the seen-set's memory begins, with forgetBefore's second of slack (undefined: it has forgotten nothing).
	const memoryFrom = state.rememberedFrom === undefined ? undefined : state.rememberedFrom - 1;
	const reachesPastMemory = memoryFrom !== undefined && window.min !== null && window.min < memoryFrom;
	// For a conversation the seen-set does not hold: its messages from before what it remembers (or before the
	// start) came out with an earlier version, or were sent before the sync's start.
	const messagesKnownBefore = memoryFrom ?? state.floor;
	const windowMax = window.max;
	const query: ExportQuery = { ...extraQuery, timestamp_filter: 'updated_at', max_timestamp: window.max };
	if (window.min !== null) query.min_timestamp = window.min;
	// "new": not emitted before and created since the sync's start. A conversation created just before a
	// window's end and still changing when that window was read comes first in a later one, and is new
	// to the workflow all the same. Created before what the seen-set remembers (or, while that is not
	// known, by the last window's end), it may have been emitted and forgotten: "updated".
	const newFrom = memoryFrom === undefined ? undefined : Math.max(memoryFrom, state.floor ?? -Infinity);
	const existedBefore = (conversation: IDataObject): boolean => {
		const createdMs = parseApiTimestamp(conversation.created_at);
		if (Number.isNaN(createdMs)) return false;
		return newFrom === undefined ? createdMs <= watermarkBefore * 1000 : createdMs < newFrom * 1000;
	};
	// What the seen-set may forget mid-window (see forgetBehindBackfill): only safe in updated_at order.
	const order = { lastSecond: -Infinity, broken: false };
	// Held in an object: a plain variable assigned in the callback would be narrowed to undefined below.
	const lastPage = { firstSecond: undefined as number | undefined };

	const result = await readWindow(query, window.cursor ?? undefined, (page) => {
		lastPage.firstSecond = undefined;
		for (const conversation of page.conversations) {
			const id = conversationKey(conversation);
			const version = conversationVersion(conversation);
			const previous = id === undefined ? undefined : state.seen[id];
			const updatedMs = parseApiTimestamp(conversation.updated_at);
			// Over every conversation of the page, repeats included: the next page may repeat any of them.
			if (!Number.isNaN(updatedMs)) lastPage.firstSecond ??= Math.floor(updatedMs / 1000);
			// Emitted already (Decagon's repeats across pages, the lookback's overlap): neither again nor disorder.
			if (previous !== undefined && previous >= version) continue;
			// Older than what the seen-set remembers, in a window that reaches back past it (Lookback raised): not again.
			if (previous === undefined && reachesPastMemory && !Number.isNaN(updatedMs) && versionTimeMs(version) < memoryFrom! * 1000) continue;
			if (!Number.isNaN(updatedMs)) {
				const second = Math.floor(updatedMs / 1000);
				if (second < order.lastSecond) order.broken = true;
				order.lastSecond = Math.max(order.lastSecond, second);
			}
			if (id === undefined) continue;
			const change: ChangeType = previous !== undefined || existedBefore(conversation) ? 'updated' : 'new';
			state.seen[id] = version;
			rememberUndated(state, id, Number.isNaN(updatedMs) ? windowMax : undefined);
			emitted.push({ conversation, change, newMessagesFrom: previous !== undefined ? firstMessageAfterVersion(conversation, previous) : firstMessageSince(conversation, messagesKnownBefore) });
		}
		return !pollFull();
	}, window.emptyPages);

	if (!result.complete && !result.truncated) {
		// Cap or budget reached: checkpoint the window and where the read stands in it (a cursor, or the
		// second a read on by time begins at); the next poll resumes right there.
		state.pending = { min: result.readOnFrom ?? window.min, max: window.max, cursor: result.resumeCursor ?? null };
		if (result.emptyPagesInARow) state.pending.emptyPages = result.emptyPagesInARow;
		forgetBehindBackfill(state, order, lastPage.firstSecond, window.max - settings.lookbackSeconds);
		return done();
	}
	if (result.truncated) {
		const from = result.readOnFrom ?? window.min;
		warnings.push(
			`Decagon Trigger: Decagon ended a full page of ${FULL_PAGE} conversations without a next cursor` +
				`${result.readOnRefusal ? `, and ${result.readOnRefusal}` : ''}. ` +
				`Conversations changed from ${from === null ? 'the beginning' : isoSeconds(from)} to ${isoSeconds(window.max)} may have been missed. ` +
				'A shorter poll interval or a lower Settle Time keeps each poll to fewer conversations; the Decagon node\'s Export with After and Before reads that range again.',
		);
	}

	state.pending = undefined;
	state.watermark = Math.max(state.watermark, window.max);
	forgetBefore(state, state.watermark - settings.lookbackSeconds);
	state.rememberedFrom = Math.max(state.rememberedFrom ?? -Infinity, state.watermark - settings.lookbackSeconds);
	return done();
}

/**
 * The first message the trigger has not emitted, for a conversation it emitted at `version`: the version's
 * message count, unless that count is capped (999 or more messages); then the messages after the last one
 * at or before the version's time, counted from the end. Without a readable time there, the count it has.
 */
function firstMessageAfterVersion(conversation: IDataObject, version: number): number {
	const count = version % 1000;
	if (count < MESSAGE_COUNT_CAP) return count;
	const messages = messagesOf(conversation);
	const versionMs = versionTimeMs(version);
	for (let index = messages.length - 1; index >= 0; index--) {
		const ms = parseApiTimestamp(messages[index].created_at);
		if (!Number.isNaN(ms) && ms <= versionMs) return index + 1;
	}
	return count;
}

/** The index of the first message sent at or after `seconds` (or without a readable time); 0 without a bound. */
function firstMessageSince(conversation: IDataObject, seconds: number | undefined): number {
	if (seconds === undefined) return 0;
	const messages = messagesOf(conversation);
	const index = messages.findIndex((message) => {
		const ms = parseApiTimestamp(message.created_at);
		return Number.isNaN(ms) || ms >= seconds * 1000;
	});
	return index === -1 ? messages.length : index;
}

/**
 * While a window is read across polls (a backfill), the seen-set would hold every conversation of it until
 * the window ends (100,000 conversations: about 6 MB of static data, saved on every poll). In updated_at
 * order, the window's rest only brings back conversations changed at or after the last page's first second
 * (a repeat of that page included), and the next window only those from its start (the window's end less
 * the lookback); older entries can go now. A burst of changes within one window thus stays out of the state.
 */
function forgetBehindBackfill(state: SyncState, order: { broken: boolean }, lastPageFirstSecond: number | undefined, nextWindowMin: number): void {
	if (order.broken || lastPageFirstSecond === undefined) return;
	forgetBefore(state, Math.min(lastPageFirstSecond, nextWindowMin));
}

/** Records (or clears) the prune time of a conversation emitted without a readable updated_at. */
function rememberUndated(state: SyncState, id: string, untilSeconds: number | undefined): void {
	if (untilSeconds !== undefined) {
		(state.undatedSeenUntil ??= {})[id] = untilSeconds;
	} else if (state.undatedSeenUntil && id in state.undatedSeenUntil) {
		delete state.undatedSeenUntil[id];
	}
}

/** Drops seen entries no later window can bring back: those changed before `nextWindowMin`. */
function forgetBefore(state: SyncState, nextWindowMin: number): void {
	// One second of slack: the API may compare whole seconds where we keep milliseconds.
	const keepFrom = nextWindowMin - 1;
	const undated = state.undatedSeenUntil ?? {};
	for (const [id, version] of Object.entries(state.seen)) {
		const until = undated[id];
		if (versionTimeMs(version) < keepFrom * 1000 && (until === undefined || until < keepFrom)) delete state.seen[id];
	}
	for (const id of Object.keys(undated)) {
		if (!(id in state.seen)) delete undated[id];
	}
	if (Object.keys(undated).length === 0) delete state.undatedSeenUntil;
}
