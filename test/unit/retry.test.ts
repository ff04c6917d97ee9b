import { apiError } from '../../nodes/shared/errors';
import { backoffDelay, decideRetry, DEFAULT_RETRY_POLICY, parseRetryAfter } from '../../nodes/shared/retry';

const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 8000 };
const now = Date.parse('2026-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
	it('reads delta-seconds', () => {
		expect(parseRetryAfter('3', now)).toBe(3000);
		expect(parseRetryAfter(['1.5'], now)).toBe(1500);
	});
	it('reads an HTTP date relative to now', () => {
		expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:07 GMT', now)).toBe(7000);
		expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
	});
	it('ignores missing and unreadable values', () => {
		expect(parseRetryAfter(undefined, now)).toBeUndefined();
		expect(parseRetryAfter('', now)).toBeUndefined();
		expect(parseRetryAfter('soon', now)).toBeUndefined();
	});
	it('reads the older HTTP date forms too, asctime as GMT whatever the server zone', () => {
		expect(parseRetryAfter('Thursday, 01-Jan-26 00:00:07 GMT', now)).toBe(7000);
		expect(parseRetryAfter('Thu Jan  1 00:00:07 2026', now)).toBe(7000);
	});
	it('takes values of neither form for unreadable (back-off applies), not for "now"', () => {
		for (const value of ['-5', '5, 10', '+1', '2026-01-01T00:00:07Z', 'Thu, 01 Jan 2026 00:00:07 +0100', 'Thu, 01 Jan 2026']) {
			expect(parseRetryAfter(value, now)).toBeUndefined();
		}
		const decision = decideRetry({ kind: 'status', statusCode: 429, retryAfter: '-5' }, 1, policy, now, () => 0);
		expect(decision).toEqual(expect.objectContaining({ retry: true }));
		expect((decision as { delayMs: number }).delayMs).toBeGreaterThanOrEqual(500);
	});
});

describe('backoffDelay', () => {
	it('doubles with full jitter inside [ceiling/2, ceiling] and stays capped', () => {
		expect(backoffDelay(1, policy, () => 0)).toBe(500);
		expect(backoffDelay(1, policy, () => 1)).toBe(1000);
		expect(backoffDelay(3, policy, () => 1)).toBe(4000);
		expect(backoffDelay(10, policy, () => 1)).toBe(8000);
	});
});

describe('decideRetry', () => {
	it('retries 429, 5xx, network errors and unreadable bodies', () => {
		expect(decideRetry({ kind: 'status', statusCode: 429 }, 1, policy, now).retry).toBe(true);
		for (const statusCode of [500, 502, 503, 504]) {
			expect(decideRetry({ kind: 'status', statusCode }, 1, policy, now).retry).toBe(true);
		}
		expect(decideRetry({ kind: 'network', code: 'ECONNRESET' }, 1, policy, now).retry).toBe(true);
		expect(decideRetry({ kind: 'badBody', reason: 'truncated' }, 1, policy, now).retry).toBe(true);
	});
	it('never retries 4xx other than 429/408, or DNS failures', () => {
		for (const statusCode of [400, 401, 403, 404, 422]) {
			expect(decideRetry({ kind: 'status', statusCode }, 1, policy, now).retry).toBe(false);
		}
		expect(decideRetry({ kind: 'network', code: 'ENOTFOUND' }, 1, policy, now).retry).toBe(false);
	});
	it('stops after maxAttempts and says so', () => {
		const decision = decideRetry({ kind: 'status', statusCode: 503 }, 4, policy, now);
		expect(decision).toEqual({ retry: false, reason: 'HTTP 503, still failing after 4 attempts' });
	});
	it('two Retry-After headers (an array): waits what the first asks, as Node keeps the first, not a back-off or the last', () => {
		const decision = decideRetry({ kind: 'status', statusCode: 429, retryAfter: ['3', '10'] }, 1, policy, now, () => 1);
		expect(decision).toMatchObject({ retry: true, delayMs: 3000 });
	});
	it('waits exactly what Retry-After asks on a 429', () => {
		const decision = decideRetry({ kind: 'status', statusCode: 429, retryAfter: '2' }, 1, policy, now, () => 1);
		expect(decision).toMatchObject({ retry: true, delayMs: 2000 });
	});
	it('never waits less than Retry-After on a 5xx', () => {
		const decision = decideRetry({ kind: 'status', statusCode: 503, retryAfter: '5' }, 1, policy, now, () => 1);
		expect(decision).toMatchObject({ retry: true, delayMs: 5000 });
	});
	it('a 5xx whose Retry-After is shorter than the back-off still backs off (Retry-After: 0 is no licence to hammer)', () => {
		const decision = decideRetry({ kind: 'status', statusCode: 503, retryAfter: '0' }, 3, policy, now, () => 1);
		expect(decision).toMatchObject({ retry: true, delayMs: 4000 });
	});
	it('waits out a Retry-After of exactly the longest wait the policy allows', () => {
		const longest = policy.maxRetryAfterMs / 1000;
		expect(decideRetry({ kind: 'status', statusCode: 429, retryAfter: String(longest) }, 1, policy, now)).toMatchObject({ retry: true, delayMs: longest * 1000 });
	});
	it('refuses a Retry-After longer than the policy allows', () => {
		const decision = decideRetry({ kind: 'status', statusCode: 429, retryAfter: '3600' }, 1, policy, now);
		expect(decision.retry).toBe(false);
		expect(decision.reason).toMatch(/asked to wait 3600 s/);
	});
});

describe('network failures in error messages', () => {
	const node = { id: '1', name: 'Node', type: 'test', typeVersion: 1, position: [0, 0] as [number, number], parameters: {} };

	it.each(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ERR_SOCKET_CLOSED'])(
		'%s: our message survives n8n\'s NodeApiError (which swaps any message naming such a code for its own)',
		(code) => {
			const { reason } = decideRetry({ kind: 'network', code }, 6, { ...DEFAULT_RETRY_POLICY, maxAttempts: 6 }, 0);
			const message = `Could not reach the service at http://127.0.0.1:9 (${reason})`;
			expect(apiError(node, { message }).message).toBe(message);
		},
	);
});

describe('secrets in error messages', () => {
	const node = { id: '1', name: 'Node', type: 'test', typeVersion: 1, position: [0, 0] as [number, number], parameters: {} };

	it('a key an API echoes back is redacted from the message as well as the description', () => {
		const error = apiError(node, { message: 'HTTP 401: Invalid API key sk-live-123456', description: 'key sk-live-123456', secrets: ['sk-live-123456'] });
		expect(error.message).toBe('HTTP 401: Invalid API key [redacted]');
		expect(error.description).not.toContain('sk-live-123456');
		expect(JSON.stringify(error)).not.toContain('sk-live-123456');
	});
});
