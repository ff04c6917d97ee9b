/**
 * Conversation rows as `/api/v2/bff/conversations` serves them: Directus fields (the default set, `*`
 * or a chosen list, `id` always first), then what the BFF adds (lock state, artifacts, chunk facts),
 * with tags and chunks embedded on request. Filtering and sorting follow the route: filters and sort
 * apply before limit/offset, `transcript_required` AFTER them (production drops rows from the fetched
 * page, so a page can be shorter than `limit`). Sorting is by code point with Postgres' NULL placement
 * (NULLs last ascending, first descending); ties keep id order.
 */
import { hash32 } from '../decagon/random';
import type { ConversationRecord, DembraneStore } from './data';
import { durationValue } from './webhooks';
import type { DurationLiterals } from './types';

export const SORTS = ['-created_at', 'created_at', '-participant_name', 'participant_name', '-duration', 'duration', '-updated_at', 'updated_at'] as const;
export type ConversationSort = (typeof SORTS)[number];

/** The route's default `fields`; api-notes' list plus `move_history` (is_over_cap is read, then dropped). */
export const DEFAULT_FIELDS = [
	'id',
	'created_at',
	'updated_at',
	'recording_started_at',
	'project_id',
	'participant_name',
	'participant_email',
	'title',
	'summary',
	'source',
	'duration',
	'is_finished',
	'is_audio_processing_finished',
	'is_anonymized',
	'move_history',
];

const SEARCH_FIELDS = ['participant_name', 'participant_email', 'title', 'summary'] as const;

export interface ConversationFilter {
	sources?: string[];
	tagIds?: string[];
	verifiedOnly?: boolean;
	searchText?: string;
}

/**
 * dembrane's search (search_filters.py `merge_search_filter`): every whitespace-separated word must appear,
 * in any order and case, in at least one of the searched fields.
 */
export function searchTokens(text: string | undefined): string[] {
	return (text ?? '').toLowerCase().split(/\s+/).filter(Boolean);
}

export function filterConversations(records: ConversationRecord[], filter: ConversationFilter): ConversationRecord[] {
	const tokens = searchTokens(filter.searchText);
	return records.filter(({ row }) => {
		if (filter.sources && filter.sources.length > 0 && !filter.sources.includes(row.source)) return false;
		if (filter.tagIds && filter.tagIds.length > 0 && !row.tagIds.some((id) => filter.tagIds!.includes(id))) return false;
		if (filter.verifiedOnly && !row.verified) return false;
		if (!tokens.every((token) => SEARCH_FIELDS.some((field) => (row[field] ?? '').toLowerCase().includes(token)))) return false;
		return true;
	});
}

/**
 * Text as Postgres' en_US.UTF-8 collation orders it (the default of the postgres/pgvector images dembrane
 * runs on): glibc passes over spaces and punctuation first, as ICU does with ignorePunctuation.
 */
const textCollator = new Intl.Collator('en', { ignorePunctuation: true });

export function compareText(a: string, b: string): number {
	return textCollator.compare(a, b);
}

/**
 * The order among rows of one sort value for one request. Directus sorts on the requested field alone (no
 * tie-breaker, directus/directus#17435), and Postgres returns such rows in no set order, which can differ
 * with LIMIT and OFFSET: here it is fixed per request (a query plan), and differs between requests.
 */
export function tieOrder(offset: number, limit: number): (leftId: string, rightId: string) => number {
	const ranks = new Map<string, number>();
	const rank = (id: string) => {
		let value = ranks.get(id);
		if (value === undefined) ranks.set(id, (value = hash32(offset, limit, ...Buffer.from(id))));
		return value;
	};
	return (leftId, rightId) => rank(leftId) - rank(rightId);
}

export function sortConversations(records: ConversationRecord[], sort: ConversationSort, ties: (leftId: string, rightId: string) => number): ConversationRecord[] {
	const descending = sort.startsWith('-');
	const field = (descending ? sort.slice(1) : sort) as 'created_at' | 'participant_name' | 'duration' | 'updated_at';
	return [...records].sort((left, right) => {
		const a = left.row[field];
		const b = right.row[field];
		let order: number;
		if (a === null || b === null) {
			// Postgres: NULLS LAST ascending, NULLS FIRST descending, i.e. NULL is the largest value.
			order = a === b ? 0 : a === null ? 1 : -1;
		} else {
			order = typeof a === 'number' && typeof b === 'number' ? a - b : compareText(String(a), String(b));
		}
		if (descending) order = -order;
		return order !== 0 ? order : ties(left.row.id, right.row.id);
	});
}

