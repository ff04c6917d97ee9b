import type { IDataObject } from 'n8n-workflow';

import { conversationVersion as conversationVersionOf } from '../../nodes/Decagon/helpers/conversation';
import type { SyncSettings, SyncState, WindowReader } from '../../nodes/Decagon/helpers/incrementalSync';
import { emptySyncState, pollOnce, readSyncState } from '../../nodes/Decagon/helpers/incrementalSync';
import type { ExportQuery } from '../../nodes/Decagon/transport/paginator';
import { recordedWindowReader } from '../support/decagon-route';

const updatedSeconds = (c: IDataObject) => Date.parse(String(c.updated_at)) / 1000;

const settings: SyncSettings = { lookbackSeconds: 600, settleSeconds: 120, maxPerPoll: 1000, startFrom: 'now' };

function conversation(id: string, updatedSeconds: number, messages = 1): IDataObject {
	const at = new Date(updatedSeconds * 1000).toISOString();
	return {
		conversation_id: id,
		created_at: new Date((updatedSeconds - 60) * 1000).toISOString(),
		updated_at: at,
		messages: Array.from({ length: messages }, () => ({ text: 'x', role: 'USER', created_at: at })),
	};
}

/**
 * Serves scripted pages (2 new conversations each by default) from a list filtered on updated_at,
 * recording every query. With `repeat`, every page after the first starts with the previous page's last
 * `repeat` conversations again, as Decagon's duplicates across pages do.
 */
function scriptedReader(
	all: () => IDataObject[],
	{ pageSize = 2, repeat = 0 }: { pageSize?: number; repeat?: number } = {},
): { read: WindowReader; queries: Array<ExportQuery & { cursor?: string }> } {
	const queries: Array<ExportQuery & { cursor?: string }> = [];
	const read: WindowReader = async (query, startCursor, onPage) => {
		queries.push({ ...query, cursor: startCursor });
		const matching = all().filter((c) => {
			const t = updatedSeconds(c);
			return (query.min_timestamp === undefined || t >= query.min_timestamp) && t <= (query.max_timestamp ?? Infinity);
		});
		let offset = startCursor ? Number(startCursor) : 0;
		for (let number = 1; offset < matching.length; number++) {
			const start = startCursor || number > 1 ? Math.max(0, offset - repeat) : offset;
			const conversations = matching.slice(start, offset + pageSize);
			offset += pageSize;
			const nextCursor = offset < matching.length ? String(offset) : undefined;
			const more = onPage({ number, conversations, cursor: startCursor, nextCursor, readFrom: undefined });
			if (nextCursor && more === false) return { pages: number, resumeCursor: nextCursor, stoppedByMaxPages: false, truncated: false, complete: false };
		}
		return { pages: 1, resumeCursor: undefined, stoppedByMaxPages: false, truncated: false, complete: true };
	};
	return { read, queries };
}

const inWindow = (c: IDataObject, query: IDataObject) =>
	updatedSeconds(c) >= Number(query.min_timestamp ?? -Infinity) && updatedSeconds(c) <= Number(query.max_timestamp ?? Infinity);

/**
 * Decagon as a production client saw it: one page of up to 100, oldest change first, and never a cursor.
 */
function cursorlessReader(all: () => IDataObject[]): { read: WindowReader; queries: IDataObject[] } {
	return recordedWindowReader((qs) => {
		expect(qs.cursor).toBeUndefined();
		const conversations = all()
			.filter((c) => inWindow(c, qs))
			.sort((a, b) => updatedSeconds(a) - updatedSeconds(b))
			.slice(0, 100);
		return { conversations };
	});
}

