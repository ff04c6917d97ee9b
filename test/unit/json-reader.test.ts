import { JsonReadError, readJsonObject } from '../../nodes/shared/jsonReader';
import { Rng } from '../standins/decagon/random';

/** What JSON.parse makes of the same text, or 'rejected' (also for top-level values that are not objects). */
function reference(text: string): unknown {
	try {
		const value: unknown = JSON.parse(text);
		return value && typeof value === 'object' && !Array.isArray(value) ? value : 'rejected';
	} catch {
		return 'rejected';
	}
}

function ours(text: string): unknown {
	try {
		return readJsonObject(Buffer.from(text, 'utf8'));
	} catch (error) {
		if (!(error instanceof JsonReadError)) throw error;
		return 'rejected';
	}
}

const PAGE = JSON.stringify(
	{
		conversations: [
			{ conversation_id: 'c-1', messages: [{ text: 'He said "hi" \\ then left }]', role: 'USER' }], tags: [] },
			{ conversation_id: 'c-2', metadata: { plan: 'naïve €20 ✓ 😀', nested: [[1, 2], { a: null }] }, csat: 4.5e-3 },
			{ conversation_id: 'c-3', text: 'line\nbreak\u2028sep \u0000 nul', ok: true, no: false },
			[],
			{},
			'a string element',
			-12.5,
		],
		next_page_cursor: 'conversations',
		count: 7,
		empty: {},
		list: [],
		flag: null,
	},
	null,
	1,
);

describe('readJsonObject', () => {
	it.each([
		['a page with every kind of value', PAGE],
		['compact text', JSON.stringify(JSON.parse(PAGE))],
		['an empty object', '{}'],
		['spaces everywhere', ' \n{ "a" : [ 1 , 2 ] , "b" : { } , "c" : "x" } \r\n'],
		['duplicate keys (the last wins, at the first place)', '{"a":1,"b":2,"a":[3]}'],
		['a __proto__ key stays a plain key', '{"__proto__":{"polluted":true},"a":1}'],
		['escaped quotes at the end of strings', '{"a\\"":["\\\\","x\\\\\\""]}'],
	])('reads %s exactly as JSON.parse does', (_name, text) => {
		const result = ours(text);
		expect(result).toEqual(reference(text));
		expect(JSON.stringify(result)).toBe(JSON.stringify(reference(text)));
		expect(Object.keys(result as object)).toEqual(Object.keys(reference(text) as object));
	});

	it('keeps __proto__ as data, without touching the prototype', () => {
		const result = readJsonObject(Buffer.from('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
		expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
		expect(Object.prototype.hasOwnProperty.call(result, '__proto__')).toBe(true);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it.each([
		['an array at the top', '[{"a":1}]'],
		['a string at the top', '"x"'],
		['nothing', ''],
		['a trailing comma in an object', '{"a":1,}'],
		['a trailing comma in an array', '{"a":[1,]}'],
		['a missing comma between elements', '{"a":[1 2]}'],
		['a missing value', '{"a":}'],
		['an unquoted key', '{a:1}'],
		['text after the object', '{"a":1} x'],
		['a second object', '{"a":1}{"b":2}'],
		['a bad literal', '{"a":tru}'],
		['a bad element', '{"a":[{"b":}]}'],
		['a raw control character in a string', '{"a":"x\ty"}'],
	])('rejects %s', (_name, text) => {
		expect(reference(text)).toBe('rejected');
		expect(() => readJsonObject(Buffer.from(text, 'utf8'))).toThrow(JsonReadError);
	});

	it('reads past a UTF-8 byte order mark (JSON readers may ignore one, RFC 8259), as it does not past any other', () => {
		expect(readJsonObject(Buffer.from('\ufeff{"a":1}', 'utf8'))).toEqual({ a: 1 });
		expect(() => readJsonObject(Buffer.from('\ufeff\ufeff{"a":1}', 'utf8'))).toThrow(JsonReadError);
	});

	it('rejects every cut-off prefix of a page (a body that broke off)', () => {
		const bytes = Buffer.from(PAGE, 'utf8');
		for (let length = 0; length < bytes.length; length++) {
			const prefix = bytes.subarray(0, length);
			if (prefix.toString('utf8').trim() === PAGE.trim()) continue;
			expect(() => readJsonObject(prefix)).toThrow(JsonReadError);
		}
	});

	it('agrees with JSON.parse on 5,000 randomly damaged pages (seeded)', () => {
		const rng = new Rng(20261130);
		const alphabet = '{}[]",:\\ 0123456789abcdefnrtu-.eE\n';
		let accepted = 0;
		for (let run = 0; run < 5000; run++) {
			const chars = [...(run % 2 ? PAGE : '{"a":[{"b":"c\\"d","e":[1,2.5,-3e2]},null,true],"f":{"g":"h"}}')];
			const edits = rng.int(1, 3);
			for (let edit = 0; edit < edits; edit++) {
				const at = rng.int(0, chars.length - 1);
				const what = rng.int(0, 2);
				const char = alphabet[rng.int(0, alphabet.length - 1)];
				if (what === 0) chars[at] = char;
				else if (what === 1) chars.splice(at, 1);
				else chars.splice(at, 0, char);
			}
			const text = chars.join('');
			const expected = reference(text);
			const actual = ours(text);
			if (expected !== 'rejected') accepted++;
			expect({ text, result: actual }).toEqual({ text, result: expected });
		}
		// The damage must leave a fair share valid, or the comparison would only test rejection.
		expect(accepted).toBeGreaterThan(250);
	});
});
