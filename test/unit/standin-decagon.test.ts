/**
 * The Decagon stand-in must follow the documented and observed contract, or every test built on it
 * proves nothing. These tests talk to it over real HTTP on loopback.
 */
import type { DecagonStandin } from '../standins/decagon';
import { CURSOR_FIELDS, END_MARKERS, startDecagonStandin } from '../standins/decagon';
import { parseTimestampUs } from '../standins/decagon/timestamps';

jest.setTimeout(20_000);

const KEY = 'test-decagon-key';
let standin: DecagonStandin;

beforeAll(async () => {
	standin = await startDecagonStandin({ count: 250, rateLimitPerSecond: 0, nowEpoch: 1_750_000_000 });
});
afterAll(async () => standin.close());
beforeEach(() => {
	standin.configure({
		count: 250,
		rateLimitPerSecond: 0,
		cursorField: 'next_page_cursor',
		nullPageCursorBeside: false,
		endMarker: 'null',
		pageSize: 100,
		duplicatesAcrossPages: 0,
		updateDuringExport: null,
		faults: [],
		faultRate: 0,
		repeatCursor: 0,
		emptyPageWithCursor: 0,
		echoCursorAtEnd: false,
		fullPageWithoutCursor: false,
		retryAfterHeader: true,
		retryAfterFormat: 'seconds',
	});
	standin.resetStats();
});

interface Page {
	status: number;
	headers: Headers;
	body: Record<string, unknown>;
}

async function get(query: Record<string, string | number> = {}, key: string | null = KEY, path = '/conversation/export'): Promise<Page> {
	const url = new URL(path, standin.url);
	for (const [name, value] of Object.entries(query)) url.searchParams.set(name, String(value));
	const response = await fetch(url, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
	const text = await response.text();
	return { status: response.status, headers: response.headers, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } };
}

type Conversation = { conversation_id: string; created_at: string; updated_at: string; metadata: Record<string, unknown>; messages: Array<{ created_at: string }> };

/** Follows cursors like a careful client; returns every conversation served, in order. */
async function exportAll(query: Record<string, string | number> = {}, cursorField = 'next_page_cursor'): Promise<{ conversations: Conversation[]; pages: number }> {
	const conversations: Conversation[] = [];
	let cursor: unknown;
	for (let pages = 1; pages <= 100; pages++) {
		const page = await get(cursor === undefined ? query : { ...query, cursor: String(cursor) });
		expect(page.status).toBe(200);
		conversations.push(...(page.body.conversations as Conversation[]));
		cursor = page.body[cursorField];
		if (cursor === null || cursor === undefined || cursor === '' || cursor === 0) return { conversations, pages };
	}
	throw new Error('export did not end in 100 pages');
}

const seconds = (timestamp: string) => parseTimestampUs(timestamp) / 1e6;

describe('authentication', () => {
	test('a missing or wrong key is 401, a forbidden key 403, with a JSON detail', async () => {
		standin.configure({ forbiddenApiKeys: ['read-only-key'] });
		expect((await get({}, null)).status).toBe(401);
		const wrong = await get({}, 'nope');
		expect(wrong.status).toBe(401);
		expect(wrong.body.detail).toMatch(/invalid api key/i);
		expect((await get({}, 'read-only-key')).status).toBe(403);
		expect(standin.stats().unauthorized).toBe(3);
	});
});

