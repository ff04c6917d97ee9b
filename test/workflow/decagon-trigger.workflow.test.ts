/**
 * The Decagon Trigger polled the way n8n polls an active workflow (n8n-core's PollContext), against
 * the stand-in over real HTTP, while conversations keep changing, polls fail midway and caps cut
 * polls short. Static data is carried from poll to poll only when a poll succeeds, as n8n 2.x does.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IDataObject, INode, INodeParameters } from 'n8n-workflow';

import type { DecagonStandin } from '../standins/decagon';
import { startDecagonStandin } from '../standins/decagon';
import { Rng } from '../standins/decagon/random';
import { parseTimestampUs } from '../standins/decagon/timestamps';
import { credentialRef, packageNodeType, runPoll } from '../support/workflow-harness';

jest.setTimeout(240_000);

const RATE = 100;
let standin: DecagonStandin;

beforeAll(async () => {
	standin = await startDecagonStandin({ count: 150, spanDays: 0.5, rateLimitPerSecond: RATE });
});
afterAll(async () => standin.close());

function triggerNode(options: INodeParameters, startFrom = 'beginning'): INode {
	return {
		id: 'b2000000-0000-4000-8000-000000000001',
		name: 'Decagon Trigger',
		type: packageNodeType('decagonTrigger'),
		typeVersion: 1,
		position: [0, 0],
		parameters: { pollTimes: { item: [{ mode: 'everyMinute' }] }, startFrom, output: 'conversation', options },
		credentials: credentialRef('decagonApi'),
	};
}

function pollOptions(node: INode, staticData: IDataObject, manual = false) {
	return {
		nodes: [node],
		connections: {},
		nodeName: node.name,
		staticData,
		manual,
		credentials: { decagonApi: { region: 'custom', baseUrl: standin.url, apiKey: 'test-decagon-key', requestsPerSecond: RATE } },
		timeoutMs: 60_000,
	};
}

function poll(node: INode, staticData: IDataObject, manual = false) {
	return runPoll(pollOptions(node, staticData, manual));
}

/** Polls `rounds` times from a fresh state, each poll getting the static data the one before left, as n8n does; every conversation emitted. */
async function emittedOverPolls(node: INode, rounds: number): Promise<string[]> {
	let staticData: IDataObject = {};
	const ids: string[] = [];
	for (let round = 0; round < rounds; round++) {
		const result = await poll(node, staticData);
		expect(result.error).toBeUndefined();
		staticData = result.staticData;
		ids.push(...(result.items?.[0] ?? []).map((item) => String(item.json.conversation_id)));
	}
	return ids;
}

/** What identifies one version of a conversation: its updated_at in µs plus its message count. */
const versionOf = (c: IDataObject) => `${parseTimestampUs(String(c.updated_at))}/${(c.messages as unknown[]).length}`;
const versionOrder = (c: IDataObject) => parseTimestampUs(String(c.updated_at));

