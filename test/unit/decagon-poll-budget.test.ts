/**
 * A Decagon Trigger poll never runs into the next one: n8n 1.x, and 2.x without its durable scheduler (the
 * default, whose PollContext says 5 minutes), start the next poll on schedule while the last still runs,
 * and both would read one checkpoint and emit the same conversations (seen in n8n 1.123.81 and 2.41.1).
 */
import type { IPollFunctions } from 'n8n-workflow';

import { POLL_TIME_LIMIT_MS, pollBudgetMs } from '../../nodes/Decagon/DecagonTrigger.node';

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
