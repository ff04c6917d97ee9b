/**
 * Webhook payloads and deliveries as production's webhook service and Dramatiq task make them:
 * - body: Python `json.dumps(payload)` (default separators, insertion order, ensure_ascii), as
 *   `requests.post(json=...)` sends it; identical bytes on every attempt (the payload, with its
 *   `timestamp`, is built once when the event happens);
 * - `X-Webhook-Signature: sha256=HMAC-SHA256(secret, json.dumps(payload, separators=(",", ":"), sort_keys=True))`
 *   when the webhook has a secret, i.e. NOT over the bytes on the wire (or the docs' variant, see SignatureStyle);
 * - up to 4 attempts: retried on 5xx, other non-2xx/4xx answers, timeouts and network errors; 4xx is final.
 *   The webhook is looked up again before each attempt (by id only, as the task does): a webhook no longer
 *   `published` stops the retries, a changed URL or secret applies to the next attempt.
 */
import { createHmac } from 'node:crypto';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';

import type { ConversationRecord, DembraneStore } from './data';
import { PyFloat, pythonBody, pythonCanonical } from './pythonJson';
import type { DeliveryAttempt, DeliveryEvent, DeliveryResult, DurationLiterals, Project, Report, SignatureStyle, Webhook } from './types';

const LOCALES: Record<string, string> = {
	en: 'en-US',
	nl: 'nl-NL',
	de: 'de-DE',
	fr: 'fr-FR',
	es: 'es-ES',
	it: 'it-IT',
	uk: 'uk-UA',
	cs: 'cs-CZ',
};