test.each([1, 2, 3])('seed %i: every conversation ends on its final version, no version twice, never back in time', async (seed) => {
	standin.configure({ seed: seed * 101, count: 150, faults: [], faultRate: 0, nowEpoch: Math.floor(Date.now() / 1000) });
	standin.resetStats();
	const rng = new Rng(seed);
	const node = triggerNode({ lookbackMinutes: 1, settleSeconds: 0, maxPerPoll: 25 });
	let staticData: IDataObject = {};
	const emitted = new Map<string, string[]>();
	const lastOrder = new Map<string, number>();
	let failedPolls = 0;
	let emptyPollsInARow = 0;

	for (let round = 0; round < 200; round++) {
		const changing = round < 120;
		if (changing) {
			for (let n = rng.int(0, 4); n > 0; n--) {
				const all = standin.conversations();
				standin.addMessage(all[rng.int(0, all.length - 1)].conversation_id);
			}
			// Sometimes the API refuses a request in the middle of a poll: the poll fails, nothing is committed.
			if (rng.chance(0.15)) {
				standin.configure({ faults: [{ request: standin.stats().exportRequests + rng.int(1, 3), kind: '401' }] });
			}
		} else if (round === 120) {
			standin.configure({ faults: [] });
			// Windows end on whole seconds: let the second of the last change pass.
			await new Promise((resolve) => setTimeout(resolve, 1100));
		}
		// n8n runs polls a minute apart; back to back, one poll's first request would follow the previous
		// poll's last one closer than the rate allows (each execution paces only its own requests).
		await new Promise((resolve) => setTimeout(resolve, 30));
		const result = await poll(node, staticData);
		if (result.error) {
			failedPolls++;
			expect(result.error.message).toMatch(/401/);
		}
		staticData = result.staticData;
		const items = result.items?.[0] ?? [];
		for (const { json } of items) {
			const id = String(json.conversation_id);
			const version = versionOf(json);
			const versions = emitted.get(id) ?? [];
			expect(versions).not.toContain(version);
			const order = versionOrder(json);
			expect(order).toBeGreaterThan(lastOrder.get(id) ?? -Infinity);
			lastOrder.set(id, order);
			versions.push(version);
			emitted.set(id, versions);
		}
		emptyPollsInARow = !changing && items.length === 0 && !result.error ? emptyPollsInARow + 1 : 0;
		if (emptyPollsInARow >= 3) break;
	}

	expect(failedPolls).toBeGreaterThan(0);
	expect(emptyPollsInARow).toBe(3);
	const final = standin.conversations();
	expect(emitted.size).toBe(final.length);
	for (const conversation of final) {
		const versions = emitted.get(conversation.conversation_id)!;
		expect(versions[versions.length - 1]).toBe(versionOf(conversation as unknown as IDataObject));
	}
	expect(standin.stats().rateLimited).toBe(0);
});

test('start from now: the first poll emits nothing old, later changes come once', async () => {
	standin.configure({ seed: 7, count: 50, faults: [], nowEpoch: Math.floor(Date.now() / 1000) });
	const node = triggerNode({ lookbackMinutes: 1, settleSeconds: 0 }, 'now');
	const first = await poll(node, {});
	expect(first.items).toBeNull();
	const id = standin.conversations()[3].conversation_id;
	// At this process's time: the stand-in's clock runs from a whole-second nowEpoch, up to a second behind,
	// and a message stamped before the second the first poll started in would fall before its window.
	standin.addMessage(id, 'a new question', Date.now() / 1000);
	await new Promise((resolve) => setTimeout(resolve, 1100)); // past the second the first window ended in
	const second = await poll(node, first.staticData);
	expect(second.items?.[0].map((i) => i.json.conversation_id)).toEqual([id]);
	const third = await poll(node, second.staticData);
	expect(third.items).toBeNull();
});

const exportRequests = () => standin.stats().requests.filter((r) => r.path === '/conversation/export');
const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

test("Start Date without a zone is in the workflow's time zone: the first window starts at that instant", async () => {
	// Conversations changed between 04:00 and 16:00 UTC on 2025-07-01, long settled.
	standin.configure({ seed: 16, count: 60, spanDays: 0.5, faults: [], faultRate: 0, nowEpoch: Date.parse('2025-07-01T16:00:00Z') / 1000 });
	standin.resetStats();
	try {
		const node = triggerNode({ lookbackMinutes: 1, settleSeconds: 0 }, 'date');
		node.parameters.startDate = '2025-07-01T08:00:00';
		const result = await runPoll({ ...pollOptions(node, {}), settings: { timezone: 'America/New_York' } });
		expect(result.error).toBeUndefined();
		// 08:00 in New York in July (EDT, UTC−4) is 12:00 UTC.
		const start = Date.parse('2025-07-01T12:00:00Z') / 1000;
		expect(exportRequests()[0].query).toEqual(expect.objectContaining({ timestamp_filter: 'updated_at', min_timestamp: String(start) }));
		const expected = standin.conversations().filter((c) => parseTimestampUs(c.updated_at) >= start * 1e6).map((c) => c.conversation_id);
		// Some before the start, some after: the start decides which come.
		expect(expected.length).toBeGreaterThan(0);
		expect(expected.length).toBeLessThan(60);
		expect((result.items?.[0] ?? []).map((item) => item.json.conversation_id).sort()).toEqual(expected.sort());
	} finally {
		standin.configure({ nowEpoch: Math.floor(Date.now() / 1000) });
	}
});