export interface RowSettings {
	durationLiterals: DurationLiterals;
}

/** Every column of the row as Directus' `*` gives it (o2m aliases `tags` and `chunks` as lists of ids, unless `relations` is false). */
export function fullRow(store: DembraneStore, record: ConversationRecord, settings: RowSettings, relations = true): Record<string, unknown> {
	const row = record.row;
	const full: Record<string, unknown> = {
		id: row.id,
		created_at: row.created_at,
		updated_at: row.updated_at,
		deleted_at: null,
		project_id: row.project_id,
		participant_name: row.participant_name,
		participant_email: row.participant_email,
		participant_user_agent: row.source === 'PORTAL_AUDIO' ? 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)' : null,
		title: row.title,
		summary: row.summary,
		source: row.source,
		duration: durationValue(row.duration, settings.durationLiterals),
		is_finished: row.is_finished,
		is_audio_processing_finished: row.is_audio_processing_finished,
		is_all_chunks_transcribed: row.is_all_chunks_transcribed,
		is_anonymized: row.is_anonymized,
		recording_started_at: row.recording_started_at,
		merged_transcript: null,
		move_history: null,
	};
	if (relations) {
		full.tags = [...record.junctionIds.values()];
		full.chunks = store.chunksOf(record).map((chunk) => chunk.id);
	}
	return full;
}

/**
 * The chosen fields of a row. Directus' `count(relation)` field function gives `{relation}_count`, a
 * number (dembrane itself reads `count(conversations)` → `conversations_count`); it counts the whole
 * relation, not the nested list's first 100.
 */
export function pickFields(full: Record<string, unknown>, fields: string[] | '*', counts: Record<string, number> = {}): Record<string, unknown> {
	if (fields === '*') return { ...full };
	const picked: Record<string, unknown> = {};
	for (const field of fields) {
		const counted = /^count\((\w+)\)$/.exec(field);
		if (counted && counted[1] in counts) picked[`${counted[1]}_count`] = counts[counted[1]];
		else if (field in full) picked[field] = full[field];
	}
	return picked;
}

/** What `count(chunks)` and `count(tags)` of a row are. */
export function relationCounts(store: DembraneStore, record: ConversationRecord): Record<string, number> {
	return { chunks: store.chunkCount(record), tags: record.junctionIds.size };
}

/** What the BFF list adds to each row after the Directus read. */
export function listExtras(store: DembraneStore, record: ConversationRecord): Record<string, unknown> {
	const chunks = store.chunksOf(record);
	const last = chunks.reduce<string | null>((latest, chunk) => (latest === null || chunk.timestamp > latest ? chunk.timestamp : latest), null);
	return {
		locked: false,
		lock_reason: null,
		conversation_artifacts: record.row.verified
			? [{ id: `${record.row.id.slice(0, 8)}-artifact`, conversation_id: record.row.id, approved_at: record.row.updated_at, key: 'verified', topic_label: 'Verified outcome' }]
			: [],
		has_transcript: chunks.some((chunk) => Boolean(chunk.transcript)),
		last_chunk_at: last,
		has_only_text_chunks: chunks.length > 0 && chunks.every((chunk) => chunk.source === 'PORTAL_TEXT'),
		has_transcription_error: chunks.some((chunk) => Boolean(chunk.error) && !chunk.transcript),
	};
}

export function tagRows(store: DembraneStore, record: ConversationRecord, withConversationId: boolean): Array<Record<string, unknown>> {
	const project = store.project(record.row.project_id);
	return [...record.junctionIds.entries()].map(([tagId, junctionId]) => {
		const tag = project?.tags.find((t) => t.id === tagId);
		return {
			id: junctionId,
			...(withConversationId ? { conversation_id: record.row.id } : {}),
			project_tag_id: tag ? { id: tag.id, text: tag.text, created_at: tag.created_at } : null,
		};
	});
}

/** Chunks embedded by the list (`include_chunks`): newest first. */
export function listChunkRows(store: DembraneStore, record: ConversationRecord): Array<Record<string, unknown>> {
	return store
		.chunksOf(record)
		.map(({ id, conversation_id, transcript, source, path, timestamp, created_at, error }) => ({ id, conversation_id, transcript, source, path, timestamp, created_at, error }))
		.reverse();
}
