import type { CollectorStorage } from '../../nodes/shared/jsonLines';
import { JsonLinesCollector } from '../../nodes/shared/jsonLines';

async function read(collector: JsonLinesCollector, transform?: (r: unknown) => unknown): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of collector.toStream(transform)) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks).toString('utf8');
}

describe.each<CollectorStorage>(['deflated', 'objects'])('JsonLinesCollector (%s storage)', (storage) => {
	it('one key twice in one page (Decagon sends a conversation twice in a page): the newer copy, once', async () => {
		const c = new JsonLinesCollector(storage);
		c.addPage([
			{ key: 'a', version: 1, record: { id: 'a', v: 1 } },
			{ key: 'b', version: 1, record: { id: 'b', v: 1 } },
			{ key: 'a', version: 2, record: { id: 'a', v: 2 } },
			{ key: 'b', version: 1, record: { id: 'b', v: 1, again: true } },
		]);
		expect(c.size).toBe(2);
		expect([...c.records()]).toEqual([
			{ id: 'b', v: 1 },
			{ id: 'a', v: 2 },
		]);
		expect(await read(c)).toBe('{"id":"b","v":1}\n{"id":"a","v":2}\n');
	});

	it('keeps one copy per key, the newest, at the place of its newest copy', async () => {
		const c = new JsonLinesCollector(storage);
		c.addPage([
			{ key: 'a', version: 1, record: { id: 'a', v: 1 } },
			{ key: 'b', version: 1, record: { id: 'b', v: 1 } },
		]);
		c.addPage([
			{ key: 'b', version: 1, record: { id: 'b', v: 1, repeated: true } }, // same version: dropped
			{ key: 'c', version: 1, record: { id: 'c', v: 1 } },
			{ key: 'a', version: 2, record: { id: 'a', v: 2 } }, // newer: replaces and moves
		]);
		c.addPage([{ key: 'c', version: 0, record: { id: 'c', v: 0 } }]); // older: dropped
		expect(c.size).toBe(3);
		expect([...c.keys()]).toEqual(['b', 'c', 'a']);
		expect([...c.records()]).toEqual([
			{ id: 'b', v: 1 },
			{ id: 'c', v: 1 },
			{ id: 'a', v: 2 },
		]);
		expect(await read(c)).toBe('{"id":"b","v":1}\n{"id":"c","v":1}\n{"id":"a","v":2}\n');
	});
	it('truncates to a limit and transforms on the way out', async () => {
		const c = new JsonLinesCollector(storage);
		c.addPage([1, 2, 3, 4].map((n) => ({ key: `k${n}`, version: 0, record: { n } })));
		c.truncate(2);
		expect(await read(c, (r) => ({ double: (r as { n: number }).n * 2 }))).toBe('{"double":2}\n{"double":4}\n');
	});
	it('keeps Unicode intact and memory small for many pages', async () => {
		const c = new JsonLinesCollector(storage);
		for (let page = 0; page < 200; page++) {
			c.addPage(
				Array.from({ length: 100 }, (_, i) => ({
					key: `${page}-${i}`,
					version: 0,
					record: { text: 'Zoë 王小明 🎉 '.repeat(20), page, i },
				})),
			);
		}
		expect(c.size).toBe(20_000);
		const text = await read(c);
		const lines = text.trimEnd().split('\n');
		expect(lines).toHaveLength(20_000);
		expect(JSON.parse(lines[19_999])).toMatchObject({ page: 199, i: 99 });
		expect(text).toContain('Zoë 王小明 🎉');
	});
	it('produces an empty file for no records', async () => {
		const c = new JsonLinesCollector(storage);
		c.addPage([]);
		expect(await read(c)).toBe('');
	});
});

describe('JsonLinesCollector.toStream', () => {
	it('lets each page go once it is out, so the file can be streamed once', async () => {
		const c = new JsonLinesCollector('deflated');
		c.addPage([{ key: 'a', version: 1, record: { id: 'a' } }]);
		c.addPage([{ key: 'a', version: 2, record: { id: 'a', v: 2 } }]);
		expect(await read(c)).toBe('{"id":"a","v":2}\n');
		expect(c.size).toBe(1);
		expect(() => c.toStream()).toThrow('already streamed');
	});
});
