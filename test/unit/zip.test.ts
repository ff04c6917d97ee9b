import { Zip, ZipDeflate, ZipPassThrough, zipSync } from 'fflate';
import { randomBytes } from 'node:crypto';
import zlib = require('node:zlib');
import { crc32 as nodeCrc32 } from 'node:zlib';

import { crc32, isSafeEntryName, readZipEntries, ZipReadError } from '../../nodes/shared/zip';

const LIMITS = { maxEntries: 1000, maxTotalBytes: 50 * 1024 * 1024 };

/** A zip written the way a streaming server writes it: data descriptors, UTF-8 names. */
function streamedZip(files: Array<[string, string | Buffer]>, store = false, level: 0 | 6 = 6): Buffer {
	const chunks: Buffer[] = [];
	const zip = new Zip((error, data) => {
		if (error) throw error;
		chunks.push(Buffer.from(data));
	});
	for (const [name, content] of files) {
		const entry = store ? new ZipPassThrough(name) : new ZipDeflate(name, { level });
		zip.add(entry);
		entry.push(Buffer.from(content), true);
	}
	zip.end();
	return Buffer.concat(chunks);
}

async function* chunked(bytes: Buffer, size = 97): AsyncGenerator<Uint8Array> {
	for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function readAll(bytes: Buffer, limits = LIMITS, chunk = 97) {
	const entries: Array<{ name: string; text: string }> = [];
	for await (const entry of readZipEntries(chunked(bytes, chunk), limits)) entries.push({ name: entry.name, text: entry.data.toString('utf8') });
	return entries;
}

const FILES: Array<[string, string]> = [
	['20250304_101530_Jane_Smith_jane_smith_3f2a9c1e-transcript.md', 'Hello there.\nHow are you?\n'],
	['20250305_090000_Zoë_Müller_Łukasz_zoe_a1b2c3d4-transcript.md', 'Grüß Gott 👋\n'.repeat(500)],
	['20250306_120000_山田_太郎_deadbeef-transcript.md', '日本語のテキスト\n'],
	['20250307_000000_ffffffff-transcript.md', ''],
];

test('crc32 agrees with zlib', () => {
	for (const text of ['', 'a', 'hello world', '👋 Zoë'.repeat(1000)]) {
		expect(crc32(Buffer.from(text))).toBe(nodeCrc32(Buffer.from(text)));
	}
	const whole = Buffer.from('split me in two');
	expect(crc32(whole.subarray(5), crc32(whole.subarray(0, 5)))).toBe(nodeCrc32(whole));
});

test('streamed zips (data descriptors) and classic zips give every entry, names and bytes exact', async () => {
	const expected = FILES.map(([name, text]) => ({ name, text }));
	expect(await readAll(streamedZip(FILES))).toEqual(expected);
	expect(await readAll(streamedZip(FILES, true))).toEqual(expected);
	const classic = Buffer.from(zipSync(Object.fromEntries(FILES.map(([name, text]) => [name, Buffer.from(text)]))));
	expect(await readAll(classic)).toEqual(expected);
	expect(await readAll(streamedZip(FILES), LIMITS, 1)).toEqual(expected);
});

/**
 * Adds ZIP64 end records before the classic one, keeping the classic values: what Python's zipfile writes
 * when only the central directory's offset passes 2 GiB.
 */
function withZip64EndRecords(zip: Buffer): Buffer {
	const eocd = zip.length - 22;
	expect(zip.readUInt32LE(eocd)).toBe(0x06054b50);
	const entries = BigInt(zip.readUInt16LE(eocd + 10));
	const directorySize = BigInt(zip.readUInt32LE(eocd + 12));
	const directoryOffset = BigInt(zip.readUInt32LE(eocd + 16));
	const record = Buffer.alloc(56);
	record.writeUInt32LE(0x06064b50, 0);
	record.writeBigUInt64LE(44n, 4); // size of the rest of the record
	record.writeUInt16LE(45, 12);
	record.writeUInt16LE(45, 14);
	record.writeBigUInt64LE(entries, 24);
	record.writeBigUInt64LE(entries, 32);
	record.writeBigUInt64LE(directorySize, 40);
	record.writeBigUInt64LE(directoryOffset, 48);
	const locator = Buffer.alloc(20);
	locator.writeUInt32LE(0x07064b50, 0);
	locator.writeBigUInt64LE(BigInt(eocd), 8); // where the ZIP64 record starts
	locator.writeUInt32LE(1, 16);
	return Buffer.concat([zip.subarray(0, eocd), record, locator, zip.subarray(eocd)]);
}

test('ZIP64 end records beside a classic one with real values (Python past 2 GiB of data) are read', async () => {
	const zip = withZip64EndRecords(Buffer.from(zipSync(Object.fromEntries(FILES.map(([name, text]) => [name, Buffer.from(text)])))));
	expect((await readAll(zip)).map((entry) => entry.name)).toEqual(FILES.map(([name]) => name));
});

test('an empty zip has no entries', async () => {
	expect(await readAll(Buffer.from(zipSync({})))).toEqual([]);
});

test('every truncation of a zip is an error, never a shorter result', async () => {
	const bytes = streamedZip(FILES);
	for (let length = 0; length < bytes.length; length += 1) {
		await expect(readAll(bytes.subarray(0, length))).rejects.toBeInstanceOf(ZipReadError);
	}
});

test('a damaged byte anywhere is an error or changes nothing, never different data', async () => {
	const bytes = streamedZip(FILES);
	const expected = FILES.map(([name, text]) => ({ name, text }));
	let detected = 0;
	for (let position = 0; position < bytes.length; position++) {
		const damaged = Buffer.from(bytes);
		damaged[position] ^= 0x5a;
		try {
			const entries = await readAll(damaged);
			expect(entries).toEqual(expected);
		} catch (error) {
			expect(error).toBeInstanceOf(ZipReadError);
			detected++;
		}
	}
	expect(detected).toBeGreaterThan(bytes.length / 2);
});

test('unsafe entry names are refused', async () => {
	for (const name of ['../../evil.md', '/abs.md', 'a/../../b.md', '..\\win.md', 'C:\\x.md']) {
		expect(isSafeEntryName(name)).toBe(false);
		await expect(readAll(streamedZip([['ok.md', 'x'], [name, 'y']]))).rejects.toMatchObject({ problem: 'unsafe-name' });
	}
	expect(isSafeEntryName('a..b.md')).toBe(true);
	expect(isSafeEntryName('dir/file.md')).toBe(true);
});

test('more entries than allowed is refused', async () => {
	const files: Array<[string, string]> = Array.from({ length: 11 }, (_, i) => [`f${i}.md`, 'x']);
	await expect(readAll(streamedZip(files), { ...LIMITS, maxEntries: 10 })).rejects.toMatchObject({ problem: 'too-many-entries' });
	expect(await readAll(streamedZip(files.slice(0, 10)), { ...LIMITS, maxEntries: 10 })).toHaveLength(10);
});

test('a zip bomb stops at the byte limit without inflating it all', async () => {
	const bomb = streamedZip([['bomb.md', Buffer.alloc(64 * 1024 * 1024)]]);
	expect(bomb.length).toBeLessThan(200 * 1024);
	const before = process.memoryUsage().rss;
	await expect(readAll(bomb, { maxEntries: 10, maxTotalBytes: 8 * 1024 * 1024 }, 64 * 1024)).rejects.toMatchObject({ problem: 'too-large' });
	expect(process.memoryUsage().rss - before).toBeLessThan(48 * 1024 * 1024);
});

test('a deflated bomb entry fails naming that entry, and zlib never inflates it past the limit', async () => {
	// One entry's deflate data is inflated in one call: only zlib's own output cap keeps a bomb from
	// taking all of its size in memory before any byte count can object.
	const limit = 4 * 1024 * 1024;
	const bomb = streamedZip([['20250304_101530_bomb_3f2a9c1e-transcript.md', Buffer.alloc(24 * 1024 * 1024)]]);
	const inflate = jest.spyOn(zlib, 'inflateRawSync');
	try {
		await expect(readAll(bomb, { maxEntries: 10, maxTotalBytes: limit }, 64 * 1024)).rejects.toMatchObject({
			problem: 'too-large',
			message: expect.stringContaining('entry "20250304_101530_bomb_3f2a9c1e-transcript.md"'),
		});
		expect(inflate).toHaveBeenCalled();
		for (const [, options] of inflate.mock.calls) expect((options as zlib.ZlibOptions).maxOutputLength).toBeLessThanOrEqual(limit + 1);
		for (const result of inflate.mock.results) if (result.type === 'return') expect((result.value as Buffer).length).toBeLessThanOrEqual(limit);
	} finally {
		inflate.mockRestore();
	}
});

test('stored (uncompressed) entries count toward Max Unzipped Size too', async () => {
	// Two 600 KB files stored as they are, under a 1 MB limit: no inflation happens, the bytes still count.
	const stored = streamedZip(
		[
			['a-transcript.md', Buffer.alloc(600 * 1024, 'a')],
			['b-transcript.md', Buffer.alloc(600 * 1024, 'b')],
		],
		true,
	);
	await expect(readAll(stored, { maxEntries: 10, maxTotalBytes: 1024 * 1024 }, 64 * 1024)).rejects.toMatchObject({ problem: 'too-large' });
	expect(await readAll(stored, { maxEntries: 10, maxTotalBytes: 1200 * 1024 }, 64 * 1024)).toHaveLength(2);
});

/** A zip source that counts what the reader pulled from it, and says whether the reader closed it. */
function countedSource(bytes: Buffer, size = 64 * 1024) {
	const counted = { pulled: 0, closed: false };
	async function* source(): AsyncGenerator<Uint8Array> {
		try {
			for (let offset = 0; offset < bytes.length; offset += size) {
				const chunk = bytes.subarray(offset, offset + size);
				counted.pulled += chunk.length;
				yield chunk;
			}
		} finally {
			counted.closed = true;
		}
	}
	return { source: source(), counted };
}

async function drain(entries: AsyncIterable<unknown>): Promise<void> {
	for await (const _ of entries) void _;
}

test('a large incompressible deflated entry is refused once its compressed bytes pass the limit, not buffered whole first', async () => {
	// Its deflate data is inflated in one call when the entry ends: without a check on the compressed bytes
	// as they come, a 10 MB entry (or a 2 GB one) is held in memory whole before the limit can object.
	const zip = streamedZip([['20250304_101530_noise_3f2a9c1e-transcript.md', randomBytes(10 * 1024 * 1024)]], false, 0);
	expect(zip.length).toBeGreaterThan(10 * 1024 * 1024);
	const { source, counted } = countedSource(zip);
	await expect(drain(readZipEntries(source, { maxEntries: 10, maxTotalBytes: 1024 * 1024 }))).rejects.toMatchObject({ problem: 'too-large' });
	expect(counted.pulled).toBeLessThan(4 * 1024 * 1024);
	expect(counted.closed).toBe(true);
});

test('after a limit error the reader stops pulling the stream (an HTTP body is not read to its end)', async () => {
	// A stored entry counts as it comes; once past Max Unzipped Size the rest of a hostile or just huge
	// download is not worth reading: the error comes at once and the source is closed.
	const zip = streamedZip([['20250304_101530_noise_3f2a9c1e-transcript.md', randomBytes(10 * 1024 * 1024)]], true);
	const { source, counted } = countedSource(zip);
	await expect(drain(readZipEntries(source, { maxEntries: 10, maxTotalBytes: 1024 * 1024 }))).rejects.toMatchObject({ problem: 'too-large' });
	expect(counted.pulled).toBeLessThan(2 * 1024 * 1024);
	expect(counted.closed).toBe(true);
});

test('not a zip at all is an error', async () => {
	await expect(readAll(Buffer.from('{"detail":"Project not found"}'))).rejects.toBeInstanceOf(ZipReadError);
});
