/**
 * How the Decagon paginator reads odd pages, over a scripted export route: an empty page with a new
 * cursor is followed (a page can be emptied by filtering after paging), a run of them is bounded, the
 * cursor sent coming back on an empty page ends the export once it does so twice in a row, and entries
 * that are not conversations are left out with a warning.
 */
import type { IDataObject } from 'n8n-workflow';

import type { DecagonContext } from '../../nodes/Decagon/transport';
import type { PaginationResult } from '../../nodes/Decagon/transport/paginator';
import { paginateExport } from '../../nodes/Decagon/transport/paginator';
import { recordedWindowReader, routeRequest, testConnection } from '../support/decagon-route';

const conversation = (id: string, second: number): IDataObject => ({
	conversation_id: id,
	updated_at: new Date(second * 1000).toISOString(),
	messages: [],
});

/** Reads the whole export over `pages`: each entry answers one request, in order. */
async function readAll(pages: IDataObject[], bound = 80): Promise<{ ids: string[]; queries: IDataObject[]; result?: PaginationResult; error?: Error }> {
	const answers = [...pages];
	const { read, queries } = recordedWindowReader(() => {
		const next = answers.shift();
		if (!next) throw new Error('asked for more pages than the script has');
		return next;
	}, bound);
	const ids: string[] = [];
	try {
		const result = await read({ timestamp_filter: 'updated_at' }, undefined, (page) => {
			ids.push(...page.conversations.map((c) => String(c.conversation_id)));
			return true;
		});
		return { ids, queries, result };
	} catch (error) {
		return { ids, queries, error: error as Error };
	}
}

test('an empty page with a new cursor is followed: what comes after it is read', async () => {
	const { ids, queries, result, error } = await readAll([
		{ conversations: [conversation('a', 100)], next_page_cursor: 'c1' },
		{ conversations: [], next_page_cursor: 'c2' },
		{ conversations: [], next_page_cursor: 'c3' },
		{ conversations: [conversation('b', 101)], next_page_cursor: null },
	]);
	expect(error).toBeUndefined();
	expect(ids).toEqual(['a', 'b']);
	expect(queries.map((q) => q.cursor)).toEqual([undefined, 'c1', 'c2', 'c3']);
	expect(result?.complete).toBe(true);
});

test('50 empty pages in a row, each with a new cursor, end with a clear error that says where to resume', async () => {
	const empties = Array.from({ length: 60 }, (_, i) => ({ conversations: [], next_page_cursor: `e${i + 1}` }));
	const { queries, error } = await readAll([{ conversations: [conversation('a', 100)], next_page_cursor: 'e0' }, ...empties]);
	expect(error?.message).toBe('Decagon returned 50 empty pages in a row, each with a new cursor');
	expect((error as Error & { description?: string }).description).toMatch(/Start Cursor|next poll|resume/i);
	expect(queries).toHaveLength(51);
});

test('the cursor sent, back on an empty page: asked once more, and the second such answer ends the export as complete', async () => {
	const { ids, queries, result, error } = await readAll([
		{ conversations: [conversation('a', 100), conversation('b', 101)], next_page_updated_after: 101_000_000 },
		{ conversations: [], next_page_updated_after: 101_000_000 },
		{ conversations: [], next_page_updated_after: 101_000_000 },
	]);
	expect(error).toBeUndefined();
	expect(ids).toEqual(['a', 'b']);
	expect(queries.map((q) => q.cursor)).toEqual([undefined, '101000000', '101000000']);
	expect(result).toEqual(expect.objectContaining({ complete: true, truncated: false, resumeCursor: undefined }));
});

test('an empty page that sends back its cursor once, in passing: the export goes on and loses nothing', async () => {
	const { ids, result, error } = await readAll([
		{ conversations: [conversation('a', 100)], next_page_updated_after: 100_000_000 },
		{ conversations: [], next_page_updated_after: 100_000_000 },
		{ conversations: [conversation('b', 101), conversation('c', 102)], next_page_updated_after: 102_000_000 },
		{ conversations: [], next_page_updated_after: null },
	]);
	expect(error).toBeUndefined();
	expect(ids).toEqual(['a', 'b', 'c']);
	expect(result?.complete).toBe(true);
});

