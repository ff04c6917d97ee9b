/**
 * A streaming zip writer that lays archives out the way production's Python `zipfile` does when it
 * writes the transcript zip to a temp file: deflate (zlib level 6, raw), CRC and sizes in each local
 * header, no data descriptors, no extra fields, UTF-8 flag only for non-ASCII names, "made by" Unix
 * 2.0 with mode 0644, ZIP64 end records only past 65,535 entries or 4 GiB. With the `data-descriptor`
 * layout the local headers carry zeros and flag bit 3, and sizes follow each entry's data, as a
 * server that compresses while it streams would write them.
 *
 * Entries are written one by one through an async sink (which waits for the socket to drain), so the
 * archive is never whole in memory; only the central directory records are kept until the end.
 */
import { constants as zlibConstants, crc32, deflateRawSync } from 'node:zlib';

import type { ZipLayout } from './types';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const DATA_DESCRIPTOR = 0x08074b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_LIMIT = 0x7fff_ffff; // Python's zipfile.ZIP64_LIMIT: (1 << 31) - 1
const FILECOUNT_LIMIT = 0xffff;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const DEFLATED = 8;
/** `-rw-r--r--` regular file, as `(st_mode & 0xFFFF) << 16`. */
const EXTERNAL_ATTRIBUTES = (0o100644 << 16) >>> 0;
const MADE_BY_UNIX = 3 << 8;

export type ZipSink = (chunk: Buffer) => Promise<void>;

export interface PreparedEntry {
	/** Raw deflate data. */
	compressed: Buffer;
	crc: number;
	/** Inflated size. */
	size: number;
}

interface CentralRecord {
	name: Buffer;
	flags: number;
	crc: number;
	compressedSize: number;
	size: number;
	offset: number;
}

/** Deflates `content` as Python's zipfile does (zlib, default level 6, raw stream). */
export function prepareEntry(content: Buffer | string): PreparedEntry {
	const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
	return { compressed: deflateRawSync(data, { level: 6 }), crc: crc32(data), size: data.length };
}

export class ZipWriter {
	private offset = 0;
	private readonly records: CentralRecord[] = [];
	private readonly dosTime: number;
	private readonly dosDate: number;

	constructor(
		private readonly sink: ZipSink,
		private readonly layout: ZipLayout,
		modified: Date,
	) {
		this.dosTime = (modified.getUTCHours() << 11) | (modified.getUTCMinutes() << 5) | (modified.getUTCSeconds() >> 1);
		this.dosDate = (Math.max(0, modified.getUTCFullYear() - 1980) << 9) | ((modified.getUTCMonth() + 1) << 5) | modified.getUTCDate();
	}

	get entryCount(): number {
		return this.records.length;
	}

	get bytesWritten(): number {
		return this.offset;
	}

	async add(name: string, content: Buffer | string): Promise<void> {
		await this.addPrepared(name, prepareEntry(content));
	}

	/**
	 * Writes one entry. `declaredSize` replaces the inflated size in the headers (a lying zip bomb);
	 * `corruptData` flips bytes in the middle of the compressed data, leaving the CRC as it was.
	 */
	async addPrepared(name: string, entry: PreparedEntry, extra: { declaredSize?: number; corruptData?: boolean } = {}): Promise<void> {
		const nameBytes = Buffer.from(name, 'utf8');
		let flags = /^[\x00-\x7f]*$/.test(name) ? 0 : FLAG_UTF8;
		const descriptor = this.layout === 'data-descriptor';
		if (descriptor) flags |= FLAG_DATA_DESCRIPTOR;
		const size = extra.declaredSize ?? entry.size;
		let compressed = entry.compressed;
		if (extra.corruptData) {
			compressed = Buffer.from(compressed);
			const middle = Math.floor(compressed.length / 2);
			for (let i = Math.max(0, middle - 4); i < Math.min(compressed.length, middle + 4); i++) compressed[i] ^= 0xa5;
		}
		if (size > 0xffff_ffff || compressed.length > 0xffff_ffff) throw new Error('entries over 4 GiB are not supported');

		const header = Buffer.alloc(30);
		header.writeUInt32LE(LOCAL_HEADER, 0);
		header.writeUInt16LE(20, 4);
		header.writeUInt16LE(flags, 6);
		header.writeUInt16LE(DEFLATED, 8);
		header.writeUInt16LE(this.dosTime, 10);
		header.writeUInt16LE(this.dosDate, 12);
		header.writeUInt32LE(descriptor ? 0 : entry.crc >>> 0, 14);
		header.writeUInt32LE(descriptor ? 0 : compressed.length, 18);
		header.writeUInt32LE(descriptor ? 0 : size, 22);
		header.writeUInt16LE(nameBytes.length, 26);
		header.writeUInt16LE(0, 28);
		const parts = [header, nameBytes, compressed];
		if (descriptor) {
			const trailer = Buffer.alloc(16);
			trailer.writeUInt32LE(DATA_DESCRIPTOR, 0);
			trailer.writeUInt32LE(entry.crc >>> 0, 4);
			trailer.writeUInt32LE(compressed.length, 8);
			trailer.writeUInt32LE(size, 12);
			parts.push(trailer);
		}
		this.records.push({ name: nameBytes, flags, crc: entry.crc >>> 0, compressedSize: compressed.length, size, offset: this.offset });
		await this.write(Buffer.concat(parts));
	}

