import type { IDataObject } from 'n8n-workflow';

import type { ExportPage, ExportQuery, PaginationResult } from '../transport/paginator';
import { conversationKey, conversationVersion } from './conversation';
import { parseApiTimestamp } from '../../shared/time';

/**
 * Incremental sync of Decagon conversations, exactly once per version, in the style of Singer/Airbyte
 * incremental streams. Each poll reads the window [watermark − lookback, pollStart − settle] on
 * `updated_at`; the watermark moves to the window's end only when the window has been read whole. The
 * lookback overlap catches late writes; the seen-set (conversation id → version emitted) removes what
 * the overlap and Decagon's own re-sends bring twice. It only has to cover the overlap, so entries older
 * than the next window's start are dropped. All of it lives in workflow static data.
 */

export interface SyncState {
	/** Epoch seconds: every update at or before it has been emitted. */
	watermark?: number;
	/** A window being read across polls because a poll hit its cap. `min` null = from the beginning. */
	pending?: { min: number | null; max: number; cursor: string | null };
	/** conversation_id → version emitted last (see conversationVersion). */
	seen: Record<string, number>;
}

export interface SyncSettings {
	lookbackSeconds: number;
	settleSeconds: number;
	maxPerPoll: number;
	startFrom: 'now' | 'date' | 'beginning';
	/** Epoch seconds, for startFrom 'date'. */
	startDate?: number;
}

export type ChangeType = 'new' | 'updated';

export interface SyncEmission {
	conversation: IDataObject;
	change: ChangeType;
}

/** Reads one window page by page, like paginateExport: onPage returns false to stop after that page. */
export type WindowReader = (
	query: ExportQuery,
	startCursor: string | undefined,
	onPage: (page: ExportPage) => boolean,
) => Promise<PaginationResult>;

export function emptySyncState(): SyncState {
	return { seen: {} };
}

/** Reads a stored state defensively: static data may come from an older version or be edited by hand. */
export function readSyncState(stored: IDataObject | undefined): SyncState {
	const state = emptySyncState();
	if (!stored) return state;
	if (typeof stored.watermark === 'number' && Number.isFinite(stored.watermark)) state.watermark = stored.watermark;
	const pending = stored.pending as SyncState['pending'] | undefined;
	if (pending && typeof pending.max === 'number') {
		state.pending = {
			min: typeof pending.min === 'number' ? pending.min : null,
			max: pending.max,
			cursor: typeof pending.cursor === 'string' ? pending.cursor : null,
		};
	}
	if (stored.seen && typeof stored.seen === 'object') {
		for (const [id, version] of Object.entries(stored.seen as IDataObject)) {
			if (typeof version === 'number') state.seen[id] = version;
		}
	}
	return state;
}

/** The update time (epoch ms) a version number stands for; see conversationVersion. */
function versionTimeMs(version: number): number {
	return Math.floor(version / 1000);
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
): Promise<{ emitted: SyncEmission[]; state: SyncState }> {
	const state: SyncState = {
		watermark: stored.watermark,
		pending: stored.pending ? { ...stored.pending } : undefined,
		seen: { ...stored.seen },
	};
	const windowEnd = Math.floor(nowSeconds - settings.settleSeconds);

	if (state.watermark === undefined) {
		// First activation: decide where history starts.
		if (settings.startFrom === 'now') {
			state.watermark = windowEnd;
			return { emitted: [], state };
		}
		const start = settings.startFrom === 'date' ? Math.floor(settings.startDate ?? windowEnd) : null;
		state.watermark = start ?? 0;
		state.pending = { min: start, max: Math.max(windowEnd, start ?? 0), cursor: null };
	}

	const window =
		state.pending ??
		(windowEnd > state.watermark
			? { min: Math.max(0, state.watermark - settings.lookbackSeconds), max: windowEnd, cursor: null }
			: undefined);
	if (!window) return { emitted: [], state };

	const watermarkBefore = state.watermark;
	const emitted: SyncEmission[] = [];
	const query: ExportQuery = { ...extraQuery, timestamp_filter: 'updated_at', max_timestamp: window.max };
	if (window.min !== null) query.min_timestamp = window.min;

	const result = await readWindow(query, window.cursor ?? undefined, (page) => {
		for (const conversation of page.conversations) {
			const id = conversationKey(conversation);
			if (id === undefined) continue;
			const version = conversationVersion(conversation);
			const previous = state.seen[id];
			if (previous !== undefined && previous >= version) continue;
			const createdMs = parseApiTimestamp(conversation.created_at);
			const change: ChangeType =
				previous !== undefined || (!Number.isNaN(createdMs) && createdMs <= watermarkBefore * 1000)
					? 'updated'
					: 'new';
			state.seen[id] = version;
			emitted.push({ conversation, change });
		}
		return emitted.length < settings.maxPerPoll;
	});

	if (result.resumeCursor !== undefined) {
		// Cap reached: checkpoint the window and where we are in it; the next poll resumes right here.
		state.pending = { min: window.min, max: window.max, cursor: result.resumeCursor };
		return { emitted, state };
	}
	state.pending = undefined;
	state.watermark = Math.max(state.watermark, window.max);
	// One second of slack: the API may compare whole seconds where we keep milliseconds.
	const keepFromMs = (state.watermark - settings.lookbackSeconds - 1) * 1000;
	for (const [id, version] of Object.entries(state.seen)) {
		if (versionTimeMs(version) < keepFromMs) delete state.seen[id];
	}
	return { emitted, state };
}
