/**
 * The one retry policy of the package: which failures are worth another attempt, and how long to wait
 * before it. Transports call `decideRetry` after each failed attempt; waiting is done by the caller's
 * pacer so that retries count against the same request budget as first attempts.
 */

export interface RetryPolicy {
	/** Attempts in total, the first one included. */
	maxAttempts: number;
	/** Back-off before the first retry; doubles each time, with full jitter. */
	baseDelayMs: number;
	maxDelayMs: number;
	/** A `Retry-After` longer than this is not waited out: the request fails with a clear message. */
	maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	maxAttempts: 6,
	baseDelayMs: 1000,
	maxDelayMs: 30_000,
	maxRetryAfterMs: 5 * 60_000,
};

/**
 * For a list the editor waits on (a picker): one retry after a short wait, the server's Retry-After up to
 * 10 s. Someone is watching the spinner; they can open the list again.
 */
export const EDITOR_RETRY_POLICY: RetryPolicy = {
	maxAttempts: 2,
	baseDelayMs: 1000,
	maxDelayMs: 2000,
	maxRetryAfterMs: 10_000,
};

/** What one attempt ended with, as far as retrying is concerned. */
export type AttemptFailure =
	| { kind: 'status'; statusCode: number; retryAfter?: string | string[] }
	| { kind: 'network'; code: string }
	| { kind: 'badBody'; reason: string };

export type RetryDecision =
	| { retry: true; delayMs: number; reason: string }
	| { retry: false; reason: string };

const RETRYABLE_NETWORK_CODES = new Set([
	'ECONNRESET',
	'ECONNREFUSED',
	'ECONNABORTED',
	'ETIMEDOUT',
	'ESOCKETTIMEDOUT',
	'EPIPE',
	'EAI_AGAIN',
	'ENETUNREACH',
	'EHOSTUNREACH',
	'ERR_SOCKET_CONNECTION_TIMEOUT',
	'ERR_STREAM_PREMATURE_CLOSE',
]);

export function isRetryableStatus(statusCode: number): boolean {
	return statusCode === 429 || statusCode === 408 || (statusCode >= 500 && statusCode <= 599);
}

/** `code` as networkErrorCode gives it: an upper-case Node code (E…, ERR_…). */
export function isRetryableNetworkCode(code: string): boolean {
	return RETRYABLE_NETWORK_CODES.has(code);
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const CLOCK = '\\d{2}:\\d{2}:\\d{2}';
/** The HTTP date forms a recipient reads (RFC 9110 §5.6.7): IMF-fixdate, RFC 850 and asctime (GMT, unnamed). */
const HTTP_DATE_IN_GMT = new RegExp(
	`^(?:${DAY}, \\d{2} ${MONTH} \\d{4} ${CLOCK} GMT|${DAY}[a-z]*, \\d{2}-${MONTH}-\\d{2} ${CLOCK} GMT)$`,
);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} [ \\d]\\d ${CLOCK} \\d{4}$`);

/**
 * `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns milliseconds, or
 * undefined when absent or unreadable: anything else ("-5", "5, 10" from two joined headers) would
 * otherwise read as "now" and a 429 be retried at once instead of backing off.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
	const raw = Array.isArray(value) ? value[0] : value;
	if (raw === undefined) return undefined;
	const text = String(raw).trim();
	if (text === '') return undefined;
	if (/^\d+(\.\d+)?$/.test(text)) return Math.round(parseFloat(text) * 1000);
	const date = HTTP_DATE_IN_GMT.test(text) ? Date.parse(text) : ASCTIME_DATE.test(text) ? Date.parse(`${text} GMT`) : NaN;
	if (Number.isNaN(date)) return undefined;
	return Math.max(0, date - nowMs);
}

/** Exponential back-off with full jitter: a random wait in [base·2^(n-1)/2, base·2^(n-1)], capped. */
export function backoffDelay(retryNumber: number, policy: RetryPolicy, random: () => number = Math.random): number {
	const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retryNumber - 1));
	return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Decides whether attempt number `attempt` (1-based) that ended in `failure` is retried, and after how long.
 */
export function decideRetry(
	failure: AttemptFailure,
	attempt: number,
	policy: RetryPolicy,
	nowMs: number,
	random: () => number = Math.random,
): RetryDecision {
	const reason = describeFailure(failure);
	const retryable =
		failure.kind === 'badBody' ||
		(failure.kind === 'status' && isRetryableStatus(failure.statusCode)) ||
		(failure.kind === 'network' && isRetryableNetworkCode(failure.code));
	if (!retryable) return { retry: false, reason };
	if (attempt >= policy.maxAttempts) {
		return { retry: false, reason: `${reason}, still failing after ${attempt} attempts` };
	}
	let delayMs = backoffDelay(attempt, policy, random);
	if (failure.kind === 'status') {
		const retryAfterMs = parseRetryAfter(failure.retryAfter, nowMs);
		if (retryAfterMs !== undefined) {
			if (retryAfterMs > policy.maxRetryAfterMs) {
				return {
					retry: false,
					reason: `${reason}; the server asked to wait ${Math.ceil(retryAfterMs / 1000)} s, longer than the ${Math.round(policy.maxRetryAfterMs / 1000)} s this node waits`,
				};
			}
			// The server's word wins over our own guess, but never wait less than it asked.
			delayMs = Math.max(retryAfterMs, failure.statusCode === 429 ? 0 : delayMs);
		}
	}
	return { retry: true, delayMs, reason };
}

/**
 * Network failures in words, never by their code: n8n's NodeApiError swaps any message that contains a
 * code such as ECONNREFUSED for a generic sentence of its own, losing ours (which URL, how many attempts).
 * Callers put the code in the description.
 */
const NETWORK_FAILURES: Record<string, string> = {
	ECONNREFUSED: 'the connection was refused',
	ECONNRESET: 'the connection was reset',
	ECONNABORTED: 'the connection was aborted',
	EPIPE: 'the connection broke',
	ETIMEDOUT: 'no answer in time',
	ESOCKETTIMEDOUT: 'no answer in time',
	ENOTFOUND: 'the host name was not found',
	EAI_AGAIN: 'the host name could not be looked up',
	EHOSTUNREACH: 'the host is unreachable',
	ENETUNREACH: 'the network is unreachable',
};

export function describeFailure(failure: AttemptFailure): string {
	switch (failure.kind) {
		case 'status':
			return failure.statusCode === 429 ? 'rate limited (HTTP 429)' : `HTTP ${failure.statusCode}`;
		case 'network':
			return NETWORK_FAILURES[failure.code] ?? 'a network error';
		case 'badBody':
			return failure.reason;
	}
}
