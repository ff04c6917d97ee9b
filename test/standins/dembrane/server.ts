/**
 * The dembrane ECHO stand-in's HTTP side: the API routes of api-notes (`/api/...`), Directus' login and
 * refresh (`/directus/auth/...`), webhook deliveries, switchable quirks and faults, and `/__standin/*`
 * control routes for tests that run it in another process.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import { LoopbackServer } from '../common';
import { handleControl } from './control';
import type { ConversationRecord } from './data';
import { DembraneStore, directusTime, pythonStrip } from './data';
import { DirectusAuth } from './directus';
import type { AnswerContext } from './http';
import { HttpProblem, ParamReader, readBody, sendApiJson, sendBytes, sendInternalError, sendNodeJson, sendNoContent } from './http';
import { issueAccessToken, verifyJwt } from './jwt';
import type { ConversationSort } from './listing';
import { DEFAULT_FIELDS, filterConversations, fullRow, listChunkRows, listExtras, pickFields, relationCounts, searchTokens, SORTS, sortConversations, tagRows, tieOrder } from './listing';
import { dataOptionsChanged, dataOptionsOf, defaultOptions, mergeOptions } from './options';
import { PyFloat, pythonBody } from './pythonJson';
import type {
	Chunk,
	Conversation,
	ConversationInput,
	DeliveryAttempt,
	DeliveryResult,
	DembraneStandinOptions,
	DembraneStandinRequest,
	DembraneStandinStats,
	FaultKind,
	Project,
	Report,
	Webhook,
	WebhookEvent,
	WebhookStatus,
	WorkspaceAccess,
} from './types';
import { WEBHOOK_EVENTS } from './types';
import { checkWebhookFields, parseWebhookBody, webhookView } from './webhookFields';
import { conversationPayload, deliveryHeaders, reportPayload, testPayload, WebhookDispatcher } from './webhooks';
import { sendTranscriptZip } from './zipRoute';

const MAX_KEPT = 10_000;
const REPORT_LIST_STATUSES = ['archived', 'published', 'scheduled', 'draft'];
/**
 * dembrane's report list (api/project.py list_project_reports) asks Directus without a `limit`, so
 * Directus' default query limit of 100 applies: the 100 newest reports, never more.
 */
const REPORT_LIST_LIMIT = 100;

function emptyStats(): DembraneStandinStats {
	return {
		requests: [],
		requestsDropped: 0,
		logins: 0,
		loginFailures: 0,
		refreshes: 0,
		refreshFailures: 0,
		unauthorized: 0,
		faultsInjected: 0,
		zipsServed: 0,
		deliveries: [],
	};
}

interface Caller {
	userId: string;
	admin: boolean;
	/** The stand-in's one user (member of every workspace); other ids see nothing. */
	member: boolean;
}

interface Route {
	method: string;
	pattern: RegExp;
	handler: (context: RequestContext, params: string[]) => Promise<void> | void;
}

interface RequestContext extends AnswerContext {
	url: URL;
	entry: DembraneStandinRequest;
}

export interface EmitTarget {
	projectId: string;
	conversationId?: string;
	reportId?: number;
}

export class DembraneStandinServer {
	private options: DembraneStandinOptions;
	readonly store: DembraneStore;
	private statsData = emptyStats();
	private readonly directus: DirectusAuth;
	private requestNumber = 0;
	private readonly pathCounters = new Map<string, number>();
	private readonly timers = new Set<NodeJS.Timeout>();
	private readonly server: LoopbackServer;
	private readonly dispatcher: WebhookDispatcher;
	private readonly routes: Route[];
	private closed = false;
	private webhookCreatedHook?: (webhook: Webhook) => Promise<void>;

	constructor(partial: Partial<DembraneStandinOptions> = {}) {
		this.options = mergeOptions(defaultOptions(), partial);
		this.store = new DembraneStore(dataOptionsOf(this.options));
		this.dispatcher = new WebhookDispatcher(
			() => ({
				retryDelaysMs: this.options.webhookRetryDelaysMs,
				timeoutMs: this.options.webhookTimeoutMs,
				connectTimeoutMs: this.options.webhookConnectTimeoutMs,
				signatureStyle: this.options.signatureStyle,
			}),
			(id) => this.store.webhooks.get(id),
			(attempt) => this.recordDelivery(attempt),
		);
		this.directus = new DirectusAuth(
			() => this.options,
			() => this.store.ids.userId,
			() => this.statsData,
		);
		this.routes = this.buildRoutes();
		this.server = new LoopbackServer((request, response) => this.handle(request, response));
	}

	async listen(): Promise<string> {
		return await this.server.listen(this.options.port);
	}

	get url(): string {
		return this.server.url;
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		await this.dispatcher.close();
		await this.server.close();
	}

	currentOptions(): DembraneStandinOptions {
		return structuredClone(this.options);
	}

