/**
 * The package's one zip reader: reads a zip as a stream of chunks (an HTTP response) and yields each
 * entry when it is complete, so memory holds one entry at a time, not the archive. fflate's streaming
 * reader (the library n8n's Compression node uses) walks the zip's structure; each entry's deflate data
 * is inflated in one call by Node's zlib, which is native: fflate's JavaScript inflate was most of the
 * node's time in the dembrane benchmark. fflate's streaming reader does not check
 * the archive's end, so this module does: after the last entry it finds the end-of-central-directory
 * record in the kept tail and checks every entry's name, size and CRC-32 against the central directory.
 * A truncated or corrupt archive, an unsafe entry name, or an archive that inflates beyond the limits
 * (a zip bomb) ends with a ZipReadError; nothing is yielded after it.
 */
import { Unzip } from 'fflate';
import type { FlateError, UnzipDecoder, UnzipFile } from 'fflate';
import * as zlib from 'zlib';

export type ZipProblem = 'corrupt' | 'truncated' | 'unsafe-name' | 'too-many-entries' | 'too-large';

export class ZipReadError extends Error {
	constructor(
		readonly problem: ZipProblem,
		message: string,
	) {
		super(message);
		this.name = 'ZipReadError';
	}
}

export interface ZipLimits {
	/** Most entries accepted. */
	maxEntries: number;
	/** Most bytes all entries may inflate to, together. */
	maxTotalBytes: number;
}

export interface ZipEntry {
	name: string;
	data: Buffer;
}

/** The central directory is checked when it fits in this much kept tail (about 40,000 entries). */
const MAX_KEPT_TAIL = 4 * 1024 * 1024;
const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const MAX_ENTRY_BYTES = 2 ** 31 - 1;

/** A name is safe when it stays inside the folder it is extracted to. */
export function isSafeEntryName(name: string): boolean {
	if (name === '' || name.includes('\0')) return false;
	if (/^[\\/]/.test(name) || /^[a-zA-Z]:/.test(name)) return false;
	return !name.split(/[\\/]/).some((segment) => segment === '..');
}

export async function* readZipEntries(source: AsyncIterable<Uint8Array>, limits: ZipLimits): AsyncGenerator<ZipEntry> {
	const ready: ZipEntry[] = [];
	const seen: Array<{ name: string; size: number; crc: number }> = [];
	let problem: ZipReadError | undefined;
	let totalBytes = 0;
	let open = 0;

	const unzip = new Unzip((file: UnzipFile) => {
		if (problem) return;
		if (!isSafeEntryName(file.name)) {
			problem = new ZipReadError('unsafe-name', `The zip contains an unsafe entry name "${file.name}" (absolute, or with "..")`);
			return;
		}
		if (seen.length + open >= limits.maxEntries) {
			problem = new ZipReadError('too-many-entries', `The zip has more than ${limits.maxEntries} entries`);
			return;
		}
		open++;
		const parts: Buffer[] = [];
		let size = 0;
		let crc = 0;
		file.ondata = (error, data, final) => {
			if (problem) return;
			if (error) {
				problem = new ZipReadError('corrupt', `The zip is corrupt: entry "${file.name}" does not inflate (${error.message})`);
				return;
			}
			size += data.length;
			totalBytes += data.length;
			if (totalBytes > limits.maxTotalBytes) {
				problem = new ZipReadError('too-large', `The zip inflates to more than ${limits.maxTotalBytes} bytes`);
				file.terminate();
				return;
			}
			crc = crc32(data, crc);
			parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
			if (final) {
				open--;
				seen.push({ name: file.name, size, crc });
				ready.push({ name: file.name, data: parts.length === 1 ? parts[0] : Buffer.concat(parts) });
			}
		};
		file.start();
	});
	unzip.register(
		nativeInflate(() => limits.maxTotalBytes - totalBytes, (error) => {
			problem ??= error;
		}),
	);

	const tail = new Tail(MAX_KEPT_TAIL);
	const push = (chunk: Uint8Array, final: boolean) => {
		try {
			unzip.push(chunk, final);
		} catch (error) {
			problem ??= new ZipReadError(final ? 'truncated' : 'corrupt', `The zip is ${final ? 'truncated' : 'corrupt'} (${(error as Error).message})`);
		}
	};
	for await (const chunk of source) {
		tail.add(chunk);
		push(chunk, false);
		if (problem) throw problem;
		while (ready.length > 0) yield ready.shift()!;
	}
	push(new Uint8Array(0), true);
	if (problem) throw problem;
	if (open > 0) throw new ZipReadError('truncated', 'The zip is truncated: its last entry is incomplete');
	verifyCentralDirectory(tail, seen);
	while (ready.length > 0) yield ready.shift()!;
}

/**
 * A decoder for fflate's Unzip (compression method 8): collects one entry's deflate data and inflates it
 * with zlib when the entry ends, at most `budget()` bytes (the zip-bomb limit, enforced by zlib itself).
 */
