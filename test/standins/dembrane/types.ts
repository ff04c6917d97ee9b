/** Public types of the dembrane ECHO stand-in: the options that steer it, its stats and its data. */

/** Events a project webhook can subscribe to (production's WEBHOOK_EVENTS, in its order). */
export type WebhookEvent = 'conversation.started' | 'conversation.transcribed' | 'conversation.summarized' | 'report.generated';
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = ['conversation.started', 'conversation.transcribed', 'conversation.summarized', 'report.generated'];

/** What a delivery can carry: the four events and the test route's `webhook.test`. */
export type DeliveryEvent = WebhookEvent | 'webhook.test';

/** `json-string`: production, `application/json` whose body is a JSON string; `text`: the docs, `text/plain`. */
export type TranscriptMediaType = 'json-string' | 'text';
export const TRANSCRIPT_MEDIA_TYPES: readonly TranscriptMediaType[] = ['json-string', 'text'];

/**
 * Damage done to the transcript zip:
 * - `corrupt`: bytes inside the first entry's compressed data are flipped (CRC/inflate errors);
 * - `truncated`: a clean 200 whose archive stops after about half the entries, no central directory;
 * - `zip-slip`: two extra entries named `../../evil.md` and `/abs.md`;
 * - `bomb`: one extra entry that inflates to `zipBombBytes` zeros from about 1/1000 of that;
 * - `many-entries`: `manyEntriesCount` extra tiny entries (over 65,535 makes the archive ZIP64, as Python does).
 */
export type ZipQuirk = 'corrupt' | 'truncated' | 'zip-slip' | 'bomb' | 'many-entries';
export const ZIP_QUIRKS: readonly ZipQuirk[] = ['corrupt', 'truncated', 'zip-slip', 'bomb', 'many-entries'];

/**
 * `python`: what production's `zipfile` writes to a temp file (sizes and CRC in every local header, no data
 * descriptors); `data-descriptor`: what a server that streams while compressing writes (flag bit 3, sizes after the data).
 */
export type ZipLayout = 'python' | 'data-descriptor';
export const ZIP_LAYOUTS: readonly ZipLayout[] = ['python', 'data-descriptor'];

/**
 * How a request fails when a fault hits it:
 * - `500`: Starlette's plain-text `Internal Server Error`; `502`: a proxy's HTML page; `503`: JSON `{"detail": ...}`;
 * - `reset`: 200 headers and part of the body, then the socket is destroyed;
 * - `hang`: never answered (close() still ends it);
 * - `database`: what dembrane answers when its Directus query fails after its own retries: its clients
 *   return an empty result instead of raising (directus.py search(), directus_async.py), so the route
 *   answers as if there were nothing. A listing or chunk list: 200 `[]`; a count: `{"count": 0}`; the
 *   zip: 404 "No conversations found for this project"; the transcript route: `""`; the report list: `[]`.
 * - `gone`: what a route answers once its subject was deleted since an earlier request (a conversation
 *   deleted after the zip was made): 404 `Conversation not found`, `Report not found` or `Project not found`, by the path.
 */
export type FaultKind = '500' | '502' | '503' | 'reset' | 'hang' | 'database' | 'gone';
export const FAULT_KINDS: readonly FaultKind[] = ['500', '502', '503', 'reset', 'hang', 'database', 'gone'];

export interface FaultSpec {
	/**
	 * 1-based number of the request, counted since the last resetStats()/configure() over every `/api` and
	 * `/directus` request, or, when `path` is set, over the requests whose path contains `path`.
	 */
	request: number;
	kind: FaultKind;
	path?: string;
}

/** `not-allowed`: 403 `Not allowed`; `tier`: 403 `This action requires the changemaker tier (currently free).` */
export type WebhooksAllowed = 'yes' | 'not-allowed' | 'tier';
export const WEBHOOKS_ALLOWED: readonly WebhooksAllowed[] = ['yes', 'not-allowed', 'tier'];