test('a page with conversations that sends back the cursor it was asked with is still a clear error (it would loop)', async () => {
	const { error } = await readAll([
		{ conversations: [conversation('a', 100)], next_page_cursor: 'c1' },
		{ conversations: [conversation('b', 101)], next_page_cursor: 'c1' },
	]);
	expect(error?.message).toMatch(/returned cursor "c1" again on page 2; the export would loop forever/);
});

test('cursors that come round again (A, B, A) are a clear error at once, not 100,000 pages of the same three', async () => {
	const { error, queries } = await readAll([
		{ conversations: [conversation('a', 100)], next_page_cursor: 'A' },
		{ conversations: [conversation('b', 101)], next_page_cursor: 'B' },
		{ conversations: [conversation('c', 102)], next_page_cursor: 'A' },
		{ conversations: [conversation('d', 103)], next_page_cursor: 'B' },
	]);
	expect(error?.message).toMatch(/returned cursor "A" again on page 3/);
	expect(queries).toHaveLength(3);
});

test('empty pages between full ones are not "in a row": 60 of them, each after a page with a conversation, read to the end', async () => {
	const pages: IDataObject[] = [];
	for (let i = 0; i < 60; i++) {
		pages.push({ conversations: [], next_page_cursor: `e${i}` });
		pages.push({ conversations: [conversation(`c${i}`, 100 + i)], next_page_cursor: `f${i}` });
	}
	pages.push({ conversations: [], next_page_cursor: null });
	const { error, ids, result } = await readAll(pages, 200);
	expect(error).toBeUndefined();
	expect(ids).toHaveLength(60);
	expect(result?.complete).toBe(true);
});

test('entries that are not conversations (null, a number, text) are left out with a warning, not a crash', async () => {
	const node = { id: '1', name: 'Decagon', type: 'decagon', typeVersion: 1, position: [0, 0], parameters: {} };
	const context = {
		getNode: () => node,
		logger: { debug: () => undefined },
		helpers: { httpRequestWithAuthentication: routeRequest(() => ({ conversations: [conversation('a', 100), null, 5, 'x', conversation('b', 101)], next_page_cursor: null })) },
	} as unknown as DecagonContext;
	const ids: string[] = [];
	const warnings: Array<[string, string]> = [];
	const result = await paginateExport.call(context, testConnection(), {}, (page) => {
		ids.push(...page.conversations.map((c) => String(c.conversation_id)));
	}, { onWarning: (message, kind) => warnings.push([kind, message]) });
	expect(ids).toEqual(['a', 'b']);
	expect(result.complete).toBe(true);
	expect(warnings).toEqual([['not-conversations', "Decagon's page 1 held 3 entries that are not conversations (null, or not an object); they were left out."]]);
});

/**
 * A server whose cursor is the whole second of the page's last conversation (the docs' example,
 * `next_page_updated_after: 151050148`), compared "after" (exclusive) or "from" (inclusive);
 * min_timestamp is inclusive. Several conversations share each second.
 */
function secondsCursorRoute(count: number, perSecond: number, comparison: 'after' | 'from') {
	const all = Array.from({ length: count }, (_, i) => conversation(`c${i}`, 1_700_000_000 + Math.floor(i / perSecond)));
	const secondOfIt = (c: IDataObject) => Date.parse(String(c.updated_at)) / 1000;
	return (qs: IDataObject): IDataObject => {
		const cursor = qs.cursor === undefined ? undefined : Number(qs.cursor);
		const min = qs.min_timestamp === undefined ? -Infinity : Number(qs.min_timestamp);
		const page = all
			.filter((c) => secondOfIt(c) >= min && (cursor === undefined || (comparison === 'after' ? secondOfIt(c) > cursor : secondOfIt(c) >= cursor)))
			.slice(0, 100);
		// An inclusive server that ends on a tie would send its cursor for ever: it ends on a short page.
		const last = page.length === 100 ? secondOfIt(page[page.length - 1]) : null;
		return { conversations: page, next_page_updated_after: last };
	};
}

