/**
 * Small seeded randomness: everything generated from the same seed is the same on every run and
 * machine. Streams are keyed by (seed, conversation index, purpose) so that one conversation can be
 * rebuilt on its own, without replaying the others.
 */

/** Mixes any number of integers into one uint32 (murmur3's finaliser over a running hash). */
export function hash32(...parts: number[]): number {
	let h = 0x9e3779b9;
	for (const part of parts) {
		// Fold in both halves so seeds beyond 32 bits still matter.
		const low = part >>> 0;
		const high = Math.floor(part / 0x1_0000_0000) >>> 0;
		h = Math.imul(h ^ low, 0x85ebca6b);
		h = (h ^ (h >>> 13)) >>> 0;
		h = Math.imul(h ^ high, 0xc2b2ae35);
		h = (h ^ (h >>> 16)) >>> 0;
	}
	h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
	h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
	return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: fast, 32-bit state, good enough for test data. */
export class Rng {
	private state: number;

	constructor(seed: number) {
		this.state = seed >>> 0;
	}

	uint32(): number {
		this.state = (this.state + 0x6d2b79f5) >>> 0;
		let t = this.state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return (t ^ (t >>> 14)) >>> 0;
	}

	/** Uniform in [0, 1). */
	float(): number {
		return this.uint32() / 0x1_0000_0000;
	}

	/** Uniform integer in [min, max], both inclusive. */
	int(min: number, max: number): number {
		return min + Math.floor(this.float() * (max - min + 1));
	}

	chance(probability: number): boolean {
		return this.float() < probability;
	}

	pick<T>(items: readonly T[]): T {
		return items[Math.floor(this.float() * items.length)];
	}
}