describe('paging', () => {
	test('a full export serves every conversation once, oldest created first, 100 a page', async () => {
		const { conversations, pages } = await exportAll();
		expect(pages).toBe(3);
		const ids = conversations.map((c) => c.conversation_id);
		expect(new Set(ids).size).toBe(250);
		const created = conversations.map((c) => seconds(c.created_at));
		expect(created).toEqual([...created].sort((a, b) => a - b));
		expect(standin.stats().pagesServed).toBe(3);
	});

	test('nullPageCursorBeside: next_page_cursor null on every page beside the cursor in another field', async () => {
		standin.configure({ cursorField: 'next_page_updated_after', nullPageCursorBeside: true });
		try {
			const first = await get();
			expect(first.body.next_page_cursor).toBeNull();
			expect(typeof first.body.next_page_updated_after).toBe('number');
		} finally {
			standin.configure({ cursorField: 'next_page_cursor', nullPageCursorBeside: false });
		}
	});

	test.each(CURSOR_FIELDS.flatMap((field) => END_MARKERS.map((marker) => [field, marker] as const)))(
		'cursor field %s with end marker %s',
		async (cursorField, endMarker) => {
			standin.configure({ cursorField, endMarker, pageSize: 60 });
			const first = await get();
			const cursor = first.body[cursorField];
			if (cursorField === 'next_page_updated_after') expect(typeof cursor).toBe('number');
			else expect(typeof cursor).toBe('string');
			const { conversations, pages } = await exportAll({}, cursorField);
			expect(pages).toBe(5);
			expect(new Set(conversations.map((c) => c.conversation_id)).size).toBe(250);
			const last = await get({ cursor: String(cursor) });
			expect(last.status).toBe(200);
			const end = (await exportAll({}, cursorField)).pages;
			expect(end).toBe(5);
		},
	);

	test('the docs sample code starts with cursor=0', async () => {
		const page = await get({ cursor: 0 });
		expect((page.body.conversations as unknown[]).length).toBe(100);
	});

	test('an unreadable cursor is a 400', async () => {
		expect((await get({ cursor: 'not-a-cursor' })).status).toBe(400);
	});
});

describe('filters', () => {
	test.each(['created_at', 'updated_at', 'last_message_time'] as const)('time window on %s, both orders', async (field) => {
		const everything = standin.conversations();
		const timeOf = (c: (typeof everything)[number]) =>
			field === 'created_at' ? seconds(c.created_at) : field === 'updated_at' ? seconds(c.updated_at) : seconds(c.messages[c.messages.length - 1].created_at);
		const sorted = everything.map(timeOf).sort((a, b) => a - b);
		const min = Math.ceil(sorted[50]);
		const max = Math.floor(sorted[200]);
		const expected = everything.filter((c) => timeOf(c) >= min && timeOf(c) <= max).map((c) => c.conversation_id);

		const asc = await exportAll({ min_timestamp: min, max_timestamp: max, timestamp_filter: field });
		expect(asc.conversations.map((c) => c.conversation_id).sort()).toEqual([...expected].sort());
		const desc = await exportAll({ min_timestamp: min, max_timestamp: max, timestamp_filter: field, order: 'desc' });
		const descIds = desc.conversations.map((c) => c.conversation_id);
		expect(descIds).toEqual(asc.conversations.map((c) => c.conversation_id).reverse());
	});

	test('the server default filters on created_at', async () => {
		const everything = standin.conversations();
		const min = Math.floor(seconds(everything[0].created_at));
		const page = await exportAll({ min_timestamp: min });
		for (const c of page.conversations) expect(seconds(c.created_at)).toBeGreaterThanOrEqual(min);
	});

	test('user_filters metadata_filter keeps matching conversations only', async () => {
		const filter = JSON.stringify({ metadata_filter: { user_type: 'VIP' } });
		const { conversations } = await exportAll({ user_filters: filter });
		const expected = standin.conversations().filter((c) => c.metadata.user_type === 'VIP');
		expect(expected.length).toBeGreaterThan(10);
		expect(conversations.map((c) => c.conversation_id).sort()).toEqual(expected.map((c) => c.conversation_id).sort());
	});

	test.each([
		[{ min_timestamp: '1.5' }],
		[{ max_timestamp: 'yesterday' }],
		[{ timestamp_filter: 'deleted_at' }],
		[{ order: 'sideways' }],
		[{ user_filters: '{"tags":["x"]}' }],
		[{ user_filters: 'not json' }],
	])('bad query %j is a 422', async (query) => {
		expect((await get(query)).status).toBe(422);
	});
});