describe('pollOnce', () => {
	it('starts from now on first activation without emitting', async () => {
		const { read, queries } = scriptedReader(() => [conversation('a', 900)]);
		const { emitted, state } = await pollOnce(emptySyncState(), settings, 10_000, read);
		expect(emitted).toEqual([]);
		expect(queries).toEqual([]);
		expect(state.watermark).toBe(10_000 - 120);
	});

	it('reads [watermark − lookback, now − settle] on updated_at and moves the watermark', async () => {
		const data = [conversation('old', 5000), conversation('a', 9_950), conversation('b', 10_050), conversation('late', 10_190)];
		const { read, queries } = scriptedReader(() => data);
		const { emitted, state } = await pollOnce({ watermark: 9_880, seen: {} }, settings, 10_300, read);
		expect(queries[0]).toMatchObject({ timestamp_filter: 'updated_at', min_timestamp: 9_280, max_timestamp: 10_180 });
		expect(emitted.map((e) => e.conversation.conversation_id)).toEqual(['a', 'b']);
		expect(emitted.map((e) => e.change)).toEqual(['new', 'new']); // both created after the watermark
		expect(state.watermark).toBe(10_180);
		expect(Object.keys(state.seen).sort()).toEqual(['a', 'b']);
	});

	it('a conversation created in the watermark\'s own second is "updated": that second was read before', async () => {
		const createdOnWatermark: IDataObject = { ...conversation('c', 10_100), created_at: new Date(10_000_000).toISOString() };
		const { read } = scriptedReader(() => [createdOnWatermark]);
		const { emitted } = await pollOnce({ seen: {}, watermark: 10_000, floor: 9_000 }, { ...settings, startFrom: 'date', startDate: 9_000 }, 10_400, read);
		expect(emitted.map((e) => e.change)).toEqual(['updated']);
	});

	it('a conversation created before the last window ended but first read in this one (it was still changing) is "new": never emitted', async () => {
		// Created 30 s before the first window's end, its update past that end: the first window does not bring it.
		const active = { ...conversation('active', 10_220), created_at: new Date((10_180 - 30) * 1000).toISOString() };
		const early = conversation('early', 10_100);
		const { read } = scriptedReader(() => [early, active]);
		const first = await pollOnce({ watermark: 9_880, seen: {} }, settings, 10_300, read);
		expect(first.emitted.map((e) => e.conversation.conversation_id)).toEqual(['early']);
		const second = await pollOnce(first.state, settings, 10_400, read);
		expect(second.emitted.map((e) => [e.conversation.conversation_id, e.change])).toEqual([['active', 'new']]);
		// Changed again: now it was emitted, so "updated".
		const again = { ...conversation('active', 10_260, 2), created_at: active.created_at };
		const { read: readAgain } = scriptedReader(() => [early, again]);
		const third = await pollOnce(second.state, settings, 10_500, readAgain);
		expect(third.emitted.map((e) => [e.conversation.conversation_id, e.change])).toEqual([['active', 'updated']]);
	});

	it('a conversation created before the sync\'s start and first changed after it is "updated": it existed before', async () => {
		const old = { ...conversation('old', 10_100), created_at: new Date(8_000 * 1000).toISOString() };
		const { read } = scriptedReader(() => [old]);
		const first = await pollOnce(emptySyncState(), { ...settings, startFrom: 'date', startDate: 9_000 }, 9_500, read);
		expect(first.emitted).toEqual([]);
		const second = await pollOnce(first.state, { ...settings, startFrom: 'date', startDate: 9_000 }, 10_400, read);
		expect(second.emitted.map((e) => [e.conversation.conversation_id, e.change])).toEqual([['old', 'updated']]);
	});

	it('emits a conversation again only when it changed, marked updated', async () => {
		const data = [conversation('a', 10_000)];
		const { read } = scriptedReader(() => data);
		let state = { watermark: 9_900, seen: {} } as ReturnType<typeof emptySyncState>;
		let result = await pollOnce(state, settings, 10_200, read);
		expect(result.emitted).toHaveLength(1);
		state = result.state;
		// Same version inside the lookback overlap: not again.
		result = await pollOnce(state, settings, 10_260, read);
		expect(result.emitted).toHaveLength(0);
		state = result.state;
		data[0] = conversation('a', 10_100, 2);
		result = await pollOnce(state, settings, 10_400, read);
		expect(result.emitted.map((e) => e.change)).toEqual(['updated']);
	});

	it('splits a backlog over polls at the cap and resumes at the same window and cursor', async () => {
		const data = Array.from({ length: 7 }, (_, i) => conversation(`c${i}`, 1000 + i));
		const { read, queries } = scriptedReader(() => data);
		const capped = { ...settings, maxPerPoll: 3, startFrom: 'beginning' as const };
		const first = await pollOnce(emptySyncState(), capped, 5000, read);
		expect(first.emitted.map((e) => e.conversation.conversation_id)).toEqual(['c0', 'c1', 'c2', 'c3']);
		expect(first.state.pending).toEqual({ min: null, max: 4880, cursor: '4' });
		const second = await pollOnce(first.state, capped, 5100, read);
		expect(queries[1]).toMatchObject({ max_timestamp: 4880, cursor: '4' });
		expect(queries[1].min_timestamp).toBeUndefined();
		expect(second.emitted.map((e) => e.conversation.conversation_id)).toEqual(['c4', 'c5', 'c6']);
		expect(second.state.pending).toBeUndefined();
		expect(second.state.watermark).toBe(4880);
	});

	it('leaves the stored state untouched when a poll fails midway', async () => {
		const stored = { watermark: 9_000, seen: { a: 1 } };
		const failing: WindowReader = async (_query, _cursor, onPage) => {
			onPage({ number: 1, conversations: [conversation('z', 9_500)], cursor: undefined, nextCursor: '2', readFrom: undefined });
			throw new Error('HTTP 503');
		};
		await expect(pollOnce(stored, settings, 10_000, failing)).rejects.toThrow('HTTP 503');
		expect(stored).toEqual({ watermark: 9_000, seen: { a: 1 } });
	});

	it('forgets seen entries older than the next window start', async () => {
		const { read } = scriptedReader(() => []);
		const version = (seconds: number) => seconds * 1000 * 1000;
		const stored = { watermark: 10_000, seen: { keep: version(9_800), drop: version(9_000) } };
		const { state } = await pollOnce(stored, settings, 10_500, read);
		expect(state.watermark).toBe(10_380);
		expect(Object.keys(state.seen)).toEqual(['keep']);
	});

	it('Lookback raised between polls: the wider window emits nothing it cannot tell from what was emitted before', async () => {
		const data = Array.from({ length: 6 }, (_, i) => conversation(`c${i}`, 9_000 + i * 100));
		const { read } = scriptedReader(() => data, { pageSize: 10 });
		const short = { ...settings, lookbackSeconds: 60, settleSeconds: 0 };
		const first = await pollOnce({ watermark: 8_900, seen: {} }, short, 9_600, read);
		expect(first.emitted).toHaveLength(6);
		// Every entry is older than the next window (from 9,600 − 60), so forgotten.
		expect(first.state.seen).toEqual({});
		const long = { ...short, lookbackSeconds: 86_400 };
		const unchanged = await pollOnce(first.state, long, 9_700, read);
		expect(unchanged.emitted).toEqual([]);
		// A real change is still emitted, however old the conversation.
		data[1] = { ...conversation('c1', 9_650, 2), created_at: data[1].created_at };
		const changed = await pollOnce(unchanged.state, long, 9_800, read);
		expect(changed.emitted.map((e) => [e.conversation.conversation_id, e.change])).toEqual([['c1', 'updated']]);
	});

	it('says which messages are new: after the count emitted before; not remembered, those since what is remembered', async () => {
		const at = (seconds: number) => new Date(seconds * 1000).toISOString();
		const withMessages = (id: string, times: number[]): IDataObject => ({
			conversation_id: id,
			created_at: at(times[0]),
			updated_at: at(times[times.length - 1]),
			messages: times.map((t) => ({ text: 'x', role: 'USER', created_at: at(t) })),
		});
		const remembered = withMessages('known', [9_000, 9_100, 10_050]);
		const forgotten = withMessages('old', [5_000, 6_000, 10_100]);
		const { read } = scriptedReader(() => [remembered, forgotten], { pageSize: 10 });
		const stored: SyncState = { watermark: 10_000, seen: { known: conversationVersionOf(withMessages('known', [9_000, 9_100])) } };
		// Nothing remembered yet (a first backfill): every message of a conversation not in the seen-set.
		const first = await pollOnce(stored, settings, 10_400, read);
		expect(first.emitted.map((e) => [e.conversation.conversation_id, e.newMessagesFrom])).toEqual([
			['known', 2],
			['old', 0],
		]);
		// After whole windows, the seen-set holds everything emitted since rememberedFrom: messages before it came out.
		const later = await pollOnce({ ...stored, rememberedFrom: 9_400 }, settings, 10_400, read);
		expect(later.emitted.map((e) => [e.conversation.conversation_id, e.newMessagesFrom])).toEqual([
			['known', 2],
			['old', 2],
		]);
	});

	it('a conversation of 999 messages or more: the new messages are those after the emitted version\'s time, not from the 1,000th on', async () => {
		const at = (ms: number) => new Date(ms).toISOString();
		const long = (count: number): IDataObject => ({
			conversation_id: 'long',
			created_at: at(9_000_000),
			updated_at: at(9_000_000 + count),
			messages: Array.from({ length: count }, (_, i) => ({ text: `m${i}`, role: 'USER', created_at: at(9_000_000 + i + 1) })),
		});
		const { read } = scriptedReader(() => [long(1_203)], { pageSize: 10 });
		const stored: SyncState = { watermark: 9_000, seen: { long: conversationVersionOf(long(1_200)) } };
		const result = await pollOnce(stored, settings, 10_400, read);
		expect(result.emitted.map((e) => e.newMessagesFrom)).toEqual([1_200]);
	});

	it('a message stamped on the very second of activation is new (Decagon\'s whole-second stamps)', async () => {
		const x: IDataObject = {
			conversation_id: 'x',
			created_at: new Date(9_900_000).toISOString(),
			updated_at: new Date(10_050_000).toISOString(),
			messages: [
				{ text: 'before', role: 'USER', created_at: new Date(9_950_000).toISOString().replace('.000', '') },
				{ text: 'on the second', role: 'USER', created_at: new Date(10_000_000).toISOString().replace('.000', '') },
			],
		};
		const { read } = scriptedReader(() => [x]);
		const activation = await pollOnce(emptySyncState(), settings, 10_000.6, read);
		const later = await pollOnce(activation.state, settings, 10_300, read);
		expect(later.emitted.map((e) => e.newMessagesFrom)).toEqual([1]);
	});

	it('a backfill read over polls skips nothing it has not emitted, even out of order across polls; only a window that reaches below what is remembered does', async () => {
		// One page a poll; c2 changed earlier than the pages before it (Decagon's order broken between polls).
		const data = [conversation('c0', 9_000), conversation('c1', 9_100), conversation('c2', 8_000), conversation('c3', 9_200)];
		const { read } = scriptedReader(() => data, { pageSize: 1 });
		const onePageAPoll = { ...settings, settleSeconds: 0, outOfTime: () => true };
		let state: SyncState = { watermark: 0, seen: {}, pending: { min: null, max: 9_500, cursor: null } };
		const ids: unknown[] = [];
		for (let poll = 0; poll < 6 && (poll === 0 || state.pending); poll++) {
			const result = await pollOnce(state, onePageAPoll, 9_600, read);
			ids.push(...result.emitted.map((e) => e.conversation.conversation_id));
			state = result.state;
		}
		expect(ids).toEqual(['c0', 'c1', 'c2', 'c3']);
		expect(state.rememberedFrom).toBe(9_500 - 600);
		// Lookback raised: the next window reaches below 8,900, and what it brings from there is not emitted again.
		const raised = await pollOnce(state, { ...settings, settleSeconds: 0, lookbackSeconds: 3_600 }, 9_700, read);
		expect(raised.emitted).toEqual([]);
	});

	it('empty pages with new cursors, one per poll (out of time after each): the bound of 50 holds across polls', async () => {
		let n = 0;
		const { read } = recordedWindowReader(() => ({ conversations: [], next_page_cursor: `e${++n}` }), 1000);
		let state: SyncState = { watermark: 9_000, seen: {}, pending: { min: 8_000, max: 9_500, cursor: null } };
		const oneAPoll = { ...settings, outOfTime: () => true };
		let error: Error | undefined;
		let polls = 0;
		for (; polls < 60 && !error; polls++) {
			try {
				state = (await pollOnce(state, oneAPoll, 10_000, read)).state;
			} catch (failure) {
				error = failure as Error;
			}
		}
		expect(error?.message).toBe('Decagon returned 50 empty pages in a row, each with a new cursor');
		expect(polls).toBe(50);
		expect(state.pending?.emptyPages).toBe(49);
	});

	it('reads stored state defensively', () => {
		expect(readSyncState(undefined)).toEqual({ seen: {} });
		expect(readSyncState({ watermark: 'x', pending: { max: 5, cursor: 7 }, seen: { a: 1, b: 'no' } } as IDataObject)).toEqual({
			pending: { min: null, max: 5, cursor: null },
			seen: { a: 1 },
		});
		const current = { watermark: 9, seen: { a: 1, u: 2 }, undatedSeenUntil: { u: 8, v: 'x' }, floor: 7, fingerprint: 'f' };
		expect(readSyncState(current as unknown as IDataObject)).toEqual({ ...current, undatedSeenUntil: { u: 8 } });
		expect(readSyncState({ seen: {}, undatedSeenUntil: 'x', floor: 'x', fingerprint: 3 } as IDataObject)).toEqual({ seen: {} });
	});
});