test.each([
	[7, true],
	[2.5, false],
])('Lookback of %d minutes: the next window starts that long before the last one ended, and brings a late write from 5 minutes before that end: %s', async (lookbackMinutes, lateComes) => {
	// Data an hour old: the windows' new range holds nothing but the late write.
	standin.configure({ seed: 17 + lookbackMinutes * 2, count: 40, faults: [], faultRate: 0, nowEpoch: Math.floor(Date.now() / 1000) - 3600 });
	standin.resetStats();
	const node = triggerNode({ lookbackMinutes, settleSeconds: 30 });
	const first = await poll(node, {});
	expect(first.error).toBeUndefined();
	expect(first.items?.[0]).toHaveLength(40);
	// The first window ends at its poll's time less the Settle Time; every page of it asks up to there.
	const firstEnds = new Set(exportRequests().map((r) => r.query.max_timestamp));
	expect(firstEnds.size).toBe(1);
	const firstEnd = Number([...firstEnds][0]);
	expect(firstEnd).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) - 30);
	// A conversation whose update reached Decagon only after the first poll, stamped 5 minutes before that window's end.
	const late = standin.addConversation({
		created_at: iso(firstEnd - 300),
		updated_at: iso(firstEnd - 300),
		messages: [{ text: 'arrived late', role: 'USER', created_at: iso(firstEnd - 300) }],
	});
	await new Promise((resolve) => setTimeout(resolve, 1100)); // the next window ends a second later at least
	const before = exportRequests().length;
	const second = await poll(node, first.staticData);
	expect(second.error).toBeUndefined();
	const query = exportRequests()[before].query;
	expect(Number(query.min_timestamp)).toBe(firstEnd - lookbackMinutes * 60);
	expect(Number(query.max_timestamp)).toBeGreaterThan(firstEnd);
	if (lateComes) expect(second.items?.[0].map((item) => item.json.conversation_id)).toEqual([late.conversation_id]);
	else expect(second.items).toBeNull();
});

test('Metadata filter Value Type: the poll sends each value to Decagon as its JSON type (number, true/false, text)', async () => {
	standin.configure({ seed: 19, count: 20, faults: [], faultRate: 0, nowEpoch: Math.floor(Date.now() / 1000) - 3600 });
	standin.resetStats();
	const at = iso(Math.floor(Date.now() / 1000) - 600);
	const match = standin.addConversation({
		metadata: { seats: 25, vip: true, refunded: false, store: '0042' },
		created_at: at,
		updated_at: at,
		messages: [{ text: 'a question', role: 'USER', created_at: at }],
	});
	const node = triggerNode({ lookbackMinutes: 1, settleSeconds: 0 });
	node.parameters.filters = {
		metadata: {
			filter: [
				{ key: 'seats', value: '25', valueType: 'number' },
				{ key: 'vip', value: 'true', valueType: 'boolean' },
				{ key: 'refunded', value: 'false', valueType: 'boolean' },
				{ key: 'store', value: '0042' },
			],
		},
	} as INodeParameters;
	const result = await poll(node, {});
	expect(result.error).toBeUndefined();
	const requests = exportRequests();
	expect(requests.length).toBeGreaterThan(0);
	for (const request of requests) {
		// toEqual tells 25 from "25" and true from "true".
		expect(JSON.parse(request.query.user_filters)).toEqual({ metadata_filter: { seats: 25, vip: true, refunded: false, store: '0042' } });
	}
	expect(result.items?.[0].map((item) => item.json.conversation_id)).toEqual([match.conversation_id]);
});