	/** Changes options; regenerates all data (webhooks too) when a data option changed; restarts fault numbering. */
	configure(partial: Partial<DembraneStandinOptions>): void {
		const before = this.options;
		const after = mergeOptions(before, partial);
		if (after.port !== before.port) throw new Error('option "port" is fixed at start');
		this.options = after;
		if (dataOptionsChanged(before, after)) this.store.regenerate(dataOptionsOf(after));
		this.requestNumber = 0;
		this.pathCounters.clear();
	}

	stats(): DembraneStandinStats {
		return structuredClone(this.statsData);
	}

	resetStats(): void {
		this.statsData = emptyStats();
		this.requestNumber = 0;
		this.pathCounters.clear();
	}

	issueAccessToken(opts: { ttlSeconds?: number; userId?: string; admin?: boolean } = {}): string {
		return issueAccessToken(this.options.jwtSecret, opts.userId ?? this.store.ids.userId, opts.ttlSeconds ?? this.options.accessTokenTtlSeconds, opts.admin ?? false);
	}

	// ----- data helpers (they fire webhook events like production) -----

	addConversation(projectId: string, input: ConversationInput = {}): Conversation {
		const record = this.store.addConversation(projectId, input, Date.now());
		this.fire('conversation.started', { projectId, conversationId: record.row.id });
		return structuredClone(record.row);
	}

	addChunk(conversationId: string, text: string | null): Chunk {
		const chunk = this.store.addChunk(conversationId, text, Date.now());
		const record = this.store.conversation(conversationId)!;
		this.fire('conversation.transcribed', { projectId: record.row.project_id, conversationId });
		return structuredClone(chunk);
	}

	summarize(conversationId: string, summary: string): Conversation {
		const record = this.store.setSummary(conversationId, summary, Date.now());
		this.fire('conversation.summarized', { projectId: record.row.project_id, conversationId });
		return structuredClone(record.row);
	}

	generateReport(projectId: string): Report {
		const report = this.store.addReport(projectId, 'published', Date.now());
		this.fire('report.generated', { projectId, reportId: report.id });
		return structuredClone(report);
	}

	/**
	 * Runs `hook` after a webhook is created and before the create request is answered: what happens in
	 * production when an event fires while the caller still waits for the answer. Undefined removes it.
	 */
	onWebhookCreated(hook?: (webhook: Webhook) => Promise<void>): void {
		this.webhookCreatedHook = hook;
	}

	private fire(event: WebhookEvent, target: EmitTarget): void {
		this.emit(event, target).catch(() => undefined);
	}

	/** Sends `event` to every published webhook of the project subscribed to it; resolves after all attempts. */
	emit(event: WebhookEvent, target: EmitTarget): Promise<DeliveryResult[]> {
		if (!WEBHOOK_EVENTS.includes(event)) return Promise.reject(new Error(`unknown event ${String(event)}`));
		const project = this.store.project(target.projectId);
		if (!project) return Promise.reject(new Error(`unknown project ${target.projectId}`));
		let payload: Record<string, unknown>;
		const settings = { dashboardBaseUrl: this.options.dashboardBaseUrl, durationLiterals: this.options.durationLiterals };
		if (event === 'report.generated') {
			const reports = this.store.reportsOf(project.id);
			const report = target.reportId !== undefined ? this.store.report(target.reportId) : reports[reports.length - 1];
			if (!report || report.project_id !== project.id) return Promise.reject(new Error(`no report ${target.reportId ?? ''} in project ${project.id}`));
			payload = reportPayload(this.store, report, settings);
		} else {
			const record = target.conversationId ? this.store.conversation(target.conversationId) : undefined;
			if (!record || record.row.project_id !== project.id) {
				return Promise.reject(new Error(`no conversation ${target.conversationId ?? '(missing conversationId)'} in project ${project.id}`));
			}
			payload = conversationPayload(this.store, record, event, settings);
		}
		const webhooks = [...this.store.webhooks.values()].filter(
			(webhook) => webhook.project_id === project.id && webhook.status === 'published' && webhook.deleted_at === null && webhook.events.includes(event),
		);
		return Promise.all(webhooks.map((webhook) => this.dispatcher.deliver(webhook, payload)));
	}

	/** Resolves when every delivery started so far (helpers included) has finished. */
	idle(): Promise<void> {
		return this.dispatcher.idle();
	}

	private recordDelivery(attempt: DeliveryAttempt): void {
		const deliveries = this.statsData.deliveries;
		deliveries.push(attempt);
		if (deliveries.length > MAX_KEPT) deliveries.splice(0, deliveries.length - MAX_KEPT);
	}

	// ----- HTTP -----

