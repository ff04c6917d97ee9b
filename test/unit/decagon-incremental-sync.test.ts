import type { IDataObject } from 'n8n-workflow';

import type { SyncSettings, WindowReader } from '../../nodes/Decagon/helpers/incrementalSync';
import { emptySyncState, pollOnce, readSyncState } from '../../nodes/Decagon/helpers/incrementalSync';
import type { ExportQuery } from '../../nodes/Decagon/transport/paginator';

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

/** Serves scripted pages of 2 from a list filtered on updated_at, recording every query. */
function scriptedReader(all: () => IDataObject[]): { read: WindowReader; queries: Array<ExportQuery & { cursor?: string }> } {
	const queries: Array<ExportQuery & { cursor?: string }> = [];
	const read: WindowReader = async (query, startCursor, onPage) => {
		queries.push({ ...query, cursor: startCursor });
		const matching = all().filter((c) => {
			const t = Date.parse(String(c.updated_at)) / 1000;
			return (query.min_timestamp === undefined || t >= query.min_timestamp) && t <= (query.max_timestamp ?? Infinity);
		});
		let offset = startCursor ? Number(startCursor) : 0;
		for (let number = 1; offset < matching.length; number++) {
			const conversations = matching.slice(offset, offset + 2);
			offset += 2;
			const nextCursor = offset < matching.length ? String(offset) : undefined;
			const more = onPage({ number, conversations, cursor: startCursor, nextCursor });
			if (nextCursor && more === false) return { pages: number, resumeCursor: nextCursor, stoppedByMaxPages: false };
		}
		return { pages: 1, resumeCursor: undefined, stoppedByMaxPages: false };
	};
	return { read, queries };
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
			onPage({ number: 1, conversations: [conversation('z', 9_500)], cursor: undefined, nextCursor: '2' });
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

	it('reads stored state defensively', () => {
		expect(readSyncState(undefined)).toEqual({ seen: {} });
		expect(readSyncState({ watermark: 'x', pending: { max: 5, cursor: 7 }, seen: { a: 1, b: 'no' } } as IDataObject)).toEqual({
			pending: { min: null, max: 5, cursor: null },
			seen: { a: 1 },
		});
	});
});
