/**
 * n8n 1.x keeps binary data in memory by default: a large export file then sits whole in the execution's
 * data (seen by a 1.x review: about 1.8 GB of n8n memory for 100,000 conversations of JSON Lines).
 */
import type { IBinaryData, IExecuteFunctions, NodeExecutionHint } from 'n8n-workflow';

import { binaryBytes, warnIfHeldInMemory } from '../../nodes/shared/binaryData';

function context(): { hints: NodeExecutionHint[]; functions: IExecuteFunctions } {
	const hints: NodeExecutionHint[] = [];
	const functions = { addExecutionHints: (...added: NodeExecutionHint[]) => hints.push(...added) } as unknown as IExecuteFunctions;
	return { hints, functions };
}

const inMemory = (bytes: number): IBinaryData => ({ data: Buffer.alloc(bytes, 1).toString('base64'), mimeType: 'application/x-ndjson' });

test('a large file held in memory is worth a warning that names the setting; one on disk or a small one is not', () => {
	const large = context();
	warnIfHeldInMemory.call(large.functions, inMemory(60 * 1024 * 1024), 'The JSON Lines file x.jsonl');
	expect(large.hints).toHaveLength(1);
	expect(large.hints[0].message).toMatch(/x\.jsonl \(60 MB\) is held in n8n's memory.*N8N_DEFAULT_BINARY_DATA_MODE=filesystem/);

	const small = context();
	warnIfHeldInMemory.call(small.functions, inMemory(1024), 'small');
	const onDisk = context();
	warnIfHeldInMemory.call(onDisk.functions, { id: 'filesystem-v2:abc', data: 'filesystem-v2', mimeType: 'application/zip' }, 'on disk');
	expect([...small.hints, ...onDisk.hints]).toEqual([]);
});

test('a large file n8n stored on disk or in its database (it has an id) gives no warning, whatever its size', () => {
	// n8n sets `bytes` on every stored file, so the size alone cannot tell; the id says it is not in memory.
	const stored = context();
	warnIfHeldInMemory.call(stored.functions, { id: 'filesystem-v2:workflows/1/executions/2/binary_data/abc', data: 'filesystem-v2', mimeType: 'application/zip', bytes: 600 * 1024 * 1024 }, 'The zip');
	warnIfHeldInMemory.call(stored.functions, { id: 'database:abc', data: 'database', mimeType: 'application/x-ndjson', bytes: 60 * 1024 * 1024 }, 'The JSON Lines file');
	expect(stored.hints).toEqual([]);
});

test("a file's size is read without decoding it", () => {
	expect(binaryBytes(inMemory(1000))).toBe(1000);
	expect(binaryBytes(inMemory(1001))).toBe(1001);
	expect(binaryBytes({ id: 'filesystem-v2:abc', data: 'filesystem-v2', mimeType: 'x' })).toBeUndefined();
});
