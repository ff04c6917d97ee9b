import { sleep } from 'n8n-workflow';

/**
 * Spaces request *starts* at least `intervalMs` apart (not sleep-after-response), so an API limited to
 * N requests per second is used at close to N per second however long each response takes, and never
 * above it. Every attempt, retries included, takes a slot. One pacer lives for one node execution:
 * n8n may run executions on different processes (queue mode), so nothing is kept between them.
 *
 * The server counts arrivals, not starts. A request that travels longer than usual (the first of a
 * process, a new connection: DNS, TCP, TLS) arrives late, and the next one, on the warm connection,
 * would arrive less than an interval after it. So each finished attempt also reports its round trip:
 * whatever it took beyond the fastest round trip seen so far may have been spent before arriving, and
 * the next start waits that much longer. The first attempt has nothing to compare with and is taken to
 * have arrived as its answer came.
 */
/** Fixed part of the pacing margin, for jitter between our start and the server's arrival time. */
const PACING_MARGIN_MS = 10;

/** Waits longer than twice this are slept in pieces of this length, so a cancel ends them within 2 s. */
const CANCEL_CHECK_MS = 1000;

export class RequestPacer {
	private nextStartMs = 0;

	constructor(
		readonly intervalMs: number,
		private readonly now: () => number = Date.now,
		private readonly wait: (ms: number) => Promise<void> = sleep,
	) {}

	/**
	 * Limits given per second. Because of the round-trip correction in finished(), arrivals are spaced at
	 * least an interval apart up to network jitter and timer granularity; a margin of 1% plus 10 ms (at
	 * most a quarter of the interval, for high limits) absorbs those and uses 98% of a 1 request/s limit.
	 */
	static perSecond(requestsPerSecond: number): RequestPacer {
		const rate = Number.isFinite(requestsPerSecond) && requestsPerSecond > 0 ? requestsPerSecond : 1;
		const interval = 1000 / rate;
		return new RequestPacer(interval * 1.01 + Math.min(PACING_MARGIN_MS, interval / 4));
	}

	/**
	 * Waits for the next free slot, plus `extraDelayMs` (a retry's back-off), then claims it. Returns
	 * false, without claiming, as soon as `cancelled()` says so: n8n's sleep() cannot be interrupted, so
	 * long waits are slept in short pieces and the execution's cancel signal is looked at between them.
	 */
	async acquire(extraDelayMs = 0, cancelled: () => boolean = () => false): Promise<boolean> {
		const earliest = Math.max(this.nextStartMs, this.now() + extraDelayMs);
		// sleep() may wake a little early; loop until the slot has really come (bounded: time moves on).
		for (let remaining = earliest - this.now(); remaining > 0; remaining = earliest - this.now()) {
			if (cancelled()) return false;
			await this.wait(remaining > 2 * CANCEL_CHECK_MS ? CANCEL_CHECK_MS : remaining);
		}
		if (cancelled()) return false;
		this.nextStartMs = this.now() + this.intervalMs;
		return true;
	}

	/** When the next request may start (epoch ms): to carry the spacing over to a later run of the node. */
	get nextStart(): number {
		return this.nextStartMs;
	}

	/** Starts no request before `epochMs` (a run of the node earlier in the same execution ended there). */
	notBefore(epochMs: number): void {
		if (Number.isFinite(epochMs)) this.nextStartMs = Math.max(this.nextStartMs, epochMs);
	}

	private fastestRoundTripMs: number | undefined;

	/**
	 * Reports an attempt that started at `startedMs` and ended now. Only a `successful` one sets the
	 * fastest round trip: a refused connection or an edge's quick 429 ends in a few milliseconds, and
	 * learning from it would make every later start wait for a whole response more than it must. A failed
	 * one may have been answered the moment it arrived (a fault answers at once, without a page to build),
	 * so it is taken to have arrived as it ended.
	 */
	finished(startedMs: number, successful: boolean): void {
		const endedMs = this.now();
		const roundTripMs = endedMs - startedMs;
		const possibleArrivalMs = successful ? endedMs - Math.min(this.fastestRoundTripMs ?? 0, roundTripMs) : endedMs;
		this.nextStartMs = Math.max(this.nextStartMs, possibleArrivalMs + this.intervalMs);
		if (successful) this.fastestRoundTripMs = Math.min(this.fastestRoundTripMs ?? roundTripMs, roundTripMs);
	}
}
