import {
	conversationKey,
	conversationVersion,
	messageRows,
	simplifyConversation,
} from '../../nodes/Decagon/helpers/conversation';
import { readNextCursor } from '../../nodes/Decagon/transport/paginator';

const conversation = {
	conversation_id: '8ba9020c-0424-4bb2-ba5f-971a522c84de',
	user_id: 'user_12',
	destination: 'AI',
	created_at: '2024-01-01 21:42:10.309970',
	updated_at: '2024-01-01T21:42:12.309970Z',
	metadata: { user_type: 'VIP', nested: { a: 1 } },
	undeflected: true,
	summary: 'The customer reached out to say hello.',
	resolution: 'The agent offered to help the customer.',
	messages: [
		{ text: 'Hi there!', role: 'USER', created_at: '2024-01-01 21:42:10.309970' },
		{ text: 'Hello! How can I help you?', role: 'AI', created_at: '2024-01-01 21:42:12.309970' },
	],
	csat_rating: 4,
	csat_role: 'AGENT',
	tags: [{ name: 'Greeting', level: 0 }, 'tag_7'],
	notes: 'This is an internal note.',
	audit_logs: [],
};

describe('Decagon conversation helpers', () => {
	it('simplifies a conversation into spreadsheet columns', () => {
		expect(simplifyConversation(conversation)).toEqual({
			conversation_id: '8ba9020c-0424-4bb2-ba5f-971a522c84de',
			user_id: 'user_12',
			destination: 'AI',
			created_at: '2024-01-01T21:42:10.309Z',
			updated_at: '2024-01-01T21:42:12.309Z',
			undeflected: true,
			csat_rating: 4,
			csat_role: 'AGENT',
			tags: 'Greeting, tag_7',
			summary: 'The customer reached out to say hello.',
			resolution: 'The agent offered to help the customer.',
			notes: 'This is an internal note.',
			metadata_user_type: 'VIP',
			metadata_nested: '{"a":1}',
			message_count: 2,
			first_message_at: '2024-01-01T21:42:10.309Z',
			last_message_at: '2024-01-01T21:42:12.309Z',
			transcript: 'USER: Hi there!\nAI: Hello! How can I help you?',
		});
	});
	it('reads the CSAT rating from csat, as production clients do, when csat_rating is absent', () => {
		const { csat_rating: _, ...withoutRating } = conversation;
		expect(simplifyConversation({ ...withoutRating, csat: 5 }).csat_rating).toBe(5);
		expect(simplifyConversation(withoutRating).csat_rating).toBeNull();
	});
	it('makes one row per message, nested or flat', () => {
		const nested = messageRows(conversation, false);
		expect(nested).toHaveLength(2);
		expect(nested[1]).toMatchObject({ conversation_id: conversation.conversation_id, message_index: 1, role: 'AI' });
		expect((nested[1].conversation as Record<string, unknown>).messages).toBeUndefined();
		expect((nested[1].conversation as Record<string, unknown>).summary).toBe(conversation.summary);
		const flat = messageRows(conversation, true);
		expect(flat[0]).toMatchObject({ message_index: 0, role: 'USER', text: 'Hi there!', tags: 'Greeting, tag_7' });
		expect(flat[0].transcript).toBeUndefined();
	});
	it('orders versions by update time, then message count', () => {
		const older = { ...conversation, updated_at: '2024-01-01 21:42:10.309970', messages: conversation.messages.slice(0, 1) };
		const retagged = { ...conversation, updated_at: '2024-01-02T08:00:00Z' };
		const more = { ...conversation, messages: [...conversation.messages, conversation.messages[0]] };
		expect(conversationVersion(conversation)).toBeGreaterThan(conversationVersion(older));
		expect(conversationVersion(more)).toBeGreaterThan(conversationVersion(conversation));
		expect(conversationVersion(retagged)).toBeGreaterThan(conversationVersion(conversation));
		expect(conversationKey(conversation)).toBe(conversation.conversation_id);
		expect(conversationKey({})).toBeUndefined();
		// A numeric id is still an id: without a key a conversation is neither de-duplicated nor emitted by the trigger.
		expect(conversationKey({ conversation_id: 42 })).toBe('42');
	});
	it('leaves out message entries that are not objects instead of failing', () => {
		for (const odd of [null, 'text', 7, ['x']]) {
			const withOdd = { ...conversation, messages: [odd, ...conversation.messages, odd] } as unknown as typeof conversation;
			expect(conversationVersion(withOdd)).toBe(conversationVersion(conversation));
			expect(simplifyConversation(withOdd)).toEqual(simplifyConversation(conversation));
			expect(messageRows(withOdd, true)).toEqual(messageRows(conversation, true));
			expect(messageRows(withOdd, false)).toHaveLength(2);
		}
	});
});

describe('readNextCursor', () => {
	it('accepts every cursor name the docs use', () => {
		expect(readNextCursor({ next_page_cursor: 'abc' })).toBe('abc');
		expect(readNextCursor({ next_cursor: 'def' })).toBe('def');
		expect(readNextCursor({ next_page_updated_after: 151050148 })).toBe('151050148');
		expect(readNextCursor({ next_page_cursor: null, next_cursor: 'x' })).toBe('x');
	});
	it('treats null, missing, empty and 0 as the end', () => {
		expect(readNextCursor({})).toBeUndefined();
		expect(readNextCursor({ next_page_cursor: null })).toBeUndefined();
		expect(readNextCursor({ next_cursor: '' })).toBeUndefined();
		expect(readNextCursor({ next_page_updated_after: 0 })).toBeUndefined();
		expect(readNextCursor({ next_cursor: '0' })).toBeUndefined();
	});
});
