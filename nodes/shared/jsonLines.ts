// Node's stream and zlib are used here, and only here, on purpose: a 100,000-conversation export must
// not sit in memory as one string. Pages are kept deflated (a few times smaller than JSON text) and the
// file is streamed out at the end, so that n8n's filesystem binary mode never holds the whole file.
import { Readable } from 'stream';
import { deflateRawSync, inflateRawSync } from 'zlib';

/**
 * A kept line's place, packed into one number (block × LINES_PER_BLOCK + line): a Map of 100,000 keys
 * to small numbers is a third lighter than one to objects. Versions live per block in a typed array.
 */
const LINES_PER_BLOCK = 2 ** 21;

/**
 * How pages are kept until the end: `deflated` JSON text for a file (a few times smaller than the
 * objects), or the parsed `objects` themselves when they become n8n items anyway (no encode/decode).
 */
export type CollectorStorage = 'deflated' | 'objects';

/**
 * Collects records as JSON Lines, keyed: when a key comes again, the copy with the greater version wins
 * and takes the later place (as a fresh upsert would); an equal or older copy is dropped. Callers that
 * want every record give every record its own key.
 */
export class JsonLinesCollector {
	private readonly blocks: Array<Buffer | unknown[]> = [];
	private readonly winners = new Map<string, number>();
	private readonly versions: Float64Array[] = [];
	private bytes = 0;
	private streamed = false;

	constructor(private readonly storage: CollectorStorage = 'deflated') {}

	/** Adds one page of records; returns how many of them are new or newer versions. */
	addPage(records: Array<{ key: string; version: number; record: unknown }>): number {
		if (records.length >= LINES_PER_BLOCK) throw new RangeError(`A page holds at most ${LINES_PER_BLOCK - 1} records`);
		const kept: unknown[] = [];
		const block = this.blocks.length;
		const versions = new Float64Array(records.length);
		for (const { key, version, record } of records) {
			const existing = this.winners.get(key);
			if (existing !== undefined) {
				// A copy earlier in this same page: its version is not stored yet.
				const existingVersion = Math.floor(existing / LINES_PER_BLOCK) === block ? versions[existing % LINES_PER_BLOCK] : this.versionAt(existing);
				if (existingVersion >= version) continue;
				this.winners.delete(key);
			}
			versions[kept.length] = version;
			this.winners.set(key, block * LINES_PER_BLOCK + kept.length);
			kept.push(record);
		}
		this.versions.push(versions.slice(0, kept.length));
		if (this.storage === 'objects') {
			this.blocks.push(kept);
			return kept.length;
		}
		// One small Buffer per line, joined outside V8's heap: a page joined as one string would be a
		// large object, and a thousand of them let the heap grow far beyond what is kept.
		const text = Buffer.concat(kept.map(jsonLine));
		this.bytes += text.length;
		const deflated = deflateRawSync(text, { level: 1 });
		// zlib hands back a slice of its 64 KB output chunk when the result fits in one: kept as it is,
		// every page would hold a whole chunk. An exact copy keeps only the deflated bytes.
		this.blocks.push(deflated.length < deflated.buffer.byteLength ? Buffer.from(deflated) : deflated);
		return kept.length;
	}

	private versionAt(position: number): number {
		return this.versions[Math.floor(position / LINES_PER_BLOCK)][position % LINES_PER_BLOCK];
	}

	/** Distinct keys kept. */
	get size(): number {
		return this.winners.size;
	}

	/** Uncompressed size of everything added, superseded copies included (deflated storage only). */
	get bytesAdded(): number {
		return this.bytes;
	}

	/** Whether a record of this key is kept. */
	has(key: string): boolean {
		return this.winners.has(key);
	}

	/** Keys in output order. */
	keys(): IterableIterator<string> {
		return this.winners.keys();
	}

	/** Keeps only the first `count` keys (Return All off). */
	truncate(count: number): void {
		let index = 0;
		for (const key of [...this.winners.keys()]) {
			if (index++ >= count) this.winners.delete(key);
		}
	}

	/**
	 * The kept entries of each page, in output order: page by page, and within a page in arrival order.
	 * Deflated pages come as their JSON text and its kept lines (`complete` when none was superseded),
	 * object pages as the records. With `release`, each stored page is let go once it has been read.
	 */
	private *keptPages(release = false): Generator<{ text: Buffer; lines: Buffer[]; complete: boolean } | { records: unknown[] }> {
		const keep = new Map<number, Set<number>>();
		for (const position of this.winners.values()) {
			const block = Math.floor(position / LINES_PER_BLOCK);
			let lines = keep.get(block);
			if (!lines) keep.set(block, (lines = new Set()));
			lines.add(position % LINES_PER_BLOCK);
		}
		for (let block = 0; block < this.blocks.length; block++) {
			const wanted = keep.get(block);
			const stored = this.blocks[block];
			if (release) this.blocks[block] = [];
			if (!wanted) continue;
			if (Array.isArray(stored)) {
				yield { records: stored.filter((_record, index) => wanted.has(index)) };
				continue;
			}
			// Lines stay Buffer slices of the inflated page: no page-sized string is made.
			const text = inflateRawSync(stored);
			const lines: Buffer[] = [];
			let line = 0;
			for (let start = 0; start < text.length; line++) {
				const end = text.indexOf(0x0a, start);
				const next = end < 0 ? text.length : end + 1;
				if (wanted.has(line)) lines.push(text.subarray(start, next));
				start = next;
			}
			yield { text, lines, complete: lines.length === line };
		}
	}

	/** The kept records. */
	*records(): Generator<unknown> {
		for (const page of this.keptPages()) {
			if ('records' in page) yield* page.records;
			else for (const line of page.lines) yield JSON.parse(line.toString('utf8'));
		}
	}

	/**
	 * The JSON Lines file, streamed; `transform` reshapes each record on the way out. Each page is let
	 * go once it is out, so the stream can be made once; `size` and `keys()` stay as they were.
	 */
	toStream(transform?: (record: unknown) => unknown): Readable {
		if (this.streamed) throw new Error('The JSON Lines file was already streamed');
		this.streamed = true;
		const pages = this.keptPages(true);
		function* chunks(): Generator<Buffer> {
			for (const page of pages) {
				if (!('records' in page) && !transform) {
					// Stored text goes out as it is.
					yield page.complete ? page.text : Buffer.concat(page.lines);
					continue;
				}
				const records = 'records' in page ? page.records : page.lines.map((line) => JSON.parse(line.toString('utf8')) as unknown);
				yield Buffer.concat(records.map((record) => jsonLine(transform ? transform(record) : record)));
			}
		}
		return Readable.from(chunks());
	}
}

/** One record as a line of the file. */
function jsonLine(record: unknown): Buffer {
	return Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
}
