/**
 * The Decagon node on n8n's real execution engine, talking real HTTP to the Decagon stand-in:
 * every option a user can set, and the quirks and faults of the API.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { IBinaryData, IConnections, INode, INodeParameters } from 'n8n-workflow';

import type { DecagonStandin } from '../standins/decagon';
import { startDecagonStandin } from '../standins/decagon';
import { parseTimestampUs } from '../standins/decagon/timestamps';
import { credentialRef, manualTriggerNode, packageNodeType, readBinary, runWorkflow } from '../support/workflow-harness';
import { Seed, SEED_TYPE } from './harness-probe-nodes';

jest.setTimeout(60_000);

const API_KEY = 'test-decagon-key';
/** Fast enough for the edit-test loop, and still paced: the stand-in refuses anything faster. */
const RATE = 40;

let standin: DecagonStandin;
beforeAll(async () => {
	standin = await startDecagonStandin({ count: 250, rateLimitPerSecond: RATE });
});
afterAll(async () => standin.close());
beforeEach(() => {
	standin.configure({
		count: 250,
		rateLimitPerSecond: RATE,
		cursorField: 'next_page_cursor',
		endMarker: 'null',
		duplicatesAcrossPages: 0,
		updateDuringExport: null,
		faults: [],
		repeatCursor: 0,
		emptyPageWithCursor: 0,
		echoCursorAtEnd: false,
		fullPageWithoutCursor: false,
		nullPageCursorBeside: false,
		timestampFormat: 'mixed',
		pageSize: 100,
		spanDays: 30,
		messagesPerConversation: 6,
		integerCursorSeconds: false,
	});
	standin.resetStats();
});

const trigger = manualTriggerNode('a1000000-0000-4000-8000-000000000001');

function decagon(parameters: INodeParameters, extra: Partial<INode> = {}): INode {
	return {
		id: 'a1000000-0000-4000-8000-000000000002',
		name: 'Decagon',
		type: packageNodeType('decagon'),
		typeVersion: 1,
		position: [220, 0],
		parameters: { resource: 'conversation', operation: 'export', ...parameters },
		credentials: credentialRef('decagonApi'),
		...extra,
	};
}

const connections: IConnections = {
	[trigger.name]: { main: [[{ node: 'Decagon', type: 'main', index: 0 }]] },
};

function run(node: INode, apiKey = API_KEY, requestsPerSecond = RATE) {
	return runWorkflow({
		nodes: [trigger, node],
		connections,
		credentials: { decagonApi: { region: 'custom', baseUrl: standin.url, apiKey, requestsPerSecond } },
		timeoutMs: 50_000,
	});
}

/** The conversation ids of a JSON Lines output item, in file order. */
async function jsonLinesIds(item: { binary?: Record<string, IBinaryData> }): Promise<string[]> {
	const bytes = await readBinary(item.binary!.data);
	const text = bytes[0] === 0x1f ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
	return text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { conversation_id: string }).conversation_id);
}

const exportRequests = () => standin.stats().requests.filter((r) => r.path === '/conversation/export');
/** Conversations in each page served (a 429 that a busy machine's timing may draw is retried, not counted). */
const servedPages = () => exportRequests().filter((r) => r.status === 200).map((r) => r.conversationsReturned);
const seconds = (text: string) => parseTimestampUs(text) / 1e6;

test('Return All exports every conversation once, with pairedItem, paced under the limit', async () => {
	const result = await run(decagon({ returnAll: true }));
	expect(result.error).toBeUndefined();
	const items = result.outputOf('Decagon');
	expect(items).toHaveLength(250);
	expect(new Set(items.map((i) => i.json.conversation_id)).size).toBe(250);
	for (const item of items) expect(item.pairedItem).toEqual({ item: 0 });
	expect(items[0].json).toEqual(expect.objectContaining({ messages: expect.any(Array), metadata: expect.any(Object) }));
	const requests = exportRequests();
	expect(requests).toHaveLength(3);
	expect(requests[0].query).toEqual({ timestamp_filter: 'updated_at' });
	expect(standin.stats().rateLimited).toBe(0);
});