describe('a full page without a cursor (Decagon cut the window short)', () => {
	// Two changes a second from 9,300 s on: older than the lookback of the window after [9,280, 10,180].
	const backlog = Array.from({ length: 250 }, (_, i) => conversation(`c${i}`, 9_300 + Math.floor(i / 2)));

	it('reads the rest of the window by time, across polls at the cap, and emits all 250', async () => {
		const { read, queries } = cursorlessReader(() => backlog);
		const capped = { ...settings, maxPerPoll: 150 };
		const ids: string[] = [];
		let state: SyncState = { watermark: 9_880, seen: {} };
		const watermarks: Array<number | undefined> = [];
		const warnings: string[][] = [];
		for (const now of [10_300, 20_000, 20_100]) {
			const result = await pollOnce(state, capped, now, read);
			ids.push(...result.emitted.map((e) => String(e.conversation.conversation_id)));
			warnings.push(result.warnings);
			state = result.state;
			watermarks.push(state.watermark);
		}
		expect(ids).toEqual(backlog.map((c) => c.conversation_id));
		// The first poll stopped at the cap mid-window: the watermark stays before the unread conversations.
		expect(watermarks).toEqual([9_880, 10_180, 19_980]);
		expect(queries.slice(0, 3)).toEqual([
			{ timestamp_filter: 'updated_at', min_timestamp: 9_280, max_timestamp: 10_180 },
			{ timestamp_filter: 'updated_at', min_timestamp: 9_349, max_timestamp: 10_180 }, // c99's second
			{ timestamp_filter: 'updated_at', min_timestamp: 9_398, max_timestamp: 10_180 }, // c197's, next poll
		]);
		expect(warnings).toEqual([[], [], []]);
	});

	it('a cap reached inside a read on by time keeps the start and cursor of that read, and the next poll goes on from both', async () => {
		// The first read comes without a cursor; the read on by time from its last second is paged by cursor.
		const { read, queries } = recordedWindowReader((qs) => {
			const matching = backlog.filter((c) => inWindow(c, qs));
			if (qs.min_timestamp === 9_280) return { conversations: matching.slice(0, 100) };
			const offset = Number(qs.cursor ?? 0);
			const next = offset + 100 < matching.length ? String(offset + 100) : null;
			return { conversations: matching.slice(offset, offset + 100), next_page_cursor: next };
		});
		const capped = { ...settings, maxPerPoll: 150 };
		const first = await pollOnce({ watermark: 9_880, seen: {} }, capped, 10_300, read);
		expect(first.state.pending).toEqual({ min: 9_349, max: 10_180, cursor: '100' });
		const second = await pollOnce(first.state, capped, 20_000, read);
		expect(queries[2]).toMatchObject({ min_timestamp: 9_349, max_timestamp: 10_180, cursor: '100' });
		const ids = [...first.emitted, ...second.emitted].map((e) => e.conversation.conversation_id);
		expect(ids).toEqual(backlog.map((c) => c.conversation_id));
		expect(second.state.pending).toBeUndefined();
		expect(second.state.watermark).toBe(10_180);
		expect([...first.warnings, ...second.warnings]).toEqual([]);
	});

	it('repeats of the page before are not disorder: after them, a full page without a cursor is read on', async () => {
		// Page 1 has a cursor; page 2 starts with page 1's last 3 again (Decagon's duplicates across pages) and
		// comes full without one.
		const { read } = recordedWindowReader((qs) => {
			const matching = backlog.filter((c) => inWindow(c, qs));
			if (qs.cursor === undefined) return { conversations: matching.slice(0, 100), next_page_cursor: matching.length > 100 ? '100' : null };
			return { conversations: matching.slice(97, 197), next_page_cursor: null };
		});
		const { emitted, warnings } = await pollOnce({ watermark: 9_880, seen: {} }, settings, 10_300, read);
		expect(warnings).toEqual([]);
		expect(emitted.map((e) => e.conversation.conversation_id)).toEqual(backlog.map((c) => c.conversation_id));
	});

	it('ends the window with a warning when more than a page changed within one second', async () => {
		const sameSecond = Array.from({ length: 150 }, (_, i) => conversation(`s${i}`, 9_500));
		const { read, queries } = cursorlessReader(() => sameSecond);
		const { emitted, state, warnings } = await pollOnce({ watermark: 9_880, seen: {} }, settings, 10_300, read);
		expect(emitted).toHaveLength(100);
		expect(queries.map((q) => q.min_timestamp)).toEqual([9_280, 9_500]);
		expect(state.watermark).toBe(10_180);
		expect(state.pending).toBeUndefined();
		expect(warnings).toHaveLength(1);
		expect(warnings[0]).toMatch(/may have been missed/);
		expect(warnings[0]).toMatch(/shorter poll interval/);
	});
});