test('an edit that leaves the query as it was (an emptied metadata filter, keys reordered or padded) does not start the sync over', async () => {
	standin.configure({ seed: 8, count: 30, faults: [], nowEpoch: Math.floor(Date.now() / 1000) });
	const withFilters = (filters: IDataObject): INode => {
		const node = triggerNode({ lookbackMinutes: 1, settleSeconds: 0 });
		node.parameters.filters = filters as INodeParameters;
		return node;
	};
	const first = await poll(withFilters({}), {});
	expect(first.items?.[0]).toHaveLength(30);
	// The Metadata option added with no row: the same query. Before, everything came again as "new".
	const emptied = await poll(withFilters({ metadata: {} }), first.staticData);
	expect(emptied.items).toBeNull();
	const pairs = [{ key: 'b', value: '2' }, { key: 'a', value: '1' }];
	const filtered = await poll(withFilters({ metadata: { filter: pairs } }), emptied.staticData);
	expect(filtered.items).toBeNull(); // a real filter: starts over (no conversation has these values)
	const reordered = await poll(withFilters({ metadata: { filter: [{ key: ' a ', value: '1' }, { key: 'b', value: '2' }] } }), filtered.staticData);
	expect((reordered.staticData as { 'node:Decagon Trigger': { sync: { fingerprint: string } } })['node:Decagon Trigger'].sync.fingerprint).toBe(
		(filtered.staticData as { 'node:Decagon Trigger': { sync: { fingerprint: string } } })['node:Decagon Trigger'].sync.fingerprint,
	);
	// A state stored by version 0.1.0 (its key: the filters as stored) goes on after the update.
	const stored = structuredClone(first.staticData) as { 'node:Decagon Trigger': { sync: { fingerprint: string } } };
	stored['node:Decagon Trigger'].sync.fingerprint = JSON.stringify({ startFrom: 'beginning', startDate: null, filters: {} });
	expect((await poll(withFilters({}), stored)).items).toBeNull();
});

test("another API host (the credential's region or Base URL) starts the sync over; a state stored before the host was in its key goes on", async () => {
	standin.configure({ seed: 9, count: 25, faults: [], nowEpoch: Math.floor(Date.now() / 1000) });
	const node = triggerNode({ lookbackMinutes: 1, settleSeconds: 0 });
	const first = await poll(node, {});
	expect(first.items?.[0]).toHaveLength(25);
	type Stored = { 'node:Decagon Trigger': { sync: { fingerprint: string } } };
	// Before: the key without the host. The state goes on, and is stored under the key with the host.
	const before = structuredClone(first.staticData) as Stored;
	before['node:Decagon Trigger'].sync.fingerprint = JSON.stringify({ startFrom: 'beginning', startDate: null, metadata: [] });
	const carriedOn = await poll(node, before);
	expect(carriedOn.items).toBeNull();
	expect((carriedOn.staticData as Stored)['node:Decagon Trigger'].sync.fingerprint).toBe((first.staticData as Stored)['node:Decagon Trigger'].sync.fingerprint);
	// A credential for another host (here a second stand-in, on another port) is another account's data: read from the start.
	const second = await startDecagonStandin({ count: 12, spanDays: 0.5, rateLimitPerSecond: RATE, seed: 10 });
	try {
		const elsewhere = pollOptions(node, carriedOn.staticData);
		elsewhere.credentials.decagonApi.baseUrl = second.url;
		const other = await runPoll(elsewhere);
		expect(other.items?.[0]).toHaveLength(12);
	} finally {
		await second.close();
	}
});

test('full pages without a cursor: the trigger reads on by time and emits every conversation once', async () => {
	standin.configure({ seed: 9, count: 250, faults: [], faultRate: 0, fullPageWithoutCursor: true, nowEpoch: Math.floor(Date.now() / 1000) });
	try {
		const ids = await emittedOverPolls(triggerNode({ lookbackMinutes: 1, settleSeconds: 0, maxPerPoll: 150 }), 6);
		expect(ids).toHaveLength(250);
		expect(new Set(ids)).toEqual(new Set(standin.conversations().map((c) => c.conversation_id)));
	} finally {
		standin.configure({ fullPageWithoutCursor: false });
	}
});