test('full pages without a cursor: Return All reads on by time, every conversation once, Deduplicate on or off', async () => {
	standin.configure({ fullPageWithoutCursor: true });
	const ids = standin.conversations().map((c) => c.conversation_id).sort();
	for (const filterOn of ['updated_at', 'created_at']) {
		for (const deduplicate of [true, false]) {
			standin.resetStats();
			const result = await run(decagon({ returnAll: true, filters: { filterOn }, options: { deduplicate } }));
			expect(result.error).toBeUndefined();
			expect(result.outputOf('Decagon').map((i) => String(i.json.conversation_id)).sort()).toEqual(ids);
			expect(JSON.stringify(result.runData.Decagon[0].hints ?? [])).not.toMatch(/cut the export short/);
			const reads = exportRequests().map((r) => r.query);
			expect(reads[0]).toEqual({ timestamp_filter: filterOn });
			// Each later read starts later, at a whole second (the second of the last conversation before it).
			const starts = reads.slice(1).map((query) => Number(query.min_timestamp));
			expect(starts.length).toBeGreaterThanOrEqual(2);
			for (const [i, start] of starts.entries()) {
				expect(Number.isInteger(start)).toBe(true);
				if (i > 0) expect(start).toBeGreaterThan(starts[i - 1]);
			}
		}
	}
	// Ordered by last message, which a conversation does not carry as a field: no reading on, a warning.
	const byLastMessage = await run(decagon({ returnAll: true, filters: { filterOn: 'last_message_time' } }));
	expect(byLastMessage.outputOf('Decagon')).toHaveLength(100);
	expect(JSON.stringify(byLastMessage.runData.Decagon[0].hints)).toMatch(/cut the export short/);
});

test('two Decagon nodes one after the other in one execution keep to the rate between them too', async () => {
	// Decagon's 1 request/s, made 4/s here: the stand-in answers 429 to any request that comes sooner.
	standin.configure({ rateLimitPerSecond: 4, count: 150 });
	const second = decagon({ returnAll: true }, { id: 'a1000000-0000-4000-8000-000000000003', name: 'Decagon again', position: [440, 0] });
	const result = await runWorkflow({
		nodes: [trigger, decagon({ returnAll: false, limit: 1 }), second],
		connections: {
			...connections,
			Decagon: { main: [[{ node: 'Decagon again', type: 'main', index: 0 }]] },
		},
		credentials: { decagonApi: { region: 'custom', baseUrl: standin.url, apiKey: API_KEY, requestsPerSecond: 4 } },
		timeoutMs: 50_000,
	});
	expect(result.error).toBeUndefined();
	expect(result.outputOf('Decagon again')).toHaveLength(150);
	// Was: the second node's first request followed the first node's request at once, and got a 429.
	expect(exportRequests()).toHaveLength(3);
	expect(standin.stats().rateLimited).toBe(0);
});

test('Filter On Last Message, JSON Lines, Limit inside the first page: no resume point, and a warning that says so', async () => {
	const result = await run(decagon({ returnAll: false, limit: 2, output: 'jsonl', filters: { filterOn: 'last_message_time' } }));
	expect(result.error).toBeUndefined();
	expect(result.outputOf('Decagon')[0].json).toMatchObject({ conversations: 2, complete: false, resumeCursor: null, resumeAfter: null });
	// Was: no warning, and re-running as the output says returned the same two again.
	expect(JSON.stringify(result.runData.Decagon[0].hints)).toMatch(/cannot be resumed partway \(Filter On Last Message gives no time/);
});

test('full pages without a cursor and Max Pages: the hint says to resume with After, and resuming there gives the rest', async () => {
	standin.configure({ fullPageWithoutCursor: true });
	const first = await run(decagon({ returnAll: true, options: { maxPages: 2 } }));
	const firstIds = first.outputOf('Decagon').map((i) => String(i.json.conversation_id));
	expect(new Set(firstIds).size).toBe(firstIds.length);
	expect(firstIds.length).toBeGreaterThan(100);
	expect(firstIds.length).toBeLessThanOrEqual(200);
	const after = /Filters > After to (\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(JSON.stringify(first.runData.Decagon[0].hints))?.[1];
	expect(after).toBeDefined();
	const rest = await run(decagon({ returnAll: true, filters: { after } }));
	const all = new Set([...firstIds, ...rest.outputOf('Decagon').map((i) => String(i.json.conversation_id))]);
	expect(all).toEqual(new Set(standin.conversations().map((c) => c.conversation_id)));
});

test('full pages without a cursor, JSON Lines: complete only when the end was read; resumeAfter only when it was not', async () => {
	standin.configure({ fullPageWithoutCursor: true });
	const summary = async (options: INodeParameters) =>
		(await run(decagon({ returnAll: true, output: 'jsonl', options }))).outputOf('Decagon')[0].json;
	const whole = await summary({});
	expect(whole).toEqual(expect.objectContaining({ conversations: 250, complete: true, resumeCursor: null, resumeAfter: null }));
	// Max Pages reached right where the next read by time would begin: there is no cursor to report.
	for (const maxPages of [1, 2]) {
		const stopped = await summary({ maxPages });
		expect(stopped.complete).toBe(false);
		expect(stopped.resumeAfter).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/));
	}
	// Limit reached with the first full page: resume from that page's last second, and no page more asked for.
	standin.resetStats();
	const limited = (await run(decagon({ returnAll: false, limit: 100, output: 'jsonl' }))).outputOf('Decagon')[0].json;
	expect(servedPages()).toEqual([100]);
	const firstPage = standin.conversations().slice().sort((a, b) => seconds(a.updated_at) - seconds(b.updated_at)).slice(0, 100);
	expect(limited).toEqual(expect.objectContaining({ conversations: 100, complete: false, resumeCursor: null }));
	expect(limited.resumeAfter).toBe(new Date(Math.floor(seconds(firstPage[99].updated_at)) * 1000).toISOString());
});

