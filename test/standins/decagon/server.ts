/**
 * The Decagon stand-in's HTTP side: `GET /conversation/export` and `GET /health` as the docs and a
 * production client describe them, a 1-request-per-second limiter over every API route, switchable
 * quirks and faults, and `/__standin/*` control routes for tests that run it in another process.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import { LoopbackServer } from '../common';
import { dataOptionsChanged, dataOptionsOf, defaultOptions, mergeOptions } from './options';
import { hash32 } from './random';
import type { CursorKey, ExportQuery } from './store';
import { ConversationStore, timeOf } from './store';
import { US_PER_SECOND } from './timestamps';
import type {
	DecagonConversation,
	DecagonConversationInput,
	DecagonStandinOptions,
	DecagonStandinRequest,
	DecagonStandinStats,
	FaultKind,
	MessageRole,
	SortOrder,
	TimestampField,
} from './types';
import { TIMESTAMP_FIELDS } from './types';

const MAX_KEPT_REQUESTS = 10_000;
const MAX_KEPT_CURSORS = 200_000;

class HttpProblem extends Error {
	constructor(
		readonly status: number,
		readonly detail: string,
	) {
		super(detail);
	}
}

function emptyStats(): DecagonStandinStats {
	return {
		requests: [],
		requestsDropped: 0,
		rateLimited: 0,
		exportRequests: 0,
		faultsInjected: 0,
		unauthorized: 0,
		pagesServed: 0,
		conversationsServed: 0,
		updatedDuringExport: [],
		emptyPageServed: false,
	};
}

function nowMs(): number {
	return performance.timeOrigin + performance.now();
}

export class DecagonStandinServer {
	private options: DecagonStandinOptions;
	private readonly store: ConversationStore;
	private statsData = emptyStats();
	private lastAcceptedAt: number | undefined;
	/** Page number of each cursor handed out, for page-numbered quirks (repeatCursor, emptyPageWithCursor, updateDuringExport). */
	private readonly cursorPages = new Map<string, number>();
	/** Virtual clock: `nowEpoch` at `clockStartMs`, moving with real time. */
	private clockStartMs = nowMs();
	private readonly server: LoopbackServer;

	constructor(partial: Partial<DecagonStandinOptions> = {}) {
		this.options = mergeOptions(defaultOptions(), partial);
		this.store = new ConversationStore(dataOptionsOf(this.options));
		this.server = new LoopbackServer((request, response) => this.handle(request, response));
	}

	async listen(): Promise<string> {
		return await this.server.listen(this.options.port);
	}

	get url(): string {
		return this.server.url;
	}

	async close(): Promise<void> {
		await this.server.close();
	}

	currentOptions(): DecagonStandinOptions {
		return structuredClone(this.options);
	}

	/** Changes options; regenerates data when a data option changed; restarts request numbering and the limiter. */
	configure(partial: Partial<DecagonStandinOptions>): void {
		const before = this.options;
		const after = mergeOptions(before, partial);
		if (after.port !== before.port) throw new Error('option "port" is fixed at start');
		this.options = after;
		if (after.nowEpoch !== before.nowEpoch) this.clockStartMs = nowMs();
		if (dataOptionsChanged(before, after)) {
			this.store.regenerate(dataOptionsOf(after));
			this.cursorPages.clear();
		}
		this.statsData.exportRequests = 0;
		this.lastAcceptedAt = undefined;
	}

	stats(): DecagonStandinStats {
		return structuredClone(this.statsData);
	}

	resetStats(): void {
		this.statsData = emptyStats();
		this.lastAcceptedAt = undefined;
	}

	/** The stand-in's "now" in epoch seconds (fractional). */
	nowEpoch(): number {
		return this.options.nowEpoch + (nowMs() - this.clockStartMs) / 1000;
	}

	private nowUs(): number {
		return Math.floor(this.nowEpoch() * US_PER_SECOND);
	}

	conversations(): DecagonConversation[] {
		return this.store.all(this.view());
	}

	conversation(id: string): DecagonConversation | undefined {
		const record = this.store.get(id);
		return record ? this.store.serve(record, this.view()) : undefined;
	}

	/** Appends a message (at the stand-in's now unless given) so the conversation's updated_at moves. */
	addMessage(id: string, text?: string, atEpochSeconds?: number, role?: MessageRole): DecagonConversation {
		const atUs = atEpochSeconds === undefined ? this.nowUs() : Math.round(atEpochSeconds * US_PER_SECOND);
		return this.store.serve(this.store.addMessage(id, atUs, text, role), this.view());
	}

	addConversation(input: DecagonConversationInput = {}): DecagonConversation {
		return this.store.serve(this.store.add(input, this.nowUs()), this.view());
	}

	private view() {
		return { timestampFormat: this.options.timestampFormat, bareTagIds: this.options.bareTagIds };
	}

	// ----- HTTP -----

	private handle(request: IncomingMessage, response: ServerResponse): void {
		const at = nowMs();
		const url = new URL(request.url ?? '/', 'http://127.0.0.1');
		if (url.pathname.startsWith('/__standin/')) {
			this.handleControl(request, response, url).catch((error: Error) => sendJson(response, 400, { detail: error.message }));
			return;
		}
		const entry: DecagonStandinRequest = {
			at,
			method: request.method ?? 'GET',
			path: url.pathname,
			query: Object.fromEntries(url.searchParams),
			status: 0,
			cursorSent: url.searchParams.get('cursor'),
			conversationsReturned: 0,
		};
		this.record(entry);
		response.on('close', () => {
			entry.status = response.headersSent && response.writableFinished ? response.statusCode : entry.status;
			entry.durationMs = nowMs() - at;
		});
		try {
			this.handleApi(request, response, url, entry, at);
		} catch (error) {
			const problem = error instanceof HttpProblem ? error : new HttpProblem(500, (error as Error).message);
			entry.status = problem.status;
			sendJson(response, problem.status, { detail: problem.detail });
		}
	}

	private record(entry: DecagonStandinRequest): void {
		const requests = this.statsData.requests;
		requests.push(entry);
		if (requests.length > MAX_KEPT_REQUESTS) {
			requests.splice(0, requests.length - MAX_KEPT_REQUESTS);
			this.statsData.requestsDropped++;
		}
	}

	private handleApi(request: IncomingMessage, response: ServerResponse, url: URL, entry: DecagonStandinRequest, at: number): void {
		const o = this.options;
		// Decagon: 1 request per second across all endpoints; requests refused here do not count.
		if (o.rateLimitPerSecond > 0) {
			const intervalMs = 1000 / o.rateLimitPerSecond;
			if (this.lastAcceptedAt !== undefined && at - this.lastAcceptedAt < intervalMs - o.rateLimitToleranceMs) {
				this.statsData.rateLimited++;
				entry.status = 429;
				const waitMs = intervalMs - (at - this.lastAcceptedAt);
				sendRateLimited(response, o, waitMs);
				return;
			}
			this.lastAcceptedAt = at;
		}
		if (request.method !== 'GET') throw new HttpProblem(405, 'Method Not Allowed');
		if (url.pathname === '/health') {
			sendJson(response, 200, { status: 'ok' });
			return;
		}
		if (url.pathname !== '/conversation/export') throw new HttpProblem(404, 'Not Found');

		const key = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
		if (key !== o.apiKey) {
			this.statsData.unauthorized++;
			if (key !== undefined && o.forbiddenApiKeys.includes(key)) {
				throw new HttpProblem(403, 'This API key is not allowed to export conversations');
			}
			throw new HttpProblem(401, key === undefined ? 'Missing API key' : 'Invalid API key');
		}

		const number = ++this.statsData.exportRequests;
		const fault = this.faultFor(number);
		if (fault) {
			this.statsData.faultsInjected++;
			entry.fault = fault;
		}
		if (fault && fault !== 'truncated' && fault !== 'reset') {
			entry.status = this.sendFault(response, fault);
			return;
		}

		const query = parseExportQuery(url.searchParams);
		const cursorSent = url.searchParams.get('cursor');
		const page = cursorSent && cursorSent !== '0' ? (this.cursorPages.get(cursorSent) ?? 2) : 1;
		entry.page = page;
		const body = this.exportPage(query, cursorSent && cursorSent !== '0' ? cursorSent : undefined, page);
		const text = JSON.stringify(body);
		const conversations = (body.conversations as unknown[]).length;

		const answer = () => {
			if (fault === 'reset') {
				const bytes = Buffer.from(text);
				response.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
				response.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => response.socket?.destroy());
				return;
			}
			if (fault === 'truncated') {
				entry.status = 200;
				sendRaw(response, 200, 'application/json', text.slice(0, Math.floor(text.length / 2)));
				return;
			}
			entry.status = 200;
			entry.conversationsReturned = conversations;
			this.statsData.pagesServed++;
			this.statsData.conversationsServed += conversations;
			sendRaw(response, 200, 'application/json', text);
		};
		if (o.latencyMs > 0) setTimeout(answer, o.latencyMs);
		else answer();
	}

	private faultFor(requestNumber: number): FaultKind | undefined {
		const listed = this.options.faults.find((fault) => fault.request === requestNumber);
		if (listed) return listed.kind;
		const { faultRate, faultKinds, seed } = this.options;
		if (faultRate <= 0) return undefined;
		const draw = hash32(seed, requestNumber, 0xfa17);
		if (draw / 0x1_0000_0000 >= faultRate) return undefined;
		return faultKinds[hash32(draw, 1) % faultKinds.length];
	}

	private sendFault(response: ServerResponse, fault: FaultKind): number {
		switch (fault) {
			case '429':
				sendRateLimited(response, { ...this.options, retryAfterHeader: true }, 1000);
				return 429;
			case '429-no-retry-after':
				sendRateLimited(response, { ...this.options, retryAfterHeader: false }, 1000);
				return 429;
			case '500':
				sendJson(response, 500, { detail: 'Internal Server Error' });
				return 500;
			case '502':
				// What a proxy in front of the API sends: HTML, not JSON.
				sendRaw(response, 502, 'text/html', '<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>');
				return 502;
			case '503':
				sendJson(response, 503, { detail: 'Service Unavailable' });
				return 503;
			case 'hang':
				return 0; // never answered; close() ends the socket
			case '401':
				sendJson(response, 401, { detail: 'Invalid API key' });
				return 401;
			default:
				throw new Error(`fault ${fault} is not a status fault`);
		}
	}

	private exportPage(query: ExportQuery, cursorSent: string | undefined, page: number): Record<string, unknown> {
		const o = this.options;
		if (cursorSent !== undefined) query.after = decodeCursor(cursorSent, o.integerCursorSeconds);
		const endValue = { null: null, missing: undefined, empty: '', zero: 0 }[o.endMarker];

		// Once (until resetStats), as a passing fault: asked again, the page has its conversations.
		if (o.emptyPageWithCursor === page && !this.statsData.emptyPageServed) {
			this.statsData.emptyPageServed = true;
			const next = cursorSent !== undefined ? this.issueCursor(query.after!, page, 'again') : undefined;
			return withCursor({ conversations: [] }, o.cursorField, next ?? endValue, o.nullPageCursorBeside);
		}

		const repeated = cursorSent !== undefined ? this.store.repeatBefore(query, Math.min(o.duplicatesAcrossPages, o.pageSize - 1)) : [];
		const { records: fresh, more } = this.store.page(query, o.pageSize - repeated.length);
		const records = [...repeated, ...fresh];
		const view = this.view();
		const conversations = records.map((record) => this.store.serve(record, view));

		let next: string | number | null | undefined = endValue;
		const last = fresh[fresh.length - 1];
		if ((more || o.echoCursorAtEnd) && last) next = this.issueCursor({ us: timeOf(last, query.field), id: last.id }, page);
		if (o.echoCursorAtEnd && records.length === 0 && cursorSent !== undefined) next = cursorSent;
		const cutShort = o.fullPageWithoutCursor === true || (typeof o.fullPageWithoutCursor === 'number' && page >= o.fullPageWithoutCursor);
		if (more && cutShort && records.length === o.pageSize) next = endValue;
		if (o.repeatCursor > 0 && page >= o.repeatCursor && cursorSent !== undefined) next = cursorSent;

		// A conversation that gets a new message while the export runs: it moves behind the cursor.
		// Once (until resetStats): without cursors every read of an export is a page 1.
		const update = o.updateDuringExport;
		if (update && update.afterPage === page && this.statsData.updatedDuringExport.length === 0) {
			for (const record of fresh.slice(0, update.count)) {
				this.store.addMessage(record.id, this.nowUs());
				this.statsData.updatedDuringExport.push(record.id);
			}
		}
		return withCursor({ conversations }, o.cursorField, next, o.nullPageCursorBeside);
	}

	private issueCursor(key: CursorKey, page: number, nonce?: string): string | number {
		let cursor: string | number;
		if (this.options.cursorField === 'next_page_updated_after') {
			// An integer, as in the docs' example response: microseconds, or its whole second.
			cursor = this.options.integerCursorSeconds ? Math.floor(key.us / 1e6) : key.us;
		} else {
			cursor = Buffer.from(`${key.us}|${key.id ?? ''}${nonce ? `|${nonce}` : ''}`).toString('base64url');
		}
		if (this.cursorPages.size >= MAX_KEPT_CURSORS) this.cursorPages.clear();
		this.cursorPages.set(String(cursor), page + 1);
		return cursor;
	}

	// ----- control routes -----

	private async handleControl(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
		const body = request.method === 'POST' ? await readJson(request) : undefined;
		switch (`${request.method} ${url.pathname}`) {
			case 'GET /__standin/options':
				return sendJson(response, 200, this.currentOptions());
			case 'POST /__standin/configure':
				this.configure(body as Partial<DecagonStandinOptions>);
				return sendJson(response, 200, this.currentOptions());
			case 'GET /__standin/stats':
				return sendJson(response, 200, this.stats());
			case 'POST /__standin/reset-stats':
				this.resetStats();
				return sendJson(response, 200, { ok: true });
			case 'GET /__standin/conversations':
				return sendJson(response, 200, { count: this.store.size, nowEpoch: this.nowEpoch(), conversations: this.conversations() });
			case 'POST /__standin/add-message': {
				const { id, text, at } = (body ?? {}) as { id?: string; text?: string; at?: number };
				const target = id ?? this.store.ids()[0];
				return sendJson(response, 200, this.addMessage(target, text, at));
			}
			case 'POST /__standin/add-conversation':
				return sendJson(response, 200, this.addConversation((body ?? {}) as DecagonConversationInput));
			default:
				return sendJson(response, 404, { detail: 'Unknown control route' });
		}
	}
}