describe('a backfill read across polls', () => {
	it('keeps the seen-set to the last page and the lookback, and still emits every conversation once (repeats across pages included)', async () => {
		// Sparse in time (100 s apart): pages of 3 new conversations after the previous page's last 2.
		const data = Array.from({ length: 40 }, (_, i) => conversation(`c${i}`, 1_000 + i * 100));
		const { read } = scriptedReader(() => data, { pageSize: 3, repeat: 2 });
		const backfill: SyncSettings = { ...settings, startFrom: 'beginning', maxPerPoll: 3, lookbackSeconds: 0 };
		let state = emptySyncState();
		const emitted: string[] = [];
		let largestSeen = 0;
		for (let poll = 0; poll < 30 && emitted.length < 40; poll++) {
			const result = await pollOnce(state, backfill, 10_000 + poll, read);
			emitted.push(...result.emitted.map((e) => String(e.conversation.conversation_id)));
			state = result.state;
			largestSeen = Math.max(largestSeen, Object.keys(state.seen).length);
		}
		expect(emitted).toEqual(data.map((c) => c.conversation_id));
		expect(largestSeen).toBeLessThanOrEqual(5);
	});

	it('a burst of changes long before the window ends stays out of the state, Lookback on (only the next window start and the last page need remembering)', async () => {
		// 600 conversations changed within 5 minutes, an hour before the window's end; 10 minutes of lookback.
		const data = Array.from({ length: 600 }, (_, i) => conversation(`b${i}`, 10_000 + Math.floor(i / 2)));
		const { read } = scriptedReader(() => data, { pageSize: 100, repeat: 5 });
		const backfill: SyncSettings = { ...settings, startFrom: 'beginning', maxPerPoll: 100, lookbackSeconds: 600 };
		let state = emptySyncState();
		const emitted: string[] = [];
		let largestSeen = 0;
		for (let poll = 0; poll < 20 && (poll === 0 || state.pending); poll++) {
			const result = await pollOnce(state, backfill, 13_720 + poll, read);
			emitted.push(...result.emitted.map((e) => String(e.conversation.conversation_id)));
			state = result.state;
			largestSeen = Math.max(largestSeen, Object.keys(state.seen).length);
		}
		expect(state.pending).toBeUndefined();
		expect(emitted).toEqual(data.map((c) => c.conversation_id));
		// A page and its repeats, not the burst (600 before).
		expect(largestSeen).toBeLessThanOrEqual(110);
		// Nothing again on the next poll, whose window reaches back 10 minutes.
		expect((await pollOnce(state, backfill, 13_800, read)).emitted).toEqual([]);
	});

	it('a checkpoint on the window\'s last second (a read on by time from it) is resumed there: the pages before are not read again', async () => {
		// Page 1 has a cursor; page 2 comes full without one and ends inside the window's last second, 10,180,
		// where the cap stops the poll: the window still pending is [10,180, 10,180]. With Lookback 0 the
		// seen-set forgets page 1, so reading the window again from its start would emit page 1 twice.
		const early = Array.from({ length: 100 }, (_, i) => conversation(`e${i}`, 9_900 + i));
		const middle = Array.from({ length: 40 }, (_, i) => conversation(`m${i}`, 10_100));
		const last = Array.from({ length: 70 }, (_, i) => conversation(`l${i}`, 10_180));
		const data = [...early, ...middle, ...last];
		const { read, queries } = recordedWindowReader((qs) => {
			const matching = data.filter((c) => inWindow(c, qs));
			if (qs.cursor === 'p2') return { conversations: matching.slice(100, 200), next_page_cursor: null };
			return { conversations: matching.slice(0, 100), next_page_cursor: matching.length > 100 ? 'p2' : null };
		});
		const noLookback: SyncSettings = { ...settings, lookbackSeconds: 0, maxPerPoll: 200 };
		let state: SyncState = { watermark: 9_880, floor: 9_000, seen: {} };
		const emitted: string[] = [];
		for (const now of [10_300, 10_400, 10_500]) {
			const result = await pollOnce(state, noLookback, now, read);
			emitted.push(...result.emitted.map((e) => String(e.conversation.conversation_id)));
			expect(result.warnings).toEqual([]);
			state = result.state;
			if (now === 10_300) expect(state.pending).toEqual({ min: 10_180, max: 10_180, cursor: null });
		}
		expect(emitted).toEqual(data.map((c) => c.conversation_id));
		expect(queries[2]).toMatchObject({ min_timestamp: 10_180, max_timestamp: 10_180 });
		expect(state.watermark).toBe(10_380);
	});
});