test('a cursor of whole seconds read as "after that second", ten conversations a second: the trigger emits every conversation once, across polls', async () => {
	// One message each, so a conversation's update is its creation: 250 over 26 seconds, settled an hour ago.
	standin.configure({ seed: 11, count: 250, faults: [], faultRate: 0, spanDays: 0.0003, messagesPerConversation: 1, nowEpoch: Math.floor(Date.now() / 1000) - 3600, cursorField: 'next_page_updated_after', integerCursorSeconds: true });
	try {
		const ids = await emittedOverPolls(triggerNode({ lookbackMinutes: 1, settleSeconds: 0, maxPerPoll: 150 }), 4);
		expect(ids).toHaveLength(250);
		expect(new Set(ids)).toEqual(new Set(standin.conversations().map((c) => c.conversation_id)));
	} finally {
		standin.configure({ spanDays: 0.5, messagesPerConversation: 6, integerCursorSeconds: false });
	}
});

test("n8n's poll budget: a poll out of time stops after its page and checkpoints; the next polls go on, every conversation once", async () => {
	standin.configure({ seed: 10, count: 250, faults: [], faultRate: 0, nowEpoch: Math.floor(Date.now() / 1000) });
	const node = triggerNode({ lookbackMinutes: 1, settleSeconds: 0 });
	let staticData: IDataObject = {};
	const perPoll: number[] = [];
	const ids: string[] = [];
	for (let round = 0; round < 6 && ids.length < 250; round++) {
		// A budget of 1 ms: spent by the time the first page is in.
		const result = await runPoll({ ...pollOptions(node, staticData), pollBudgetMs: 1 });
		expect(result.error).toBeUndefined();
		staticData = result.staticData;
		const items = result.items?.[0] ?? [];
		perPoll.push(items.length);
		ids.push(...items.map((item) => String(item.json.conversation_id)));
	}
	expect(perPoll).toEqual([100, 100, 50]);
	expect(new Set(ids)).toEqual(new Set(standin.conversations().map((c) => c.conversation_id)));
	expect(ids).toHaveLength(250);
});

test("n8n's poll budget bounds retries too: a failing page is not retried past it, and the next poll goes on", async () => {
	standin.configure({ seed: 13, count: 50, faults: [], faultRate: 0, nowEpoch: Math.floor(Date.now() / 1000) });
	standin.resetStats();
	// Every request fails with 503 (retried after 1 s and more): the budget of 2 s leaves no room for a retry.
	standin.configure({ faults: Array.from({ length: 6 }, (_, i) => ({ request: i + 1, kind: '503' as const })) });
	const node = triggerNode({ lookbackMinutes: 1, settleSeconds: 0 });
	const started = Date.now();
	const failed = await runPoll({ ...pollOptions(node, {}), pollBudgetMs: 2000 });
	expect(Date.now() - started).toBeLessThan(2000);
	expect(failed.error?.message).toMatch(/did not answer \/conversation\/export in the time this poll has \(HTTP 503\)/);
	expect((failed.error as { description?: string }).description).toMatch(/The next poll tries again/);
	expect(standin.stats().exportRequests).toBe(1);
	standin.configure({ faults: [] });
	const next = await runPoll({ ...pollOptions(node, failed.staticData ?? {}), pollBudgetMs: 30_000 });
	expect(next.error).toBeUndefined();
	expect(next.items?.[0]).toHaveLength(50);
});