function nativeInflate(budget: () => number, fail: (error: ZipReadError) => void) {
	return class NativeInflate implements UnzipDecoder {
		static readonly compression = 8;
		ondata: UnzipDecoder['ondata'] = () => undefined;
		private parts: Buffer[] = [];
		private compressedBytes = 0;
		private done = false;

		constructor(private readonly name: string) {}

		push(data: Uint8Array, final: boolean): void {
			if (this.done) return;
			if (data.length > 0) {
				this.compressedBytes += data.length;
				// Deflate never stores much more than it inflates to: past the budget it is a bomb or junk.
				if (this.compressedBytes > budget() + 1024 * 1024) {
					this.done = true;
					fail(new ZipReadError('too-large', `The zip's entry "${this.name}" is larger than the limit allows`));
					return;
				}
				this.parts.push(Buffer.from(data)); // a copy: fflate may reuse the chunk it hands over
			}
			if (!final) return;
			this.done = true;
			const input = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
			this.parts = [];
			let output: Buffer;
			try {
				// zlib stops at maxOutputLength (at most 2 GiB here: one entry is never that large legitimately).
				output = zlib.inflateRawSync(input, { maxOutputLength: Math.min(Math.max(1, budget() + 1), MAX_ENTRY_BYTES) });
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
					fail(new ZipReadError('too-large', `The zip inflates to more than the limit allows (entry "${this.name}")`));
					return;
				}
				this.ondata(Object.assign(new Error((error as Error).message), { code: 0 }) as FlateError, new Uint8Array(0), true);
				return;
			}
			this.ondata(null, output, true);
		}

		terminate(): void {
			this.done = true;
			this.parts = [];
		}
	};
}

/** Keeps the last `limit` bytes of a stream, and whether anything before them was dropped. */
class Tail {
	private chunks: Buffer[] = [];
	private length = 0;
	dropped = 0;

	constructor(private readonly limit: number) {}

	add(chunk: Uint8Array): void {
		this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
		this.length += chunk.byteLength;
		while (this.chunks.length > 1 && this.length - this.chunks[0].length >= this.limit) {
			this.length -= this.chunks[0].length;
			this.dropped += this.chunks[0].length;
			this.chunks.shift();
		}
	}

	bytes(): Buffer {
		const joined = Buffer.concat(this.chunks);
		this.chunks = [joined];
		return joined;
	}
}

function verifyCentralDirectory(tail: Tail, seen: Array<{ name: string; size: number; crc: number }>): void {
	const bytes = tail.bytes();
	const truncated = (why: string) => new ZipReadError('truncated', `The zip is truncated or corrupt: ${why}`);
	// The end record is 22 bytes plus a comment of up to 65,535 bytes.
	let eocd = -1;
	for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
		if (bytes.readUInt32LE(i) === EOCD_SIGNATURE && i + 22 + bytes.readUInt16LE(i + 20) === bytes.length) {
			eocd = i;
			break;
		}
	}
	if (eocd < 0) throw truncated('its end-of-central-directory record is missing');
	let entries = bytes.readUInt16LE(eocd + 10);
	let directorySize = bytes.readUInt32LE(eocd + 12);
	// ZIP64 end records come when a value overflows the classic record (which then holds 0xffff…), and also,
	// from Python's zipfile, when only the directory's offset passes 2 GiB: the classic values are real then.
	const locator = eocd - 20;
	const record = locator - 56;
	const zip64 = record >= 0 && bytes.readUInt32LE(locator) === ZIP64_LOCATOR_SIGNATURE && bytes.readUInt32LE(record) === ZIP64_EOCD_SIGNATURE;
	if (entries === 0xffff || directorySize === 0xffffffff || zip64) {
		if (!zip64) throw truncated('its ZIP64 end record is missing');
		entries = Number(bytes.readBigUInt64LE(record + 32));
		directorySize = Number(bytes.readBigUInt64LE(record + 40));
		eocd = record;
	}
	if (entries !== seen.length) {
		throw new ZipReadError('corrupt', `The zip is corrupt: its directory lists ${entries} entries but ${seen.length} could be read`);
	}
	const start = eocd - directorySize;
	if (start < 0) return; // directory larger than the kept tail: the entry count was checked above
	let offset = start;
	for (const entry of seen) {
		if (offset + 46 > eocd || bytes.readUInt32LE(offset) !== CENTRAL_SIGNATURE) throw truncated('its central directory is damaged');
		const flags = bytes.readUInt16LE(offset + 8);
		const crc = bytes.readUInt32LE(offset + 16);
		const size = bytes.readUInt32LE(offset + 24);
		const nameLength = bytes.readUInt16LE(offset + 28);
		const extraLength = bytes.readUInt16LE(offset + 30);
		const commentLength = bytes.readUInt16LE(offset + 32);
		// Bit 11: UTF-8 names; otherwise the name is read byte for byte, as the streaming reader does.
		const name = bytes.toString(flags & 0x800 ? 'utf8' : 'latin1', offset + 46, offset + 46 + nameLength);
		if (name !== entry.name || crc !== entry.crc || (size !== 0xffffffff && size !== entry.size)) {
			throw new ZipReadError('corrupt', `The zip is corrupt: entry "${entry.name}" does not match the zip's directory`);
		}
		offset += 46 + nameLength + extraLength + commentLength;
	}
}

const CRC_TABLE = (() => {
	const table = new Int32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c;
	}
	return table;
})();

/** CRC-32 (the zip one), continued from `previous`; zlib's native one where Node has it (20.15+). */
export function crc32(data: Uint8Array, previous = 0): number {
	if (typeof zlib.crc32 === 'function') return zlib.crc32(data, previous);
	let crc = ~previous;
	for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
	return ~crc >>> 0;
}
