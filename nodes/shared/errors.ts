import type { INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

/** Pulls a human message out of an API error body: `{"detail": ...}`, `{"message": ...}`, Directus `{"errors": [...]}`. */
export function serverMessage(body: unknown): string | undefined {
	let value = Buffer.isBuffer(body) ? body.toString('utf8') : body;
	if (typeof value === 'string') {
		const text = value.trim();
		if (text === '') return undefined;
		try {
			value = JSON.parse(text);
		} catch {
			// A proxy's or load balancer's error page: its title says it, its markup would fill the message.
			const markup = text.startsWith('<');
			const title = markup ? /<title[^>]*>([^<]{1,200})<\/title>/i.exec(text)?.[1] : undefined;
			const plain = markup ? decodeEntities((title ?? text.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim()) : text;
			if (plain === '') return undefined;
			return plain.length > 300 ? `${plain.slice(0, 300)}…` : plain;
		}
	}
	if (!value || typeof value !== 'object') return typeof value === 'string' ? value : undefined;
	// FastAPI's validation errors: {"detail": [{"loc": [...], "msg": "..."}]}.
	if (Array.isArray(value)) return value.length > 0 ? serverMessage(value[0]) : undefined;
	const record = value as Record<string, unknown>;
	for (const key of ['detail', 'message', 'msg', 'error', 'error_description']) {
		const candidate = record[key];
		if (typeof candidate === 'string' && candidate !== '') return withLocation(candidate, record.loc);
		const nested = candidate && typeof candidate === 'object' ? serverMessage(candidate) : undefined;
		if (nested) return nested;
	}
	if (Array.isArray(record.errors) && record.errors.length > 0) return serverMessage(record.errors[0]);
	return undefined;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ndash: '–', mdash: '—' };

/** The few character references an error page's text holds. */
function decodeEntities(text: string): string {
	return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
		if (name[0] === '#') {
			const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
			return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
		}
		return ENTITIES[name.toLowerCase()] ?? whole;
	});
}

/** A FastAPI validation message names the parameter it is about: "min_timestamp: value is not a valid integer". */
function withLocation(message: string, location: unknown): string {
	const name = Array.isArray(location) ? location[location.length - 1] : undefined;
	return typeof name === 'string' || typeof name === 'number' ? `${name}: ${message}` : message;
}

/** Removes every occurrence of the given secrets (API keys, tokens) from a text. */
export function redact(text: string, secrets: Array<string | undefined>): string {
	let result = text;
	for (const secret of secrets) {
		if (secret && secret.length >= 4) result = result.split(secret).join('[redacted]');
	}
	return result;
}

export interface ApiErrorDetails {
	/** What went wrong, in the user's terms. */
	message: string;
	/** What to do about it. */
	description?: string;
	httpCode?: number;
	secrets?: Array<string | undefined>;
	/**
	 * The server refused the credential itself (a login with a wrong password): every later item of the
	 * run would be refused alike, and each login try counts against the account (Directus suspends a user
	 * after 25 failed logins by default). runPerItem then fails the remaining items without a request.
	 */
	refusesEveryItem?: boolean;
}

/** Opens the message of a login a credential's server refused (not a passing failure). */
export const LOGIN_REFUSED = 'login refused';

const refusingEveryItem = new WeakSet<object>();

export function refusesEveryItem(error: unknown): boolean {
	return typeof error === 'object' && error !== null && refusingEveryItem.has(error);
}

/**
 * A NodeApiError built from our own plain object, never from the HTTP client's error: that one carries
 * the request configuration, Authorization header included, into execution data and logs.
 */
export function apiError(node: INode, details: ApiErrorDetails, itemIndex?: number): NodeApiError {
	const secrets = details.secrets ?? [];
	const message = redact(details.message, secrets);
	const description = details.description ? redact(details.description, secrets) : undefined;
	const error = new NodeApiError(
		node,
		{ message, description: description ?? null, httpCode: details.httpCode ?? null } as JsonObject,
		{
			message,
			description,
			httpCode: details.httpCode !== undefined ? String(details.httpCode) : undefined,
			itemIndex,
		},
	);
	if (details.refusesEveryItem) refusingEveryItem.add(error);
	return error;
}

/**
 * The code a network failure counts under: a timeout reaches us under several codes (axios' ECONNABORTED,
 * or a reset once n8n has wrapped it), so one at the request's time limit is ETIMEDOUT.
 */
export function failureCodeAtTimeLimit<C extends string | undefined>(code: C, startedMs: number, timeoutMs: number): C | 'ETIMEDOUT' {
	return code === 'ECONNABORTED' || Date.now() - startedMs >= timeoutMs * 0.95 ? 'ETIMEDOUT' : code;
}

/** The network error code (ECONNRESET, ETIMEDOUT, ...) behind an error thrown by n8n's HTTP helper. */
export function networkErrorCode(error: unknown): string | undefined {
	const seen = new Set<unknown>();
	let current: unknown = error;
	for (let depth = 0; depth < 6 && current && typeof current === 'object' && !seen.has(current); depth++) {
		seen.add(current);
		const record = current as Record<string, unknown>;
		if (typeof record.code === 'string' && /^E[A-Z_]+$|^ERR_/.test(record.code)) return record.code;
		const message = typeof record.message === 'string' ? record.message : '';
		const fromMessage = /\b(E[A-Z]{3,}[A-Z_]*)\b/.exec(message);
		if (fromMessage) return fromMessage[1];
		if (/socket hang up|aborted/i.test(message)) return 'ECONNRESET';
		if (/timeout/i.test(message)) return 'ETIMEDOUT';
		current = record.cause ?? (record.context as Record<string, unknown> | undefined)?.cause;
	}
	return undefined;
}

/**
 * Any error caught around an operation, as the n8n error the UI shows for that item: n8n's own errors
 * keep their text and gain the item index; anything else is wrapped.
 */
export function toNodeError(node: INode, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		if (error.context) error.context.itemIndex = itemIndex;
		return error;
	}
	return new NodeOperationError(node, error instanceof Error ? error : String(error), { itemIndex });
}

/** Whether n8n has cancelled this execution (only execute-type contexts carry the signal). */
export function executionCancelled(context: object): boolean {
	return 'getExecutionCancelSignal' in context && (context as { getExecutionCancelSignal(): AbortSignal | undefined }).getExecutionCancelSignal()?.aborted === true;
}

export function cancelledError(node: INode): NodeOperationError {
	return new NodeOperationError(node, 'The execution was cancelled');
}
