/**
 * The stand-in's conversations and the export query over them: time window on one timestamp field,
 * metadata filter, order, and a keyset cursor (timestamp, id) so a conversation updated during an
 * export moves behind the cursor and is met again, the way a live export behaves.
 */
import type { DataOptions } from './options';
import type { ConversationRecord, PresentationOptions } from './generate';
import { addedMessageText, generateRecord, recordFromInput, toConversation } from './generate';
import { US_PER_SECOND } from './timestamps';
import type { DecagonConversation, DecagonConversationInput, MessageRole, SortOrder, TimestampField } from './types';

export interface ExportQuery {
	field: TimestampField;
	order: SortOrder;
	/** Inclusive bounds in epoch µs. */
	minUs: number;
	maxUs: number;
	metadataFilter: Record<string, unknown> | undefined;
	/** Position after which (asc) or before which (desc) the page starts; undefined = from the start. */
	after: CursorKey | undefined;
}

export interface CursorKey {
	us: number;
	/** Tie-breaker; absent in integer cursors (`next_page_updated_after`), which carry the time only. */
	id?: string;
}

export class ConversationStore {
	private records: ConversationRecord[] = [];
	private readonly byId = new Map<string, ConversationRecord>();
	private readonly sorted = new Map<TimestampField, ConversationRecord[]>();
	private nextIndex = 0;
	/** Last time given to an appended message: keeps appended times unique across conversations too. */
	private lastAppendedUs = 0;

	constructor(private data: DataOptions) {
		this.regenerate(data);
	}

	regenerate(data: DataOptions): void {
		this.data = data;
		this.records = [];
		this.byId.clear();
		this.sorted.clear();
		const taken = (id: string) => this.byId.has(id);
		for (let index = 0; index < data.count; index++) {
			const record = generateRecord(data, index, taken);
			this.records.push(record);
			this.byId.set(record.id, record);
		}
		this.nextIndex = data.count;
	}

	get size(): number {
		return this.records.length;
	}

	ids(): string[] {
		return this.records.map((record) => record.id);
	}

	get(id: string): ConversationRecord | undefined {
		return this.byId.get(id);
	}

	serve(record: ConversationRecord, view: PresentationOptions): DecagonConversation {
		return toConversation(record, this.data, view);
	}

	all(view: PresentationOptions): DecagonConversation[] {
		return this.records.map((record) => this.serve(record, view));
	}

	add(input: DecagonConversationInput, nowUs: number): ConversationRecord {
		const record = recordFromInput(this.data, this.nextIndex++, input, nowUs, (id) => this.byId.has(id));
		this.records.push(record);
		this.byId.set(record.id, record);
		this.sorted.clear();
		return record;
	}

	/** Appends a message at `atUs` (kept strictly after the last update) and moves updated_at with it. */
	addMessage(id: string, atUs: number, text?: string, role: MessageRole = 'USER'): ConversationRecord {
		const record = this.byId.get(id);
		if (!record) throw new Error(`no conversation ${id}`);
		// Unique times keep integer cursors (time only, no id) exact.
		const us = Math.max(atUs, record.updatedUs + 1, record.lastMessageUs + 1, this.lastAppendedUs + 1);
		this.lastAppendedUs = us;
		record.addedMessages.push({ text: text ?? addedMessageText(this.data, record), role, createdUs: us });
		record.lastMessageUs = us;
		record.updatedUs = us;
		this.sorted.clear();
		return record;
	}

	/** Up to `limit` matching records after the cursor, in the query's order, and whether more follow. */
	page(query: ExportQuery, limit: number): { records: ConversationRecord[]; more: boolean } {
		const list = this.sortedBy(query.field);
		const records: ConversationRecord[] = [];
		const step = query.order === 'asc' ? 1 : -1;
		let i = this.startIndex(list, query);
		for (; i >= 0 && i < list.length; i += step) {
			const record = list[i];
			const us = timeOf(record, query.field);
			if (query.order === 'asc' ? us > query.maxUs : us < query.minUs) break;
			if (!this.matches(record, query)) continue;
			if (records.length === limit) return { records, more: true };
			records.push(record);
		}
		return { records, more: false };
	}

	/** The `count` matching records that end at the cursor (inclusive): what an overlapping page repeats. */
	repeatBefore(query: ExportQuery, count: number): ConversationRecord[] {
		if (!query.after || count === 0) return [];
		const list = this.sortedBy(query.field);
		const step = query.order === 'asc' ? -1 : 1;
		const repeated: ConversationRecord[] = [];
		for (let i = this.startIndex(list, query) + step; i >= 0 && i < list.length && repeated.length < count; i += step) {
			if (this.matches(list[i], query)) repeated.unshift(list[i]);
		}
		return repeated;
	}

	private matches(record: ConversationRecord, query: ExportQuery): boolean {
		const us = timeOf(record, query.field);
		if (us < query.minUs || us > query.maxUs) return false;
		if (query.metadataFilter) {
			for (const [key, value] of Object.entries(query.metadataFilter)) {
				if (String(record.metadata[key]) !== String(value)) return false;
			}
		}
		return true;
	}

	/** Index of the first record to look at: binary search past the cursor (or to the window's edge). */
	private startIndex(list: ConversationRecord[], query: ExportQuery): number {
		const field = query.field;
		// How many records satisfy a predicate that is true for a prefix of the sorted list.
		const prefix = (isInPrefix: (record: ConversationRecord) => boolean) => {
			let low = 0;
			let high = list.length;
			while (low < high) {
				const mid = (low + high) >>> 1;
				if (isInPrefix(list[mid])) low = mid + 1;
				else high = mid;
			}
			return low;
		};
		// Integer cursors carry no id: they compare on time alone.
		const before = (key: CursorKey) => (record: ConversationRecord) => {
			const us = timeOf(record, field);
			return us < key.us || (key.id !== undefined && us === key.us && record.id < key.id);
		};
		const atOrBefore = (key: CursorKey) => (record: ConversationRecord) => {
			const us = timeOf(record, field);
			return us < key.us || (us === key.us && (key.id === undefined || record.id <= key.id));
		};
		if (query.order === 'asc') {
			return query.after ? prefix(atOrBefore(query.after)) : prefix(before({ us: query.minUs }));
		}
		return (query.after ? prefix(before(query.after)) : prefix(atOrBefore({ us: query.maxUs }))) - 1;
	}

	private sortedBy(field: TimestampField): ConversationRecord[] {
		let list = this.sorted.get(field);
		if (!list) {
			list = [...this.records].sort((a, b) => timeOf(a, field) - timeOf(b, field) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
			this.sorted.set(field, list);
		}
		return list;
	}
}

export function timeOf(record: ConversationRecord, field: TimestampField): number {
	if (field === 'created_at') return record.createdUs;
	if (field === 'updated_at') return record.updatedUs;
	return record.lastMessageUs;
}

export function secondsToUs(seconds: number): number {
	return seconds * US_PER_SECOND;
}
