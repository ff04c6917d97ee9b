import { RequestPacer } from '../../nodes/shared/pacer';

function fakeClock() {
	let now = 1_000_000;
	const waits: number[] = [];
	return {
		now: () => now,
		wait: async (ms: number) => {
			waits.push(ms);
			now += ms;
		},
		advance: (ms: number) => (now += ms),
		waits,
	};
}

describe('RequestPacer', () => {
	it('spaces starts by the interval, counting time spent waiting for responses', async () => {
		const clock = fakeClock();
		const pacer = new RequestPacer(1000, clock.now, clock.wait);
		const starts: number[] = [];
		for (let i = 0; i < 5; i++) {
			await pacer.acquire();
			starts.push(clock.now());
			clock.advance(300); // the response takes 300 ms
		}
		const gaps = starts.slice(1).map((start, i) => start - starts[i]);
		expect(gaps).toEqual([1000, 1000, 1000, 1000]);
		expect(clock.waits).toEqual([700, 700, 700, 700]);
	});
	it('waits longer after an attempt that took longer than the fastest: it may have arrived late', async () => {
		const clock = fakeClock();
		const pacer = new RequestPacer(1000, clock.now, clock.wait);
		const starts: number[] = [];
		// Round trips: a cold first request (250 ms), then warm ones (50 ms), one new connection (180 ms).
		for (const roundTrip of [250, 50, 50, 180, 50]) {
			await pacer.acquire();
			const started = clock.now();
			starts.push(started);
			clock.advance(roundTrip);
			pacer.finished(started, true);
		}
		const gaps = starts.slice(1).map((start, i) => start - starts[i]);
		// After the first: its answer time + interval. After a warm one: the interval. After the slow
		// one: the interval plus what it took beyond the fastest (130 ms).
		expect(gaps).toEqual([1250, 1000, 1000, 1130]);
	});
	it('learns the fastest round trip from successful answers only: a quick failure does not slow every later start', async () => {
		const clock = fakeClock();
		const pacer = new RequestPacer(1000, clock.now, clock.wait);
		const starts: number[] = [];
		// 300 ms pages, and one connection refused after 1 ms.
		for (const [roundTrip, successful] of [[300, true], [1, false], [300, true], [300, true]] as const) {
			await pacer.acquire();
			const started = clock.now();
			starts.push(started);
			clock.advance(roundTrip);
			pacer.finished(started, successful);
		}
		const gaps = starts.slice(1).map((start, i) => start - starts[i]);
		// The failure itself is taken to have arrived as it ended (1 ms on). Had it counted as the fastest
		// round trip, each 300 ms page after it would be taken to have arrived as it ended: gaps of 1,299 ms.
		expect(gaps).toEqual([1300, 1001, 1000]);
	});
	it('does not wait when responses are slower than the interval', async () => {
		const clock = fakeClock();
		const pacer = new RequestPacer(1000, clock.now, clock.wait);
		await pacer.acquire();
		clock.advance(1500);
		await pacer.acquire();
		expect(clock.waits).toEqual([]);
	});
	it('adds a retry back-off on top of the slot, never below it', async () => {
		const clock = fakeClock();
		const pacer = new RequestPacer(1000, clock.now, clock.wait);
		await pacer.acquire();
		const first = clock.now();
		await pacer.acquire(200);
		expect(clock.now() - first).toBe(1000);
		const second = clock.now();
		await pacer.acquire(5000);
		expect(clock.now() - second).toBe(5000);
	});
	it('sleeps a long wait in pieces and stops it, unclaimed, when the execution is cancelled', async () => {
		const clock = fakeClock();
		const pacer = new RequestPacer(1000, clock.now, clock.wait);
		await pacer.acquire();
		const start = clock.now();
		// A 300 s Retry-After; the user cancels 4.5 s into it.
		const claimed = await pacer.acquire(300_000, () => clock.now() - start >= 4500);
		expect(claimed).toBe(false);
		expect(clock.now() - start).toBe(5000);
		expect(Math.max(...clock.waits)).toBe(1000);
		// Not cancelled: the same wait is slept to its end and claims the slot.
		clock.waits.length = 0;
		const again = clock.now();
		expect(await pacer.acquire(3000, () => false)).toBe(true);
		expect(clock.now() - again).toBe(3000);
		expect(clock.waits).toEqual([1000, 2000]);
	});
	it('does not start a request for a cancelled execution even when no wait is due', async () => {
		const clock = fakeClock();
		const pacer = new RequestPacer(1000, clock.now, clock.wait);
		expect(await pacer.acquire(0, () => true)).toBe(false);
		expect(await pacer.acquire()).toBe(true);
	});
	it('a later run of the node in the same execution starts no sooner than the slot the earlier run left', async () => {
		const clock = fakeClock();
		const earlierRun = new RequestPacer(1000, clock.now, clock.wait);
		await earlierRun.acquire();
		const lastStart = clock.now();
		clock.advance(300); // the run ends; the loop starts the node again at once
		const laterRun = new RequestPacer(1000, clock.now, clock.wait);
		laterRun.notBefore(earlierRun.nextStart);
		await laterRun.acquire();
		expect(clock.now() - lastStart).toBe(1000);
		expect(clock.waits).toEqual([700]);
	});
	it('a time already past given to notBefore never lets the next request start sooner than the interval', async () => {
		const clock = fakeClock();
		const pacer = new RequestPacer(1000, clock.now, clock.wait);
		await pacer.acquire();
		const first = clock.now();
		pacer.notBefore(first - 5000);
		pacer.notBefore(Number.NaN); // an unreadable time carried over is ignored, not a free slot
		await pacer.acquire();
		expect(clock.now() - first).toBe(1000);
	});
	it('keeps a 1% margin under the per-second limit', () => {
		expect(RequestPacer.perSecond(1).intervalMs).toBeCloseTo(1020);
		expect(RequestPacer.perSecond(4).intervalMs).toBeCloseTo(262.5);
		expect(RequestPacer.perSecond(0).intervalMs).toBeCloseTo(1020);
		expect(RequestPacer.perSecond(1000).intervalMs).toBeCloseTo(1.26);
	});
});
