/**
 * dembrane's offset-paged lists (conversation listing, chunk list) against a list that behaves as Directus
 * on Postgres does: sorted on the requested field alone, rows of one value in another order for each
 * LIMIT/OFFSET, and rows that arrive while paging moves everything down. The workflow tests run the same
 * against the stand-in; here many shapes are tried quickly.
 */
import type { IDataObject, IHttpRequestOptions } from 'n8n-workflow';

import { listConversations, readTranscript } from '../../nodes/DembraneEcho/helpers/api';
import type { ScriptedResponse } from '../support/dembrane-context';
import { fakeDembraneContext } from '../support/dembrane-context';
import { seededRandom } from '../support/seeded-random';

type Row = IDataObject & { id: string };

/** Postgres' order: NULL above every value. */
function compareValues(x: unknown, y: unknown): number {
	if (x === null || x === undefined || y === null || y === undefined) return x === y ? 0 : x === null || x === undefined ? 1 : -1;
	return (x as number | string) < (y as number | string) ? -1 : (x as number | string) > (y as number | string) ? 1 : 0;
}

/**
 * Serves `rows()` as dembrane's list routes do (bare arrays, `sort`, `limit`, `offset`); `beforeRequest`
 * sees each request's number first (to add rows "while paging").
 */
function listServer(rows: () => Row[], options: { seed: number; beforeRequest?: (number: number) => void }) {
	const random = seededRandom(options.seed);
	const requests: Array<{ limit: number; offset: number; sort: string }> = [];
	const { context, warnings } = fakeDembraneContext((request): ScriptedResponse => {
		const qs = (request.qs ?? {}) as { limit: number; offset: number; sort: string };
		options.beforeRequest?.(requests.length);
		requests.push({ limit: qs.limit, offset: qs.offset, sort: qs.sort });
		if (String(request.url).endsWith('/transcript')) {
			return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify('from the transcript route') };
		}
		const descending = qs.sort.startsWith('-');
		const field = qs.sort.replace(/^-/, '');
		// Ties: a fresh order for this request, as another query plan would give.
		const tie = new Map<string, number>();
		const rank = (id: string) => tie.get(id) ?? tie.set(id, random()).get(id)!;
		const sorted = [...rows()].sort((a, b) => (descending ? -1 : 1) * compareValues(a[field], b[field]) || rank(a.id) - rank(b.id));
		return { statusCode: 200, headers: {}, body: JSON.stringify(sorted.slice(qs.offset, qs.offset + qs.limit)) };
	});
	return { context, requests, warnings };
}

function conversations(count: number, value: (index: number) => number | null): Row[] {
	return Array.from({ length: count }, (_, i) => ({
		id: `c${i}`,
		duration: value(i),
		created_at: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
		has_transcript: true,
	}));
}

describe('rows of one sort value across pages', () => {
	test.each(Array.from({ length: 40 }, (_, i) => i + 1))('listing, case %i: every conversation once, in order, within Limit', async (seed) => {
		const random = seededRandom(seed * 7919);
		const distinct = 1 + Math.floor(random() * 30);
		const rows = conversations(200 + Math.floor(random() * 2600), () => (random() < 0.05 ? null : Math.floor(random() ** 3 * distinct)));
		const limit = random() < 0.3 ? Infinity : 1 + Math.floor(random() * 3000);
		const descending = random() < 0.5;
		const { context } = listServer(() => rows, { seed });
		const got = (await listConversations.call(context, 'p', { sort: `${descending ? '-' : ''}duration` }, limit)) as Row[];
		expect(new Set(got.map((row) => row.id)).size).toBe(got.length);
		expect(got).toHaveLength(Math.min(limit, rows.length));
		const order = rows.map((row) => row.duration).sort((x, y) => (descending ? -1 : 1) * compareValues(x, y));
		expect(got.map((row) => row.duration)).toEqual(order.slice(0, got.length));
	});

	test.each(Array.from({ length: 20 }, (_, i) => i + 1))('chunk list, case %i: every chunk once, or the transcript route', async (seed) => {
		const random = seededRandom(seed * 31337);
		const distinct = 1 + Math.floor(random() * 60);
		const chunks: Row[] = Array.from({ length: 1 + Math.floor(random() * 3500) }, (_, i) => ({ id: `k${i}`, timestamp: Math.floor(random() ** 2 * distinct), transcript: `t${i}` }));
		const { context, warnings } = listServer(() => chunks, { seed });
		const text = await readTranscript.call(context, 'conversation');
		if (text === 'from the transcript route') {
			expect(chunks.length).toBeLessThanOrEqual(1500);
			return;
		}
		const parts = text!.split('\n');
		expect(new Set(parts).size).toBe(parts.length);
		if (warnings.length === 0) expect(parts.sort()).toEqual(chunks.map((chunk) => String(chunk.transcript)).sort());
	});
});

describe('rows that arrive while paging (everything moves down one place)', () => {
	const byCreation = () => conversations(2500, (i) => i % 7);
	const newest: Row = { id: 'new', duration: 3, created_at: '2026-01-01T00:00:00.000Z', has_transcript: true };

	test('Limit 1,001: one arrives after page 1, and the page of 1 after it repeats a row: still 1,001, no warning', async () => {
		const rows = byCreation();
		const { context, warnings } = listServer(() => rows, { seed: 1, beforeRequest: (number) => number === 1 && rows.push(newest) });
		const got = (await listConversations.call(context, 'p', { sort: '-created_at' }, 1001)) as Row[];
		expect(got).toHaveLength(1001);
		expect(new Set(got.map((row) => row.id)).size).toBe(1001);
		expect(warnings).toEqual([]);
	});

	test('Return All: a shift is not taken for rows of one value (no warning, no reading the listing again)', async () => {
		const rows = byCreation();
		const { context, requests, warnings } = listServer(() => rows, { seed: 1, beforeRequest: (number) => number === 1 && rows.push(newest) });
		const got = (await listConversations.call(context, 'p', { sort: '-created_at' }, Infinity)) as Row[];
		expect(new Set(got.map((row) => row.id)).size).toBe(got.length);
		expect(got.length).toBeGreaterThanOrEqual(2500);
		expect(warnings).toEqual([]);
		expect(requests.every((request) => request.sort === '-created_at')).toBe(true);
		expect(requests.length).toBeLessThanOrEqual(5);
	});

	test('a server that ignores offset ends the paging, not the page bound', async () => {
		const rows = byCreation();
		const { context, requests } = listServer(() => rows, { seed: 1 });
		const ignoring = context as unknown as { helpers: { httpRequestWithAuthentication: (c: string, r: IHttpRequestOptions) => Promise<unknown> } };
		const serve = ignoring.helpers.httpRequestWithAuthentication;
		ignoring.helpers.httpRequestWithAuthentication = async (credential, request) => await serve(credential, { ...request, qs: { ...request.qs, offset: 0 } });
		const got = (await listConversations.call(context, 'p', { sort: '-created_at' }, Infinity)) as Row[];
		expect(got).toHaveLength(1000);
		expect(requests.length).toBeLessThanOrEqual(4);
	});
});
