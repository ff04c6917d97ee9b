/**
 * The "done when" of the Decagon export: 20,000 conversations through a real n8n with every quirk of
 * the stand-in switched on (rate limit and credential rate raised) come out as exactly 20,000 unique
 * items, each in its newest version.
 */
import { startDecagonStandin } from '../standins/decagon';
import type { DecagonStandin } from '../standins/decagon';
import type { N8nInstance } from '../support/n8n-instance';
import { createN8nInstance } from '../support/n8n-instance';
import { decagonCredential, exportWorkflow } from './decagon-workflows';

jest.setTimeout(600_000);

const COUNT = 20_000;
// Raised from Decagon's 1/s to keep the run short, but not so far that the pacing margin (a quarter of
// the interval at most, 2.5 ms at 100/s) is below the timer jitter of a busy machine: one 429 in 211
// pages was seen at 100/s in a CI run on n8n 1.123.81. At 50/s the margin is 5 ms.
const RATE = 50;

let standin: DecagonStandin;
let n8n: N8nInstance;

beforeAll(async () => {
	standin = await startDecagonStandin({
		count: COUNT,
		messagesPerConversation: [1, 4],
		textBytes: 40,
		rateLimitPerSecond: RATE,
		cursorField: 'next_cursor',
		endMarker: 'missing',
		timestampFormat: 'mixed',
		bareTagIds: true,
		duplicatesAcrossPages: 5,
		updateDuringExport: { afterPage: 40, count: 25 },
		faults: [
			{ request: 3, kind: '429' },
			{ request: 20, kind: '429-no-retry-after' },
			{ request: 45, kind: '500' },
			{ request: 80, kind: '502' },
			{ request: 120, kind: '503' },
			{ request: 150, kind: 'reset' },
			{ request: 190, kind: 'truncated' },
		],
	});
	const credential = decagonCredential('decagonE2eLarge1', 'Decagon stand-in (raised limit)', standin.url, 'test-decagon-key', RATE);
	n8n = await createN8nInstance({
		credentials: [credential],
		workflows: [exportWorkflow('wfE2eLarge200001', 'Decagon: 20,000 conversations', credential, { returnAll: true, simplify: true })],
	});
}, 300_000);

afterAll(async () => {
	await n8n?.dispose();
	await standin?.close();
});

test('20,000 conversations with every quirk on: exactly 20,000 unique items, newest copies, within the limit', async () => {
	const result = await n8n.execute('wfE2eLarge200001');
	expect(result.error?.message).toBeUndefined();
	expect(result.status).toBe('success');
	const items = result.outputOf('Decagon');
	const ids = new Set(items.map((item) => item.conversation_id));
	expect(items).toHaveLength(COUNT);
	expect(ids.size).toBe(COUNT);

	const stats = standin.stats();
	expect(stats.faultsInjected).toBe(7);
	expect(stats.conversationsServed).toBeGreaterThan(COUNT);
	expect(stats.updatedDuringExport).toHaveLength(25);
	expect(stats.rateLimited).toBe(0);
	const newest = new Map(standin.conversations().map((c) => [c.conversation_id, c]));
	for (const item of items) {
		const served = newest.get(String(item.conversation_id))!;
		expect(item.message_count).toBe(served.messages.length);
	}
	console.log(
		`20,000 conversations, ${stats.pagesServed} pages, ${stats.faultsInjected} faults: Decagon node ${String(
			result.run.data.resultData.runData.Decagon[0].executionTime,
		)} ms, n8n execute ${result.durationMs} ms, peak RSS ${result.peakRssKb ?? '?'} kB`,
	);
});