	private handle(request: IncomingMessage, response: ServerResponse): void {
		const startedAt = performance.now();
		const url = new URL(request.url ?? '/', 'http://127.0.0.1');
		if (url.pathname.startsWith('/__standin/')) {
			handleControl(this, request, response, url).catch((error: Error) => {
				if (!response.headersSent) {
					response.writeHead(400, { 'content-type': 'application/json' });
					response.end(JSON.stringify({ detail: error.message }));
				}
			});
			return;
		}
		const entry: DembraneStandinRequest = {
			at: Date.now(),
			method: request.method ?? 'GET',
			path: url.pathname,
			query: Object.fromEntries(url.searchParams),
			status: 0,
			auth: 'none',
		};
		this.recordRequest(entry);
		response.on('close', () => {
			if (response.headersSent) entry.status = response.statusCode;
			if (entry.status === 401) this.statsData.unauthorized++;
			entry.durationMs = performance.now() - startedAt;
		});
		const context: RequestContext = {
			request,
			response,
			startedAt,
			reset: false,
			gzip: this.options.gzip,
			now: () => performance.now(),
			url,
			entry,
		};
		const fault = this.faultFor(url.pathname);
		if (fault) {
			entry.fault = fault;
			this.statsData.faultsInjected++;
		}
		const run = async () => {
			if (this.options.latencyMs > 0) await this.sleep(this.options.latencyMs);
			if (this.closed || response.destroyed) return;
			if (fault === 'hang') return; // never answered; close() ends the socket
			if (fault === 'reset') context.reset = true;
			else if (fault === '500') return sendInternalError(context);
			else if (fault === '502') {
				return sendBytes(context, 502, 'text/html', Buffer.from('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>'));
			} else if (fault === '503') return sendApiJson(context, 503, { detail: 'Service Unavailable' });
			else if (fault === 'database') return this.databaseFailure(context);
			else if (fault === 'gone') return this.deletedSince(context);
			await this.route(context);
		};
		run().catch((error: unknown) => {
			if (response.headersSent) {
				// Failed while streaming: nothing sensible can follow the bytes already sent.
				if (!response.writableEnded) response.destroy();
				return;
			}
			if (error instanceof HttpProblem) {
				if (url.pathname.startsWith('/directus/')) return sendNodeJson(context, error.status, error.detail);
				return sendApiJson(context, error.status, { detail: error.detail }, error.headers);
			}
			sendInternalError(context);
		});
	}

	/** The `database` fault: the route's answer when its Directus query fails (see FaultKind). */
	private databaseFailure(context: RequestContext): void {
		this.authenticate(context);
		const path = context.url.pathname;
		if (/\/(count|chunk-count)$/.test(path)) return sendApiJson(context, 200, { count: 0 });
		if (/^\/api\/projects\/[^/]+\/transcripts$/.test(path)) throw new HttpProblem(404, 'No conversations found for this project');
		if (/^\/api\/conversations\/[^/]+\/transcript$/.test(path)) return sendApiJson(context, 200, '');
		if (/^\/api\/v2\/bff\/conversations(\/[^/]+\/chunks)?$/.test(path) || /\/reports$/.test(path)) return sendApiJson(context, 200, []);
		throw new Error(`the database fault has no answer for ${path}`);
	}

	/** The `gone` fault: the 404 of a route whose subject was deleted since (see FaultKind). */
	private deletedSince(context: RequestContext): void {
		this.authenticate(context);
		const path = context.url.pathname;
		if (/\/conversations\/[^/]+/.test(path)) throw new HttpProblem(404, 'Conversation not found');
		if (/\/reports\/[^/]+/.test(path)) throw new HttpProblem(404, 'Report not found');
		throw new HttpProblem(404, 'Project not found');
	}

