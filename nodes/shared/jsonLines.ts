// Node's stream and zlib are used here, and only here, on purpose: a 100,000-conversation export must
// not sit in memory as one string. Pages are kept deflated (a few times smaller than JSON text) and the
// file is streamed out at the end, so that n8n's filesystem binary mode never holds the whole file.
import { Readable } from 'stream';
import { deflateRawSync, inflateRawSync } from 'zlib';

interface LinePosition {
	block: number;
	line: number;
	version: number;
}

/**
 * Collects records as JSON Lines, keyed: when a key comes again, the copy with the greater version wins
 * and takes the later place (as a fresh upsert would); an equal or older copy is dropped. Callers that
 * want every record give every record its own key.
 */
export class JsonLinesCollector {
	private readonly blocks: Buffer[] = [];
	private readonly winners = new Map<string, LinePosition>();
	private bytes = 0;

	/** Adds one page of records; returns how many of them are new or newer versions. */
	addPage(records: Array<{ key: string; version: number; record: unknown }>): number {
		const lines: string[] = [];
		const block = this.blocks.length;
		let accepted = 0;
		for (const { key, version, record } of records) {
			const existing = this.winners.get(key);
			if (existing && existing.version >= version) continue;
			if (existing) this.winners.delete(key);
			this.winners.set(key, { block, line: lines.length, version });
			lines.push(JSON.stringify(record));
			accepted++;
		}
		const text = lines.length > 0 ? `${lines.join('\n')}\n` : '';
		this.bytes += Buffer.byteLength(text);
		this.blocks.push(deflateRawSync(Buffer.from(text, 'utf8'), { level: 1 }));
		return accepted;
	}

	/** Distinct keys kept. */
	get size(): number {
		return this.winners.size;
	}

	/** Uncompressed size of everything added, superseded copies included (an upper bound of the file). */
	get bytesAdded(): number {
		return this.bytes;
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

	/** The kept lines as text, in output order: page by page, and within a page in arrival order. */
	private *keptLines(): Generator<string[]> {
		const keep = new Map<number, Set<number>>();
		for (const position of this.winners.values()) {
			let lines = keep.get(position.block);
			if (!lines) keep.set(position.block, (lines = new Set()));
			lines.add(position.line);
		}
		for (let block = 0; block < this.blocks.length; block++) {
			const wanted = keep.get(block);
			if (!wanted) continue;
			const lines = inflateRawSync(this.blocks[block]).toString('utf8').split('\n');
			yield lines.filter((line, index) => line !== '' && wanted.has(index));
		}
	}

	/** The kept records, parsed again. */
	*records(): Generator<unknown> {
		for (const lines of this.keptLines()) {
			for (const line of lines) yield JSON.parse(line);
		}
	}

	/** The JSON Lines file, streamed; `transform` reshapes each record on the way out. */
	toStream(transform?: (record: unknown) => unknown): Readable {
		const pages = this.keptLines();
		function* chunks(): Generator<Buffer> {
			for (const lines of pages) {
				const text = transform ? lines.map((line) => JSON.stringify(transform(JSON.parse(line)))) : lines;
				yield Buffer.from(`${text.join('\n')}\n`, 'utf8');
			}
		}
		return Readable.from(chunks());
	}
}
