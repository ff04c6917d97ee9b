/**
 * Deterministic conversations. A stored record keeps only what indexing needs (id, timestamps,
 * metadata, message count, messages added later); texts, tags and the rest are rebuilt from the
 * seed when a conversation is served. That keeps 100,000 conversations small and quick to create.
 */
import type { DataOptions } from './options';
import { hash32, Rng } from './random';
import { formatTimestamp, parseTimestampUs, styleFor, US_PER_SECOND } from './timestamps';
import type {
	DecagonAuditLog,
	DecagonConversation,
	DecagonConversationInput,
	DecagonMessage,
	DecagonTag,
	MessageRole,
	TimestampFormat,
} from './types';

export interface StoredMessage {
	text: string;
	role: MessageRole;
	createdUs: number;
}

export interface ConversationRecord {
	/** Generation index: keys the random streams this conversation is rebuilt from. */
	index: number;
	id: string;
	createdUs: number;
	updatedUs: number;
	lastMessageUs: number;
	metadata: Record<string, unknown>;
	/** How many leading messages come from the seed. */
	generatedMessages: number;
	/** Messages appended later (addMessage) or given to addConversation. */
	addedMessages: StoredMessage[];
	/** Fields given to addConversation that replace generated ones when served. */
	overrides: Partial<DecagonConversation> | undefined;
}

export interface PresentationOptions {
	timestampFormat: TimestampFormat;
	bareTagIds: boolean;
}

// Purposes of the per-conversation random streams.
const SHAPE_STREAM = 1;
const CONTENT_STREAM = 2;
const TIMING_STREAM = 3;
const ADDED_TEXT_STREAM = 4;

// Timestamp slots, to vary the format per timestamp in `mixed` mode.
const SLOT_CREATED = 0;
const SLOT_UPDATED = 1;
const SLOT_AUDIT = 50;
const SLOT_MESSAGE = 100;

const USER_TYPES = ['VIP', 'standard', 'standard', 'standard', 'standard', 'standard'] as const;
const REGIONS = ['us', 'us', 'us', 'eu', 'eu'] as const;
const PLANS = ['free', 'pro', 'enterprise'] as const;
const TOPICS = ['a late delivery', 'a refund', 'a login problem', 'billing', 'an upgrade', 'a broken link', 'their order status', 'a password reset'];
const RESOLUTIONS = [
	'The agent offered to help the customer.',
	'A refund was issued.',
	'The customer was sent a reset link.',
	'The issue was escalated to the billing team.',
	'The customer left before it was resolved.',
];
const TAGS: readonly DecagonTag[] = [
	{ name: 'Greeting', level: 0 },
	{ name: 'Billing', level: 0 },
	{ name: 'Refund', level: 1 },
	{ name: 'Shipping', level: 0 },
	{ name: 'Account', level: 0 },
	{ name: 'Password reset', level: 1 },
	{ name: 'Escalation', level: 2 },
];
// A few non-ASCII words so byte counts and UTF-8 handling get exercised.
const WORDS = (
	'the order has not arrived yet and I would like to know where it is please could you check my account ' +
	'thanks for waiting I can help with that let me look into this for you your refund was processed today ' +
	'is there anything else café naïve €20 déjà über 👋 delivery tracking number invoice subscription plan'
).split(' ');

/** Metadata objects are shared between records with the same values (a handful of combinations). */
const sharedMetadata = new Map<string, Readonly<Record<string, unknown>>>();
function metadataFor(userType: string, region: string, plan: string): Record<string, unknown> {
	const key = `${userType}|${region}|${plan}`;
	let metadata = sharedMetadata.get(key);
	if (!metadata) {
		metadata = Object.freeze({ user_type: userType, region, plan });
		sharedMetadata.set(key, metadata);
	}
	return metadata as Record<string, unknown>;
}

