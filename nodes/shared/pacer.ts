import { sleep } from 'n8n-workflow';

/**
 * Spaces request *starts* at least `intervalMs` apart (not sleep-after-response), so an API limited to
 * N requests per second is used at close to N per second however long each response takes, and never
 * above it. Every attempt, retries included, takes a slot. One pacer lives for one node execution:
 * n8n may run executions on different processes (queue mode), so nothing is kept between them.
 */
export class RequestPacer {
	private nextStartMs = 0;

	constructor(
		readonly intervalMs: number,
		private readonly now: () => number = Date.now,
		private readonly wait: (ms: number) => Promise<void> = sleep,
	) {}

	/** Limits given per second; a 1% margin keeps arrival jitter on the server's side under the limit. */
	static perSecond(requestsPerSecond: number): RequestPacer {
		const rate = Number.isFinite(requestsPerSecond) && requestsPerSecond > 0 ? requestsPerSecond : 1;
		return new RequestPacer((1000 / rate) * 1.01);
	}

	/** Waits for the next free slot, plus `extraDelayMs` (a retry's back-off), then claims it. */
	async acquire(extraDelayMs = 0): Promise<void> {
		const earliest = Math.max(this.nextStartMs, this.now() + extraDelayMs);
		// sleep() may wake a little early; loop until the slot has really come (bounded: time moves on).
		for (let remaining = earliest - this.now(); remaining > 0; remaining = earliest - this.now()) {
			await this.wait(remaining);
		}
		this.nextStartMs = this.now() + this.intervalMs;
	}
}