test('full pages without a cursor, JSON Lines with a Limit inside a page of a read by time: resuming as reported skips nothing and goes on past that read\'s start', async () => {
	standin.configure({ fullPageWithoutCursor: true });
	// 150: inside page 2, the read by time from the second of page 1's last conversation.
	const first = await run(decagon({ returnAll: false, limit: 150, output: 'jsonl' }));
	expect(first.error).toBeUndefined();
	const [cut] = first.outputOf('Decagon');
	const byUpdate = standin.conversations().slice().sort((a, b) => seconds(a.updated_at) - seconds(b.updated_at));
	expect(cut.json).toEqual(expect.objectContaining({ conversations: 150, complete: false, resumeCursor: null }));
	// Past where that read began: from the second of the last conversation this run gave (or the next one).
	const resumeSecond = Date.parse(String(cut.json.resumeAfter)) / 1000;
	expect(resumeSecond).toBeGreaterThan(Math.floor(seconds(byUpdate[99].updated_at)));
	expect(resumeSecond).toBeLessThanOrEqual(Math.floor(seconds(byUpdate[149].updated_at)) + 1);
	const rest = await run(decagon({ returnAll: true, output: 'jsonl', filters: { after: String(cut.json.resumeAfter) } }));
	expect(rest.outputOf('Decagon')[0].json).toEqual(expect.objectContaining({ complete: true }));
	const all = new Set([...(await jsonLinesIds(cut)), ...(await jsonLinesIds(rest.outputOf('Decagon')[0]))]);
	expect(all).toEqual(new Set(byUpdate.map((c) => c.conversation_id)));
});

test('repeats across pages, then a full page without a cursor: the repeats are not disorder, the export reads on', async () => {
	standin.configure({ duplicatesAcrossPages: 3, fullPageWithoutCursor: 2 });
	const result = await run(decagon({ returnAll: true }));
	expect(result.error).toBeUndefined();
	expect(JSON.stringify(result.runData.Decagon[0].hints ?? [])).not.toMatch(/cut the export short/);
	expect(result.outputOf('Decagon').map((i) => String(i.json.conversation_id)).sort()).toEqual(standin.conversations().map((c) => c.conversation_id).sort());
	expect(exportRequests().some((request) => request.query.min_timestamp !== undefined)).toBe(true);
});

test('Limit stops paging once it has enough', async () => {
	const result = await run(decagon({ returnAll: false, limit: 30 }));
	expect(result.outputOf('Decagon')).toHaveLength(30);
	expect(exportRequests()).toHaveLength(1);
});

test('one item per message, nested or simplified', async () => {
	const all = standin.conversations();
	const messageCount = all.reduce((sum, c) => sum + c.messages.length, 0);
	const nested = (await run(decagon({ returnAll: true, output: 'message' }))).outputOf('Decagon');
	expect(nested).toHaveLength(messageCount);
	expect(nested[0].json).toEqual(
		expect.objectContaining({ conversation_id: expect.any(String), message_index: 0, text: expect.any(String), conversation: expect.any(Object) }),
	);
	const flat = (await run(decagon({ returnAll: true, output: 'message', simplify: true }))).outputOf('Decagon');
	expect(flat).toHaveLength(messageCount);
	expect(flat[1].json.conversation).toBeUndefined();
	expect(flat[1].json.message_created_at).toMatch(/Z$/);
});

