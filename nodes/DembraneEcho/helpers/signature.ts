/**
 * The package's one signature canonicaliser. dembrane signs a webhook payload as
 * HMAC-SHA256(secret, Python `json.dumps(payload, separators=(",", ":"), sort_keys=True)`), but sends
 * the body with `json.dumps(payload)` defaults, so the bytes on the wire are not the bytes signed.
 * To verify, the received JSON is written again the Python way: keys sorted by code point at every
 * level, compact separators, `ensure_ascii` escaping, and number literals exactly as they came (Python
 * writes floats like `245.0`, which a round trip through JS numbers would turn into `245`).
 */
import { createHmac, timingSafeEqual } from 'crypto';

export class CanonicalJsonError extends Error {}

/** Parses JSON text and writes it back as Python's `json.dumps(..., separators=(",", ":"), sort_keys=True)`. */
export function pythonCanonicalJson(text: string): string {
	const parser = new Parser(text);
	parser.skipSpace();
	const value = parser.value();
	parser.skipSpace();
	if (!parser.atEnd()) parser.fail('unexpected text after the JSON value');
	return value;
}

/** What `ensure_ascii` leaves alone: space..`~` except the quote and the backslash. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const HEX = '0123456789abcdef';
const SHORT_ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x08: '\\b', 0x0c: '\\f' };
/** Units escaped per block: bounds the scratch buffer (6 bytes a unit at most) however long the text. */
const BLOCK_UNITS = 64 * 1024;

/**
 * Python's `ensure_ascii` string escaping, per UTF-16 unit. Written into a byte buffer block by block:
 * a character-by-character string build or a replace callback per unit takes seconds on a 16 MB body,
 * and the signature check runs before the secret can reject anything.
 */
export function pythonString(value: string): string {
	if (PLAIN_ASCII.test(value)) return `"${value}"`;
	const scratch = Buffer.allocUnsafe(Math.min(value.length, BLOCK_UNITS) * 6);
	const parts: string[] = ['"'];
	for (let blockStart = 0; blockStart < value.length; blockStart += BLOCK_UNITS) {
		let length = 0;
		const blockEnd = Math.min(value.length, blockStart + BLOCK_UNITS);
		for (let i = blockStart; i < blockEnd; i++) {
			const code = value.charCodeAt(i);
			if (code >= 0x20 && code <= 0x7e && code !== 0x22 && code !== 0x5c) {
				scratch[length++] = code;
				continue;
			}
			const short = SHORT_ESCAPES[code];
			if (short !== undefined) {
				scratch[length++] = 0x5c;
				scratch[length++] = short.charCodeAt(1);
				continue;
			}
			scratch[length++] = 0x5c;
			scratch[length++] = 0x75;
			scratch[length++] = HEX.charCodeAt(code >> 12);
			scratch[length++] = HEX.charCodeAt((code >> 8) & 0xf);
			scratch[length++] = HEX.charCodeAt((code >> 4) & 0xf);
			scratch[length++] = HEX.charCodeAt(code & 0xf);
		}
		parts.push(scratch.toString('latin1', 0, length));
	}
	parts.push('"');
	return parts.join('');
}

const isSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdfff;
const SURROGATE = /[\ud800-\udfff]/;

/** Python orders str keys by code point; JS's default sort uses UTF-16 units, which differs above U+FFFF. */
export function compareCodePoints(a: string, b: string): number {
	// Unit by unit while that agrees with code points: only a surrogate at the first difference needs more.
	let i = 0;
	const shorter = Math.min(a.length, b.length);
	while (i < shorter && a.charCodeAt(i) === b.charCodeAt(i)) i++;
	if (i === shorter) return a.length - b.length;
	const x = a.charCodeAt(i);
	const y = b.charCodeAt(i);
	if (!isSurrogate(x) && !isSurrogate(y)) return x - y;
	// A pair may have started one unit earlier (equal high halves): compare from there, by code point.
	const from = i > 0 && isSurrogate(a.charCodeAt(i - 1)) ? i - 1 : i;
	return compareByCodePoint(a.slice(from), b.slice(from));
}

function compareByCodePoint(a: string, b: string): number {
	const left = Array.from(a);
	const right = Array.from(b);
	for (let i = 0; i < Math.min(left.length, right.length); i++) {
		const difference = left[i].codePointAt(0)! - right[i].codePointAt(0)!;
		if (difference !== 0) return difference;
	}
	return left.length - right.length;
}

/** JSON whitespace, and a run of string characters that need no attention, matched where the reader stands. */
const SPACE = /[ \t\n\r]*/y;
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;

/** The literals Python's json reads, by first character ("-Infinity" starts like a number). */
const LITERALS: Record<string, string[]> = { t: ['true'], f: ['false'], n: ['null'], N: ['NaN'], I: ['Infinity'], '-': ['-Infinity'] };

/** A JSON number literal, matched where the reader stands. */
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** A recursive-descent JSON reader that emits the canonical text directly, numbers kept verbatim. */
class Parser {
	private position = 0;
	private depth = 0;

	constructor(private readonly text: string) {}

	atEnd(): boolean {
		return this.position >= this.text.length;
	}

	fail(why: string): never {
		throw new CanonicalJsonError(`Invalid JSON at position ${this.position}: ${why}`);
	}

