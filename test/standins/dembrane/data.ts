/**
 * The stand-in's data: workspaces, projects, conversations, chunks, tags, reports and webhooks, all
 * generated from the seed. Conversations are kept as rows; chunk texts of generated conversations are
 * rebuilt from (seed, conversation index, chunk index) each time they are needed, so 5,000 conversations
 * of 20 chunks cost little memory. Timestamps are Directus-style (`2025-03-04T10:15:30.123Z`).
 */
import { hash32, Rng } from '../decagon/random';
import type { DataOptions } from './options';
import type {
	Chunk,
	Conversation,
	ConversationInput,
	DembraneStandinIds,
	Project,
	ProjectKind,
	ProjectTag,
	Report,
	ReportStatus,
	Webhook,
	Workspace,
} from './types';

// Purposes of the random streams; every stream is keyed (seed, purpose, ...) so no two can coincide.
const SHAPE_STREAM = 1;
const CHUNK_STREAM = 2;
const PROJECT_STREAM = 3;
const REPORT_STREAM = 4;
const ADDED_STREAM = 5;

/** Directus' timestamp format: ISO 8601, milliseconds, `Z`. */
export function directusTime(ms: number): string {
	return new Date(ms).toISOString();
}

export function uuidFrom(rng: Rng): string {
	let hex = '';
	for (let i = 0; i < 4; i++) hex += rng.uint32().toString(16).padStart(8, '0');
	const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The participants of the first conversations of the first project, chosen to exercise the zip's
 * file-name rules: Unicode letters and digits, marks and emoji (not alphanumeric), empty and missing
 * parts, a name whose 50-character cut ends in `_`, astral letters (cut by code point), long e-mails.
 */
export const SPECIAL_PARTICIPANTS: ReadonlyArray<{ name: string | null; email: string | null; duration: number | null }> = [
	{ name: 'Zoë Müller-Łukasz', email: 'zoe.mueller@example.com', duration: 245 },
	{ name: '山田 太郎', email: 'yamada.taro@example.jp', duration: 312.48 },
	{ name: '', email: '', duration: 60 },
	{ name: 'Maximiliana Alexandrina Konstantinopoulou-Vandenb & Co. Ltd', email: 'maximiliana.alexandrina.konstantinopoulou@example.org', duration: 1800.5 },
	{ name: null, email: null, duration: 90 },
	{ name: '  ¡¿ — !!! ', email: '@example.com', duration: 120.25 },
	{ name: "Ana 🎤 O'Brien", email: 'ana+podcast@example.com', duration: 75 },
	{ name: 'Jose\u0301 Garci\u0301a', email: 'jose@example.es', duration: 33.3 },
	{ name: 'Ravi ४२ Kumar', email: 'RAVI.KUMAR@EXAMPLE.IN', duration: 600 },
	{ name: Array(12).fill('𝔐𝔞𝔯𝔦𝔞').join(' '), email: 'maria@example.de, second@example.de', duration: 0.1 },
	{ name: 'Ægir_ _Þór', email: 'no-at-sign', duration: 1e-5 },
	{ name: 'Jane Smith', email: null, duration: 42 },
	{ name: null, email: 'jane.smith@example.com', duration: 7 },
];

const FIRST_NAMES = ['Jane', 'Pieter', 'Amira', 'Lukas', 'Sofia', 'Kwame', 'Mei', 'Olga', 'Tomás', 'Fatima', 'Noah', 'Inès', 'Søren', 'Chen'];
const LAST_NAMES = ['Smith', 'de Vries', 'Haddad', 'Schneider', 'Rossi', 'Mensah', 'Wang', 'Ivanova', 'Núñez', 'Khan', 'Jansen', 'Lefèvre', 'Østergaard', 'Li'];
const TOPICS = ['mobility', 'housing', 'the new park', 'school routes', 'energy costs', 'the library', 'bike lanes', 'noise at night'];
const SOURCES = ['PORTAL_AUDIO', 'PORTAL_AUDIO', 'PORTAL_AUDIO', 'DASHBOARD_UPLOAD', 'PORTAL_TEXT'];
const LANGUAGES = ['de', 'en', 'nl', 'en', 'fr', 'es'];
const TAG_TEXTS = ['Mobilität', 'Housing 🏠', 'Climate', 'Jeugd & onderwijs', 'Safety', 'Budget "2026"'];
/** Sentences of chunk transcripts: Unicode, quotes, backslashes, a tab, emoji, CJK. */
const SENTENCES = [
	'I think the new bike lanes made the street a lot safer for the kids.',
	'Honestly, the rent went up again and we are thinking about moving.',
	'Die Straßenbahn fährt nachts zu selten, das ist für Schichtarbeiter schwierig.',
	'Wij willen meer groen in de wijk, niet nog een parkeergarage.',
	'She said "not again" when the meeting was moved — classic.',
	'The file was saved under C:\\Users\\public\\notes, I think.',
	'Café prices are fine; it is the energy bill that hurts. €240 last month!',
	'子どもたちの通学路がもっと安全になってほしいです。',
	'We loved the festival 🎉 but the noise after midnight was too much.',
	'Numbers:\t12 bikes, 3 benches, 1 broken lamp.',
	'Можно ли добавить больше скамеек возле остановки?',
	'Ok. So. Where was I… right, the library opening hours.',
];

export interface ConversationRecord {
	row: Conversation;
	/** Generation index (keys the chunk streams); added conversations get fresh indexes too. */
	index: number;
	/** Leading chunks rebuilt from the seed. */
	generatedChunks: number;
	/** Generated chunks whose transcription failed (transcript null, error set). */
	failedChunks: boolean;
	/** Chunks added with addChunk() or given to addConversation(). */
	addedChunks: Chunk[];
	/** Ids of the conversation-tag junction rows, per tag id. */
	junctionIds: Map<string, string>;
}

export class DembraneStore {
	workspaces: Workspace[] = [];
	projects: Project[] = [];
	ids!: DembraneStandinIds;
	private data!: DataOptions;
	private readonly projectById = new Map<string, Project>();
	private readonly conversationsByProject = new Map<string, ConversationRecord[]>();
	private readonly conversationById = new Map<string, ConversationRecord>();
	reports: Report[] = [];
	private nextReportId = 1;
	readonly webhooks = new Map<string, Webhook>();
	private nextIndex = 0;
	private addedCount = 0;

	constructor(data: DataOptions) {
		this.regenerate(data);
	}

	regenerate(data: DataOptions): void {
		this.data = structuredClone(data);
		this.workspaces = [];
		this.projects = [];
		this.projectById.clear();
		this.conversationsByProject.clear();
		this.conversationById.clear();
		this.reports = [];
		this.nextReportId = 1;
		this.webhooks.clear();
		this.addedCount = 0;

		const rng = new Rng(hash32(data.seed, PROJECT_STREAM));
		const userId = uuidFrom(rng);
		for (let w = 0; w < data.workspaces; w++) {
			this.workspaces.push({
				id: uuidFrom(rng),
				name: w === 0 ? 'Demo Workspace' : `Workspace ${w + 1}`,
				orgId: '',
				orgName: 'Demo Organisation',
			});
		}
		const orgId = uuidFrom(rng);
		for (const workspace of this.workspaces) workspace.orgId = orgId;

		const epochMs = data.dataEpoch * 1000;
		const addProject = (index: number, kind: ProjectKind, name: string, language: string, workspaceId: string): Project => {
			const projectRng = new Rng(hash32(data.seed, PROJECT_STREAM, index + 1));
			const id = uuidFrom(projectRng);
			const createdMs = epochMs - (30 + index) * 86_400_000;
			const tags: ProjectTag[] =
				kind === 'empty'
					? []
					: TAG_TEXTS.slice(0, 4 + (index % 3)).map((text, t) => ({ id: uuidFrom(projectRng), text, created_at: directusTime(createdMs + t * 60_000) }));
			const project: Project = {
				id,
				workspaceId,
				name,
				language,
				kind,
				createdAt: directusTime(createdMs),
				updatedAt: directusTime(createdMs),
				tags,
			};
			this.projects.push(project);
			this.projectById.set(id, project);
			this.conversationsByProject.set(id, []);
			return project;
		};

		const regular: Project[] = [];
		for (let p = 0; p < data.projects; p++) {
			const generated = p === 0 ? "Stadtgespräch / Zoë's Café 2025" : p === 1 ? 'Pilot interviews' : `Project ${p + 1}`;
			const name = data.projectNames[p] ?? generated;
			regular.push(addProject(p, 'regular', name, LANGUAGES[p % LANGUAGES.length], this.workspaces[p % this.workspaces.length].id));
		}
		const empty = addProject(data.projects, 'empty', 'Empty project', 'en', this.workspaces[0].id);
		const untranscribed = addProject(data.projects + 1, 'no-transcripts', 'Awaiting transcription', 'en', this.workspaces[0].id);

		this.nextIndex = 0;
		for (const project of regular) {
			for (let i = 0; i < data.conversationsPerProject; i++) this.generateConversation(project, i);
		}
		for (let i = 0; i < 3; i++) this.generateConversation(untranscribed, i);
		for (const project of this.projects) this.touchProject(project);

		for (const project of regular) this.generateReports(project);

		this.ids = {
			workspaceIds: this.workspaces.map((w) => w.id),
			projectIds: regular.map((p) => p.id),
			unicodeProjectId: regular[0].id,
			emptyProjectId: empty.id,
			noTranscriptsProjectId: untranscribed.id,
			userId,
		};
	}

	get options(): DataOptions {
		return this.data;
	}

	private generateConversation(project: Project, i: number): ConversationRecord {
		const index = this.nextIndex++;
		const data = this.data;
		const rng = new Rng(hash32(data.seed, SHAPE_STREAM, index));
		const id = uuidFrom(rng);
		const special = project.kind === 'regular' && project.id === this.projects[0].id ? SPECIAL_PARTICIPANTS[i] : undefined;
		const slot = index;
		const createdMs = data.dataEpoch * 1000 + slot * 3_600_000 + (special ? 123 : rng.int(0, 1799) * 1000 + rng.int(0, 999));

		let name: string | null;
		let email: string | null;
		if (special) {
			name = special.name;
			email = special.email;
		} else {
			const first = rng.pick(FIRST_NAMES);
			const last = rng.pick(LAST_NAMES);
			name = rng.chance(0.1) ? null : `${first} ${last}`;
			email = rng.chance(0.3) ? null : `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '') + '@example.com';
		}

		let generatedChunks = data.chunksPerConversation;
		let failedChunks = false;
		if (project.kind === 'no-transcripts') {
			generatedChunks = i === 0 ? 0 : Math.max(1, Math.min(2, data.chunksPerConversation));
			failedChunks = true;
		} else if (!special && i % 9 === 4) {
			generatedChunks = 0;
		} else if (!special && i % 11 === 7) {
			failedChunks = true;
		}
		const hasAudio = generatedChunks > 0;
		const source = special ? 'PORTAL_AUDIO' : rng.pick(SOURCES);
		let duration: number | null = null;
		if (special) duration = special.duration;
		else if (hasAudio) duration = rng.chance(0.5) ? rng.int(30, 3600) : rng.int(3000, 360_000) / 100;
		const durationMs = Math.round((duration ?? 0) * 1000);
		const tagCount = project.tags.length === 0 ? 0 : rng.int(0, 2);
		const tagIds = [...new Set(Array.from({ length: tagCount }, () => rng.pick(project.tags).id))];
		const topic = rng.pick(TOPICS);
		const notificationEmails: string[] = [];
		const firstEmail = email?.split(',')[0].trim();
		if (firstEmail && /^[^@\s]+@[^@\s]+$/.test(firstEmail) && rng.chance(0.7)) notificationEmails.push(firstEmail);
		if (rng.chance(0.25)) notificationEmails.push('team@example.org');

		const row: Conversation = {
			id,
			project_id: project.id,
			created_at: directusTime(createdMs),
			updated_at: directusTime(createdMs + durationMs + 60_000),
			recording_started_at: hasAudio ? directusTime(createdMs) : null,
			participant_name: name,
			participant_email: email,
			title: rng.chance(0.6) ? `Conversation about ${topic}` : null,
			summary: !special && hasAudio && !failedChunks && rng.chance(0.5) ? `The participant talked about ${topic} and what should change.` : null,
			source,
			duration,
			is_finished: hasAudio || project.kind === 'no-transcripts',
			is_audio_processing_finished: hasAudio && !failedChunks,
			is_anonymized: rng.chance(0.1),
			is_all_chunks_transcribed: hasAudio && !failedChunks,
			tagIds,
			notificationEmails,
			verified: rng.chance(0.3),
		};
		const record: ConversationRecord = { row, index, generatedChunks, failedChunks, addedChunks: [], junctionIds: new Map() };
		for (const tagId of tagIds) record.junctionIds.set(tagId, uuidFrom(rng));
		this.insert(record);
		return record;
	}

	private insert(record: ConversationRecord): void {
		if (this.conversationById.has(record.row.id)) throw new Error(`conversation ${record.row.id} exists already`);
		this.conversationById.set(record.row.id, record);
		this.conversationsByProject.get(record.row.project_id)!.push(record);
	}

	private touchProject(project: Project): void {
		const records = this.conversationsByProject.get(project.id) ?? [];
		let latest = project.updatedAt;
		for (const record of records) if (record.row.updated_at > latest) latest = record.row.updated_at;
		project.updatedAt = latest;
	}

	private generateReports(project: Project): void {
		const rng = new Rng(hash32(this.data.seed, REPORT_STREAM, this.projects.indexOf(project)));
		const startMs = this.data.dataEpoch * 1000 + 86_400_000;
		// The first project's newest report is published (a stuck draft sits before it); in the others a
		// draft is being generated right now, so "latest" is a draft with empty content there.
		const statuses: ReportStatus[] = this.projects.indexOf(project) === 0 ? ['archived', 'error', 'draft', 'published'] : ['archived', 'error', 'published', 'draft'];
		statuses.forEach((status, i) => {
			const createdMs = startMs + i * 86_400_000 + rng.int(0, 3_599_999);
			this.reports.push(this.reportRow(project, status, createdMs, i));
		});
	}

	reportRow(project: Project, status: ReportStatus, createdMs: number, variant: number): Report {
		const id = this.nextReportId++;
		const conversations = (this.conversationsByProject.get(project.id) ?? []).length;
		// Production creates the row with content "" and fills it when generation succeeds.
		const content =
			status === 'draft' || status === 'error' || status === 'scheduled'
				? ''
				: [
						`# ${project.name}: what we heard${variant > 1 ? ` (${variant})` : ''}`,
						'',
						`Based on ${conversations} conversations.`,
						'',
						'## Themes',
						'',
						'- Safer routes to school 🚲',
						'- Rising costs: "we can\'t keep up"',
						'- More green space — less parking',
						'',
					].join('\n');
		return {
			id,
			project_id: project.id,
			status,
			content,
			language: project.language,
			date_created: directusTime(createdMs),
			date_updated: status === 'draft' ? null : directusTime(createdMs + 300_000),
			show_portal_link: status === 'published',
			error_code: status === 'error' ? 'UNEXPECTED_ERROR' : null,
			error_message: status === 'error' ? 'Report generation failed' : null,
			user_instructions: variant === 1 ? 'Focus on mobility.' : null,
			scheduled_at: null,
			kind: 'report',
		};
	}

	// ----- reads -----

	/** Found whatever the case, as Postgres compares UUIDs (a route that compares IDs as text may still not). */
	project(id: string): Project | undefined {
		return this.projectById.get(id) ?? this.projectById.get(id.toLowerCase());
	}

	workspace(id: string): Workspace | undefined {
		return this.workspaces.find((w) => w.id === id);
	}

	conversationsOf(projectId: string): ConversationRecord[] {
		return this.conversationsByProject.get(projectId) ?? [];
	}

	conversation(id: string): ConversationRecord | undefined {
		return this.conversationById.get(id) ?? this.conversationById.get(id.toLowerCase());
	}

	get conversationCount(): number {
		return this.conversationById.size;
	}

	/** All chunks of a conversation in time order. */
	chunksOf(record: ConversationRecord): Chunk[] {
		const chunks: Chunk[] = [];
		for (let i = 0; i < record.generatedChunks; i++) chunks.push(this.generatedChunk(record, i));
		chunks.push(...record.addedChunks);
		return chunks;
	}

	/** Chunk count without building texts. */
	chunkCount(record: ConversationRecord): number {
		return record.generatedChunks + record.addedChunks.length;
	}

	/** Whether at least one chunk has a transcript (the zip's and `transcript_required`'s test). */
	hasTranscript(record: ConversationRecord): boolean {
		if (record.generatedChunks > 0 && !record.failedChunks) return true;
		return record.addedChunks.some((chunk) => Boolean(chunk.transcript));
	}

	private generatedChunk(record: ConversationRecord, i: number): Chunk {
		const rng = new Rng(hash32(this.data.seed, CHUNK_STREAM, record.index, i));
		const id = uuidFrom(rng);
		const jitterMs = rng.int(0, 999);
		const perTimestamp = this.data.chunksPerTimestamp;
		const atMs = Date.parse(record.row.created_at) + (perTimestamp > 1 ? Math.floor(i / perTimestamp) * 30_000 : i * 30_000 + jitterMs);
		let transcript: string | null = null;
		let error: string | null = null;
		if (record.failedChunks) {
			error = 'Transcription failed: audio could not be decoded';
		} else if (i > 0 && rng.chance(0.08)) {
			transcript = i % 2 === 0 ? null : '';
		} else {
			transcript = chunkText(rng, this.data.chunkTextBytes);
			// Some transcripts carry surrounding white space: the zip keeps it, webhook transcripts strip it.
			if (rng.chance(0.15)) transcript = ` ${transcript}\n`;
		}
		return {
			id,
			conversation_id: record.row.id,
			transcript,
			timestamp: directusTime(atMs),
			created_at: directusTime(atMs + 1500),
			source: record.row.source === 'PORTAL_TEXT' ? 'PORTAL_TEXT' : 'PORTAL_AUDIO',
			path: record.row.source === 'PORTAL_TEXT' ? null : `s3://dembrane/audio/${record.row.id}/${i}.webm`,
			error,
		};
	}

	// ----- transcripts as production builds them -----

	/** Zip file body: every chunk with a truthy transcript, in time order, each followed by "\n". */
	zipBody(record: ConversationRecord, chunkLimit: number): string | null {
		let chunks = this.chunksOf(record);
		if (chunkLimit > 0) chunks = chunks.slice(0, chunkLimit);
		const lines = chunks.filter((chunk) => chunk.transcript).map((chunk) => `${chunk.transcript}\n`);
		return lines.length > 0 ? lines.join('') : null;
	}

	/** `GET /conversations/{id}/transcript`: first 1,500 chunks (or all), transcripts joined with "\n" (not stripped). */
	transcriptText(record: ConversationRecord, { wholeConversation = false } = {}): string {
		return this.chunksOf(record)
			.slice(0, wholeConversation ? undefined : 1500)
			.filter((chunk) => chunk.transcript)
			.map((chunk) => chunk.transcript)
			.join('\n');
	}

	/** Webhook payloads: first 2,000 chunks, transcripts stripped and joined with "\n". */
	webhookTranscript(record: ConversationRecord): string {
		return this.chunksOf(record)
			.slice(0, 2000)
			.filter((chunk) => chunk.transcript)
			.map((chunk) => pythonStrip(chunk.transcript!))
			.join('\n');
	}

	tagTexts(record: ConversationRecord): string[] {
		const project = this.project(record.row.project_id);
		return record.row.tagIds.map((id) => project?.tags.find((tag) => tag.id === id)?.text).filter((text): text is string => Boolean(text));
	}

	// ----- writes -----

	addConversation(projectId: string, input: ConversationInput, nowMs: number): ConversationRecord {
		const project = this.project(projectId);
		if (!project) throw new Error(`unknown project ${projectId}`);
		const index = this.nextIndex++;
		const rng = new Rng(hash32(this.data.seed, ADDED_STREAM, index, ++this.addedCount));
		const { id, tagIds, ...fields } = input;
		const row: Conversation = {
			id: id ?? uuidFrom(rng),
			project_id: projectId,
			created_at: directusTime(nowMs),
			updated_at: directusTime(nowMs),
			recording_started_at: directusTime(nowMs),
			participant_name: null,
			participant_email: null,
			title: null,
			summary: null,
			source: 'PORTAL_AUDIO',
			duration: null,
			is_finished: false,
			is_audio_processing_finished: false,
			is_anonymized: false,
			is_all_chunks_transcribed: false,
			tagIds: tagIds ?? [],
			notificationEmails: [],
			verified: false,
			...fields,
		};
		for (const tagId of row.tagIds) {
			if (!project.tags.some((tag) => tag.id === tagId)) throw new Error(`unknown tag ${tagId} of project ${projectId}`);
		}
		const record: ConversationRecord = { row, index, generatedChunks: 0, failedChunks: false, addedChunks: [], junctionIds: new Map() };
		for (const tagId of row.tagIds) record.junctionIds.set(tagId, uuidFrom(rng));
		this.insert(record);
		this.touchProject(project);
		return record;
	}

	addChunk(conversationId: string, text: string | null, nowMs: number): Chunk {
		const record = this.conversation(conversationId);
		if (!record) throw new Error(`unknown conversation ${conversationId}`);
		const rng = new Rng(hash32(this.data.seed, ADDED_STREAM, record.index, this.chunkCount(record) + 1, ++this.addedCount));
		const last = this.chunksOf(record).at(-1);
		const atMs = Math.max(nowMs, last ? Date.parse(last.timestamp) + 1 : 0);
		const chunk: Chunk = {
			id: uuidFrom(rng),
			conversation_id: conversationId,
			transcript: text,
			timestamp: directusTime(atMs),
			created_at: directusTime(atMs),
			source: 'PORTAL_AUDIO',
			path: `s3://dembrane/audio/${conversationId}/added-${record.addedChunks.length}.webm`,
			error: text ? null : 'Transcription failed',
		};
		record.addedChunks.push(chunk);
		const row = record.row;
		row.updated_at = directusTime(atMs);
		row.is_finished = true;
		row.is_audio_processing_finished = true;
		row.is_all_chunks_transcribed = this.chunksOf(record).every((c) => Boolean(c.transcript));
		row.duration = Math.round(((row.duration ?? 0) + 30) * 100) / 100;
		this.touchProject(this.project(row.project_id)!);
		return chunk;
	}

	setSummary(conversationId: string, summary: string, nowMs: number): ConversationRecord {
		const record = this.conversation(conversationId);
		if (!record) throw new Error(`unknown conversation ${conversationId}`);
		record.row.summary = summary;
		record.row.updated_at = directusTime(nowMs);
		this.touchProject(this.project(record.row.project_id)!);
		return record;
	}

	addReport(projectId: string, status: ReportStatus, nowMs: number): Report {
		const project = this.project(projectId);
		if (!project) throw new Error(`unknown project ${projectId}`);
		const report = this.reportRow(project, status, nowMs, this.reports.filter((r) => r.project_id === projectId).length);
		this.reports.push(report);
		return report;
	}

	reportsOf(projectId: string): Report[] {
		return this.reports.filter((report) => report.project_id === projectId);
	}

	report(id: number): Report | undefined {
		return this.reports.find((report) => report.id === id);
	}
}

/** Python's white space (`str.isspace`): unlike JS `\s` it includes U+001C..U+001F and U+0085, not U+FEFF. */
const PYTHON_SPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PYTHON_SPACE_EDGES = new RegExp(`^${PYTHON_SPACE}+|${PYTHON_SPACE}+$`, 'g');

/** Python's `str.strip()` without arguments: Python white space at both ends. */
export function pythonStrip(text: string): string {
	return text.replace(PYTHON_SPACE_EDGES, '');
}

function chunkText(rng: Rng, approxBytes: number): string {
	const parts: string[] = [];
	let bytes = 0;
	while (bytes < approxBytes) {
		const sentence = rng.pick(SENTENCES);
		parts.push(sentence);
		bytes += Buffer.byteLength(sentence) + 1;
	}
	return parts.join(' ');
}