function uuidFrom(rng: Rng): string {
	let hex = '';
	for (let i = 0; i < 4; i++) hex += rng.uint32().toString(16).padStart(8, '0');
	const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Offsets (µs) of the generated messages from created_at; the first message opens the conversation. */
function messageOffsets(data: DataOptions, index: number): number[] {
	const rng = new Rng(hash32(data.seed, index, TIMING_STREAM));
	const range = data.messagesPerConversation;
	const count = Array.isArray(range) ? rng.int(range[0], range[1]) : range;
	const offsets: number[] = [];
	let offset = 0;
	for (let i = 0; i < count; i++) {
		if (i > 0) offset += rng.int(2 * US_PER_SECOND, 90 * US_PER_SECOND);
		offsets.push(offset);
	}
	return offsets;
}

/**
 * Generates conversation `index`. created_at is uniform over the `spanDays` before `nowEpoch`, moved
 * earlier when needed so the last message is not after `nowEpoch`.
 */
export function generateRecord(data: DataOptions, index: number, isIdTaken: (id: string) => boolean): ConversationRecord {
	const rng = new Rng(hash32(data.seed, index, SHAPE_STREAM));
	let id = uuidFrom(rng);
	while (isIdTaken(id)) id = uuidFrom(rng); // practically never; keeps ids unique without luck
	const nowUs = data.nowEpoch * US_PER_SECOND;
	const spanUs = Math.floor(data.spanDays * 86_400 * US_PER_SECOND);
	const unit = (rng.uint32() * 0x1_0000_0000 + rng.uint32()) / 2 ** 64;
	const metadata = metadataFor(rng.pick(USER_TYPES), rng.pick(REGIONS), rng.pick(PLANS));

	const offsets = messageOffsets(data, index);
	const durationUs = offsets.length > 0 ? offsets[offsets.length - 1] : 0;
	const createdUs = Math.min(nowUs - spanUs + Math.floor(unit * spanUs), nowUs - durationUs);
	const lastUs = createdUs + durationUs;
	return {
		index,
		id,
		createdUs,
		updatedUs: lastUs,
		lastMessageUs: lastUs,
		metadata,
		generatedMessages: offsets.length,
		addedMessages: [],
		overrides: undefined,
	};
}

function parseInputTime(value: unknown, field: string): number | undefined {
	if (value === undefined || value === null) return undefined;
	const us = typeof value === 'string' ? parseTimestampUs(value) : NaN;
	if (Number.isNaN(us)) throw new Error(`addConversation: ${field} "${String(value)}" is not a timestamp`);
	return us;
}

/**
 * A record for addConversation(): generated like any other, then the given fields win. Without
 * created_at the conversation ends at `nowUs`; with messages, those replace the generated ones.
 */
export function recordFromInput(
	data: DataOptions,
	index: number,
	input: DecagonConversationInput,
	nowUs: number,
	isIdTaken: (id: string) => boolean,
): ConversationRecord {
	const base = generateRecord(data, index, isIdTaken);
	const { conversation_id, created_at, updated_at, metadata, messages, ...overrides } = input;
	if (conversation_id !== undefined) {
		if (isIdTaken(conversation_id)) throw new Error(`addConversation: conversation ${conversation_id} exists already`);
		base.id = conversation_id;
	}
	if (metadata !== undefined) base.metadata = { ...metadata };

	const givenCreated = parseInputTime(created_at, 'created_at');
	if (messages !== undefined) {
		base.createdUs = givenCreated ?? nowUs;
		base.generatedMessages = 0;
		base.addedMessages = messages.map((message, i) => ({
			text: message.text,
			role: message.role,
			createdUs: parseInputTime(message.created_at, `messages[${i}].created_at`) ?? base.createdUs,
		}));
		base.lastMessageUs = Math.max(base.createdUs, ...base.addedMessages.map((m) => m.createdUs));
	} else {
		const durationUs = base.lastMessageUs - base.createdUs;
		base.createdUs = givenCreated ?? nowUs - durationUs;
		base.lastMessageUs = base.createdUs + durationUs;
	}
	base.updatedUs = parseInputTime(updated_at, 'updated_at') ?? base.lastMessageUs;
	base.overrides = Object.keys(overrides).length > 0 ? overrides : undefined;
	return base;
}

/** Text for a message appended by addMessage() without one: deterministic per conversation and position. */
export function addedMessageText(data: DataOptions, record: ConversationRecord): string {
	return sentence(new Rng(hash32(data.seed, record.index, ADDED_TEXT_STREAM, record.addedMessages.length)), data.textBytes);
}

function sentence(rng: Rng, approxBytes: number): string {
	let text = '';
	while (Buffer.byteLength(text) < approxBytes) text += (text ? ' ' : '') + rng.pick(WORDS);
	return `${text.charAt(0).toUpperCase()}${text.slice(1)}${rng.chance(0.3) ? '?' : '.'}`;
}

function bareTagId(tag: DecagonTag): string {
	return `tag_${hash32(...Array.from(tag.name, (c) => c.charCodeAt(0))).toString(16).padStart(8, '0')}`;
}

/** The conversation as served. All random draws happen before presentation choices, so those never shift content. */
export function toConversation(record: ConversationRecord, data: DataOptions, view: PresentationOptions): DecagonConversation {
	const rng = new Rng(hash32(data.seed, record.index, CONTENT_STREAM));
	const at = (us: number, slot: number, isAuditLog = false) =>
		formatTimestamp(us, styleFor(view.timestampFormat, record.index, slot, isAuditLog));

	const userId = `user_${rng.int(1, 5000)}`;
	const destination = rng.pick(['AI', 'AI', 'AI', 'AGENT'] as const);
	const undeflected = destination === 'AGENT' || rng.chance(0.1);
	const topic = rng.pick(TOPICS);
	const resolution = rng.pick(RESOLUTIONS);
	const texts: string[] = [];
	for (let i = 0; i < record.generatedMessages; i++) texts.push(sentence(rng, data.textBytes));
	const rating = rng.chance(0.6) ? rng.int(1, 5) : null;
	const ratingRole = rng.pick(['USER', 'AGENT']);
	const tagCount = rng.int(0, 3);
	const tagStart = rng.int(0, TAGS.length - 1);
	const hasNote = rng.chance(0.3);

	const offsets = record.generatedMessages > 0 ? messageOffsets(data, record.index) : [];
	const messages: DecagonMessage[] = texts.map((text, i) => ({
		text,
		role: i % 2 === 0 ? 'USER' : destination === 'AGENT' && i >= 3 ? 'AGENT' : 'AI',
		created_at: at(record.createdUs + offsets[i], SLOT_MESSAGE + i),
	}));
	record.addedMessages.forEach((message, i) => {
		const position = record.generatedMessages + i;
		messages.push({ text: message.text, role: message.role, created_at: at(message.createdUs, SLOT_MESSAGE + position) });
	});

	const lastGeneratedUs = record.createdUs + (offsets.length > 0 ? offsets[offsets.length - 1] : 0);
	const auditLogs: DecagonAuditLog[] = [];
	if (destination === 'AGENT') {
		auditLogs.push({ text: 'Escalated to a human agent', payload: { destination: 'AGENT' }, created_at: at(record.createdUs + (offsets[2] ?? 0), SLOT_AUDIT, true) });
	}
	if (rating !== null) {
		auditLogs.push({ text: `CSAT set to ${rating}`, payload: { csat_rating: rating }, created_at: at(lastGeneratedUs, SLOT_AUDIT + 1, true) });
	}

	const tags: Array<DecagonTag | string> = [];
	for (let i = 0; i < tagCount; i++) {
		const tag = TAGS[(tagStart + i) % TAGS.length];
		const bare = view.bareTagIds && hash32(record.index, i, 11) % 2 === 0;
		tags.push(bare ? bareTagId(tag) : { ...tag });
	}

	const conversation: DecagonConversation = {
		conversation_id: record.id,
		user_id: userId,
		destination,
		created_at: at(record.createdUs, SLOT_CREATED),
		updated_at: at(record.updatedUs, SLOT_UPDATED),
		metadata: { ...record.metadata },
		undeflected,
		summary: `The customer reached out about ${topic}.`,
		resolution,
		messages,
		csat_rating: rating,
		csat_role: rating === null ? null : ratingRole,
		tags,
		notes: hasNote ? `Internal note: follow up on ${topic}.` : null,
		audit_logs: auditLogs,
	};
	return record.overrides ? { ...conversation, ...record.overrides } : conversation;
}