test("n8n's poll budget: a poll stops asking for pages once half of it is spent, and emits what it read in time", async () => {
	// Half is left for a slow or retried last page and for emitting: a poll that reads on until its
	// requests are cut (at 80%) or the budget ends fails, and n8n keeps none of what it read.
	standin.configure({ seed: 14, count: 250, pageSize: 10, latencyMs: 1000, faults: [], faultRate: 0, nowEpoch: Math.floor(Date.now() / 1000) });
	standin.resetStats();
	try {
		const started = Date.now();
		// Each page takes a second: half of 10 s allows 5 pages, and 80% of it 8.
		const result = await runPoll({ ...pollOptions(triggerNode({ lookbackMinutes: 1, settleSeconds: 0 }), {}), pollBudgetMs: 10_000 });
		const elapsed = Date.now() - started;
		expect(result.error).toBeUndefined();
		const requests = standin.stats().exportRequests;
		expect(requests).toBeGreaterThanOrEqual(1);
		expect(requests).toBeLessThanOrEqual(6);
		expect(result.items?.[0]).toHaveLength(requests * 10);
		expect(elapsed).toBeLessThan(10_000);
	} finally {
		standin.configure({ pageSize: 100, latencyMs: 0 });
	}
});

test('a poll that fails on a later page says the next poll tries again, and how to start over (the trigger has no Start Cursor)', async () => {
	standin.configure({ seed: 11, count: 250, faults: [], faultRate: 0, nowEpoch: Math.floor(Date.now() / 1000) });
	standin.resetStats();
	standin.configure({ faults: [{ request: 2, kind: '401' }] });
	const result = await poll(triggerNode({ lookbackMinutes: 1, settleSeconds: 0 }), {});
	expect(result.error).toBeDefined();
	const description = String((result.error as { description?: string }).description);
	expect(description).toMatch(/next poll tries again from the same place.*change Start From/);
	expect(description).not.toMatch(/Start Cursor/);
	standin.configure({ faults: [] });
});

test('One Item per Message: changes that have no messages start no execution', async () => {
	standin.configure({ seed: 12, count: 5, messagesPerConversation: 0, faults: [], faultRate: 0, nowEpoch: Math.floor(Date.now() / 1000) });
	try {
		const node = triggerNode({ lookbackMinutes: 1, settleSeconds: 0 });
		node.parameters.output = 'message';
		const result = await poll(node, {});
		expect(result.error).toBeUndefined();
		expect(result.items).toBeNull();
	} finally {
		standin.configure({ messagesPerConversation: 6 });
	}
});

test('One Item per Message: a conversation that gets a new message gives that message, not all of them again', async () => {
	standin.configure({ seed: 14, count: 20, faults: [], faultRate: 0, nowEpoch: Math.floor(Date.now() / 1000) });
	const node = triggerNode({ lookbackMinutes: 1, settleSeconds: 0 });
	node.parameters.output = 'message';
	const first = await poll(node, {});
	const all = standin.conversations();
	expect(first.items?.[0]).toHaveLength(all.reduce((sum, c) => sum + c.messages.length, 0));
	const { conversation_id: id, messages } = all[5];
	standin.addMessage(id, 'one more question', Date.now() / 1000);
	await new Promise((resolve) => setTimeout(resolve, 1100)); // past the second the first window ended in
	const second = await poll(node, first.staticData);
	expect(second.items?.[0].map((item) => [item.json.conversation_id, item.json.message_index, item.json.text, item.json.change_type])).toEqual([
		[id, messages.length, 'one more question', 'updated'],
	]);
});

test('Fetch Test Event returns real recent conversations', async () => {
	standin.configure({ seed: 8, count: 30, faults: [] });
	const result = await poll(triggerNode({}), {}, true);
	const items = result.items?.[0] ?? [];
	expect(items.length).toBeGreaterThan(0);
	const ids = new Set(standin.conversations().map((c) => c.conversation_id));
	for (const item of items) expect(ids.has(String(item.json.conversation_id))).toBe(true);
});

test('Fetch Test Event with nothing to show says so (n8n would show no run at all), and stores nothing', async () => {
	standin.configure({ seed: 8, count: 30, faults: [] });
	const node = triggerNode({});
	node.parameters.filters = { metadata: { filter: [{ key: 'store_id', value: 'no-such-store' }] } } as INodeParameters;
	const result = await poll(node, {}, true);
	expect(result.items).toBeNull();
	expect(result.error?.message).toMatch(/No conversation to show/);
	expect(result.staticData).toEqual({});
});

