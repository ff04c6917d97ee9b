/**
 * A Decagon Trigger poll never runs into the next one: n8n 1.x, and 2.x without its durable scheduler (the
 * default, whose PollContext says 5 minutes), start the next poll on schedule while the last still runs,
 * and both would read one checkpoint and emit the same conversations (seen in n8n 1.123.81 and 2.41.1).
 */
import type { IHttpRequestOptions, IPollFunctions } from 'n8n-workflow';

import { DecagonTrigger, POLL_TIME_LIMIT_MS, pollBudgetMs } from '../../nodes/Decagon/DecagonTrigger.node';

const context = (budget?: () => number) => (budget ? { getPollBudgetMs: budget } : {}) as unknown as IPollFunctions;

test('a poll is held under a minute, n8n\'s shortest poll interval, whatever n8n allows', () => {
	expect(POLL_TIME_LIMIT_MS).toBeLessThan(60_000);
	// n8n 1.x: no budget at all.
	expect(pollBudgetMs.call(context())).toBe(POLL_TIME_LIMIT_MS);
	// n8n 2.x without the durable scheduler: 5 minutes.
	expect(pollBudgetMs.call(context(() => 300_000))).toBe(POLL_TIME_LIMIT_MS);
	// n8n 2.x's durable scheduler: its own, shorter budget.
	expect(pollBudgetMs.call(context(() => 36_000))).toBe(36_000);
	expect(pollBudgetMs.call(context(() => Number.NaN))).toBe(POLL_TIME_LIMIT_MS);
});

/**
 * A poll over a Decagon that answers every page empty, recording each request's time limit: the poll's
 * requests are cut at its deadline, however long the credential's own request timeout.
 */
async function requestTimeLimitsOfAPoll(budgetMs: number): Promise<Array<{ timeLimitMs: number; sinceStartMs: number }>> {
	const node = { id: '1', name: 'Decagon Trigger', type: 'decagonTrigger', typeVersion: 1, position: [0, 0] as [number, number], parameters: { startFrom: 'beginning' } };
	const parameters: Record<string, unknown> = { output: 'conversation', simplify: false, filters: {}, options: {}, startFrom: 'beginning' };
	const timeLimits: Array<{ timeLimitMs: number; sinceStartMs: number }> = [];
	const startedMs = Date.now();
	const poll = {
		getNode: () => node,
		getMode: () => 'trigger',
		getPollBudgetMs: () => budgetMs,
		getNodeParameter: (name: string, fallback?: unknown) => parameters[name] ?? fallback,
		getTimezone: () => 'UTC',
		getWorkflowStaticData: () => ({}),
		getCredentials: async () => ({ region: 'us', apiKey: 'key' }),
		logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
		helpers: {
			httpRequestWithAuthentication: async (_credential: string, options: IHttpRequestOptions) => {
				timeLimits.push({ timeLimitMs: Number(options.timeout), sinceStartMs: Date.now() - startedMs });
				return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"conversations":[],"next_page_cursor":null}') };
			},
		},
	} as unknown as IPollFunctions;
	await new DecagonTrigger().poll.call(poll);
	return timeLimits;
}

test("a poll's requests end by 80% of n8n's budget (28.8 s of the durable scheduler's 36 s), leaving the rest to emit and store what was read", async () => {
	// The first request: all the time the poll has, less the time it took to start (measured, so a slow
	// machine cannot fail this).
	const [first] = await requestTimeLimitsOfAPoll(36_000);
	expect(first.timeLimitMs).toBeLessThanOrEqual(28_800);
	expect(first.timeLimitMs).toBeGreaterThanOrEqual(28_800 - first.sinceStartMs);
	// Without a budget from n8n (1.x), the same share of the package's own limit.
	const [withoutBudget] = await requestTimeLimitsOfAPoll(Number.NaN);
	expect(withoutBudget.timeLimitMs).toBeLessThanOrEqual(POLL_TIME_LIMIT_MS * 0.8);
	expect(withoutBudget.timeLimitMs).toBeGreaterThanOrEqual(POLL_TIME_LIMIT_MS * 0.8 - withoutBudget.sinceStartMs);
});
