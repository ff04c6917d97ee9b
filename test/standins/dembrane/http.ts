/**
 * HTTP plumbing of the dembrane stand-in: FastAPI-style errors (`{"detail": ...}`, 422 with pydantic's
 * error list), query parsing with pydantic's rules, JSON answers written the Python way and gzipped
 * like production's GZipMiddleware (JSON of 1,024 bytes or more, when the client accepts gzip).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

import { fastApiJson } from './pythonJson';

const PYDANTIC_VERSION = '2.12';

export class HttpProblem extends Error {
	constructor(
		readonly status: number,
		readonly detail: unknown,
		readonly headers: Record<string, string> = {},
	) {
		super(typeof detail === 'string' ? detail : JSON.stringify(detail));
	}
}

export type ValidationError = Record<string, unknown>;

/** One pydantic v2 error as FastAPI 0.109 answers it. */
export function validationError(type: string, loc: Array<string | number>, msg: string, input: unknown, ctx?: Record<string, unknown>): ValidationError {
	return { type, loc, msg, input, ...(ctx ? { ctx } : {}), url: `https://errors.pydantic.dev/${PYDANTIC_VERSION}/v/${type}` };
}

const TRUE_WORDS = ['1', 'on', 't', 'true', 'y', 'yes'];
const FALSE_WORDS = ['0', 'off', 'f', 'false', 'n', 'no'];

/** Reads query (or path) parameters with FastAPI/pydantic's coercions, collecting every error. */
export class ParamReader {
	readonly errors: ValidationError[] = [];

	constructor(
		private readonly params: URLSearchParams,
		private readonly where: 'query' | 'path' = 'query',
	) {}

	/** Starlette hands a scalar parameter its last value. */
	private raw(name: string): string | undefined {
		const values = this.params.getAll(name);
		return values.length > 0 ? values[values.length - 1] : undefined;
	}

	string(name: string, required: true): string;
	string(name: string, required?: false): string | undefined;
	string(name: string, required = false): string | undefined {
		const value = this.raw(name);
		if (value === undefined && required) this.errors.push(validationError('missing', [this.where, name], 'Field required', null));
		return value;
	}

	integer(name: string, fallback: number | undefined, bounds: { ge?: number; le?: number } = {}): number | undefined {
		const text = this.raw(name);
		if (text === undefined) {
			if (fallback === undefined) this.errors.push(validationError('missing', [this.where, name], 'Field required', null));
			return fallback;
		}
		const trimmed = text.trim();
		if (!/^[+-]?\d+$/.test(trimmed)) {
			this.errors.push(validationError('int_parsing', [this.where, name], 'Input should be a valid integer, unable to parse string as an integer', text));
			return fallback;
		}
		const value = Number(trimmed);
		if (bounds.ge !== undefined && value < bounds.ge) {
			this.errors.push(validationError('greater_than_equal', [this.where, name], `Input should be greater than or equal to ${bounds.ge}`, text, { ge: bounds.ge }));
			return fallback;
		}
		if (bounds.le !== undefined && value > bounds.le) {
			this.errors.push(validationError('less_than_equal', [this.where, name], `Input should be less than or equal to ${bounds.le}`, text, { le: bounds.le }));
			return fallback;
		}
		return value;
	}

	boolean(name: string, fallback: boolean): boolean {
		const text = this.raw(name);
		if (text === undefined) return fallback;
		const word = text.trim().toLowerCase();
		if (TRUE_WORDS.includes(word)) return true;
		if (FALSE_WORDS.includes(word)) return false;
		this.errors.push(validationError('bool_parsing', [this.where, name], 'Input should be a valid boolean, unable to interpret input', text));
		return fallback;
	}

	literal<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
		const text = this.raw(name);
		if (text === undefined) return fallback;
		if ((allowed as readonly string[]).includes(text)) return text as T;
		const quoted = allowed.map((value) => `'${value}'`);
		const expected = `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
		this.errors.push(validationError('literal_error', [this.where, name], `Input should be ${expected}`, text, { expected }));
		return fallback;
	}

	/** Throws the collected errors as a 422. */
	check(): void {
		if (this.errors.length > 0) throw new HttpProblem(422, this.errors);
	}
}

/** Reads a request body (at most `limit` bytes). */
export async function readBody(request: IncomingMessage, limit = 5 * 1024 * 1024): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of request) {
		size += (chunk as Buffer).length;
		if (size > limit) throw new HttpProblem(413, 'Request body too large');
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks);
}

/** A FastAPI JSON body: 422 `json_invalid` when it does not parse, `missing` when empty. */
export function parseJsonBody(bytes: Buffer): unknown {
	const text = bytes.toString('utf8');
	if (text.trim() === '') throw new HttpProblem(422, [validationError('missing', ['body'], 'Field required', null)]);
	try {
		return JSON.parse(text) as unknown;
	} catch (error) {
		const position = Number(/position (\d+)/.exec((error as Error).message)?.[1] ?? 0);
		throw new HttpProblem(422, [validationError('json_invalid', ['body', position], 'JSON decode error', {}, { error: 'Expecting value' })]);
	}
}

export interface AnswerContext {
	request: IncomingMessage;
	response: ServerResponse;
	/** Arrival (performance.now()) for X-Process-Time. */
	startedAt: number;
	/** The `reset` fault: send the headers and part of the body, then destroy the socket. */
	reset: boolean;
	gzip: boolean;
	now: () => number;
}

function processTime(context: AnswerContext): string {
	return String((context.now() - context.startedAt) / 1000);
}

/** Sends a complete body: gzipped when allowed, cut and reset when the `reset` fault hit. */
export function sendBytes(context: AnswerContext, status: number, contentType: string, body: Buffer, headers: Record<string, string> = {}): void {
	const { request, response } = context;
	if (response.headersSent || response.destroyed) return;
	let bytes = body;
	const head: Record<string, string | number> = { 'content-type': contentType, 'x-process-time': processTime(context), ...headers };
	const accepts = String(request.headers['accept-encoding'] ?? '').includes('gzip');
	if (context.gzip && accepts && contentType.startsWith('application/json') && bytes.length >= 1024) {
		bytes = gzipSync(bytes);
		head['content-encoding'] = 'gzip';
		head.vary = 'Accept-Encoding';
	}
	head['content-length'] = bytes.length;
	if (context.reset) {
		response.writeHead(status, head);
		response.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => response.socket?.destroy());
		return;
	}
	response.writeHead(status, head);
	response.end(request.method === 'HEAD' ? undefined : bytes);
}

/** A FastAPI JSON answer (Python `json.dumps`, compact, UTF-8). */
export function sendApiJson(context: AnswerContext, status: number, body: unknown, headers: Record<string, string> = {}): void {
	sendBytes(context, status, 'application/json', Buffer.from(fastApiJson(body), 'utf8'), headers);
}

/** A Directus (Node) JSON answer. */
export function sendNodeJson(context: AnswerContext, status: number, body: unknown): void {
	sendBytes({ ...context, gzip: false }, status, 'application/json; charset=utf-8', Buffer.from(JSON.stringify(body), 'utf8'));
}

export function sendNoContent(context: AnswerContext, status = 204): void {
	const { response } = context;
	if (response.headersSent || response.destroyed) return;
	if (context.reset) {
		response.socket?.destroy();
		return;
	}
	response.writeHead(status, { 'x-process-time': processTime(context) });
	response.end();
}

/** Starlette's answer to an exception nobody handled. */
export function sendInternalError(context: AnswerContext): void {
	sendBytes({ ...context, gzip: false }, 500, 'text/plain; charset=utf-8', Buffer.from('Internal Server Error'));
}