describe('a poll keeps to its time (the next one may start while it runs)', () => {
	/** Decagon, or a proxy, that sends the headers at once and then a byte every second, never idle long. */
	async function tricklingServer(): Promise<{ url: string; close: () => Promise<void>; cutAfterMs: number[] }> {
		const timers: NodeJS.Timeout[] = [];
		const cutAfterMs: number[] = [];
		const server = http.createServer((request, response) => {
			const arrived = Date.now();
			response.on('close', () => cutAfterMs.push(Date.now() - arrived));
			response.writeHead(200, { 'content-type': 'application/json' });
			response.write('{"conversations": [');
			timers.push(setInterval(() => response.write(' '), 1_000));
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		return {
			url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
			cutAfterMs,
			close: async () => {
				for (const timer of timers) clearInterval(timer);
				server.closeAllConnections();
				await new Promise((resolve) => server.close(resolve));
			},
		};
	}

	test('a body that trickles in is cut at the poll deadline, not read for as long as it lasts', async () => {
		const trickling = await tricklingServer();
		try {
			const started = Date.now();
			const result = await runPoll({
				...pollOptions(triggerNode({}), {}),
				credentials: { decagonApi: { region: 'custom', baseUrl: trickling.url, apiKey: 'k', requestsPerSecond: 1 } },
				pollBudgetMs: 8_000,
				timeoutMs: 40_000,
			});
			// Requests end by 80% of the budget (6.4 s), leaving the rest to emit what was read; a request cut
			// only at the budget itself (8 s) would leave the poll nothing.
			expect(Date.now() - started).toBeLessThan(12_000);
			for (let wait = 0; wait < 40 && trickling.cutAfterMs.length === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 50));
			expect(trickling.cutAfterMs).toHaveLength(1);
			expect(trickling.cutAfterMs[0]).toBeLessThan(7_400);
			expect(result.error?.message).toMatch(/did not answer \/conversation\/export in the time this poll has/);
			expect(result.staticData).toEqual({});
		} finally {
			await trickling.close();
		}
	}, 60_000);

	test('Fetch Test Event, which n8n cannot stop, ends within a minute however Decagon stalls', async () => {
		const trickling = await tricklingServer();
		try {
			const started = Date.now();
			const result = await runPoll({
				...pollOptions(triggerNode({}), {}, true),
				credentials: { decagonApi: { region: 'custom', baseUrl: trickling.url, apiKey: 'k', requestsPerSecond: 1 } },
				timeoutMs: 100_000,
			});
			expect(Date.now() - started).toBeLessThan(70_000);
			expect(result.error?.message).toMatch(/did not answer \/conversation\/export in the time this poll has \(no answer in time\)/);
			expect((result.error as { description?: string }).description).toMatch(/within a minute/);
		} finally {
			await trickling.close();
		}
	}, 120_000);
});

test('Fetch Test Event shows the 5 most recently changed conversations, newest first', async () => {
	standin.configure({ seed: 8, count: 30, faults: [] });
	const result = await poll(triggerNode({}), {}, true);
	const newest = [...standin.conversations()].sort((a, b) => parseTimestampUs(String(b.updated_at)) - parseTimestampUs(String(a.updated_at))).slice(0, 5);
	expect((result.items?.[0] ?? []).map((item) => item.json.conversation_id)).toEqual(newest.map((c) => c.conversation_id));
});

test('Simplify gives the same flat rows as Export, with change_type', async () => {
	standin.configure({ seed: 15, count: 10, faults: [], faultRate: 0, nowEpoch: Math.floor(Date.now() / 1000) });
	const node = triggerNode({ lookbackMinutes: 1, settleSeconds: 0 });
	node.parameters.simplify = true;
	const items = (await poll(node, {})).items?.[0] ?? [];
	expect(items).toHaveLength(10);
	for (const { json } of items) {
		expect(json).toEqual(expect.objectContaining({ change_type: 'new', message_count: expect.any(Number), transcript: expect.any(String) }));
		expect(json.messages).toBeUndefined();
	}
});