describe("n8n's poll budget", () => {
	it('out of time: stops after the page in hand, checkpoints, and the next polls go on from there; every conversation once', async () => {
		const data = Array.from({ length: 9 }, (_, i) => conversation(`c${i}`, 1_000 + i * 10));
		const { read, queries } = scriptedReader(() => data, { pageSize: 2 });
		const timed: SyncSettings = { ...settings, startFrom: 'beginning', outOfTime: () => true };
		let state = emptySyncState();
		const perPoll: string[][] = [];
		for (let poll = 0; poll < 10 && perPoll.flat().length < 9; poll++) {
			const result = await pollOnce(state, timed, 10_000 + poll, read);
			perPoll.push(result.emitted.map((e) => String(e.conversation.conversation_id)));
			state = result.state;
		}
		expect(perPoll).toEqual([['c0', 'c1'], ['c2', 'c3'], ['c4', 'c5'], ['c6', 'c7'], ['c8']]);
		expect(queries.map((q) => q.cursor)).toEqual([undefined, '2', '4', '6', '8']);
		expect(state.pending).toBeUndefined();
	});

	it('out of time on an empty page that sends back its cursor once: the window stays open at that cursor, and what follows comes next poll', async () => {
		const script: IDataObject[] = [
			{ conversations: [conversation('a', 9_100)], next_page_cursor: 'c1' },
			{ conversations: [], next_page_cursor: 'c1' },
			{ conversations: [conversation('b', 9_200)], next_page_cursor: null },
		];
		const { read } = recordedWindowReader(() => script.shift() ?? { conversations: [] });
		let checks = 0;
		const dated: SyncSettings = { lookbackSeconds: 0, settleSeconds: 0, maxPerPoll: 1000, startFrom: 'date', startDate: 9_000 };
		const first = await pollOnce({ seen: {}, watermark: 9_000, floor: 9_000 }, { ...dated, outOfTime: () => ++checks >= 2 }, 10_000, read);
		expect(first.emitted.map((e) => e.conversation.conversation_id)).toEqual(['a']);
		expect(first.state.pending).toMatchObject({ cursor: 'c1' });
		const second = await pollOnce(first.state, dated, 10_001, read);
		expect(second.emitted.map((e) => e.conversation.conversation_id)).toEqual(['b']);
	});
});