function withCursor(body: Record<string, unknown>, field: string, value: unknown, nullPageCursorBeside = false): Record<string, unknown> {
	if (nullPageCursorBeside && field !== 'next_page_cursor') body.next_page_cursor = null;
	if (value !== undefined) body[field] = value;
	return body;
}

function decodeCursor(cursor: string, wholeSeconds: boolean): CursorKey {
	// Whole seconds are read as "after that second": its last microsecond.
	if (/^\d+$/.test(cursor)) return { us: wholeSeconds ? (Number(cursor) + 1) * 1e6 - 1 : Number(cursor) };
	const [us, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
	if (!/^\d+$/.test(us ?? '') || !id) throw new HttpProblem(400, 'Invalid cursor');
	return { us: Number(us), id };
}

function parseExportQuery(params: URLSearchParams): ExportQuery {
	const integer = (name: string): number | undefined => {
		const text = params.get(name);
		if (text === null || text === '') return undefined;
		if (!/^-?\d+$/.test(text)) throw new HttpProblem(422, `${name} must be an integer number of seconds since 1970-01-01`);
		return Number(text);
	};
	const min = integer('min_timestamp');
	const max = integer('max_timestamp');
	const field = (params.get('timestamp_filter') || 'created_at') as TimestampField;
	if (!TIMESTAMP_FIELDS.includes(field)) {
		throw new HttpProblem(422, `timestamp_filter must be one of ${TIMESTAMP_FIELDS.join(', ')}`);
	}
	const order = (params.get('order') || 'asc').toLowerCase() as SortOrder;
	if (order !== 'asc' && order !== 'desc') throw new HttpProblem(422, 'order must be asc or desc');
	let metadataFilter: Record<string, unknown> | undefined;
	const userFilters = params.get('user_filters');
	if (userFilters) {
		let parsed: unknown;
		try {
			parsed = JSON.parse(userFilters);
		} catch {
			throw new HttpProblem(422, 'user_filters must be a JSON object');
		}
		const filter = (parsed as Record<string, unknown> | null)?.metadata_filter;
		const keys = parsed && typeof parsed === 'object' ? Object.keys(parsed) : [];
		if (!filter || typeof filter !== 'object' || Array.isArray(filter) || keys.some((k) => k !== 'metadata_filter')) {
			throw new HttpProblem(422, 'user_filters supports only {"metadata_filter": {"key": "value"}}');
		}
		metadataFilter = filter as Record<string, unknown>;
	}
	return {
		field,
		order,
		minUs: min === undefined ? -Infinity : min * US_PER_SECOND,
		maxUs: max === undefined ? Infinity : max * US_PER_SECOND,
		metadataFilter,
		after: undefined,
	};
}

function sendRateLimited(response: ServerResponse, o: DecagonStandinOptions, waitMs: number): void {
	const headers: Record<string, string> = {};
	if (o.retryAfterHeader) {
		headers['retry-after'] =
			o.retryAfterFormat === 'http-date'
				? new Date(Date.now() + Math.max(waitMs, 1000)).toUTCString()
				: String(Math.max(1, Math.ceil(waitMs / 1000)));
	}
	sendRaw(response, 429, 'application/json', JSON.stringify({ detail: 'Rate limit exceeded: 1 request per second' }), headers);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
	sendRaw(response, status, 'application/json', JSON.stringify(body));
}

function sendRaw(response: ServerResponse, status: number, type: string, text: string, headers: Record<string, string> = {}): void {
	const bytes = Buffer.from(text);
	response.writeHead(status, { 'content-type': type, 'content-length': bytes.length, ...headers });
	response.end(bytes);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
	const chunks: Buffer[] = [];
	for await (const chunk of request) chunks.push(chunk as Buffer);
	const text = Buffer.concat(chunks).toString('utf8');
	return text ? JSON.parse(text) : {};
}