/**
 * `production`: `X-Webhook-Signature: sha256=HMAC(secret, sort_keys compact dumps)` (not over the wire bytes);
 * `docs`: `X-Dembrane-Signature: sha256=HMAC(secret, raw body)`; `both`: both headers.
 */
export type SignatureStyle = 'production' | 'docs' | 'both';
export const SIGNATURE_STYLES: readonly SignatureStyle[] = ['production', 'docs', 'both'];

/**
 * How a whole-number `duration` is written: `float` (`245.0`, what api-notes describes) or `directus`
 * (`245`: Directus sends a `real` column as a JSON number, so Python reads whole values back as int).
 */
export type DurationLiterals = 'float' | 'directus';
export const DURATION_LITERALS: readonly DurationLiterals[] = ['float', 'directus'];

/**
 * A project name outside Latin-1 in `Content-Disposition`: `error-500` (production: Starlette encodes header
 * values as Latin-1 and the route fails with a plain-text 500) or `utf8-bytes` (the UTF-8 bytes sent raw).
 */
export type NonLatin1FileName = 'error-500' | 'utf8-bytes';
export const NON_LATIN1_FILE_NAMES: readonly NonLatin1FileName[] = ['error-500', 'utf8-bytes'];

export interface DembraneStandinOptions {
	// --- server ---
	/** Port on 127.0.0.1; 0 picks a free one. Fixed at start. Default 0. */
	port: number;
	/** Delay before answering each `/api` and `/directus` request, in ms. Default 0. */
	latencyMs: number;
	/** Gzip JSON answers of 1,024 bytes or more when the client accepts gzip (production's GZipMiddleware; never the zip). Default true. */
	gzip: boolean;
	/** Fail given requests in given ways. Default []. */
	faults: FaultSpec[];

	// --- auth ---
	/** The one valid login. Defaults `demo@example.com` / `demo-password`. */
	email: string;
	password: string;
	displayName: string;
	/** HS256 secret Directus signs access tokens with (the API verifies with the same). */
	jwtSecret: string;
	/** A Directus static token: valid for Directus, rejected by the API (not a JWT). */
	staticToken: string;
	/** Lifetime of access tokens from login/refresh, seconds. Default 900 (Directus' 15 min). */
	accessTokenTtlSeconds: number;
	/** Lifetime of refresh tokens, seconds. Default 604800 (7 days). */
	refreshTokenTtlSeconds: number;

	// --- generated data (changing any of these regenerates everything, webhooks included) ---
	/** Seed of all generated data. Default 1. */
	seed: number;
	/** Number of workspaces. Default 1. */
	workspaces: number;
	/**
	 * Regular projects (with conversations and transcripts). Default 2. Two more are always added: one
	 * with no conversations and one whose conversations have no transcripts (the two 404s of the zip).
	 */
	projects: number;
	/** Names that replace the generated names of the first regular projects. Default []. */
	projectNames: string[];
	/** Conversations in each regular project. Default 25. */
	conversationsPerProject: number;
	/** Chunks of each conversation that has chunks. Default 4. */
	chunksPerConversation: number;
	/**
	 * Consecutive generated chunks that share one timestamp (as parts of a file written at once); the chunk
	 * list orders those in no set order. Default 1: each chunk 30 s after the last, with up to a second of jitter.
	 */
	chunksPerTimestamp: number;
	/** Approximate length of each chunk transcript, in bytes. Default 200. */
	chunkTextBytes: number;
	/** `created_at` of the first generated conversation, epoch seconds; the others follow hourly. Default 2025-03-04T10:15:30Z. */
	dataEpoch: number;