describe('Max Conversations per Poll', () => {
	it('stops after the page that reaches it: 100 of 300 in one request, the rest on later polls', async () => {
		const data = Array.from({ length: 300 }, (_, i) => conversation(`c${i}`, 9_100 + i));
		const { read, queries } = scriptedReader(() => data, { pageSize: 100 });
		const capped: SyncSettings = { lookbackSeconds: 0, settleSeconds: 0, maxPerPoll: 100, startFrom: 'date', startDate: 9_000 };
		const result = await pollOnce({ seen: {}, watermark: 9_000, floor: 9_000 }, capped, 10_000, read);
		expect(result.emitted).toHaveLength(100);
		expect(queries).toHaveLength(1);
	});
});

describe('a fractional Lookback (Minutes)', () => {
	it('asks with a whole-second min_timestamp (Decagon refuses any other)', async () => {
		const { read, queries } = scriptedReader(() => [conversation('a', 9_800)]);
		await pollOnce({ seen: {}, watermark: 9_000 }, { ...settings, lookbackSeconds: 0.33 * 60 }, 10_000, read);
		expect(queries[0].min_timestamp).toBe(Math.floor(9_000 - 19.8));
		expect(Number.isInteger(queries[0].min_timestamp)).toBe(true);
	});

	it('a change inside the whole second the window is widened to is not emitted again on the next poll', async () => {
		// Lookback 19.8 s: the next window starts at floor(W − 19.8) = W − 20, so a change at W − 19.9 is read
		// again and must still be remembered.
		const { read } = scriptedReader(() => [conversation('edge', 10_000 - 19.9)]);
		const fractional: SyncSettings = { lookbackSeconds: 0.33 * 60, settleSeconds: 0, maxPerPoll: 1000, startFrom: 'date', startDate: 9_000 };
		const first = await pollOnce({ seen: {}, watermark: 9_000, floor: 9_000 }, fractional, 10_000, read);
		expect(first.emitted.map((e) => e.conversation.conversation_id)).toEqual(['edge']);
		expect((await pollOnce(first.state, fractional, 10_030, read)).emitted).toEqual([]);
	});
});