describe('rate limiter', () => {
	test('a second request inside the interval gets 429 with Retry-After in seconds', async () => {
		standin.configure({ rateLimitPerSecond: 1 });
		const [a, b] = await Promise.all([get(), get()]);
		const statuses = [a.status, b.status].sort();
		expect(statuses).toEqual([200, 429]);
		const limited = a.status === 429 ? a : b;
		expect(limited.headers.get('retry-after')).toBe('1');
		expect(standin.stats().rateLimited).toBe(1);
	});

	test('Retry-After as an HTTP date, or left out', async () => {
		standin.configure({ rateLimitPerSecond: 1, retryAfterFormat: 'http-date' });
		await get();
		const dated = await get();
		expect(dated.status).toBe(429);
		expect(Number.isNaN(Date.parse(dated.headers.get('retry-after') ?? ''))).toBe(false);
		standin.configure({ rateLimitPerSecond: 1, retryAfterHeader: false });
		await get();
		const bare = await get();
		expect(bare.status).toBe(429);
		expect(bare.headers.get('retry-after')).toBeNull();
	});

	test('requests spaced at the rate are never limited', async () => {
		standin.configure({ rateLimitPerSecond: 20 });
		for (let i = 0; i < 6; i++) {
			const started = Date.now();
			expect((await get()).status).toBe(200);
			await new Promise((resolve) => setTimeout(resolve, Math.max(0, 55 - (Date.now() - started))));
		}
		expect(standin.stats().rateLimited).toBe(0);
	});
});

describe('quirks', () => {
	test('duplicatesAcrossPages repeats the tail of the previous page', async () => {
		standin.configure({ duplicatesAcrossPages: 5 });
		const { conversations } = await exportAll();
		expect(conversations.length).toBeGreaterThan(250);
		expect(new Set(conversations.map((c) => c.conversation_id)).size).toBe(250);
	});

	test('updateDuringExport: updated conversations come again, newer, later in an updated_at export', async () => {
		standin.configure({ updateDuringExport: { afterPage: 1, count: 3 } });
		const { conversations } = await exportAll({ timestamp_filter: 'updated_at' });
		const updated = standin.stats().updatedDuringExport;
		expect(updated).toHaveLength(3);
		for (const id of updated) {
			const copies = conversations.filter((c) => c.conversation_id === id);
			expect(copies).toHaveLength(2);
			expect(seconds(copies[1].updated_at)).toBeGreaterThan(seconds(copies[0].updated_at));
			expect(copies[1].messages.length).toBe(copies[0].messages.length + 1);
		}
		expect(new Set(conversations.map((c) => c.conversation_id)).size).toBe(250);
	});

	test('repeatCursor hands back the cursor it was sent', async () => {
		standin.configure({ repeatCursor: 2, pageSize: 50 });
		const first = await get();
		const second = await get({ cursor: String(first.body.next_page_cursor) });
		expect(second.body.next_page_cursor).toBe(first.body.next_page_cursor);
	});

	test('emptyPageWithCursor answers no conversations but a new cursor', async () => {
		standin.configure({ emptyPageWithCursor: 2 });
		const first = await get();
		const second = await get({ cursor: String(first.body.next_page_cursor) });
		expect(second.body.conversations).toEqual([]);
		expect(second.body.next_page_cursor).toEqual(expect.any(String));
		expect(second.body.next_page_cursor).not.toBe(first.body.next_page_cursor);
	});

	test('echoCursorAtEnd: the last page has a cursor, and the page after it is empty with that same cursor', async () => {
		standin.configure({ echoCursorAtEnd: true, count: 150 });
		const first = await get();
		const last = await get({ cursor: String(first.body.next_page_cursor) });
		expect((last.body.conversations as unknown[]).length).toBe(50);
		expect(last.body.next_page_cursor).toEqual(expect.any(String));
		const after = await get({ cursor: String(last.body.next_page_cursor) });
		expect(after.body.conversations).toEqual([]);
		expect(after.body.next_page_cursor).toBe(last.body.next_page_cursor);
	});

	test('fullPageWithoutCursor ends a full page early', async () => {
		standin.configure({ fullPageWithoutCursor: true });
		const first = await get();
		expect((first.body.conversations as unknown[]).length).toBe(100);
		expect(first.body.next_page_cursor).toBeNull();
	});

	test('timestamps come in the mixed spellings Decagon uses, all parseable', async () => {
		const { conversations } = await exportAll();
		const spellings = new Set(conversations.map((c) => (c.created_at.endsWith('Z') ? 'z' : c.created_at.includes('+') ? 'offset' : 'naive')));
		expect(spellings).toEqual(new Set(['z', 'offset', 'naive']));
		for (const c of conversations) expect(Number.isNaN(seconds(c.updated_at))).toBe(false);
	});
});

