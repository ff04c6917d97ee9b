/**
 * Golden vectors written by Python's own json module (test/fixtures/make-signature-vectors.py):
 * the body as dembrane sends it, the text it signs, and the signature.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { CanonicalJsonError, compareCodePoints, pythonCanonicalJson, pythonString, verifySignature } from '../../nodes/DembraneEcho/helpers/signature';

const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/dembrane-signature-vectors.json'), 'utf8')) as {
	secret: string;
	vectors: Array<{ about: string; body: string; canonical: string; signature: string }>;
};

describe.each(fixture.vectors.map((vector, i) => [i, vector.about, vector] as const))('vector %i (%s)', (_i, _about, vector) => {
	test('canonical text equals Python sort_keys compact dumps', () => {
		expect(pythonCanonicalJson(vector.body)).toBe(vector.canonical);
	});
	test('signature verifies; a changed byte does not', () => {
		const body = Buffer.from(vector.body, 'utf8');
		expect(verifySignature(fixture.secret, body, vector.signature)).toBe('valid-production');
		expect(verifySignature(fixture.secret, body, vector.signature.toUpperCase().replace('SHA256=', 'sha256='))).toBe('valid-production');
		expect(verifySignature('other-secret', body, vector.signature)).toBe('invalid');
		const tampered = Buffer.from(vector.body.replace(/\d/, (digit) => String((Number(digit) + 1) % 10)), 'utf8');
		expect(tampered.toString()).not.toBe(vector.body);
		expect(verifySignature(fixture.secret, tampered, vector.signature)).toBe('invalid');
	});
	test('a JS round trip would not verify (why the canonicaliser exists)', () => {
		const naive = JSON.stringify(JSON.parse(vector.body));
		const naiveSignature = `sha256=${createHmac('sha256', fixture.secret).update(naive).digest('hex')}`;
		expect(naiveSignature).not.toBe(vector.signature);
	});
});

test('the docs form, a signature over the raw body, is accepted too', () => {
	const body = Buffer.from('{"event": "conversation.started", "n": 1.0}');
	const signature = `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`;
	expect(verifySignature('s3cret', body, signature)).toBe('valid-raw-body');
});

test('a signature prefixed "SHA256=" in upper case verifies (the prefix is read case-insensitively)', () => {
	const [vector] = fixture.vectors;
	const upper = vector.signature.replace(/^sha256=/, 'SHA256=');
	expect(upper).not.toBe(vector.signature);
	expect(verifySignature(fixture.secret, Buffer.from(vector.body, 'utf8'), upper)).toBe('valid-production');
});

test('a duplicate "event" key appended to a signed body does not verify (the last one is what a reader sees)', () => {
	// Python's json and JSON.parse both keep the last duplicate: a signed conversation event with a second
	// "event" appended must not pass for a report.generated delivery under the original signature.
	const body = '{"event": "conversation.summarized", "conversation": {"id": "3f2a9c1e"}}';
	const signature = `sha256=${createHmac('sha256', 's3cret').update(pythonCanonicalJson(body)).digest('hex')}`;
	expect(verifySignature('s3cret', Buffer.from(body), signature)).toBe('valid-production');
	const forged = `${body.slice(0, -1)}, "event": "report.generated"}`;
	expect((JSON.parse(forged) as { event: string }).event).toBe('report.generated');
	expect(pythonCanonicalJson(forged)).toBe('{"conversation":{"id":"3f2a9c1e"},"event":"report.generated"}');
	expect(verifySignature('s3cret', Buffer.from(forged), signature)).toBe('invalid');
});

test('missing and malformed signatures', () => {
	const body = Buffer.from('{}');
	expect(verifySignature('s', body, undefined)).toBe('missing');
	expect(verifySignature('s', body, 'sha256=xyz')).toBe('invalid');
	expect(verifySignature('s', body, 'md5=' + 'a'.repeat(64))).toBe('invalid');
});

test('code point order differs from UTF-16 order above U+FFFF', () => {
	expect(['\u{1D11E}', '\uFFFF'].sort(compareCodePoints)).toEqual(['\uFFFF', '\u{1D11E}']);
	expect(['\u{1D11E}', '\uFFFF'].sort()).toEqual(['\u{1D11E}', '\uFFFF']);
});

test('Python string escaping', () => {
	expect(pythonString('a"b\\c/d\n\u0007é😀\u007f')).toBe('"a\\"b\\\\c/d\\n\\u0007\\u00e9\\ud83d\\ude00\\u007f"');
});

test('invalid JSON is refused', () => {
	for (const text of ['', '{', '{"a":1,}', '[1 2]', '{"a":01}', '"\u0001"', '{} x']) {
		expect(() => pythonCanonicalJson(text)).toThrow();
	}
});

test('raw characters in a string as Python\'s json.loads reads them: U+0000 to U+001F refused, DEL (U+007F) read and written as \\u007f', () => {
	for (const text of ['"a\u0000b"', '"a\u001fb"', '{"tag": "x\u001f"}']) {
		expect(() => pythonCanonicalJson(text)).toThrow('control character in string');
	}
	expect(pythonCanonicalJson('{"tag": "del\u007fete", "a": " "}')).toBe('{"a":" ","tag":"del\\u007fete"}');
});

test('NaN, Infinity, -Infinity and long integers as Python reads and writes them', () => {
	// python3: json.dumps(json.loads(body), separators=(",", ":"), sort_keys=True)
	const digits = '9'.repeat(500);
	const body = `{"z": -Infinity, "a": [NaN, Infinity], "n": ${digits}, "f": -0.0}`;
	expect(pythonCanonicalJson(body)).toBe(`{"a":[NaN,Infinity],"f":-0.0,"n":${digits},"z":-Infinity}`);
	expect(() => pythonCanonicalJson('{"a": -Inf}')).toThrow();
});

describe('nesting depth', () => {
	/** `levels` of alternating objects and arrays around `inner`. */
	const nested = (levels: number, inner = '"Hallo"') => `${'{"a": ['.repeat(levels / 2)}${inner}${']}'.repeat(levels / 2)}`;
	const productionSignature = (body: string) => `sha256=${createHmac('sha256', 's3cret').update(pythonCanonicalJson(body)).digest('hex')}`;

	test('a genuine payload nested 20 levels deep, with hundreds of sibling objects, verifies (depth counts nesting, not objects)', () => {
		// Metadata nests a little and lists a lot: neither may trip a guard meant for hostile bodies.
		const wide = `[${Array.from({ length: 600 }, (_, i) => `{"i": ${i}, "v": {"w": [1.0]}}`).join(', ')}]`;
		const body = `{"event": "conversation.summarized", "conversation": {"id": "3f2a9c1e"}, "meta": ${nested(20, wide)}}`;
		expect(verifySignature('s3cret', Buffer.from(body), productionSignature(body))).toBe('valid-production');
	});

	test('a body nested 600 levels deep (or 200,000) is refused with a clear error, never a stack overflow, and the signature check still answers', () => {
		// Deep nesting is a way to crash a recursive reader before the secret can reject anything.
		for (const levels of [600, 200_000]) {
			const body = nested(levels);
			expect(() => pythonCanonicalJson(body)).toThrow(CanonicalJsonError);
			expect(() => pythonCanonicalJson(body)).toThrow(/nested too deeply/);
			// Not canonical, so only a signature over the raw body can match: an answer either way, no crash.
			const raw = `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`;
			expect(verifySignature('s3cret', Buffer.from(body), raw)).toBe('valid-raw-body');
			expect(verifySignature('s3cret', Buffer.from(body), `sha256=${'0'.repeat(64)}`)).toBe('invalid');
		}
	});
});
