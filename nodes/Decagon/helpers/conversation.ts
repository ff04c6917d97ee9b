import type { IDataObject } from 'n8n-workflow';

import { parseApiTimestamp, toIsoUtc } from '../../shared/time';

export interface DecagonMessage extends IDataObject {
	text?: string;
	role?: string;
	created_at?: string;
}

/** The identity used to de-duplicate: Decagon's `conversation_id`. */
export function conversationKey(conversation: IDataObject): string | undefined {
	const id = conversation.conversation_id;
	return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** The message count a version holds at most (three decimal digits below the time). */
export const MESSAGE_COUNT_CAP = 999;

/**
 * Which copy of a conversation is newer: `updated_at`, then the last message's time, then the number of
 * messages (a conversation only ever gains messages). Returned as one comparable number.
 */
export function conversationVersion(conversation: IDataObject): number {
	const messages = messagesOf(conversation);
	const updated = parseApiTimestamp(conversation.updated_at);
	const lastMessage = messages.length > 0 ? parseApiTimestamp(messages[messages.length - 1].created_at) : NaN;
	const time = Math.max(Number.isNaN(updated) ? 0 : updated, Number.isNaN(lastMessage) ? 0 : lastMessage);
	// Milliseconds since 1970 fit 2^43; leave room for up to 1,000 messages as the tie-breaker.
	return time * 1000 + Math.min(messages.length, MESSAGE_COUNT_CAP);
}

/** The conversation's messages; an entry that is not an object (null, say) is no message and is left out. */
export function messagesOf(conversation: IDataObject): DecagonMessage[] {
	if (!Array.isArray(conversation.messages)) return [];
	return (conversation.messages as unknown[]).filter(
		(message): message is DecagonMessage => message !== null && typeof message === 'object' && !Array.isArray(message),
	);
}

function tagName(tag: unknown): string | undefined {
	if (typeof tag === 'string' || typeof tag === 'number') return String(tag);
	if (tag && typeof tag === 'object' && 'name' in tag) return String((tag as IDataObject).name);
	return undefined;
}

/** Flat, spreadsheet-friendly columns: metadata keys become `metadata_<key>` columns. */
function flattenMetadata(metadata: unknown): IDataObject {
	const columns: IDataObject = {};
	if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) return columns;
	for (const [key, value] of Object.entries(metadata as IDataObject)) {
		columns[`metadata_${key}`] = value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
	}
	return columns;
}

export function transcriptOf(messages: DecagonMessage[]): string {
	return messages.map((message) => `${message.role ?? 'UNKNOWN'}: ${message.text ?? ''}`).join('\n');
}

/** The columns a conversation and each of its messages share. */
function conversationColumns(conversation: IDataObject): IDataObject {
	const tags = Array.isArray(conversation.tags) ? conversation.tags : [];
	return {
		conversation_id: conversation.conversation_id,
		user_id: conversation.user_id,
		destination: conversation.destination,
		created_at: toIsoUtc(conversation.created_at),
		updated_at: toIsoUtc(conversation.updated_at),
		undeflected: conversation.undeflected,
		// The docs say csat_rating; two production clients read csat.
		csat_rating: conversation.csat_rating ?? conversation.csat ?? null,
		csat_role: conversation.csat_role ?? null,
		tags: tags.map(tagName).filter((name) => name !== undefined).join(', '),
		summary: conversation.summary ?? null,
		resolution: conversation.resolution ?? null,
		notes: conversation.notes ?? null,
		...flattenMetadata(conversation.metadata),
	};
}

/** One row per conversation, for Google Sheets, CSV and databases. */
export function simplifyConversation(conversation: IDataObject): IDataObject {
	const messages = messagesOf(conversation);
	return {
		...conversationColumns(conversation),
		message_count: messages.length,
		first_message_at: messages.length > 0 ? toIsoUtc(messages[0].created_at) : null,
		last_message_at: messages.length > 0 ? toIsoUtc(messages[messages.length - 1].created_at) : null,
		transcript: transcriptOf(messages),
	};
}

/** One row per message; the conversation comes along nested, or as flat columns when simplified. */
export function messageRows(conversation: IDataObject, simplify: boolean): IDataObject[] {
	const messages = messagesOf(conversation);
	if (simplify) {
		const columns = conversationColumns(conversation);
		return messages.map((message, index) => ({
			conversation_id: conversation.conversation_id,
			message_index: index,
			role: message.role ?? null,
			text: message.text ?? null,
			message_created_at: toIsoUtc(message.created_at),
			...columns,
		}));
	}
	const conversationWithoutMessages: IDataObject = { ...conversation };
	delete conversationWithoutMessages.messages;
	return messages.map((message, index) => ({
		conversation_id: conversation.conversation_id,
		message_index: index,
		...message,
		conversation: conversationWithoutMessages,
	}));
}