	skipSpace(): void {
		SPACE.lastIndex = this.position;
		SPACE.test(this.text);
		this.position = SPACE.lastIndex;
	}

	value(): string {
		const char = this.text[this.position];
		if (char === '{') return this.object();
		if (char === '[') return this.array();
		if (char === '"') return pythonString(this.string());
		// Python's json also reads NaN, Infinity and -Infinity, and writes them back the same way; the
		// literals go first, as "-Infinity" starts like a number.
		for (const literal of LITERALS[char] ?? []) {
			if (this.text.startsWith(literal, this.position)) {
				this.position += literal.length;
				return literal;
			}
		}
		if (char === '-' || (char >= '0' && char <= '9')) return this.number();
		return this.fail('expected a value');
	}

	private enter(): void {
		if (++this.depth > 512) this.fail('nested too deeply');
	}

	private object(): string {
		this.enter();
		this.position++;
		// Later duplicates win, as in Python's json.loads.
		const members = new Map<string, string>();
		this.skipSpace();
		if (this.text[this.position] === '}') {
			this.position++;
			this.depth--;
			return '{}';
		}
		for (;;) {
			this.skipSpace();
			if (this.text[this.position] !== '"') this.fail('expected a key');
			const key = this.string();
			this.skipSpace();
			if (this.text[this.position] !== ':') this.fail('expected ":"');
			this.position++;
			this.skipSpace();
			members.set(key, this.value());
			this.skipSpace();
			const next = this.text[this.position++];
			if (next === '}') break;
			if (next !== ',') this.fail('expected "," or "}"');
		}
		this.depth--;
		const keys = [...members.keys()];
		// Without surrogates, UTF-16 unit order (the native sort) is code point order.
		if (keys.some((key) => SURROGATE.test(key))) keys.sort(compareCodePoints);
		else keys.sort();
		return `{${keys.map((key) => `${pythonString(key)}:${members.get(key)}`).join(',')}}`;
	}

	private array(): string {
		this.enter();
		this.position++;
		const values: string[] = [];
		this.skipSpace();
		if (this.text[this.position] === ']') {
			this.position++;
			this.depth--;
			return '[]';
		}
		for (;;) {
			this.skipSpace();
			values.push(this.value());
			this.skipSpace();
			const next = this.text[this.position++];
			if (next === ']') break;
			if (next !== ',') this.fail('expected "," or "]"');
		}
		this.depth--;
		return `[${values.join(',')}]`;
	}

	private number(): string {
		// Sticky: matched in place, so a number of any length is read without copying the rest of the body.
		NUMBER.lastIndex = this.position;
		const match = NUMBER.exec(this.text);
		if (!match) this.fail('bad number');
		this.position += match[0].length;
		return match[0];
	}

	private string(): string {
		this.position++; // opening quote
		let out = '';
		for (;;) {
			PLAIN_RUN.lastIndex = this.position;
			PLAIN_RUN.test(this.text);
			out += this.text.slice(this.position, PLAIN_RUN.lastIndex);
			this.position = PLAIN_RUN.lastIndex;
			if (this.atEnd()) this.fail('unterminated string');
			const char = this.text[this.position++];
			if (char === '"') return out;
			if (char === '\\') {
				const escape = this.text[this.position++];
				switch (escape) {
					case '"':
					case '\\':
					case '/':
						out += escape;
						break;
					case 'b':
						out += '\b';
						break;
					case 'f':
						out += '\f';
						break;
					case 'n':
						out += '\n';
						break;
					case 'r':
						out += '\r';
						break;
					case 't':
						out += '\t';
						break;
					case 'u': {
						const hex = this.text.slice(this.position, this.position + 4);
						if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
						out += String.fromCharCode(parseInt(hex, 16));
						this.position += 4;
						break;
					}
					default:
						this.fail('bad escape');
				}
			} else {
				if (char.charCodeAt(0) < 0x20) this.fail('control character in string');
				out += char;
			}
		}
	}
}

function hmacHex(secret: string, data: string | Buffer): string {
	return createHmac('sha256', secret).update(data).digest('hex');
}

function sameHex(expected: string, received: string): boolean {
	const a = Buffer.from(expected, 'utf8');
	const b = Buffer.from(received.toLowerCase(), 'utf8');
	return a.length === b.length && timingSafeEqual(a, b);
}

export type SignatureCheck = 'valid-production' | 'valid-raw-body' | 'missing' | 'invalid';

/**
 * Checks `sha256=<hex>` from X-Webhook-Signature (production: over the Python-canonical JSON) or
 * X-Dembrane-Signature (the docs: over the raw body). Both forms are accepted under either header.
 */
export function verifySignature(secret: string, rawBody: Buffer, header: string | undefined): SignatureCheck {
	if (!header) return 'missing';
	const received = header.trim().replace(/^sha256=/i, '');
	if (!/^[0-9a-fA-F]{64}$/.test(received)) return 'invalid';
	let canonical: string | undefined;
	try {
		canonical = pythonCanonicalJson(rawBody.toString('utf8'));
	} catch {
		canonical = undefined;
	}
	if (canonical !== undefined && sameHex(hmacHex(secret, Buffer.from(canonical, 'utf8')), received)) return 'valid-production';
	if (sameHex(hmacHex(secret, rawBody), received)) return 'valid-raw-body';
	return 'invalid';
}