describe('reading on by time only when it is safe', () => {
	/** Serves one page of up to 100 without a cursor, as `arrange` orders and filters it. */
	function oddReader(arrange: (query: IDataObject) => IDataObject[]): { read: WindowReader; queries: IDataObject[] } {
		return recordedWindowReader((qs) => ({ conversations: arrange(qs).slice(0, 100) }));
	}

	it('does not read on when the export is not in updated_at order, and says so', async () => {
		// Newest first within the page: reading on from the last one's second would skip the rest.
		const data = Array.from({ length: 150 }, (_, i) => conversation(`c${i}`, 9_300 + i));
		const { read, queries } = oddReader(() => [...data].reverse());
		const { emitted, state, warnings } = await pollOnce({ watermark: 9_880, seen: {} }, settings, 10_300, read);
		expect(emitted).toHaveLength(100);
		expect(queries).toHaveLength(1);
		expect(warnings).toEqual([expect.stringMatching(/did not come in updated_at order.*may have been missed/)]);
		expect(state.pending).toBeUndefined();
	});

	it('does not read on past the end of the window (a server that ignores max_timestamp)', async () => {
		const data = Array.from({ length: 150 }, (_, i) => conversation(`c${i}`, 9_300 + i * 10));
		const { read, queries } = oddReader((query) => data.filter((c) => updatedSeconds(c) >= Number(query.min_timestamp ?? 0)));
		const capped = { ...settings, maxPerPoll: 100 };
		const { state, warnings } = await pollOnce({ watermark: 9_880, seen: {} }, capped, 10_300, read);
		expect(queries).toHaveLength(1);
		expect(warnings).toEqual([expect.stringMatching(/after the end of the window/)]);
		expect(state.pending).toBeUndefined();
		expect(state.watermark).toBe(10_180);
	});

	it('drops a stored pending window whose start is after its end instead of keeping it forever', async () => {
		const { read, queries } = scriptedReader(() => []);
		const { state } = await pollOnce({ watermark: 9_000, pending: { min: 9_500, max: 9_400, cursor: null }, seen: {} }, settings, 10_300, read);
		expect(queries).toEqual([]);
		expect(state.pending).toBeUndefined();
		const next = await pollOnce(state, settings, 10_400, read);
		expect(queries).toHaveLength(1);
		expect(next.state.watermark).toBe(10_280);
	});
});

describe('start settings changed while the sync state survived', () => {
	const data = [conversation('old', 5_000), conversation('recent', 9_950)];
	const filterA = JSON.stringify({ metadata_filter: { team: 'a' } });
	const filterB = JSON.stringify({ metadata_filter: { team: 'b' } });

	it('starts over when Start From, Start Date or the metadata filter changes', async () => {
		const { read, queries } = scriptedReader(() => data);
		const first = await pollOnce(emptySyncState(), settings, 10_000, read);
		const beginning = { ...settings, startFrom: 'beginning' as const };
		const second = await pollOnce(first.state, beginning, 10_100, read);
		expect(queries[0].min_timestamp).toBeUndefined();
		expect(second.emitted.map((e) => e.conversation.conversation_id)).toEqual(['old', 'recent']);
		expect(second.warnings).toHaveLength(1);
		// Same settings: no start over.
		const third = await pollOnce(second.state, beginning, 10_200, read);
		expect(third.emitted).toEqual([]);
		expect(third.warnings).toEqual([]);
		const filtered = await pollOnce(third.state, beginning, 10_300, read, { user_filters: filterA });
		expect(filtered.emitted.map((e) => e.conversation.conversation_id)).toEqual(['old', 'recent']);
		expect(filtered.warnings).toHaveLength(1);
		const dated = { ...settings, startFrom: 'date' as const, startDate: 9_000 };
		const fromDate = await pollOnce(filtered.state, dated, 10_400, read, { user_filters: filterA });
		expect(fromDate.emitted.map((e) => e.conversation.conversation_id)).toEqual(['recent']);
		expect(fromDate.warnings).toHaveLength(1);
		const laterDate = await pollOnce(fromDate.state, { ...dated, startDate: 4_000 }, 10_500, read, { user_filters: filterA });
		expect(laterDate.emitted.map((e) => e.conversation.conversation_id)).toEqual(['old', 'recent']);
	});

	it('an unchanged setting whose value moves with time (an expression such as $today) does not start over', async () => {
		const { read } = scriptedReader(() => data);
		const dated = { ...settings, startFrom: 'date' as const, startDate: 9_000, startKey: '{"startDate":"={{ $today.minus(1, \'day\') }}"}' };
		const first = await pollOnce(emptySyncState(), dated, 10_000, read);
		const next = await pollOnce(first.state, { ...dated, startDate: 9_100 }, 10_100, read);
		expect(next.warnings).toEqual([]);
		expect(next.emitted.map((e) => e.conversation.conversation_id)).toEqual(['recent']); // new since the last poll
		const edited = await pollOnce(next.state, { ...dated, startKey: '{"startDate":"2024-01-01"}' }, 10_200, read);
		expect(edited.warnings).toHaveLength(1);
	});

	it('never reuses a pending cursor with another query', async () => {
		const { read, queries } = scriptedReader(() => [...data, conversation('newest', 9_960)]);
		const capped = { ...settings, maxPerPoll: 1, startFrom: 'beginning' as const };
		const first = await pollOnce(emptySyncState(), capped, 10_200, read, { user_filters: filterA });
		expect(first.state.pending?.cursor).toBe('2');
		await pollOnce(first.state, capped, 10_300, read, { user_filters: filterB });
		expect(queries[1]).toMatchObject({ user_filters: filterB, cursor: undefined });
	});

	it('adopts the settings of a state stored before fingerprints without starting over', async () => {
		const { read, queries } = scriptedReader(() => data);
		const released = { watermark: 9_880, seen: { recent: conversationVersionOf(data[1]) } };
		const { emitted, state, notices } = await pollOnce(released, settings, 10_300, read, { user_filters: filterA });
		expect(emitted).toEqual([]);
		expect(queries[0].min_timestamp).toBe(9_280);
		expect(state.watermark).toBe(10_180);
		// Mid-backfill it goes on from its cursor.
		const releasedMidBackfill = { watermark: 0, pending: { min: null, max: 9_880, cursor: '1' }, seen: {} };
		await pollOnce(releasedMidBackfill, settings, 10_400, read, { user_filters: filterA });
		expect(queries[1]).toMatchObject({ max_timestamp: 9_880, cursor: '1' });
		expect(queries[1].min_timestamp).toBeUndefined();
		expect(notices).toEqual([]);
		expect(state.fingerprint).toEqual(expect.any(String));
	});
});