test('values from expressions mean what they say: "false" turns Return All and Simplify off, a Start Cursor from a number column resumes', async () => {
	const text = await run(decagon({ returnAll: '={{ "false" }}', limit: 5, simplify: '={{ "false" }}' }));
	expect(text.error).toBeUndefined();
	expect(text.outputOf('Decagon')).toHaveLength(5);
	expect(text.outputOf('Decagon')[0].json.messages).toEqual(expect.any(Array));
	expect(exportRequests()).toHaveLength(1);

	// Production's cursor is an integer (next_page_updated_after), kept as a number by a Sheet or a database.
	standin.configure({ cursorField: 'next_page_updated_after', nullPageCursorBeside: true });
	const first = await run(decagon({ returnAll: true, options: { maxPages: 1 } }));
	const cursor = /Start Cursor to \\?"(\d+)\\?"/.exec(JSON.stringify(first.runData.Decagon[0].hints))?.[1];
	expect(cursor).toBeDefined();
	const rest = await run(decagon({ returnAll: true, options: { startCursor: `={{ ${cursor} }}` } }));
	expect(rest.error).toBeUndefined();
	const ids = [...first.outputOf('Decagon'), ...rest.outputOf('Decagon')].map((item) => item.json.conversation_id);
	expect(new Set(ids).size).toBe(250);
});

test('a blank Put Output File in Field is an error before any request', async () => {
	const result = await run(decagon({ returnAll: true, output: 'jsonl', binaryPropertyName: '={{ " " }}' }));
	expect(result.error?.message).toBe('Put Output File in Field is empty');
	expect(exportRequests()).toHaveLength(0);
});

test('Simplify flattens a conversation into spreadsheet columns', async () => {
	const items = (await run(decagon({ returnAll: true, simplify: true }))).outputOf('Decagon');
	const row = items.find((i) => (i.json.tags as string).includes(','))!.json;
	const original = standin.conversation(row.conversation_id as string)!;
	expect(row).toEqual(
		expect.objectContaining({
			message_count: original.messages.length,
			metadata_user_type: original.metadata.user_type,
			csat_rating: original.csat_rating,
			tags: (original.tags as Array<{ name: string }>).map((t) => t.name).join(', '),
			transcript: expect.stringContaining(`USER: ${original.messages[0].text}`),
		}),
	);
	expect(new Date(row.updated_at as string).getTime() / 1000).toBeCloseTo(seconds(original.updated_at), 3);
	for (const value of Object.values(row)) expect(typeof value === 'object' && value !== null).toBe(false);
});

test('JSON Lines output: one binary file, one conversation per line', async () => {
	const result = await run(decagon({ returnAll: true, output: 'jsonl', binaryPropertyName: 'file', options: { fileName: 'all.jsonl' } }));
	expect(result.error).toBeUndefined();
	const [item] = result.outputOf('Decagon');
	expect(item.json).toEqual(expect.objectContaining({ conversations: 250, received: 250, pages: 3, fileName: 'all.jsonl', complete: true, resumeCursor: null }));
	const binary = item.binary!.file;
	expect(binary).toEqual(expect.objectContaining({ fileName: 'all.jsonl', mimeType: 'application/x-ndjson' }));
	const bytes = await readBinary(binary);
	const text = bytes[0] === 0x1f ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
	const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as { conversation_id: string });
	expect(lines).toHaveLength(250);
	expect(new Set(lines.map((l) => l.conversation_id)).size).toBe(250);
});

test('JSON Lines output with a Limit inside a page: resuming at the reported cursor skips nothing', async () => {
	// 150 of 250 at 100 a page: the limit falls inside page 2.
	const first = await run(decagon({ returnAll: false, limit: 150, output: 'jsonl' }));
	expect(first.error).toBeUndefined();
	const [cut] = first.outputOf('Decagon');
	expect(cut.json).toEqual(expect.objectContaining({ conversations: 150, complete: false }));
	expect(typeof cut.json.resumeCursor).toBe('string');
	const firstIds = await jsonLinesIds(cut);
	expect(firstIds).toHaveLength(150);

	const second = await run(decagon({ returnAll: true, output: 'jsonl', options: { startCursor: cut.json.resumeCursor as string } }));
	expect(second.error).toBeUndefined();
	const [rest] = second.outputOf('Decagon');
	expect(rest.json).toEqual(expect.objectContaining({ complete: true, resumeCursor: null }));
	const all = new Set([...firstIds, ...(await jsonLinesIds(rest))]);
	expect(all.size).toBe(250);
});

test('After and Before are sent as integer epoch seconds on the chosen timestamp', async () => {
	const all = standin.conversations();
	const created = all.map((c) => seconds(c.created_at)).sort((a, b) => a - b);
	const after = new Date(Math.ceil(created[100]) * 1000).toISOString();
	const before = new Date(Math.floor(created[180]) * 1000).toISOString();
	const result = await run(decagon({ returnAll: true, filters: { after, before, filterOn: 'created_at' } }));
	expect(result.error).toBeUndefined();
	const query = exportRequests()[0].query;
	expect(query).toEqual({
		timestamp_filter: 'created_at',
		min_timestamp: String(Date.parse(after) / 1000),
		max_timestamp: String(Date.parse(before) / 1000),
	});
	const items = result.outputOf('Decagon');
	const expected = all.filter((c) => seconds(c.created_at) >= Date.parse(after) / 1000 && seconds(c.created_at) <= Date.parse(before) / 1000);
	expect(items.map((i) => i.json.conversation_id).sort()).toEqual(expected.map((c) => c.conversation_id).sort());
});