	private sleep(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				this.timers.delete(timer);
				resolve();
			}, ms);
			this.timers.add(timer);
		});
	}

	private recordRequest(entry: DembraneStandinRequest): void {
		const requests = this.statsData.requests;
		requests.push(entry);
		if (requests.length > MAX_KEPT) {
			requests.splice(0, requests.length - MAX_KEPT);
			this.statsData.requestsDropped++;
		}
	}

	private faultFor(path: string): FaultKind | undefined {
		const faults = this.options.faults;
		this.requestNumber++;
		const counted = new Set<string>();
		for (const fault of faults) {
			if (fault.path && !counted.has(fault.path) && path.includes(fault.path)) {
				counted.add(fault.path);
				this.pathCounters.set(fault.path, (this.pathCounters.get(fault.path) ?? 0) + 1);
			}
		}
		return faults.find((fault) =>
			fault.path ? path.includes(fault.path) && this.pathCounters.get(fault.path) === fault.request : fault.request === this.requestNumber,
		)?.kind;
	}

	private async route(context: RequestContext): Promise<void> {
		const path = context.url.pathname;
		const method = context.request.method ?? 'GET';
		let pathMatched = false;
		for (const route of this.routes) {
			const match = route.pattern.exec(path);
			if (!match) continue;
			pathMatched = true;
			if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) continue;
			const params = match.slice(1).map((part) => decodeURIComponent(part));
			await route.handler(context, params);
			return;
		}
		if (path.startsWith('/directus/')) {
			throw new HttpProblem(404, { errors: [{ message: `Route ${path.slice('/directus'.length)} doesn't exist.`, extensions: { path: path.slice('/directus'.length), code: 'ROUTE_NOT_FOUND' } }] });
		}
		if (pathMatched) throw new HttpProblem(405, 'Method Not Allowed');
		// FastAPI's redirect_slashes: `/api/x/` answers with a redirect to `/api/x` when that route exists.
		if (path.endsWith('/') && path.length > 1 && this.routes.some((route) => route.pattern.test(path.slice(0, -1)))) {
			const target = `${path.slice(0, -1)}${context.url.search}`;
			context.response.writeHead(307, { location: target, 'content-length': 0 });
			context.response.end();
			return;
		}
		throw new HttpProblem(404, 'Not Found');
	}

	private buildRoutes(): Route[] {
		const id = '([^/]+)';
		const route = (method: string, path: string, handler: Route['handler']): Route => ({ method, pattern: new RegExp(`^${path}$`), handler });
		return [
			route('GET', '/api/health', (c) => sendApiJson(c, 200, { status: 'ok' })),
			route('POST', '/directus/auth/login', (c) => this.directus.login(c)),
			route('POST', '/directus/auth/refresh', (c) => this.directus.refresh(c)),
			route('POST', '/directus/auth/logout', (c) => this.directus.logout(c)),
			route('GET', '/directus/server/ping', (c) => sendBytes({ ...c, gzip: false }, 200, 'text/html; charset=utf-8', Buffer.from('pong'))),
			route('GET', '/api/v2/me', (c) => this.me(c)),
			route('GET', '/api/v2/workspaces', (c) => this.workspaces(c)),
			route('GET', `/api/v2/workspaces/${id}/projects`, (c, [wid]) => this.workspaceProjects(c, wid)),
			route('GET', `/api/v2/projects/${id}`, (c, [pid]) => this.projectDetail(c, pid)),
			route('GET', '/api/v2/bff/conversations', (c) => this.listConversations(c)),
			route('GET', '/api/v2/bff/conversations/count', (c) => this.countConversations(c)),
			route('GET', `/api/v2/bff/conversations/${id}`, (c, [cid]) => this.conversationDetail(c, cid)),
			route('GET', `/api/v2/bff/conversations/${id}/chunks`, (c, [cid]) => this.listChunks(c, cid)),
			route('GET', `/api/v2/bff/conversations/${id}/chunk-count`, (c, [cid]) => this.countChunks(c, cid)),
			route('GET', `/api/projects/${id}/transcripts`, (c, [pid]) => this.transcriptZip(c, pid)),
			route('GET', `/api/conversations/${id}/transcript`, (c, [cid]) => this.transcript(c, cid)),
			route('GET', `/api/projects/${id}/reports`, (c, [pid]) => this.listReports(c, pid)),
			route('GET', `/api/projects/${id}/reports/latest`, (c, [pid]) => this.latestReport(c, pid)),
			route('GET', `/api/projects/${id}/reports/${id}/detail`, (c, [pid, rid]) => this.reportDetail(c, pid, rid)),
			route('GET', `/api/projects/${id}/webhooks`, (c, [pid]) => this.listWebhooks(c, pid)),
			route('POST', `/api/projects/${id}/webhooks`, (c, [pid]) => this.createWebhook(c, pid)),
			route('PATCH', `/api/projects/${id}/webhooks/${id}`, (c, [pid, wid]) => this.updateWebhook(c, pid, wid)),
			route('DELETE', `/api/projects/${id}/webhooks/${id}`, (c, [pid, wid]) => this.deleteWebhook(c, pid, wid)),
			route('POST', `/api/projects/${id}/webhooks/${id}/test`, (c, [pid, wid]) => this.testWebhook(c, pid, wid)),
		];
	}

	// ----- auth -----

	/** The API's session check: `Authorization: Bearer <HS256 JWT>`, else 401 `Invalid session`. */
	private authenticate(context: RequestContext): Caller {
		const header = context.request.headers.authorization;
		if (!header || !header.startsWith('Bearer ') || header.slice(7).trim() === '') {
			context.entry.auth = 'missing';
			throw new HttpProblem(401, 'Invalid session');
		}
		const result = verifyJwt(header.slice(7).trim(), this.options.jwtSecret);
		if (!result.ok) {
			context.entry.auth = result.kind;
			throw new HttpProblem(401, 'Invalid session');
		}
		context.entry.auth = 'jwt';
		const userId = String(result.claims.id);
		return { userId, admin: Boolean(result.claims.admin_access), member: userId === this.store.ids.userId };
	}

	// ----- access -----

	private projectFor(caller: Caller, projectId: string): Project {
		const project = this.store.project(projectId);
		if (!project || !(caller.member || caller.admin)) throw new HttpProblem(404, 'Project not found');
		return project;
	}

	private conversationFor(caller: Caller, conversationId: string): ConversationRecord {
		const record = this.store.conversation(conversationId);
		if (!record || !(caller.member || caller.admin)) throw new HttpProblem(404, 'Conversation not found');
		return record;
	}

	private tier(): string {
		return this.options.webhooksAllowed === 'tier' ? 'free' : 'changemaker';
	}

	/** `workspace:webhooks`: staff pass; others need access (404) and the policy (403). */
	private webhookProject(caller: Caller, projectId: string): Project {
		// resolve_project_access asks for the caller's app user first (get_app_user_or_raise).
		if (!caller.member && !caller.admin) throw new HttpProblem(403, 'User not onboarded');
		const project = this.projectFor(caller, projectId);
		if (caller.admin) return project;
		if (this.options.webhooksAllowed === 'tier') throw new HttpProblem(403, `This action requires the changemaker tier (currently ${this.tier()}).`);
		if (this.options.webhooksAllowed === 'not-allowed') throw new HttpProblem(403, 'Not allowed');
		return project;
	}

	// ----- me, workspaces, projects -----

	private me(context: RequestContext): void {
		const caller = this.authenticate(context);
		const o = this.options;
		sendApiJson(context, 200, {
			id: caller.member ? this.store.ids.userId : null,
			directus_user_id: caller.userId,
			email: caller.member ? o.email : '',
			display_name: caller.member ? o.displayName : '',
			avatar: null,
			onboarding_completed: caller.member,
			orgs: caller.member ? [{ id: this.store.workspaces[0].orgId, name: this.store.workspaces[0].orgName, role: 'owner' }] : [],
			has_pending_invites: false,
			is_staff: caller.admin,
			has_legacy_projects: false,
			onboarding_answer_json: null,
		});
	}

	private workspaceAccess(index: number): WorkspaceAccess {
		return this.options.workspaceAccess[index] ?? 'member';
	}

	private workspaces(context: RequestContext): void {
		const caller = this.authenticate(context);
		const visible = caller.member || caller.admin ? this.store.workspaces.filter((_, index) => this.workspaceAccess(index) !== 'inherited') : [];
		sendApiJson(context, 200, {
			workspaces: visible.map((workspace, index) => ({
				id: workspace.id,
				name: workspace.name,
				org_id: workspace.orgId,
				org_name: workspace.orgName,
				role: this.workspaceAccess(this.store.workspaces.indexOf(workspace)) === 'billing' ? 'billing' : 'admin',
				is_default: index === 0,
				tier: this.tier(),
				bills_separately: false,
				is_data_owner: false,
				logo_url: null,
				org_logo_url: null,
				project_count: this.store.projects.filter((project) => project.workspaceId === workspace.id).length,
				member_count: 1,
				members_preview: [],
			})),
			organisations: visible.length > 0 ? [{ id: visible[0].orgId, name: visible[0].orgName, workspace_count: visible.length }] : [],
			recent_removals: [],
		});
	}

	private projectSummary(project: Project): Record<string, unknown> {
		const records = this.store.conversationsOf(project.id);
		const seconds = records.reduce((sum, record) => sum + (record.row.duration ?? 0), 0);
		return {
			id: project.id,
			name: project.name,
			updated_at: project.updatedAt,
			language: project.language,
			pin_order: null,
			conversations_count: records.length,
			audio_hours: new PyFloat(Math.round((seconds / 3600) * 10) / 10),
			visibility: 'workspace',
			access_preview: [],
			access_count: 1,
		};
	}

	private workspaceProjects(context: RequestContext, workspaceId: string): void {
		const caller = this.authenticate(context);
		const reader = new ParamReader(context.url.searchParams);
		const search = reader.string('search');
		const offset = reader.integer('offset', 0, { ge: 0 })!;
		const limit = reader.integer('limit', 15, { ge: 1, le: 100 })!;
		reader.check();
		if (!caller.member && !caller.admin) throw new HttpProblem(403, 'User not onboarded');
		if (!this.store.workspace(workspaceId)) throw new HttpProblem(404, 'Workspace not found');
		const access = this.workspaceAccess(this.store.workspaces.findIndex((workspace) => workspace.id === workspaceId));
		if (access === 'billing') throw new HttpProblem(403, 'Access denied');
		if (access === 'expired') throw new HttpProblem(403, 'No access to this workspace');
		let projects = this.store.projects.filter((project) => project.workspaceId === workspaceId);
		// Production: every word of the search in the name (search_filters.py). Older dembrane passed it to
		// Directus' `search`, which also matched other fields: the node keeps only name matches either way.
		const tokens = searchTokens(search);
		projects = projects.filter((project) => tokens.every((token) => project.name.toLowerCase().includes(token)));
		// Directus sorts on updated_at alone: ties come in an order of this request's (see tieOrder).
		const ties = tieOrder(offset, limit + 1);
		projects.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : ties(a.id, b.id)));
		const fetched = projects.slice(offset, offset + limit + 1);
		const hasMore = fetched.length > limit;
		const page = fetched.slice(0, limit);
		// Production counts exactly without a search; with one it only knows a lower bound.
		const total = search ? offset + page.length + (hasMore ? 1 : 0) : projects.length;
		sendApiJson(context, 200, { pinned: [], projects: page.map((project) => this.projectSummary(project)), total_count: total, has_more: hasMore, is_admin: true });
	}

	private projectDetail(context: RequestContext, projectId: string): void {
		const caller = this.authenticate(context);
		const project = this.projectFor(caller, projectId);
		sendApiJson(context, 200, {
			id: project.id,
			name: project.name,
			workspace_id: project.workspaceId,
			visibility: 'workspace',
			role: 'admin',
			source: 'workspace',
			language: project.language,
			updated_at: project.updatedAt,
		});
	}

	// ----- conversations -----

	private listConversations(context: RequestContext): void {
		const caller = this.authenticate(context);
		const reader = new ParamReader(context.url.searchParams);
		const projectId = reader.string('project_id', true);
		const includeChunks = reader.boolean('include_chunks', false);
		const includeTags = reader.boolean('include_tags', false);
		const fields = reader.string('fields');
		const sources = reader.string('sources');
		const limit = reader.integer('limit', 1000, { ge: 1, le: 1000 })!;
		const offset = reader.integer('offset', 0, { ge: 0 })!;
		const sort = reader.literal<ConversationSort>('sort', SORTS, '-created_at');
		const tagIds = reader.string('tag_ids');
		const verifiedOnly = reader.boolean('verified_only', false);
		const searchText = reader.string('search_text');
		const transcriptRequired = reader.boolean('transcript_required', false);
		reader.check();
		const project = this.projectFor(caller, projectId);

		const list = (text: string | undefined) => (text ?? '').split(',').map((part) => part.trim()).filter(Boolean);
		let records = filterConversations(this.store.conversationsOf(project.id), {
			sources: list(sources),
			tagIds: list(tagIds),
			verifiedOnly,
			searchText,
		});
		records = sortConversations(records, sort, tieOrder(offset, limit)).slice(offset, offset + limit);
		if (transcriptRequired) records = records.filter((record) => this.store.hasTranscript(record));

		let fieldList: string[] | '*' = DEFAULT_FIELDS;
		if (fields !== undefined && fields.trim() === '*') fieldList = '*';
		else if (fields !== undefined) {
			fieldList = list(fields);
			if (!fieldList.includes('id')) fieldList.unshift('id');
		}
		const settings = { durationLiterals: this.options.durationLiterals };
		const relations = fieldList === '*' || fieldList.includes('tags') || fieldList.includes('chunks');
		const rows = records.map((record) => {
			const row: Record<string, unknown> = { ...pickFields(fullRow(this.store, record, settings, relations), fieldList, relationCounts(this.store, record)), ...listExtras(this.store, record) };
			if (this.options.transcriptFlagsFail) row.has_transcript = false;
			if (includeChunks) row.chunks = listChunkRows(this.store, record);
			// Production's _enrich_conversation on every listed row: a locked one's summary and texts are held back.
			if (this.isLocked(record, row)) {
				Object.assign(row, { locked: true, lock_reason: 'hours_cap', summary: null, summary_locked: true });
				if ('merged_transcript' in row) row.merged_transcript = null;
				if (Array.isArray(row.chunks)) row.chunks = row.chunks.map((chunk) => ({ ...(chunk as Record<string, unknown>), transcript: null, transcript_locked: true }));
			}
			if (includeTags) row.tags = tagRows(this.store, record, true);
			return row;
		});
		sendApiJson(context, 200, rows);
	}

	private countConversations(context: RequestContext): void {
		const caller = this.authenticate(context);
		const reader = new ParamReader(context.url.searchParams);
		const projectId = reader.string('project_id', true);
		const tagIds = reader.string('tag_ids');
		const verifiedOnly = reader.boolean('verified_only', false);
		const searchText = reader.string('search_text');
		reader.check();
		const project = this.projectFor(caller, projectId);
		const ids = (tagIds ?? '').split(',').map((part) => part.trim()).filter(Boolean);
		sendApiJson(context, 200, { count: filterConversations(this.store.conversationsOf(project.id), { tagIds: ids, verifiedOnly, searchText }).length });
	}

	private conversationDetail(context: RequestContext, conversationId: string): void {
		const caller = this.authenticate(context);
		const reader = new ParamReader(context.url.searchParams);
		const includeChunks = reader.boolean('include_chunks', false);
		const includeTags = reader.boolean('include_tags', false);
		reader.check();
		const record = this.conversationFor(caller, conversationId);
		const locked = this.isLocked(record);
		const row: Record<string, unknown> = {
			...fullRow(this.store, record, { durationLiterals: this.options.durationLiterals }),
			locked,
			lock_reason: locked ? 'hours_cap' : null,
		};
		if (locked) Object.assign(row, { summary: null, summary_locked: true });
		if (includeChunks) row.chunks = this.store.chunksOf(record).map((chunk) => this.chunkView(record, { ...chunk }));
		if (includeTags) row.tags = tagRows(this.store, record, false);
		sendApiJson(context, 200, row);
	}

	/** Locked: stamped over the cap, or still recording (by `row`, the fields asked for) while the workspace is over it. */
	private isLocked(record: ConversationRecord, row: Record<string, unknown> = record.row as unknown as Record<string, unknown>): boolean {
		return this.options.lockedConversationIds.includes(record.row.id) || (this.options.overCapActive && !row.is_finished);
	}

	/** A locked conversation's chunk has its transcript scrubbed, as production's `_scrub_chunk_transcript`. */
	private chunkView(record: ConversationRecord, chunk: Record<string, unknown>): Record<string, unknown> {
		return this.isLocked(record) ? { ...chunk, transcript: null, transcript_locked: true } : chunk;
	}

	/**
	 * `GET /api/v2/bff/conversations/{id}/chunks?limit=(1–1000, default 10)&offset=&sort=±timestamp&fields=`:
	 * a bare array of chunk rows. Unknown fields are left out, as Directus does for a field list.
	 */
	private listChunks(context: RequestContext, conversationId: string): void {
		if (!this.options.chunkListing) throw new HttpProblem(404, 'Not Found');
		const caller = this.authenticate(context);
		const reader = new ParamReader(context.url.searchParams);
		const limit = reader.integer('limit', 10, { ge: 1, le: 1000 })!;
		const offset = reader.integer('offset', 0, { ge: 0 })!;
		const sort = reader.literal('sort', ['timestamp', '-timestamp'] as const, 'timestamp');
		const fields = reader.string('fields');
		reader.check();
		const record = this.conversationFor(caller, conversationId);
		const fieldList = fields
			? fields.split(',').map((field) => field.trim()).filter(Boolean)
			: ['id', 'conversation_id', 'transcript', 'path', 'timestamp', 'error', 'source', 'created_at'];
		const chunks = this.store.chunksOf(record);
		const ties = tieOrder(offset, limit);
		const direction = sort === '-timestamp' ? -1 : 1;
		chunks.sort((a, b) => direction * (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0) || ties(a.id, b.id));
		const page = chunks.slice(offset, offset + limit).map((chunk) => this.chunkView(record, pickFields({ ...chunk }, fieldList)));
		sendApiJson(context, 200, page);
	}

	/** `GET /api/v2/bff/conversations/{id}/chunk-count?transcript_required=` → `{count}`. */
	private countChunks(context: RequestContext, conversationId: string): void {
		const caller = this.authenticate(context);
		const reader = new ParamReader(context.url.searchParams);
		const transcriptRequired = reader.boolean('transcript_required', false);
		reader.check();
		const record = this.conversationFor(caller, conversationId);
		const chunks = this.store.chunksOf(record).filter((chunk) => !transcriptRequired || (typeof chunk.transcript === 'string' && chunk.transcript !== ''));
		sendApiJson(context, 200, { count: chunks.length });
	}

	private transcript(context: RequestContext, conversationId: string): void {
		const caller = this.authenticate(context);
		const record = this.conversationFor(caller, conversationId);
		const text = this.store.transcriptText(record);
		if (this.options.transcriptMediaType === 'text') sendBytes(context, 200, 'text/plain; charset=utf-8', Buffer.from(text, 'utf8'));
		else sendApiJson(context, 200, text);
	}

	// ----- transcript zip -----

	private async transcriptZip(context: RequestContext, projectId: string): Promise<void> {
		const caller = this.authenticate(context);
		const project = this.projectFor(caller, projectId);
		await sendTranscriptZip(context, project, {
			store: this.store,
			options: this.options,
			closed: () => this.closed,
			served: () => this.statsData.zipsServed++,
		});
	}

	// ----- reports -----

	private listReports(context: RequestContext, projectId: string): void {
		const caller = this.authenticate(context);
		const project = this.projectFor(caller, projectId);
		const reports = this.store
			.reportsOf(project.id)
			.filter((report) => REPORT_LIST_STATUSES.includes(report.status))
			.sort((a, b) => (a.date_created < b.date_created ? 1 : a.date_created > b.date_created ? -1 : 0))
			.slice(0, REPORT_LIST_LIMIT);
		sendApiJson(
			context,
			200,
			reports.map((report) => ({
				id: report.id,
				status: report.status,
				date_created: report.date_created,
				language: report.language,
				user_instructions: report.user_instructions,
				scheduled_at: report.scheduled_at,
				title: reportTitle(report.content),
			})),
		);
	}

	private latestReport(context: RequestContext, projectId: string): void {
		const caller = this.authenticate(context);
		const project = this.projectFor(caller, projectId);
		const latest = [...this.store.reportsOf(project.id)].sort((a, b) => (a.date_created < b.date_created ? 1 : a.date_created > b.date_created ? -1 : 0))[0];
		if (!latest) return sendApiJson(context, 200, null);
		sendApiJson(context, 200, {
			id: latest.id,
			status: latest.status,
			project_id: latest.project_id,
			show_portal_link: latest.show_portal_link,
			date_created: latest.date_created,
			error_message: latest.error_message,
			content: null,
			title: reportTitle(latest.content),
		});
	}

	private reportDetail(context: RequestContext, projectId: string, reportIdText: string): void {
		const caller = this.authenticate(context);
		const reader = new ParamReader(new URLSearchParams({ report_id: reportIdText }), 'path');
		const reportId = reader.integer('report_id', undefined);
		reader.check();
		this.projectFor(caller, projectId);
		const report = this.store.report(reportId!);
		// Production compares the path's project ID as text (api/project.py get_report_detail).
		if (!report || report.project_id !== projectId) throw new HttpProblem(404, 'Report not found');
		sendApiJson(context, 200, report);
	}

	// ----- webhooks -----

	/** Production finds a webhook by id and project only: soft-deleted ones are still found. */
	private webhookIn(projectId: string, webhookId: string): Webhook {
		const webhook = this.store.webhooks.get(webhookId);
		if (!webhook || webhook.project_id !== projectId) throw new HttpProblem(404, 'Webhook not found');
		return webhook;
	}

	private listWebhooks(context: RequestContext, projectId: string): void {
		const caller = this.authenticate(context);
		const project = this.webhookProject(caller, projectId);
		const webhooks = [...this.store.webhooks.values()]
			.filter((webhook) => webhook.project_id === project.id && webhook.deleted_at === null)
			.sort((a, b) => (a.date_created < b.date_created ? 1 : a.date_created > b.date_created ? -1 : 0));
		sendApiJson(context, 200, webhooks.map((webhook) => webhookView(webhook)));
	}

	private async createWebhook(context: RequestContext, projectId: string): Promise<void> {
		const caller = this.authenticate(context);
		const fields = parseWebhookBody(await readBody(context.request), ['name', 'url', 'events']);
		const project = this.webhookProject(caller, projectId);
		checkWebhookFields({ events: fields.events, url: fields.url });
		const webhook: Webhook = {
			id: randomUUID(),
			project_id: project.id,
			name: fields.name as string,
			url: fields.url as string,
			secret: typeof fields.secret === 'string' && fields.secret !== '' ? fields.secret : null,
			events: [...(fields.events as string[])],
			status: 'published',
			date_created: directusTime(Date.now()),
			date_updated: null,
			deleted_at: null,
		};
		this.store.webhooks.set(webhook.id, webhook);
		if (this.webhookCreatedHook) await this.webhookCreatedHook(structuredClone(webhook));
		sendApiJson(context, 201, webhookView(webhook));
	}

	private async updateWebhook(context: RequestContext, projectId: string, webhookId: string): Promise<void> {
		const caller = this.authenticate(context);
		const fields = parseWebhookBody(await readBody(context.request), []);
		this.webhookProject(caller, projectId);
		checkWebhookFields(fields);
		const webhook = this.webhookIn(projectId, webhookId);
		const changes = Object.keys(fields).filter((key) => ['name', 'url', 'secret', 'events', 'status'].includes(key) && fields[key] !== null);
		if (typeof fields.name === 'string') webhook.name = fields.name;
		if (typeof fields.url === 'string') webhook.url = fields.url;
		if (typeof fields.secret === 'string') webhook.secret = fields.secret;
		if (Array.isArray(fields.events)) webhook.events = [...(fields.events as string[])];
		if (typeof fields.status === 'string') webhook.status = fields.status as WebhookStatus;
		if (changes.length > 0) webhook.date_updated = directusTime(Date.now());
		sendApiJson(context, 200, webhookView(webhook));
	}

	private deleteWebhook(context: RequestContext, projectId: string, webhookId: string): void {
		const caller = this.authenticate(context);
		this.webhookProject(caller, projectId);
		const webhook = this.webhookIn(projectId, webhookId);
		webhook.deleted_at = new Date().toISOString().replace('Z', '');
		sendNoContent(context);
	}

	private async testWebhook(context: RequestContext, projectId: string, webhookId: string): Promise<void> {
		const caller = this.authenticate(context);
		const project = this.webhookProject(caller, projectId);
		const webhook = this.webhookIn(projectId, webhookId);
		const payload = testPayload(project, { dashboardBaseUrl: this.options.dashboardBaseUrl, durationLiterals: this.options.durationLiterals });
		const body = pythonBody(payload);
		const headers = deliveryHeaders('webhook.test', payload, body, webhook.secret, this.options.signatureStyle);
		const started = performance.now();
		const outcome = await this.dispatcher.send(webhook.url, headers, body);
		this.recordDelivery({
			at: Date.now(),
			webhookId: webhook.id,
			event: 'webhook.test',
			url: webhook.url,
			attempt: 1,
			status: outcome.status,
			...(outcome.error ? { error: outcome.error } : {}),
			bodyBytes: Buffer.byteLength(body, 'utf8'),
			durationMs: performance.now() - started,
		});
		if (outcome.status === null) {
			return sendApiJson(context, 200, { success: false, status_code: null, message: `Failed to connect to webhook: ${outcome.message ?? outcome.error}` });
		}
		if (outcome.status >= 200 && outcome.status < 300) {
			return sendApiJson(context, 200, { success: true, status_code: outcome.status, message: `Webhook responded successfully with status ${outcome.status}` });
		}
		sendApiJson(context, 200, {
			success: false,
			status_code: outcome.status,
			message: `Webhook returned error status ${outcome.status}: ${Array.from(outcome.text).slice(0, 200).join('')}`,
		});
	}
}

/** A report's title as production extracts it: the first `# ` heading, stripped. */
export function reportTitle(content: string | null): string | null {
	if (!content) return null;
	const match = /^#\s+([^\n]+)$/m.exec(content);
	return match ? pythonStrip(match[1]) : null;
}

