/**
 * Reads a JSON object from the bytes of a response without first turning the whole body into one
 * string. A page of 100 conversations is a few hundred kilobytes: as one string it lands in V8's
 * large-object space, which only a full garbage collection frees, and a thousand such pages let the
 * heap of a busy n8n grow by hundreds of megabytes. Here the top-level values, and each element of a
 * top-level array, are decoded and parsed one by one, as small strings that die young.
 *
 * The result is what `JSON.parse` gives for the same text, and whatever `JSON.parse` rejects is
 * rejected (an invalid or cut-off body throws), except that the top-level value must be an object.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

export class JsonReadError extends Error {}

export function readJsonObject(bytes: Buffer): Record<string, unknown> {
	return new JsonBytesReader(bytes).topLevelObject();
}

class JsonBytesReader {
	private position = 0;

	constructor(private readonly bytes: Buffer) {}

	topLevelObject(): Record<string, unknown> {
		// A UTF-8 byte order mark before the JSON, as some proxies and frameworks send it.
		if (this.bytes[0] === 0xef && this.bytes[1] === 0xbb && this.bytes[2] === 0xbf) this.position = 3;
		this.skipSpace();
		this.expect(OPEN_BRACE);
		const result: Record<string, unknown> = {};
		this.list(CLOSE_BRACE, () => {
			const key = this.parseSlice(this.position, this.endOfString(this.position)) as string;
			this.skipSpace();
			this.expect(COLON);
			this.skipSpace();
			// Assigned like JSON.parse does: a later duplicate key wins, `__proto__` stays a plain key.
			Object.defineProperty(result, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
		});
		this.skipSpace();
		if (this.position < this.bytes.length) this.fail('text after the JSON object');
		return result;
	}

	/** A top-level value; arrays are read element by element. */
	private value(): unknown {
		if (this.bytes[this.position] !== OPEN_BRACKET) {
			const start = this.position;
			return this.parseSlice(start, this.endOfValue(start));
		}
		this.position++;
		const elements: unknown[] = [];
		this.list(CLOSE_BRACKET, () => {
			const start = this.position;
			elements.push(this.parseSlice(start, this.endOfValue(start)));
		});
		return elements;
	}

	/** The members of an object or array after its opening byte: `item` for each, comma-separated, up to `close`. */
	private list(close: number, item: () => void): void {
		this.skipSpace();
		if (this.bytes[this.position] === close) {
			this.position++;
			return;
		}
		for (;;) {
			this.skipSpace();
			item();
			this.skipSpace();
			if (this.bytes[this.position] !== COMMA) break;
			this.position++;
		}
		this.expect(close);
	}

	/** Decodes and parses bytes [start, end) and moves past them; JSON.parse does the validating. */
	private parseSlice(start: number, end: number): unknown {
		if (end <= start) this.fail('a missing value');
		this.position = end;
		try {
			return JSON.parse(this.bytes.toString('utf8', start, end));
		} catch (error) {
			return this.fail((error as Error).message);
		}
	}

	/** End (exclusive) of the value starting at `start`, found by structure alone. */
	private endOfValue(start: number): number {
		const first = this.bytes[start];
		if (first === QUOTE) return this.endOfString(start);
		if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
			// A number or literal: runs until a delimiter.
			let index = start;
			while (index < this.bytes.length && !isDelimiter(this.bytes[index])) index++;
			return index;
		}
		let depth = 0;
		for (let index = start; index < this.bytes.length; index++) {
			const byte = this.bytes[index];
			if (byte === QUOTE) {
				index = this.endOfString(index) - 1;
			} else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
				depth++;
			} else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
				if (--depth === 0) return index + 1;
			}
		}
		return this.fail('the body ends inside a value');
	}

	/** End (exclusive) of the string whose opening quote is at `start`. */
	private endOfString(start: number): number {
		if (this.bytes[start] !== QUOTE) {
			this.position = start;
			this.fail('expected a string');
		}
		for (let index = start + 1; index < this.bytes.length; index++) {
			const byte = this.bytes[index];
			if (byte === BACKSLASH) index++;
			else if (byte === QUOTE) return index + 1;
		}
		return this.fail('the body ends inside a string');
	}

	private skipSpace(): void {
		while (this.position < this.bytes.length && isSpace(this.bytes[this.position])) this.position++;
	}

	private expect(byte: number): void {
		if (this.bytes[this.position] !== byte) this.fail(`expected "${String.fromCharCode(byte)}"`);
		this.position++;
	}

	private fail(why: string): never {
		throw new JsonReadError(`Invalid JSON at byte ${this.position}: ${why}`);
	}
}

function isSpace(byte: number): boolean {
	return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

function isDelimiter(byte: number): boolean {
	return byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isSpace(byte);
}