test('After and Before that an expression leaves blank (white space, as an empty Sheet cell gives) are not set', async () => {
	const result = await run(decagon({ returnAll: true, filters: { after: '={{ "  " }}', before: '={{ null }}' } }));
	expect(result.error).toBeUndefined();
	expect(result.outputOf('Decagon')).toHaveLength(250);
	expect(exportRequests()[0].query).toEqual({ timestamp_filter: 'updated_at' });
});

test('After later than Before is refused before any request', async () => {
	const result = await run(decagon({ returnAll: true, filters: { after: '2025-02-01T00:00:00Z', before: '2025-01-01T00:00:00Z' } }));
	expect(result.status).toBe('error');
	expect(result.error?.message).toMatch(/"After" is later than "Before"/);
	expect(exportRequests()).toHaveLength(0);
});

test('metadata filters become user_filters', async () => {
	const result = await run(decagon({ returnAll: true, filters: { metadata: { filter: [{ key: 'region', value: 'eu' }] } } }));
	expect(result.error).toBeUndefined();
	expect(JSON.parse(exportRequests()[0].query.user_filters)).toEqual({ metadata_filter: { region: 'eu' } });
	const expected = standin.conversations().filter((c) => c.metadata.region === 'eu');
	expect(result.outputOf('Decagon')).toHaveLength(expected.length);
});

test('metadata filter Value Type: each value reaches user_filters as its JSON type (number, true/false, text)', async () => {
	// A smaller set, regenerated (the added conversation gone) by the next test's count of 250.
	standin.configure({ count: 20 });
	const match = standin.addConversation({ metadata: { seats: 25, vip: true, refunded: false, store: '0042', region: '7' } });
	const result = await run(
		decagon({
			returnAll: true,
			filters: {
				metadata: {
					filter: [
						{ key: 'seats', value: '25', valueType: 'number' },
						{ key: 'vip', value: 'true', valueType: 'boolean' },
						{ key: 'refunded', value: 'false', valueType: 'boolean' },
						// Text, chosen or left at the default: a value that looks like a number (or is one, from an expression) goes as text.
						{ key: 'store', value: '0042', valueType: 'string' },
						{ key: 'region', value: '={{ 7 }}' },
					],
				},
			},
		}),
	);
	expect(result.error).toBeUndefined();
	// toEqual tells 25 from "25", true from "true", and "0042" from 42.
	expect(JSON.parse(exportRequests()[0].query.user_filters)).toEqual({ metadata_filter: { seats: 25, vip: true, refunded: false, store: '0042', region: '7' } });
	expect(result.outputOf('Decagon').map((item) => item.json.conversation_id)).toEqual([match.conversation_id]);
});

test('a wrong API key fails with what to do, never the key', async () => {
	const wrongKey = 'sk-wrong-0123456789';
	const result = await run(decagon({ returnAll: true }), wrongKey);
	expect(result.status).toBe('error');
	expect(result.error?.name).toBe('NodeApiError');
	expect(result.error?.message).toMatch(/401/);
	expect((result.error as { description?: string }).description).toMatch(/Check the API key/);
	expect(JSON.stringify(result.run)).not.toContain(wrongKey);
});

test('Continue On Fail turns the failure into an item with its pairedItem, and n8n\'s engine leaves its description (what to do) in it', async () => {
	const result = await run(decagon({ returnAll: true }, { onError: 'continueRegularOutput' }), 'wrong');
	expect(result.status).toBe('success');
	const [item] = result.outputOf('Decagon');
	expect(item.json).toEqual({ error: expect.stringMatching(/401/), description: expect.stringMatching(/Check the API key/) });
	expect(item.pairedItem).toEqual({ item: 0 });
});

test('an After expression that gives nothing (a misspelt field) exports without a start, and says so', async () => {
	const result = await run(decagon({ returnAll: true, filters: { after: '={{ $json.strat }}', before: '2100-01-01T00:00:00Z' } }));
	expect(result.error).toBeUndefined();
	expect(result.outputOf('Decagon')).toHaveLength(250);
	expect(JSON.stringify(result.runData.Decagon[0].hints)).toMatch(/Filters → After is an expression that gave nothing, so the export has no start/);
	const plain = await run(decagon({ returnAll: true, filters: { before: '2100-01-01T00:00:00Z' } }));
	expect(JSON.stringify(plain.runData.Decagon[0].hints ?? [])).not.toMatch(/gave nothing/);
});