	/** Central directory and end records. */
	async finish(): Promise<void> {
		const start = this.offset;
		const batch: Buffer[] = [];
		for (const record of this.records) {
			const zip64Offset = record.offset > ZIP64_LIMIT;
			const header = Buffer.alloc(46);
			const version = zip64Offset ? 45 : 20;
			header.writeUInt32LE(CENTRAL_HEADER, 0);
			header.writeUInt16LE(MADE_BY_UNIX | version, 4);
			header.writeUInt16LE(version, 6);
			header.writeUInt16LE(record.flags, 8);
			header.writeUInt16LE(DEFLATED, 10);
			header.writeUInt16LE(this.dosTime, 12);
			header.writeUInt16LE(this.dosDate, 14);
			header.writeUInt32LE(record.crc, 16);
			header.writeUInt32LE(record.compressedSize, 20);
			header.writeUInt32LE(record.size, 24);
			header.writeUInt16LE(record.name.length, 28);
			header.writeUInt16LE(zip64Offset ? 12 : 0, 30);
			header.writeUInt16LE(0, 32); // comment
			header.writeUInt16LE(0, 34); // disk
			header.writeUInt16LE(0, 36); // internal attributes
			header.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38);
			header.writeUInt32LE(zip64Offset ? 0xffff_ffff : record.offset, 42);
			batch.push(header, record.name);
			if (zip64Offset) {
				const extra = Buffer.alloc(12);
				extra.writeUInt16LE(0x0001, 0);
				extra.writeUInt16LE(8, 2);
				extra.writeBigUInt64LE(BigInt(record.offset), 4);
				batch.push(extra);
			}
			if (batch.length >= 3000) await this.write(Buffer.concat(batch.splice(0)));
		}
		if (batch.length > 0) await this.write(Buffer.concat(batch.splice(0)));

		let count = this.records.length;
		let size = this.offset - start;
		let offset = start;
		const tail: Buffer[] = [];
		if (count > FILECOUNT_LIMIT || offset > ZIP64_LIMIT || size > ZIP64_LIMIT) {
			const record = Buffer.alloc(56);
			record.writeUInt32LE(ZIP64_END_OF_CENTRAL_DIRECTORY, 0);
			record.writeBigUInt64LE(44n, 4);
			record.writeUInt16LE(45, 12);
			record.writeUInt16LE(45, 14);
			record.writeUInt32LE(0, 16);
			record.writeUInt32LE(0, 20);
			record.writeBigUInt64LE(BigInt(count), 24);
			record.writeBigUInt64LE(BigInt(count), 32);
			record.writeBigUInt64LE(BigInt(size), 40);
			record.writeBigUInt64LE(BigInt(offset), 48);
			const locator = Buffer.alloc(20);
			locator.writeUInt32LE(ZIP64_LOCATOR, 0);
			locator.writeUInt32LE(0, 4);
			locator.writeBigUInt64LE(BigInt(this.offset), 8);
			locator.writeUInt32LE(1, 16);
			tail.push(record, locator);
			count = Math.min(count, FILECOUNT_LIMIT);
			size = Math.min(size, 0xffff_ffff);
			offset = Math.min(offset, 0xffff_ffff);
		}
		const end = Buffer.alloc(22);
		end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
		end.writeUInt16LE(0, 4);
		end.writeUInt16LE(0, 6);
		end.writeUInt16LE(count, 8);
		end.writeUInt16LE(count, 10);
		end.writeUInt32LE(size, 12);
		end.writeUInt32LE(offset, 16);
		end.writeUInt16LE(0, 20);
		tail.push(end);
		await this.write(Buffer.concat(tail));
	}

	private async write(chunk: Buffer): Promise<void> {
		this.offset += chunk.length;
		await this.sink(chunk);
	}
}

const MIB = 1024 * 1024;
const bombCache = new Map<number, PreparedEntry>();

/**
 * `bytes` zeros as raw deflate, about 1/1000 of the size, without deflating them all: one MiB of
 * zeros deflated with a full flush (so it never refers back before itself) is repeated, then the
 * remainder, then a final empty fixed-Huffman block. CRC over the zeros, computed once per size.
 */
export function zipBombEntry(bytes: number): PreparedEntry {
	const cached = bombCache.get(bytes);
	if (cached) return cached;
	const zeros = Buffer.alloc(Math.min(bytes, MIB));
	const flush = { level: 9, finishFlush: zlibConstants.Z_FULL_FLUSH };
	const whole = Math.floor(bytes / MIB);
	const rest = bytes % MIB;
	const parts: Buffer[] = [];
	let crc = 0;
	if (whole > 0) {
		const block = deflateRawSync(zeros, flush);
		for (let i = 0; i < whole; i++) {
			parts.push(block);
			crc = crc32(zeros, crc);
		}
	}
	if (rest > 0) {
		parts.push(deflateRawSync(zeros.subarray(0, rest), flush));
		crc = crc32(zeros.subarray(0, rest), crc);
	}
	parts.push(Buffer.from([0x03, 0x00]));
	const entry = { compressed: Buffer.concat(parts), crc, size: bytes };
	bombCache.clear();
	bombCache.set(bytes, entry);
	return entry;
}