describe('conversations without a readable updated_at', () => {
	it('are remembered until the window that brought them is past the lookback, then forgotten', async () => {
		// As in the docs' example response: no updated_at. The server changed it at 9,900 s.
		const undated: IDataObject = { conversation_id: 'u', created_at: '2020-01-01T00:00:00Z', messages: [] };
		const served: ExportQuery[] = [];
		const read: WindowReader = async (query, _cursor, onPage) => {
			served.push(query);
			const inWindow = 9_900 >= (query.min_timestamp ?? -Infinity) && 9_900 <= (query.max_timestamp ?? Infinity);
			onPage({ number: 1, conversations: inWindow ? [undated] : [], cursor: undefined, nextCursor: undefined, readFrom: undefined });
			return { pages: 1, resumeCursor: undefined, stoppedByMaxPages: false, truncated: false, complete: true };
		};
		let state: SyncState = { watermark: 9_880, seen: {} };
		const emittedPerPoll: number[] = [];
		for (const now of [10_300, 10_400, 11_000, 12_000]) {
			const result = await pollOnce(state, settings, now, read);
			emittedPerPoll.push(result.emitted.length);
			state = result.state;
		}
		// Served by the first three windows ([9,280, 10,180], [9,580, 10,280], [9,680, 10,880]), emitted once.
		expect(served.map((q) => q.min_timestamp)).toEqual([9_280, 9_580, 9_680, 10_280]);
		expect(emittedPerPoll).toEqual([1, 0, 0, 0]);
		expect(state.seen).toEqual({});
		expect(state.undatedSeenUntil).toBeUndefined();
	});

	it('leave a state of dated conversations as it was', async () => {
		const { read } = scriptedReader(() => [conversation('a', 9_950)]);
		const { state } = await pollOnce({ watermark: 9_880, seen: {} }, settings, 10_300, read);
		expect(Object.keys(state)).not.toContain('undatedSeenUntil');
	});
});

describe('start from now or a date: nothing from before', () => {
	const data = [conversation('before', 9_950), conversation('after', 10_050)];

	it('never reads changes made before activation, not even through the lookback', async () => {
		const { read, queries } = scriptedReader(() => data);
		const activation = await pollOnce(emptySyncState(), settings, 10_000.6, read);
		// Settle time not yet past activation: the window would end before it starts.
		const early = await pollOnce(activation.state, settings, 10_100, read);
		expect(queries).toEqual([]);
		expect(early.emitted).toEqual([]);
		expect(early.state.watermark).toBe(activation.state.watermark);
		const later = await pollOnce(early.state, settings, 10_300, read);
		expect(queries[0]).toMatchObject({ min_timestamp: 10_000, max_timestamp: 10_180 });
		expect(later.emitted.map((e) => e.conversation.conversation_id)).toEqual(['after']);
		expect(later.state.floor).toBe(10_000);
	});

	it('never reads changes made before the Start Date', async () => {
		const { read, queries } = scriptedReader(() => [conversation('early', 9_500), ...data]);
		const dated = { ...settings, startFrom: 'date' as const, startDate: 9_900 };
		const first = await pollOnce(emptySyncState(), dated, 10_100, read);
		expect(first.emitted.map((e) => e.conversation.conversation_id)).toEqual(['before']);
		const second = await pollOnce(first.state, dated, 10_300, read);
		expect(queries[1].min_timestamp).toBe(9_900);
		expect(second.emitted.map((e) => e.conversation.conversation_id)).toEqual(['after']);
		const future = await pollOnce(emptySyncState(), { ...dated, startDate: 20_000 }, 10_300, read);
		expect(queries).toHaveLength(2);
		expect(future.emitted).toEqual([]);
	});
});