test('the empty After expression is said once per run, not once per input item', async () => {
	const node = decagon({ limit: 1, filters: { after: '={{ $json.strat }}' } });
	const items: INode = { ...trigger, id: 'a1000000-0000-4000-8000-000000000009', name: 'Three items', type: SEED_TYPE, typeVersion: 1, parameters: { items: '[{},{},{}]' } };
	const result = await runWorkflow({
		extraNodeTypes: { [SEED_TYPE]: new Seed() },
		nodes: [trigger, items, node],
		connections: { [trigger.name]: { main: [[{ node: items.name, type: 'main', index: 0 }]] }, [items.name]: { main: [[{ node: node.name, type: 'main', index: 0 }]] } },
		credentials: { decagonApi: { region: 'custom', baseUrl: standin.url, apiKey: API_KEY, requestsPerSecond: RATE } },
		timeoutMs: 50_000,
	});
	expect(result.error).toBeUndefined();
	expect(result.outputOf('Decagon')).toHaveLength(3);
	expect((result.runData.Decagon[0].hints ?? []).filter((hint) => /gave nothing/.test(hint.message))).toHaveLength(1);
});

test('a cursor of whole seconds read as "after that second" (as the docs\' example cursor may be), with ten conversations a second: each comes once', async () => {
	// One message each, so a conversation's update is its creation: 250 over 26 seconds.
	standin.configure({ spanDays: 0.0003, messagesPerConversation: 1, cursorField: 'next_page_updated_after', integerCursorSeconds: true });
	const result = await run(decagon({ returnAll: true }));
	expect(result.error).toBeUndefined();
	const ids = result.outputOf('Decagon').map((item) => String(item.json.conversation_id));
	expect(ids).toHaveLength(250);
	expect(new Set(ids).size).toBe(250);
});

test('a cursor of whole seconds with more than a page updated in one second: the file says it is not complete, and a warning says why', async () => {
	// 250 conversations within one second: the cursor after page 1 is that second, which may skip the rest.
	standin.configure({ spanDays: 0.000005, messagesPerConversation: 1, cursorField: 'next_page_updated_after', integerCursorSeconds: true });
	const result = await run(decagon({ returnAll: true, output: 'jsonl' }));
	expect(result.error).toBeUndefined();
	expect(result.outputOf('Decagon')[0].json).toEqual(expect.objectContaining({ complete: false }));
	expect((result.runData.Decagon[0].hints ?? []).map((hint) => hint.message)).toContainEqual(expect.stringMatching(/100 or more conversations were updated/));
});

test('On Error → Continue (using error output) sends the failure to the error branch, paired, and nothing to the success branch', async () => {
	const result = await run(decagon({ returnAll: true }, { onError: 'continueErrorOutput' }), 'wrong');
	expect(result.status).toBe('success');
	expect(result.outputOf('Decagon', 0)).toEqual([]);
	const errors = result.outputOf('Decagon', 1);
	expect(errors.map((item) => item.json.error)).toEqual([expect.stringMatching(/401/)]);
	expect(errors[0].pairedItem).toEqual({ item: 0 });
	// What to do stays on the item (n8n cuts an item that carries the error itself down to `{error}`).
	expect(errors[0].json.message).toMatch(/API key/);
});

test('a credential that cannot be used (custom Base URL not a URL) is an error item under Continue On Fail too', async () => {
	const result = await runWorkflow({
		nodes: [trigger, decagon({ returnAll: true }, { onError: 'continueRegularOutput' })],
		connections,
		credentials: { decagonApi: { region: 'custom', baseUrl: 'api.decagon.ai', apiKey: API_KEY, requestsPerSecond: RATE } },
		timeoutMs: 50_000,
	});
	expect(result.status).toBe('success');
	const [item] = result.outputOf('Decagon');
	expect(item.json.error).toMatch(/Base URL "api\.decagon\.ai" is not an http\(s\) URL/);
	expect(item.pairedItem).toEqual({ item: 0 });
	expect(exportRequests()).toHaveLength(0);
});

test('duplicates across pages and updates during the export: each conversation once, newest copy', async () => {
	standin.configure({ duplicatesAcrossPages: 7, updateDuringExport: { afterPage: 1, count: 4 }, pageSize: 50 });
	const result = await run(decagon({ returnAll: true }));
	expect(result.error).toBeUndefined();
	const items = result.outputOf('Decagon');
	expect(items).toHaveLength(250);
	expect(standin.stats().conversationsServed).toBeGreaterThan(250);
	for (const id of standin.stats().updatedDuringExport) {
		const item = items.find((i) => i.json.conversation_id === id)!;
		expect(item.json.updated_at).toBe(standin.conversation(id)!.updated_at);
	}
});

