/**
 * The listing's has_transcript flags when the query behind them failed (false on every row), over a
 * scripted server: which rows are probed to tell (the likeliest, oldest first: the newest may still be
 * recording), and how far the rows are then checked one by one (as far as Limit needs).
 */
import type { IDataObject, IHttpRequestOptions } from 'n8n-workflow';

import { listConversations } from '../../nodes/DembraneEcho/helpers/api';
import { fakeDembraneContext } from '../support/dembrane-context';

const json = (body: unknown) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** `n` conversations, the newest first; `transcribed(i)` says whether conversation i has a transcript. */
function flagsFailedServer(n: number, transcribed: (i: number) => boolean, extra: (i: number) => IDataObject = () => ({})) {
	const rows = Array.from({ length: n }, (_, i) => ({
		id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
		created_at: new Date(Date.UTC(2025, 0, 1) + (n - i) * 60_000).toISOString(),
		has_transcript: false,
		...extra(i),
	}));
	const index = new Map(rows.map((row, i) => [row.id, i]));
	const chunkLists: number[] = [];
	const answer = (request: IHttpRequestOptions) => {
		const path = new URL(String(request.url), 'http://dembrane.invalid').pathname;
		const qs = (request.qs ?? {}) as IDataObject;
		if (path === '/api/v2/bff/conversations') {
			const sorted = String(qs.sort).startsWith('-') ? rows : [...rows].reverse();
			const offset = Number(qs.offset ?? 0);
			return json(sorted.slice(offset, offset + Number(qs.limit ?? 1000)));
		}
		if (path === '/api/v2/bff/conversations/count') return json({ count: n });
		const match = /^\/api\/v2\/bff\/conversations\/([^/]+)\/(chunks|chunk-count)$/.exec(path);
		if (!match) throw new Error(`unexpected request ${path}`);
		const i = index.get(match[1])!;
		if (match[2] === 'chunk-count') return json({ count: transcribed(i) ? 1 : 0 });
		chunkLists.push(i);
		return json(transcribed(i) && Number(qs.offset ?? 0) === 0 ? [{ id: `chunk${i}`, transcript: `text ${i}`, timestamp: rows[i].created_at }] : []);
	};
	return { answer, chunkLists };
}

test('the newest conversations still recording, the rest transcribed: Transcript Required gives every transcribed one', async () => {
	const server = flagsFailedServer(20, (i) => i >= 3);
	const { context, warnings } = fakeDembraneContext(server.answer);
	const rows = await listConversations.call(context, 'p', { sort: '-created_at' }, Infinity, { transcriptRequired: true });
	expect(rows).toHaveLength(17);
	expect(rows.every((row) => row.has_transcript === true)).toBe(true);
	expect(warnings).toEqual([expect.stringMatching(/the query behind has_transcript failed/)]);
	// For the export read one by one, the flags are dropped: every row is read.
	const { context: exportContext } = fakeDembraneContext(flagsFailedServer(20, (i) => i >= 3).answer);
	const all = await listConversations.call(exportContext, 'p', {}, Infinity, { checkTranscriptFlags: true });
	expect(all.filter((row) => row.has_transcript !== false)).toHaveLength(20);
});

test('a summary marks the likeliest row to probe, wherever it is', async () => {
	// Only one conversation, in the middle, has a transcript (and a summary).
	const server = flagsFailedServer(20, (i) => i === 10, (i) => (i === 10 ? { summary: 'A summary' } : {}));
	const { context } = fakeDembraneContext(server.answer);
	const rows = await listConversations.call(context, 'p', { sort: '-created_at' }, Infinity, { transcriptRequired: true });
	expect(rows.map((row) => row.id)).toEqual(['00000000-0000-4000-8000-000000000010']);
	expect(server.chunkLists[0]).toBe(10);
});

test('Limit 5: the rows are checked only as far as five with a transcript', async () => {
	const server = flagsFailedServer(3000, (i) => i % 2 === 0);
	const { context } = fakeDembraneContext(server.answer);
	const rows = await listConversations.call(context, 'p', { sort: '-created_at' }, 5, { transcriptRequired: true });
	expect(rows).toHaveLength(5);
	// Three probes, then batches of 8 until five are found.
	expect(server.chunkLists.length).toBeLessThanOrEqual(3 + 16);
});

test('no conversation has a transcript yet: a look at three, and an empty answer', async () => {
	const server = flagsFailedServer(50, () => false);
	const { context, warnings } = fakeDembraneContext(server.answer);
	expect(await listConversations.call(context, 'p', { sort: '-created_at' }, Infinity, { transcriptRequired: true })).toEqual([]);
	expect(server.chunkLists).toHaveLength(3);
	expect(warnings).toEqual([]);
});
