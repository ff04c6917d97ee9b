/**
 * Python's `json.dumps`, written again for the stand-in, so its bodies and signatures have the bytes
 * production's Python sends. Covered: `ensure_ascii` on/off, default (`", "`, `": "`) or compact separators,
 * `sort_keys` (code-point order), float `repr` (`245.0`, `1e+16`, `1e-05`), arbitrary-size ints (bigint).
 *
 * Numbers: a JS number that is an integer is a Python int; any other number is a float; wrap a value in
 * `PyFloat` to make a whole number a float (`new PyFloat(245)` → `245.0`). Objects: plain objects keep
 * JS key order (integer-like keys first!), so use a `Map` where the order of such keys matters.
 */

/** A Python float: written with Python's float repr even when whole. */
export class PyFloat {
	constructor(readonly value: number) {}

	/** JSON.stringify (control routes, logs) sees the plain number. */
	toJSON(): number {
		return this.value;
	}
}

export interface PythonDumpsOptions {
	/** `sort_keys`. Default false. */
	sortKeys?: boolean;
	/** `separators=(",", ":")` instead of the defaults `(", ", ": ")`. Default false. */
	compact?: boolean;
	/** `ensure_ascii`. Default true (Python's default). */
	ensureAscii?: boolean;
	/** `allow_nan`; requests sends bodies with allow_nan=False. Default true. */
	allowNan?: boolean;
}

/** Python `json.dumps(value, ...)`. */
export function pythonDumps(value: unknown, options: PythonDumpsOptions = {}): string {
	const settings = {
		sortKeys: options.sortKeys ?? false,
		itemSeparator: options.compact ? ',' : ', ',
		keySeparator: options.compact ? ':' : ': ',
		ensureAscii: options.ensureAscii ?? true,
		allowNan: options.allowNan ?? true,
	};
	const parts: string[] = [];
	write(value, settings, parts, new Set());
	return parts.join('');
}

/** The body production sends: `json.dumps(payload)` with defaults, as `requests` does (allow_nan=False). */
export function pythonBody(payload: unknown): string {
	return pythonDumps(payload, { allowNan: false });
}

/** What production signs: `json.dumps(payload, separators=(",", ":"), sort_keys=True)`. */
export function pythonCanonical(payload: unknown): string {
	return pythonDumps(payload, { sortKeys: true, compact: true });
}

/** What FastAPI sends for a JSON answer: `json.dumps(content, ensure_ascii=False, separators=(",", ":"))`. */
export function fastApiJson(content: unknown): string {
	return pythonDumps(content, { compact: true, ensureAscii: false, allowNan: false });
}

interface Settings {
	sortKeys: boolean;
	itemSeparator: string;
	keySeparator: string;
	ensureAscii: boolean;
	allowNan: boolean;
}

function write(value: unknown, s: Settings, out: string[], seen: Set<object>): void {
	if (value === null || value === undefined) {
		out.push('null');
		return;
	}
	switch (typeof value) {
		case 'boolean':
			out.push(value ? 'true' : 'false');
			return;
		case 'string':
			out.push(pythonString(value, s.ensureAscii));
			return;
		case 'bigint':
			out.push(value.toString());
			return;
		case 'number':
			out.push(Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER ? String(value === 0 ? 0 : value) : floatText(value, s.allowNan));
			return;
		case 'object':
			break;
		default:
			throw new TypeError(`Object of type ${typeof value} is not JSON serializable`);
	}
	if (value instanceof PyFloat) {
		out.push(floatText(value.value, s.allowNan));
		return;
	}
	const object = value as object;
	if (seen.has(object)) throw new TypeError('Circular reference detected');
	seen.add(object);
	if (Array.isArray(object)) {
		out.push('[');
		object.forEach((item, index) => {
			if (index > 0) out.push(s.itemSeparator);
			write(item, s, out, seen);
		});
		out.push(']');
	} else {
		let entries: Array<[string, unknown]>;
		if (object instanceof Map) {
			entries = [...(object as Map<unknown, unknown>).entries()].map(([key, item]) => {
				if (typeof key !== 'string') throw new TypeError('keys must be str');
				return [key, item];
			});
		} else {
			entries = Object.entries(object).filter(([, item]) => item !== undefined);
		}
		if (s.sortKeys) entries.sort(([a], [b]) => compareCodePoints(a, b));
		out.push('{');
		entries.forEach(([key, item], index) => {
			if (index > 0) out.push(s.itemSeparator);
			out.push(pythonString(key, s.ensureAscii), s.keySeparator);
			write(item, s, out, seen);
		});
		out.push('}');
	}
	seen.delete(object);
}

function floatText(value: number, allowNan: boolean): string {
	if (!Number.isFinite(value)) {
		if (!allowNan) throw new RangeError('Out of range float values are not JSON compliant');
		return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
	}
	return pythonFloatRepr(value);
}

/**
 * Python's `repr(float)`: the shortest digits that read back to the same double (as JS), laid out
 * fixed when the decimal point position `decpt` is in (-4, 16], else in exponent form with a sign and
 * at least two exponent digits; fixed form always shows a fraction (`.0`).
 */
export function pythonFloatRepr(value: number): string {
	if (Number.isNaN(value)) return 'nan';
	if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
	const sign = value < 0 || Object.is(value, -0) ? '-' : '';
	if (value === 0) return `${sign}0.0`;
	const [mantissa, exponentText] = Math.abs(value).toExponential().split('e');
	const digits = mantissa.replace('.', '');
	const exponent = Number(exponentText);
	const decpt = exponent + 1;
	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
		if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
		return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
	}
	const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
	const magnitude = String(Math.abs(exponent)).padStart(2, '0');
	return `${sign}${head}e${exponent < 0 ? '-' : '+'}${magnitude}`;
}

/**
 * A Python JSON string literal. With `ensure_ascii`, everything outside space..`~` is escaped per UTF-16
 * unit (astral characters become surrogate pairs, lowercase hex); without it only `"`, `\` and control
 * characters are. Short escapes: `\" \\ \n \r \t \b \f`; other controls `\u00XX`; `/` is never escaped.
 */
export function pythonString(value: string, ensureAscii = true): string {
	let out = '"';
	let start = 0;
	for (let i = 0; i < value.length; i++) {
		const code = value.charCodeAt(i);
		let escape: string | undefined;
		if (code === 0x22) escape = '\\"';
		else if (code === 0x5c) escape = '\\\\';
		else if (code >= 0x20 && code <= 0x7e) continue;
		else if (code === 0x0a) escape = '\\n';
		else if (code === 0x0d) escape = '\\r';
		else if (code === 0x09) escape = '\\t';
		else if (code === 0x08) escape = '\\b';
		else if (code === 0x0c) escape = '\\f';
		else if (code < 0x20 || ensureAscii) escape = `\\u${code.toString(16).padStart(4, '0')}`;
		else continue;
		out += value.slice(start, i) + escape;
		start = i + 1;
	}
	return `${out}${value.slice(start)}"`;
}

/** Python orders str keys by code point; JS's default sort compares UTF-16 units, which differs above U+FFFF. */
export function compareCodePoints(a: string, b: string): number {
	const length = Math.min(a.length, b.length);
	for (let i = 0; i < length; i++) {
		const left = a.codePointAt(i)!;
		const right = b.codePointAt(i)!;
		if (left !== right) return left - right;
		if (left > 0xffff) i++;
	}
	return a.length - b.length;
}