	// --- presentation ---
	transcriptMediaType: TranscriptMediaType;
	durationLiterals: DurationLiterals;
	nonLatin1FileName: NonLatin1FileName;
	/**
	 * Whether `GET /api/v2/bff/conversations/{id}/chunks` (the dashboard's paginated chunk list) exists;
	 * false models an older dembrane, where it answers FastAPI's 404 `Not Found`. Default true.
	 */
	chunkListing: boolean;
	/**
	 * Conversations over the plan's recording-hours cap: the chunk list (and the detail route's chunks)
	 * answer them with `transcript: null, transcript_locked: true`, and the detail row says `locked: true`. Default [].
	 */
	lockedConversationIds: string[];
	/**
	 * The workspace is on the Free plan and over its recording-hours cap (production's `over_cap_active`):
	 * conversations still recording are locked too. On the listing this is judged on the row as asked for
	 * (production's `_conversation_lock` reads `is_finished` from it): with `fields` that lack `is_finished`,
	 * every row counts as still recording. Default false.
	 */
	overCapActive: boolean;
	/**
	 * The listing's `has_transcript` query fails (bff/conversations.py `_grouped_ids` of a failed aggregate is
	 * empty): every row says `has_transcript: false`, the rest of the row as usual. Default false.
	 */
	transcriptFlagsFail: boolean;
	/** Dashboard base of `dashboardUrl` in webhook payloads. Default `https://dashboard.dembrane.com`. */
	dashboardBaseUrl: string;
	/**
	 * The account's access to each workspace, by index (missing: `member`, an admin membership).
	 * Production (api/v2/workspaces.py, middleware.py, inheritance.py): `billing` is listed with that role,
	 * whose project list answers 403 "Access denied" (no project:read); `expired` is listed (the listing does
	 * not check expires_at) and its project list answers 403 "No access to this workspace"; `inherited` (an
	 * org owner's access) is not listed, as it has no membership row, but its project list answers.
	 */
	workspaceAccess: WorkspaceAccess[];

	// --- transcript zip ---
	zipQuirk: ZipQuirk | null;
	zipLayout: ZipLayout;
	/** At most this many conversations go into the zip (production lists them with `limit: 1000`); 0 = all. Default 1000. */
	zipConversationLimit: number;
	/** At most this many chunks per conversation (Directus' default limit of nested o2m rows is 100); 0 = all. Default 100. */
	zipChunkLimit: number;
	/** Inflated size of the `bomb` entry in bytes, at most 4,000,000,000. Default 512 MiB. */
	zipBombBytes: number;
	/** The `bomb` entry's size as the zip headers state it; null = the true size. Default null. */
	zipBombDeclaredBytes: number | null;
	/** Extra entries of the `many-entries` quirk. Default 70,000. */
	manyEntriesCount: number;

	// --- webhooks ---
	webhooksAllowed: WebhooksAllowed;
	signatureStyle: SignatureStyle;
	/**
	 * Pauses before the retries; attempts = length + 1. Production: Dramatiq with max_retries 3 (4 attempts),
	 * exponential back-off from 5 s (capped at 60 s), halved by jitter. Default [5000, 10000, 20000].
	 */
	webhookRetryDelaysMs: number[];
	/** Read timeout of a delivery: socket idle time before giving up. Default 30000. */
	webhookTimeoutMs: number;
	/** Connect timeout of a delivery. Default 10000. */
	webhookConnectTimeoutMs: number;
}

/** How the request authenticated. */
export type AuthKind = 'none' | 'missing' | 'jwt' | 'expired' | 'bad-signature' | 'not-jwt' | 'invalid-claims';

/** One request the stand-in received on an `/api` or `/directus` route. */
export interface DembraneStandinRequest {
	/** Arrival, epoch ms. */
	at: number;
	method: string;
	path: string;
	query: Record<string, string>;
	/** Status sent, 0 when never answered (`hang`, or closed while waiting). */
	status: number;
	auth: AuthKind;
	fault?: FaultKind;
	durationMs?: number;
}

/** One delivery attempt. */
export interface DeliveryAttempt {
	at: number;
	webhookId: string;
	event: DeliveryEvent;
	url: string;
	/** 1..4. */
	attempt: number;
	/** HTTP status, null when none came (timeout, refused, reset). */
	status: number | null;
	error?: string;
	bodyBytes: number;
	durationMs: number;
}

