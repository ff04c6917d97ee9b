import { mapConcurrently } from '../../nodes/shared/concurrency';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapConcurrently', () => {
	it('keeps the order of the values and never runs more than the limit at once', async () => {
		let running = 0;
		let most = 0;
		const values = Array.from({ length: 40 }, (_, i) => i);
		const results = await mapConcurrently(values, 8, async (value) => {
			running++;
			most = Math.max(most, running);
			await tick((value * 7) % 5);
			running--;
			return value * 2;
		});
		expect(results).toEqual(values.map((value) => value * 2));
		expect(most).toBe(8);
	});

	it('stops starting calls at the first failure and throws it once the calls under way have ended', async () => {
		const started: number[] = [];
		let ended = 0;
		const failing = mapConcurrently(Array.from({ length: 50 }, (_, i) => i), 4, async (value) => {
			started.push(value);
			await tick(value === 5 ? 1 : 10);
			ended++;
			if (value === 5) throw new Error('value 5 failed');
			return value;
		});
		await expect(failing).rejects.toThrow('value 5 failed');
		expect(ended).toBe(started.length);
		expect(started.length).toBeLessThan(12);
	});

	it('throws the first failure, not one that came after it', async () => {
		const failing = mapConcurrently([0, 1, 2, 3], 4, async (value) => {
			await tick(value * 5);
			throw new Error(`value ${value} failed`);
		});
		await expect(failing).rejects.toThrow('value 0 failed');
	});

	it('handles no values', async () => {
		expect(await mapConcurrently([], 8, async () => 1)).toEqual([]);
	});
});