async function readSecondsCursor(route: (qs: IDataObject) => IDataObject) {
	const { read, queries } = recordedWindowReader(route, 40);
	const ids: string[] = [];
	const result = await read({ timestamp_filter: 'updated_at' }, undefined, (page) => {
		ids.push(...page.conversations.map((c) => String(c.conversation_id)));
		return true;
	});
	return { ids, queries, result };
}

test.each(['after', 'from'] as const)(
	'a cursor that is the second of the page\'s last conversation (compared "%s" it): every conversation comes once, the ones of that second left off the page included',
	async (comparison) => {
		const { ids, queries, result } = await readSecondsCursor(secondsCursorRoute(250, 7, comparison));
		expect(ids).toHaveLength(250);
		expect(new Set(ids).size).toBe(250);
		expect(result.complete).toBe(true);
		// Read on from that second (min_timestamp), not through the cursor.
		expect(queries.slice(1).every((q) => q.cursor === undefined && typeof q.min_timestamp === 'number')).toBe(true);
	},
);

test('more than a page of conversations in one second, under a cursor that is that second: a warning says some may be missing', async () => {
	const node = { id: '1', name: 'Decagon', type: 'decagon', typeVersion: 1, position: [0, 0], parameters: {} };
	const context = { getNode: () => node, logger: { debug: () => undefined }, helpers: { httpRequestWithAuthentication: routeRequest(secondsCursorRoute(150, 150, 'after')) } } as unknown as DecagonContext;
	const warnings: Array<[string, string]> = [];
	const ids: string[] = [];
	const result = await paginateExport.call(context, testConnection(), { timestamp_filter: 'updated_at' }, (page) => {
		ids.push(...page.conversations.map((c) => String(c.conversation_id)));
	}, { readOnBy: 'updated_at', onWarning: (message, kind) => warnings.push([kind, message]) });
	expect(ids).toHaveLength(100);
	expect(warnings).toEqual([['same-second', expect.stringContaining('2023-11-14T22:13:20.000Z, in which 100 or more conversations were updated')]]);
	expect(result.sameSecondGaps).toEqual([1_700_000_000]);
});

test('under a creation filter the cursor is followed, not read as a creation second: a conversation created early but updated late is not skipped', async () => {
	// 150 conversations created and updated in their own second, 7 a second, and one created early but
	// updated after all of them; the server pages by update time from its cursor, the last update's second.
	const base = 1_700_000_000;
	const all = Array.from({ length: 150 }, (_, i) => {
		const second = base + Math.floor(i / 7);
		return { conversation_id: `c${i}`, created_at: new Date(second * 1000).toISOString(), updated_at: new Date(second * 1000).toISOString(), messages: [] } as IDataObject;
	});
	all.push({ conversation_id: 'late', created_at: new Date((base + 5) * 1000).toISOString(), updated_at: new Date((base + 200) * 1000).toISOString(), messages: [] });
	const updated = (c: IDataObject) => Date.parse(String(c.updated_at)) / 1000;
	const created = (c: IDataObject) => Date.parse(String(c.created_at)) / 1000;
	const route = (qs: IDataObject): IDataObject => {
		const after = qs.cursor === undefined ? -Infinity : Number(qs.cursor);
		const min = qs.min_timestamp === undefined ? -Infinity : Number(qs.min_timestamp);
		const page = all.filter((c) => created(c) >= min && updated(c) >= after).slice(0, 100);
		return { conversations: page, next_page_updated_after: page.length === 100 ? updated(page[99]) : null };
	};
	const node = { id: '1', name: 'Decagon', type: 'decagon', typeVersion: 1, position: [0, 0], parameters: {} };
	const context = { getNode: () => node, logger: { debug: () => undefined }, helpers: { httpRequestWithAuthentication: routeRequest(route) } } as unknown as DecagonContext;
	const ids: string[] = [];
	await paginateExport.call(context, testConnection(), { timestamp_filter: 'created_at' }, (page) => {
		ids.push(...page.conversations.map((c) => String(c.conversation_id)));
	}, { readOnBy: 'created_at' });
	expect(new Set(ids).size).toBe(151);
	expect(ids).toContain('late');
});