export interface DeliveryResult {
	webhookId: string;
	event: DeliveryEvent;
	url: string;
	delivered: boolean;
	attempts: number;
	status: number | null;
	error?: string;
	/** The exact body sent (identical on every attempt). */
	body: string;
	/** Headers of the last attempt (signature headers included), as sent. */
	headers: Record<string, string>;
	/** The payload the body was made from (PyFloat-wrapped floats included). */
	payload: Record<string, unknown>;
	/** Why nothing (more) was sent: the webhook was unpublished or deleted between attempts, or the stand-in closed. */
	stopped?: 'unpublished' | 'closed';
}

export interface DembraneStandinStats {
	/** `/api` and `/directus` requests, oldest first; only the newest 10,000 are kept (see requestsDropped). */
	requests: DembraneStandinRequest[];
	requestsDropped: number;
	logins: number;
	loginFailures: number;
	refreshes: number;
	refreshFailures: number;
	/** 401 answers of the API and of Directus. */
	unauthorized: number;
	faultsInjected: number;
	/** Transcript zips sent to the end. */
	zipsServed: number;
	/** Every delivery attempt, oldest first (newest 10,000). */
	deliveries: DeliveryAttempt[];
}

// ----- data -----

export interface Workspace {
	id: string;
	name: string;
	orgId: string;
	orgName: string;
}

export type ProjectKind = 'regular' | 'empty' | 'no-transcripts';

export interface ProjectTag {
	id: string;
	text: string;
	created_at: string;
}

export interface Project {
	id: string;
	workspaceId: string;
	name: string;
	language: string;
	kind: ProjectKind;
	createdAt: string;
	updatedAt: string;
	tags: ProjectTag[];
}

export interface Chunk {
	id: string;
	conversation_id: string;
	/** null for a chunk whose transcription failed or has not run. */
	transcript: string | null;
	timestamp: string;
	created_at: string;
	source: string;
	path: string | null;
	error: string | null;
}

/** A conversation row as Directus holds it (durations as numbers; see durationLiterals for how they are written). */
export interface Conversation {
	id: string;
	project_id: string;
	created_at: string;
	updated_at: string;
	recording_started_at: string | null;
	participant_name: string | null;
	participant_email: string | null;
	title: string | null;
	summary: string | null;
	source: string;
	duration: number | null;
	is_finished: boolean;
	is_audio_processing_finished: boolean;
	is_anonymized: boolean;
	is_all_chunks_transcribed: boolean;
	/** Ids of the project tags on this conversation. */
	tagIds: string[];
	/** Addresses captured for report notifications (`emails_csv` of webhook payloads). */
	notificationEmails: string[];
	/** Has an approved artifact (`verified_only`). */
	verified: boolean;
}

export type ReportStatus = 'draft' | 'archived' | 'published' | 'scheduled' | 'error' | 'cancelled';

export interface Report {
	id: number;
	project_id: string;
	status: ReportStatus;
	content: string | null;
	language: string;
	date_created: string;
	date_updated: string | null;
	show_portal_link: boolean;
	error_code: string | null;
	error_message: string | null;
	user_instructions: string | null;
	scheduled_at: string | null;
	kind: 'report';
}

export type WebhookStatus = 'published' | 'draft' | 'archived';

export interface Webhook {
	id: string;
	project_id: string;
	name: string;
	url: string;
	secret: string | null;
	events: string[];
	status: WebhookStatus;
	date_created: string;
	date_updated: string | null;
	/** Soft delete, as production: listing and deliveries skip it, PATCH/DELETE/test by id still find it. */
	deleted_at: string | null;
}

/** What addConversation() accepts. */
export type ConversationInput = Partial<Omit<Conversation, 'id' | 'project_id'>> & { id?: string };

/** Ids tests need. */
export interface DembraneStandinIds {
	workspaceIds: string[];
	/** Regular projects, in order; the first has the Unicode/space/slash name and the tricky participants. */
	projectIds: string[];
	unicodeProjectId: string;
	emptyProjectId: string;
	noTranscriptsProjectId: string;
	userId: string;
}

export const WORKSPACE_ACCESS = ['member', 'billing', 'expired', 'inherited'] as const;
export type WorkspaceAccess = (typeof WORKSPACE_ACCESS)[number];