describe('faults', () => {
	test.each([
		['429', 429, '1'],
		['429-no-retry-after', 429, null],
		['500', 500, null],
		['502', 502, null],
		['503', 503, null],
	] as const)('fault %s answers %i', async (kind, status, retryAfter) => {
		standin.configure({ faults: [{ request: 2, kind }] });
		expect((await get()).status).toBe(200);
		const failed = await get();
		expect(failed.status).toBe(status);
		expect(failed.headers.get('retry-after')).toBe(retryAfter);
		expect((await get()).status).toBe(200);
		expect(standin.stats().faultsInjected).toBe(1);
	});

	test('502 comes as HTML, like a proxy sends it', async () => {
		standin.configure({ faults: [{ request: 1, kind: '502' }] });
		const failed = await get();
		expect(failed.headers.get('content-type')).toBe('text/html');
	});

	test('truncated answers 200 with half a JSON body', async () => {
		standin.configure({ faults: [{ request: 1, kind: 'truncated' }] });
		const response = await fetch(new URL('/conversation/export', standin.url), { headers: { authorization: `Bearer ${KEY}` } });
		expect(response.status).toBe(200);
		const text = await response.text();
		expect(() => JSON.parse(text)).toThrow();
	});

	test('reset breaks the connection mid-body', async () => {
		standin.configure({ faults: [{ request: 1, kind: 'reset' }] });
		await expect(
			fetch(new URL('/conversation/export', standin.url), { headers: { authorization: `Bearer ${KEY}` } }).then((r) => r.text()),
		).rejects.toThrow();
	});

	test('hang never answers', async () => {
		standin.configure({ faults: [{ request: 1, kind: 'hang' }] });
		await expect(
			fetch(new URL('/conversation/export', standin.url), { headers: { authorization: `Bearer ${KEY}` }, signal: AbortSignal.timeout(300) }),
		).rejects.toThrow();
	});

	test('faultRate draws the same faults for the same seed', async () => {
		const run = async () => {
			standin.configure({ faultRate: 0.3, faultKinds: ['500', '503'] });
			standin.resetStats();
			const statuses: number[] = [];
			for (let i = 0; i < 20; i++) statuses.push((await get()).status);
			return statuses;
		};
		const first = await run();
		expect(first.filter((s) => s !== 200).length).toBeGreaterThan(0);
		expect(first.filter((s) => s === 200).length).toBeGreaterThan(0);
		expect(await run()).toEqual(first);
	});
});

describe('data and control', () => {
	test('the same seed gives the same conversations; another seed different ones', async () => {
		const before = standin.conversations().map((c) => c.conversation_id);
		standin.configure({ seed: 2 });
		const other = standin.conversations().map((c) => c.conversation_id);
		standin.configure({ seed: 1 });
		expect(standin.conversations().map((c) => c.conversation_id)).toEqual(before);
		expect(other).not.toEqual(before);
	});

	test('control routes steer a stand-in in another process', async () => {
		const post = (path: string, body: unknown) =>
			fetch(new URL(path, standin.url), { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
		expect((await post('/__standin/configure', { count: 10 })).status).toBe(200);
		expect((await get()).body.conversations).toHaveLength(10);
		const id = standin.conversations()[0].conversation_id;
		const updated = (await (await post('/__standin/add-message', { id, text: 'one more' })).json()) as Conversation;
		expect(updated.messages.at(-1)).toMatchObject({ text: 'one more' });
		const stats = (await (await fetch(new URL('/__standin/stats', standin.url))).json()) as { pagesServed: number };
		expect(stats.pagesServed).toBe(1);
		expect((await post('/__standin/configure', { count: -1 })).status).toBe(400);
		expect((await post('/__standin/configure', { nonsense: 1 })).status).toBe(400);
	});

	test('addConversation and addMessage move updated_at forward', async () => {
		const added = standin.addConversation({ metadata: { user_type: 'new' } });
		expect(standin.conversations()).toHaveLength(251);
		const later = standin.addMessage(added.conversation_id, 'hello again');
		expect(seconds(later.updated_at)).toBeGreaterThan(seconds(added.updated_at));
	});
});