test('Deduplicate off passes every copy through', async () => {
	standin.configure({ duplicatesAcrossPages: 5 });
	const result = await run(decagon({ returnAll: true, options: { deduplicate: false } }));
	expect(result.outputOf('Decagon')).toHaveLength(standin.stats().conversationsServed);
});

test.each(['next_cursor', 'next_page_updated_after'] as const)('cursor field %s is followed to the end, also with next_page_cursor: null beside it', async (cursorField) => {
	for (const nullPageCursorBeside of [false, true]) {
		standin.configure({ cursorField, endMarker: cursorField === 'next_cursor' ? 'missing' : 'zero', nullPageCursorBeside });
		standin.resetStats();
		const result = await run(decagon({ returnAll: true }));
		expect(result.outputOf('Decagon')).toHaveLength(250);
		// Followed by cursor, not read on by time.
		expect(exportRequests().filter((request) => request.query.cursor !== undefined)).toHaveLength(2);
	}
	standin.configure({ nullPageCursorBeside: false });
});

test('429, 5xx, reset and truncated pages are retried; nothing lost or doubled', async () => {
	standin.configure({
		faults: [
			{ request: 1, kind: '429' },
			{ request: 3, kind: '503' },
			{ request: 4, kind: 'reset' },
			{ request: 5, kind: 'truncated' },
			{ request: 6, kind: '502' },
		],
	});
	const result = await run(decagon({ returnAll: true }));
	expect(result.error).toBeUndefined();
	const items = result.outputOf('Decagon');
	expect(items).toHaveLength(250);
	expect(new Set(items.map((i) => i.json.conversation_id)).size).toBe(250);
	expect(standin.stats().faultsInjected).toBe(5);
	expect(standin.stats().rateLimited).toBe(0);
});

test('a repeating cursor ends with a clear error instead of looping', async () => {
	standin.configure({ repeatCursor: 2 });
	const result = await run(decagon({ returnAll: true }));
	expect(result.status).toBe('error');
	expect(result.error?.message).toMatch(/again.*loop forever/);
	expect(exportRequests().length).toBeLessThanOrEqual(3);
});

test('an empty page with a new cursor is followed: every conversation once', async () => {
	standin.configure({ emptyPageWithCursor: 2 });
	const result = await run(decagon({ returnAll: true }));
	expect(result.error).toBeUndefined();
	expect(new Set(result.outputOf('Decagon').map((item) => item.json.conversation_id)).size).toBe(250);
	expect(result.outputOf('Decagon')).toHaveLength(250);
	expect(servedPages()).toEqual([100, 0, 100, 50]);
});

test('an empty page that sends back its cursor: asked again, it passes (every conversation once), or, at the end, ends the export complete', async () => {
	// Production's integer cursor: the empty page's cursor is the watermark that was sent.
	standin.configure({ cursorField: 'next_page_updated_after', nullPageCursorBeside: true, emptyPageWithCursor: 2 });
	const passing = await run(decagon({ returnAll: true }));
	expect(passing.error).toBeUndefined();
	expect(new Set(passing.outputOf('Decagon').map((item) => item.json.conversation_id)).size).toBe(250);
	expect(servedPages()).toEqual([100, 0, 100, 50]);

	standin.configure({ emptyPageWithCursor: 0, echoCursorAtEnd: true });
	standin.resetStats();
	const atEnd = await run(decagon({ returnAll: true, output: 'jsonl' }));
	expect(atEnd.error).toBeUndefined();
	const [file] = atEnd.outputOf('Decagon');
	expect(file.json).toEqual(expect.objectContaining({ conversations: 250, complete: true, resumeCursor: null }));
	expect(new Set(await jsonLinesIds(file)).size).toBe(250);
	expect(servedPages()).toEqual([100, 100, 50, 0, 0]);
	expect(atEnd.runData.Decagon[0].hints).toEqual([expect.objectContaining({ type: 'info', message: expect.stringMatching(/answered page 5 empty, twice, with the cursor it was asked with .*taken as the end/) })]);
});

test('Max Pages stops early and names the cursor to resume from; Start Cursor resumes there', async () => {
	const first = await run(decagon({ returnAll: true, options: { maxPages: 1 } }));
	expect(first.outputOf('Decagon')).toHaveLength(100);
	const hint = JSON.stringify(first.runData.Decagon[0].hints);
	const cursor = /Start Cursor to \\?"([^"\\]+)\\?"/.exec(hint)?.[1];
	expect(cursor).toBeDefined();
	const rest = await run(decagon({ returnAll: true, options: { startCursor: cursor } }));
	const ids = [...first.outputOf('Decagon'), ...rest.outputOf('Decagon')].map((i) => i.json.conversation_id);
	expect(ids).toHaveLength(250);
	expect(new Set(ids).size).toBe(250);
});