/** Epoch microseconds from the high-resolution clock. */
export function nowMicros(): number {
	return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** Python `datetime.now(timezone.utc).isoformat()`: microseconds (left out when zero) and `+00:00`. */
export function pythonIsoFormat(epochMicros: number): string {
	const ms = Math.floor(epochMicros / 1000);
	const micros = epochMicros - ms * 1000 + (ms % 1000) * 1000;
	const base = new Date(ms - (ms % 1000)).toISOString().slice(0, 19);
	return micros === 0 ? `${base}+00:00` : `${base}.${String(micros).padStart(6, '0')}+00:00`;
}

/** A duration as production's payloads and listings carry it. */
export function durationValue(duration: number | null, literals: DurationLiterals): number | PyFloat | null {
	if (duration === null) return null;
	if (literals === 'directus' && Number.isInteger(duration)) return duration;
	return new PyFloat(duration);
}

function dashboardBase(base: string, project: Project): string {
	const locale = LOCALES[project.language || 'en'] ?? 'en-US';
	return `${base.replace(/\/+$/, '')}/${locale}/w/${project.workspaceId}/projects/${project.id}`;
}

function projectData(project: Project): Record<string, unknown> {
	return { id: project.id, name: project.name, language: project.language };
}

export interface PayloadSettings {
	dashboardBaseUrl: string;
	durationLiterals: DurationLiterals;
}

export function conversationPayload(
	store: DembraneStore,
	record: ConversationRecord,
	event: DeliveryEvent,
	settings: PayloadSettings,
	epochMicros = nowMicros(),
): Record<string, unknown> {
	const row = record.row;
	const project = store.project(row.project_id)!;
	const conversation: Record<string, unknown> = {
		id: row.id,
		created_at: row.created_at,
		updated_at: row.updated_at,
		participant_name: row.participant_name,
		duration: durationValue(row.duration, settings.durationLiterals),
		source: row.source,
		is_finished: row.is_finished,
		is_all_chunks_transcribed: row.is_all_chunks_transcribed,
		tags: store.tagTexts(record),
		emails_csv: row.notificationEmails.join(','),
	};
	if (event === 'conversation.transcribed' || event === 'conversation.summarized') conversation.transcript = store.webhookTranscript(record);
	if (event === 'conversation.summarized') conversation.summary = row.summary || '';
	return {
		event,
		timestamp: pythonIsoFormat(epochMicros),
		conversation,
		project: projectData(project),
		dashboardUrl: `${dashboardBase(settings.dashboardBaseUrl, project)}/conversations/${row.id}/overview`,
	};
}

export function reportPayload(store: DembraneStore, report: Report, settings: PayloadSettings, epochMicros = nowMicros()): Record<string, unknown> {
	const project = store.project(report.project_id)!;
	return {
		event: 'report.generated',
		timestamp: pythonIsoFormat(epochMicros),
		report: { id: report.id, status: report.status, language: report.language, date_created: report.date_created },
		project: projectData(project),
		dashboardUrl: `${dashboardBase(settings.dashboardBaseUrl, project)}/report`,
	};
}

/**
 * The test route's payload: production builds a summarized-event payload for a mock conversation
 * (whole-number `duration: 120` as a Python int, Python-isoformat times) and renames the event.
 */
export function testPayload(project: Project, settings: PayloadSettings, epochMicros = nowMicros()): Record<string, unknown> {
	const now = pythonIsoFormat(epochMicros);
	return {
		event: 'webhook.test',
		timestamp: pythonIsoFormat(epochMicros),
		conversation: {
			id: 'test-conversation-id',
			created_at: now,
			updated_at: now,
			participant_name: 'Test Participant',
			duration: 120,
			source: 'PORTAL_AUDIO',
			is_finished: true,
			is_all_chunks_transcribed: true,
			tags: [],
			emails_csv: 'test@example.com,another@example.com',
			transcript: 'This is a test transcript for webhook testing.',
			summary: 'This is a test summary for webhook testing.',
		},
		project: projectData(project),
		dashboardUrl: `${dashboardBase(settings.dashboardBaseUrl, project)}/conversations/test-conversation-id/overview`,
	};
}

export function productionSignature(payload: unknown, secret: string): string {
	return `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(pythonCanonical(payload), 'utf8')).digest('hex')}`;
}

export function docsSignature(body: string, secret: string): string {
	return `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(body, 'utf8')).digest('hex')}`;
}

/** Headers of one delivery, in the order `requests` sends them. */
export function deliveryHeaders(event: string, payload: unknown, body: string, secret: string | null, style: SignatureStyle): Record<string, string> {
	const headers: Record<string, string> = {
		'User-Agent': 'Dembrane-Webhook/1.0',
		'Accept-Encoding': 'gzip, deflate',
		Accept: '*/*',
		Connection: 'keep-alive',
		'Content-Type': 'application/json',
		'X-Webhook-Event': event,
	};
	if (secret) {
		if (style !== 'docs') headers['X-Webhook-Signature'] = productionSignature(payload, secret);
		if (style !== 'production') headers['X-Dembrane-Signature'] = docsSignature(body, secret);
	}
	headers['Content-Length'] = String(Buffer.byteLength(body, 'utf8'));
	return headers;
}

export interface DeliveryConfig {
	retryDelaysMs: number[];
	timeoutMs: number;
	connectTimeoutMs: number;
	signatureStyle: SignatureStyle;
}

export interface SendOutcome {
	status: number | null;
	text: string;
	/** Short error code: `read-timeout`, `connect-timeout`, `ECONNREFUSED`, `ECONNRESET`, `closed`, ... */
	error?: string;
	/** The error as `requests` would word it (the test route's message). */
	message?: string;
}

/** Sends webhook deliveries and keeps track of them so close() can stop everything. */
export class WebhookDispatcher {
	private closed = false;
	private readonly requests = new Set<ClientRequest>();
	private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
	private readonly pending = new Set<Promise<unknown>>();

	constructor(
		private readonly config: () => DeliveryConfig,
		private readonly lookup: (webhookId: string) => Webhook | undefined,
		private readonly record: (attempt: DeliveryAttempt) => void,
	) {}

	/** Delivers one payload to one webhook with production's retries; resolves after the last attempt. */
	deliver(webhook: Webhook, payload: Record<string, unknown>): Promise<DeliveryResult> {
		const promise = this.run(webhook, payload);
		this.pending.add(promise);
		void promise.finally(() => this.pending.delete(promise));
		return promise;
	}

	/** Resolves when every delivery started so far has finished (including those started meanwhile). */
	async idle(): Promise<void> {
		while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
	}

	private async run(webhook: Webhook, payload: Record<string, unknown>): Promise<DeliveryResult> {
		const event = payload.event as DeliveryEvent;
		const body = pythonBody(payload);
		const bodyBytes = Buffer.byteLength(body, 'utf8');
		const result: DeliveryResult = { webhookId: webhook.id, event, url: webhook.url, delivered: false, attempts: 0, status: null, body, headers: {}, payload };
		const maxAttempts = this.config().retryDelaysMs.length + 1;
		for (let attempt = 1; attempt <= maxAttempts; attempt++) {
			if (attempt > 1) await this.wait(this.config().retryDelaysMs[attempt - 2]);
			if (this.closed) {
				result.stopped = 'closed';
				break;
			}
			const current = this.lookup(webhook.id);
			if (!current || current.status !== 'published') {
				result.stopped = 'unpublished';
				break;
			}
			const config = this.config();
			const headers = deliveryHeaders(event, payload, body, current.secret, config.signatureStyle);
			const started = performance.now();
			const outcome = await this.send(current.url, headers, body);
			result.attempts = attempt;
			result.url = current.url;
			result.headers = headers;
			result.status = outcome.status;
			result.error = outcome.error;
			this.record({
				at: Date.now(),
				webhookId: webhook.id,
				event,
				url: current.url,
				attempt,
				status: outcome.status,
				...(outcome.error ? { error: outcome.error } : {}),
				bodyBytes,
				durationMs: performance.now() - started,
			});
			if (outcome.status !== null && outcome.status >= 200 && outcome.status < 300) {
				result.delivered = true;
				break;
			}
			if (outcome.status !== null && outcome.status >= 400 && outcome.status < 500) break;
			if (outcome.error === 'closed') {
				result.stopped = 'closed';
				break;
			}
		}
		return result;
	}

	/** One attempt, no retries (the test route uses this directly). */
	send(url: string, headers: Record<string, string>, body: string): Promise<SendOutcome> {
		if (this.closed) return Promise.resolve({ status: null, text: '', error: 'closed', message: 'stand-in closed' });
		let target: URL;
		try {
			target = new URL(url);
		} catch {
			return Promise.resolve({ status: null, text: '', error: 'invalid-url', message: `Invalid URL '${url}': No scheme supplied.` });
		}
		const pool = `${target.protocol === 'https:' ? 'HTTPS' : 'HTTP'}ConnectionPool(host='${target.hostname}', port=${target.port || (target.protocol === 'https:' ? 443 : 80)})`;
		const { timeoutMs, connectTimeoutMs } = this.config();
		return new Promise<SendOutcome>((resolve) => {
			let settled = false;
			let connectTimer: NodeJS.Timeout | undefined;
			const finish = (outcome: SendOutcome) => {
				if (settled) return;
				settled = true;
				if (connectTimer) clearTimeout(connectTimer);
				this.requests.delete(request);
				request.destroy();
				resolve(outcome);
			};
			const requestFn = target.protocol === 'https:' ? httpsRequest : httpRequest;
			const request = requestFn(target, { method: 'POST', headers, agent: false }, (response: IncomingMessage) => {
				const chunks: Buffer[] = [];
				let kept = 0;
				response.on('data', (chunk: Buffer) => {
					if (kept < 65_536) {
						chunks.push(chunk);
						kept += chunk.length;
					}
				});
				response.on('end', () => finish({ status: response.statusCode ?? null, text: Buffer.concat(chunks).toString('utf8') }));
				response.on('error', () => finish({ status: response.statusCode ?? null, text: Buffer.concat(chunks).toString('utf8') }));
			});
			this.requests.add(request);
			connectTimer = setTimeout(() => {
				finish({ status: null, text: '', error: 'connect-timeout', message: `${pool}: Max retries exceeded with url: ${target.pathname} (Caused by ConnectTimeoutError(connect timeout=${connectTimeoutMs / 1000}))` });
			}, connectTimeoutMs);
			request.on('socket', (socket) => {
				const connected = () => {
					if (connectTimer) clearTimeout(connectTimer);
					connectTimer = undefined;
				};
				if (!socket.connecting) connected();
				else socket.once('connect', connected);
			});
			request.setTimeout(timeoutMs, () => {
				finish({ status: null, text: '', error: 'read-timeout', message: `${pool}: Read timed out. (read timeout=${timeoutMs / 1000})` });
			});
			request.on('error', (error: NodeJS.ErrnoException) => {
				const code = this.closed ? 'closed' : (error.code ?? 'network-error');
				finish({
					status: null,
					text: '',
					error: code,
					message:
						code === 'ECONNREFUSED'
							? `${pool}: Max retries exceeded with url: ${target.pathname} (Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))`
							: `('Connection aborted.', ${error.message})`,
				});
			});
			request.end(body);
		});
	}

	private wait(ms: number): Promise<void> {
		if (this.closed || ms <= 0) return Promise.resolve();
		return new Promise<void>((resolve) => {
			const entry = {
				timer: setTimeout(() => {
					this.waits.delete(entry);
					resolve();
				}, ms),
				resolve,
			};
			this.waits.add(entry);
		});
	}

	/** Stops: pending back-offs end at once, requests in flight are destroyed; deliveries resolve as `closed`. */
	async close(): Promise<void> {
		this.closed = true;
		for (const entry of this.waits) {
			clearTimeout(entry.timer);
			entry.resolve();
		}
		this.waits.clear();
		for (const request of this.requests) request.destroy(new Error('stand-in closed'));
		await Promise.allSettled([...this.pending]);
	}
}
