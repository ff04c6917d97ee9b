/**
 * Local stand-in of the dembrane ECHO API (and of the Directus login in front of it), for tests,
 * benchmarks and the demo. `startDembraneStandin()` in-process, or `cli.ts` as a separate process
 * steered over `/__standin/*`. The contract is /work/shared/api-notes.md ("dembrane ECHO"), quirks
 * included; see types.ts for every option.
 */
import { transcriptEntryName } from './fileNames';
import type { EmitTarget } from './server';
import { DembraneStandinServer } from './server';
import type {
	Chunk,
	Conversation,
	ConversationInput,
	DeliveryResult,
	DembraneStandinIds,
	DembraneStandinOptions,
	DembraneStandinStats,
	Project,
	Report,
	ReportStatus,
	Webhook,
	WebhookEvent,
	Workspace,
} from './types';

export * from './types';
export { PyFloat, pythonBody, pythonCanonical, pythonDumps, pythonFloatRepr, pythonString } from './pythonJson';
export { sanitizeForFileName, transcriptEntryName, zipDownloadName } from './fileNames';
export { DembraneStandinServer } from './server';
export type { EmitTarget } from './server';

export interface DembraneStandin {
	/** API base, e.g. http://127.0.0.1:41234 (routes under /api/...). */
	url: string;
	/** `${url}/directus`: POST /auth/login, /auth/refresh, /auth/logout. */
	directusUrl: string;
	/** The valid login. */
	email: string;
	password: string;
	/** A Directus static token (not a JWT): the API answers 401 like production. */
	staticToken: string;
	/** A valid HS256 access token of the stand-in's user (or `userId`; `admin` sets admin_access). Negative ttl = expired. */
	issueAccessToken(opts?: { ttlSeconds?: number; userId?: string; admin?: boolean }): string;
	options(): DembraneStandinOptions;
	configure(partial: Partial<DembraneStandinOptions>): void;
	stats(): DembraneStandinStats;
	resetStats(): void;

	// --- data (copies; changing them changes nothing) ---
	ids(): DembraneStandinIds;
	listWorkspaces(): Workspace[];
	listProjects(): Project[];
	conversations(projectId: string): Conversation[];
	conversation(conversationId: string): Conversation | undefined;
	/** Every chunk in time order, failed ones included. */
	chunks(conversationId: string): Chunk[];
	/** The text `GET /api/conversations/{id}/transcript` serves (its first 1,500 chunks). */
	transcript(conversationId: string): string;
	/** The whole transcript: every chunk's transcript in time order, joined with "\n" (what the chunk list gives). */
	wholeTranscript(conversationId: string): string;
	/** The file body of the conversation in the zip, null when it has no transcribed chunk (not in the zip). */
	zipFileBody(conversationId: string): string | null;
	/** The conversation's zip entry name. */
	zipEntryName(conversationId: string): string;
	reports(projectId: string): Report[];
	/** Webhooks of a project, secrets and soft-deleted ones included. */
	webhooks(projectId: string): Webhook[];

	// --- changes that fire webhook events, as production does ---
	/** New conversation (now), fires `conversation.started`. */
	addConversation(projectId: string, input?: ConversationInput): Conversation;
	/** New chunk with this transcript (null = failed), fires `conversation.transcribed`. */
	addChunk(conversationId: string, text: string | null): Chunk;
	/** Sets the summary, fires `conversation.summarized`. */
	summarize(conversationId: string, summary: string): Conversation;
	/** New published report, fires `report.generated`. */
	generateReport(projectId: string): Report;
	/** A report created now in any status (a draft being generated, an archived one), firing nothing. */
	addReport(projectId: string, status: ReportStatus): Report;
	/** Delivers an event now to the project's subscribed webhooks; resolves after every attempt of every delivery. */
	emit(event: WebhookEvent, target: EmitTarget): Promise<DeliveryResult[]>;
	/** Runs `hook` between creating a webhook and answering the create request (an event in that gap). */
	onWebhookCreated(hook?: (webhook: Webhook) => Promise<void>): void;
	/** Resolves when all deliveries started so far (by the helpers too) are done. */
	idle(): Promise<void>;
	close(): Promise<void>;
}

/**
 * The data of a "Dembrane ECHO API" credential that logs in to this stand-in with e-mail and password
 * (dashboard links to https://dashboard.example), as tests and benchmarks fill it in.
 */
export function passwordCredentialData(
	standin: Pick<DembraneStandin, 'url' | 'directusUrl' | 'email' | 'password'>,
	overrides: Record<string, unknown> = {},
): Record<string, unknown> {
	return {
		baseUrl: standin.url,
		authMethod: 'password',
		directusUrl: standin.directusUrl,
		email: standin.email,
		password: standin.password,
		dashboardUrl: 'https://dashboard.example',
		sessionToken: '',
		...overrides,
	};
}

export async function startDembraneStandin(options: Partial<DembraneStandinOptions> = {}): Promise<DembraneStandin> {
	const server = new DembraneStandinServer(options);
	const url = await server.listen();
	const store = server.store;
	const record = (id: string) => {
		const found = store.conversation(id);
		if (!found) throw new Error(`unknown conversation ${id}`);
		return found;
	};
	return {
		url,
		directusUrl: `${url}/directus`,
		get email() {
			return server.currentOptions().email;
		},
		get password() {
			return server.currentOptions().password;
		},
		get staticToken() {
			return server.currentOptions().staticToken;
		},
		issueAccessToken: (opts) => server.issueAccessToken(opts),
		options: () => server.currentOptions(),
		configure: (partial) => server.configure(partial),
		stats: () => server.stats(),
		resetStats: () => server.resetStats(),
		ids: () => structuredClone(store.ids),
		listWorkspaces: () => structuredClone(store.workspaces),
		listProjects: () => structuredClone(store.projects),
		conversations: (projectId) => store.conversationsOf(projectId).map((r) => structuredClone(r.row)),
		conversation: (id) => {
			const found = store.conversation(id);
			return found ? structuredClone(found.row) : undefined;
		},
		chunks: (id) => structuredClone(store.chunksOf(record(id))),
		transcript: (id) => store.transcriptText(record(id)),
		wholeTranscript: (id) => store.transcriptText(record(id), { wholeConversation: true }),
		zipFileBody: (id) => store.zipBody(record(id), server.currentOptions().zipChunkLimit),
		zipEntryName: (id) => transcriptEntryName(record(id).row),
		reports: (projectId) => structuredClone(store.reportsOf(projectId)),
		webhooks: (projectId) => structuredClone([...store.webhooks.values()].filter((w) => w.project_id === projectId)),
		addConversation: (projectId, input) => server.addConversation(projectId, input),
		addChunk: (id, text) => server.addChunk(id, text),
		summarize: (id, summary) => server.summarize(id, summary),
		generateReport: (projectId) => server.generateReport(projectId),
		addReport: (projectId, status) => structuredClone(store.addReport(projectId, status, Date.now())),
		emit: (event, target) => server.emit(event, target),
		onWebhookCreated: (hook) => server.onWebhookCreated(hook),
		idle: () => server.idle(),
		close: () => server.close(),
	};
}