test('a failure mid-export names the last good cursor', async () => {
	standin.configure({ faults: [2, 3, 4, 5, 6, 7].map((request) => ({ request, kind: '500' as const })) });
	const result = await run(decagon({ returnAll: true }));
	expect(result.status).toBe('error');
	const description = (result.error as { description?: string }).description ?? '';
	expect(`${result.error?.message} ${description}`).toMatch(/page 2/);
	expect(description).toMatch(/Start Cursor to "[^"]+"/);
}, 90_000);

test('a Start Cursor that Decagon refuses: the error says to correct or clear it, not to resume at it', async () => {
	const result = await run(decagon({ returnAll: true, options: { startCursor: 'not-a-cursor' } }));
	expect(result.status).toBe('error');
	const description = (result.error as { description?: string }).description ?? '';
	expect(`${result.error?.message}`).toMatch(/400/);
	expect(description).toMatch(/Start Cursor "not-a-cursor"\. If Decagon refused that cursor, correct it, or clear it/);
	expect(description).not.toMatch(/Start Cursor to "not-a-cursor"/);
});

test('a Base URL that answers 200 with a web page fails at once, saying to check the Base URL (not "try again later" after 6 tries)', async () => {
	let requests = 0;
	const page = createServer((request, response) => {
		requests++;
		request.resume();
		response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
		response.end('<!doctype html><html><body>Sign in</body></html>');
	});
	await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
	try {
		const result = await runWorkflow({
			nodes: [trigger, decagon({ returnAll: true })],
			connections,
			credentials: { decagonApi: { region: 'custom', baseUrl: `http://127.0.0.1:${(page.address() as AddressInfo).port}`, apiKey: API_KEY, requestsPerSecond: RATE } },
			timeoutMs: 20_000,
		});
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/answered with a web page, not Decagon's JSON/);
		expect((result.error as { description?: string }).description).toMatch(/base URL/);
		expect(requests).toBe(1);
	} finally {
		await new Promise<void>((resolve) => page.close(() => resolve()));
	}
});

test('each input item runs its own export, from parameter expressions, paired with its item', async () => {
	const regions: INode = {
		id: 'a1000000-0000-4000-8000-000000000003',
		name: 'Regions',
		type: SEED_TYPE,
		typeVersion: 1,
		position: [110, 0],
		parameters: { items: JSON.stringify([{ region: 'us' }, { region: 'eu' }]) },
	};
	const node = decagon({ returnAll: true, simplify: true, filters: { metadata: { filter: [{ key: 'region', value: '={{ $json.region }}' }] } } });
	const result = await runWorkflow({
		nodes: [trigger, regions, node],
		connections: {
			[trigger.name]: { main: [[{ node: 'Regions', type: 'main', index: 0 }]] },
			Regions: { main: [[{ node: 'Decagon', type: 'main', index: 0 }]] },
		},
		credentials: { decagonApi: { region: 'custom', baseUrl: standin.url, apiKey: API_KEY, requestsPerSecond: RATE } },
		extraNodeTypes: { [SEED_TYPE]: new Seed() },
		timeoutMs: 50_000,
	});
	expect(result.error).toBeUndefined();
	const items = result.outputOf('Decagon');
	const all = standin.conversations();
	expect(items).toHaveLength(all.length);
	for (const item of items) {
		const expectedItem = item.json.metadata_region === 'us' ? 0 : 1;
		expect(item.pairedItem).toEqual({ item: expectedItem });
	}
	expect(standin.stats().rateLimited).toBe(0);
});

test("After and Before without a zone are in the workflow's time zone", async () => {
	const result = await runWorkflow({
		nodes: [trigger, decagon({ returnAll: true, filters: { after: '2025-01-31T00:00:00', before: '2025-01-31T23:59:59' } })],
		connections,
		credentials: { decagonApi: { region: 'custom', baseUrl: standin.url, apiKey: API_KEY, requestsPerSecond: RATE } },
		settings: { timezone: 'America/New_York' },
		timeoutMs: 50_000,
	});
	expect(result.error).toBeUndefined();
	expect(exportRequests()[0].query).toEqual(
		expect.objectContaining({ min_timestamp: String(Date.parse('2025-01-31T05:00:00Z') / 1000), max_timestamp: String(Date.parse('2025-02-01T04:59:59Z') / 1000) }),
	);
});
