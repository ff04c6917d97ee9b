/**
 * Offset paging over dembrane lists that change while they are read (a project edited, a conversation
 * summarised or deleted) or whose sort value ties across pages: every row once, in order.
 */
import type { IDataObject, IHttpRequestOptions } from 'n8n-workflow';

import { listProjects } from '../../nodes/DembraneEcho/actions/project/getMany.operation';
import { listConversations, readTranscript } from '../../nodes/DembraneEcho/helpers/api';
import type { ScriptedResponse } from '../support/dembrane-context';
import { fakeDembraneContext } from '../support/dembrane-context';
import { seededRandom } from '../support/seeded-random';

function context(serve: (request: IHttpRequestOptions) => unknown) {
	const { context: ctx, warnings } = fakeDembraneContext((request) => ({ statusCode: 200, headers: {}, body: JSON.stringify(serve(request)) }));
	return { ctx, warnings };
}

describe('project listing (GET /api/v2/workspaces/{wid}/projects, sorted -updated_at, offset paging)', () => {
	const projects = (n: number, updatedAt: (i: number) => string) =>
		Array.from({ length: n }, (_, i) => ({ id: `p${i}`, name: `Project ${i}`, updated_at: updatedAt(i) }));

	/** As production: Directus sorts on -updated_at alone; rows of one value come in another order per query. */
	let reads: Array<[number, number]> = [];
	beforeEach(() => {
		reads = [];
	});
	function projectServer(rows: () => IDataObject[], beforePage?: (page: number) => void) {
		const random = seededRandom(7);
		let page = 0;
		return context((request) => {
			if (request.url === '/api/v2/workspaces') return { workspaces: [{ id: 'w1', name: 'W' }] };
			beforePage?.(page++);
			const { offset, limit } = request.qs as { offset: number; limit: number };
			reads.push([offset, limit]);
			const tie = new Map<unknown, number>();
			const rank = (id: unknown) => tie.get(id) ?? tie.set(id, random()).get(id)!;
			const sorted = [...rows()].sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)) || rank(a.id) - rank(b.id));
			const slice = sorted.slice(offset, offset + limit);
			return { projects: slice, total_count: sorted.length, has_more: sorted.length > offset + limit };
		});
	}

	test('a project edited while the list is read (it moves up into a page already read) still comes, once', async () => {
		const rows = projects(250, (i) => new Date(Date.UTC(2025, 0, 1) - i * 60_000).toISOString());
		// Someone renames project p180 (page 2) while page 1 is being read: it moves to the top.
		const { ctx } = projectServer(() => rows, (page) => {
			if (page === 1) rows[180].updated_at = new Date(Date.UTC(2026, 0, 1)).toISOString();
		});
		const got = (await listProjects.call(ctx, '', Infinity)).projects;
		const ids = got.map((p) => p.id);
		const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
		const missing = rows.map((p) => p.id).filter((id) => !ids.includes(id));
		expect({ twice, missing }).toEqual({ twice: [], missing: [] });
		expect(ids.sort()).toEqual(rows.map((p) => p.id).sort());
		// Back in the list's order: most recently updated first.
		expect(got[0].id).toBe('p180');
		expect(got.slice(1).map((p) => p.id)).toEqual(rows.filter((p) => p.id !== 'p180').map((p) => p.id));
	});

	test('with a search (dembrane gives no count then) an edited project is found by reading again', async () => {
		const rows = projects(250, (i) => new Date(Date.UTC(2025, 0, 1) - i * 60_000).toISOString());
		let requests = 0;
		const { ctx } = projectServer(() => rows, (page) => {
			requests = page + 1;

			if (page === 1) rows[180].updated_at = new Date(Date.UTC(2026, 0, 1)).toISOString();
		});
		const got = (await listProjects.call(ctx, 'project', Infinity)).projects;
		expect(got.map((p) => p.id).sort()).toEqual(rows.map((p) => p.id).sort());
		// Reading 1 misses p180 (and re-reads the run of one value that seems to straddle pages 1 and 2: the
		// edit moved the rows down by one), reading 2 finds it, reading 3 finds nothing new.
		const reading = [[0, 100], [90, 100], [180, 100]];
		expect(reads).toEqual([[0, 100], [90, 100], [99, 2], [180, 100], ...reading, ...reading]);
	});

	test('a Limit costs the pages it needs, and as many again to catch a project edited meanwhile (not the whole workspace)', async () => {
		const rows = projects(5000, (i) => new Date(Date.UTC(2025, 0, 1) - i * 60_000).toISOString());
		const { ctx } = projectServer(() => rows, (page) => {
			if (page === 1) rows[4000].updated_at = new Date(Date.UTC(2026, 0, 1)).toISOString();
		});
		const got = (await listProjects.call(ctx, '', 150)).projects;
		expect(got).toHaveLength(150);
		// p4000 was edited while the first reading was under way: it is now the most recently updated.
		expect(got[0].id).toBe('p4000');
		expect(got.slice(1).map((p) => p.id)).toEqual(rows.slice(0, 149).map((p) => p.id));
		// Reading 1 stops at 190 projects (2 pages, and the seeming run across them that the edit's shift
		// made); reading 2 reads those pages again and finds p4000; reading 3 finds nothing new.
		expect(reads).toEqual([[0, 100], [90, 100], [99, 2], [0, 100], [90, 100], [0, 100], [90, 100]]);
	});

	test('a list of one page is read once', async () => {
		let requests = 0;
		const rows = projects(40, (i) => new Date(Date.UTC(2025, 0, 1) - i * 60_000).toISOString());
		const { ctx } = projectServer(() => rows, () => requests++);
		expect((await listProjects.call(ctx, '', Infinity)).projects).toHaveLength(40);
		expect(requests).toBe(1);
	});

	test('more than a page of projects with one updated_at (a bulk update): read again until all counted are found', async () => {
		const rows = projects(250, () => '2025-06-01T00:00:00.000Z');
		const { ctx } = projectServer(() => rows);
		const got = (await listProjects.call(ctx, '', Infinity)).projects;
		const ids = got.map((p) => String(p.id));
		expect(new Set(ids).size).toBe(ids.length);
		expect(ids.sort()).toEqual(rows.map((p) => p.id).sort());
	});

	test('Search keeps only projects whose name has every word, in any order, whatever the server returns for it', async () => {
		// Older dembrane versions matched other fields too, and this server ignores `search` altogether:
		// the node's own rule is what stands between "berlin stadt" and "Stadt Hamburg".
		const names = ['Stadt Hamburg', 'Berlin Mitte', 'Stadt Berlin 2025', 'BERLIN: Umfrage der Stadt', 'Hamburg Hafen'];
		const rows = names.map((name, i) => ({ id: `p${i}`, name, updated_at: new Date(Date.UTC(2025, 0, 1) - i * 60_000).toISOString() }));
		const { ctx } = projectServer(() => rows);
		const got = (await listProjects.call(ctx, ' berlin  stadt ', Infinity)).projects;
		expect(got.map((p) => p.name)).toEqual(['Stadt Berlin 2025', 'BERLIN: Umfrage der Stadt']);
	});
});

describe('conversation listing', () => {
	test('Recently Updated First, Return All: a conversation updated while the listing is read still comes (read by creation time, sorted here)', async () => {
		const rows = Array.from({ length: 2500 }, (_, i) => ({
			id: `c${i}`,
			created_at: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
			updated_at: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
			has_transcript: true,
		}));
		let requests = 0;
		const { ctx, warnings } = context((request) => {
			const { offset, limit, sort } = request.qs as { offset: number; limit: number; sort: string };
			// A conversation on page 3 is summarised (updated) while page 2 is read.
			if (requests++ === 1) rows[100].updated_at = '2026-01-01T00:00:00.000Z';
			const field = sort.replace(/^-/, '') as 'updated_at';
			const sorted = [...rows].sort((a, b) => (sort.startsWith('-') ? -1 : 1) * a[field].localeCompare(b[field]));
			return sorted.slice(offset, offset + limit);
		});
		const got = await listConversations.call(ctx, 'p', { sort: '-updated_at' }, Infinity);
		expect(warnings).toEqual([]);
		expect(got).toHaveLength(2500);
		expect(got[0].id).toBe('c100');
		expect(got.slice(1).map((r) => r.id)).toEqual(rows.filter((r) => r.id !== 'c100').map((r) => r.id).reverse());
	});

	test('Participant Name (A–Z) over more than a page: the node sorts as Postgres en_US does (spaces and punctuation passed over first)', async () => {
		const names = ['Anne Marie', 'Annelies', 'Ann-Kathrin', 'anna', 'Anna', 'Zoë', 'zoe', 'Émile', 'Emil', 'O\'Brien', 'Obi', null];
		const rows = Array.from({ length: 1500 }, (_, i) => ({
			id: `c${i}`,
			created_at: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
			participant_name: names[i % names.length],
		}));
		const collator = new Intl.Collator('en', { ignorePunctuation: true });
		const byName = (a: (typeof rows)[number], b: (typeof rows)[number]) =>
			a.participant_name === null || b.participant_name === null
				? (a.participant_name === null ? 1 : 0) - (b.participant_name === null ? 1 : 0)
				: collator.compare(a.participant_name, b.participant_name);
		const { ctx } = context((request) => {
			const { offset, limit, sort } = request.qs as { offset: number; limit: number; sort: string };
			const sorted = sort === '-created_at' ? [...rows].reverse() : [...rows].sort((a, b) => byName(a, b) || a.id.localeCompare(b.id));
			return sorted.slice(offset, offset + limit);
		});
		const got = await listConversations.call(ctx, 'p', { sort: 'participant_name' }, Infinity);
		expect(got).toHaveLength(1500);
		const order = [...new Set(got.map((r) => r.participant_name))];
		expect(order).toEqual(['anna', 'Anna', 'Annelies', 'Anne Marie', 'Ann-Kathrin', 'Emil', 'Émile', 'Obi', 'O\'Brien', 'zoe', 'Zoë', null]);
	});

	test('a sort on a changing field within one page is one request, in the server\'s order', async () => {
		const rows = Array.from({ length: 300 }, (_, i) => ({ id: `c${i}`, created_at: `2025-01-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`, duration: i % 7 }));
		const sorts: string[] = [];
		const { ctx } = context((request) => {
			const { offset, limit, sort } = request.qs as { offset: number; limit: number; sort: string };
			sorts.push(sort);
			return [...rows].sort((a, b) => b.duration - a.duration || b.created_at.localeCompare(a.created_at)).slice(offset, offset + limit);
		});
		const got = await listConversations.call(ctx, 'p', { sort: '-duration' }, 50);
		expect(sorts).toEqual(['-duration']);
		expect(got.map((r) => r.duration)).toEqual(Array(42).fill(6).concat(Array(8).fill(5)));
	});

	test('Newest First: conversations deleted while the listing is read move the rest up, and none is passed over', async () => {
		const rows = Array.from({ length: 3000 }, (_, i) => ({ id: `c${i}`, created_at: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString() }));
		let live = [...rows];
		let requests = 0;
		const { ctx } = context((request) => {
			const { offset, limit } = request.qs as { offset: number; limit: number };
			// Before pages 2 and 3, conversations on the pages already read are deleted.
			if (requests === 1) live = live.filter((r) => !['c2900', 'c2500', 'c2100'].includes(r.id));
			if (requests === 2) live = live.filter((r) => !['c1500', 'c1200'].includes(r.id));
			requests++;
			return [...live].reverse().slice(offset, offset + limit);
		});
		const got = await listConversations.call(ctx, 'p', { sort: '-created_at' }, Infinity);
		const deleted = new Set(['c2900', 'c2500', 'c2100', 'c1500', 'c1200']);
		// Every conversation that was never deleted comes, once.
		const ids = got.map((r) => r.id);
		expect(new Set(ids).size).toBe(ids.length);
		expect(ids.filter((id) => !deleted.has(String(id)))).toEqual(rows.filter((r) => !deleted.has(r.id)).map((r) => r.id).reverse());
	});
});

describe('a transcript held back by the plan\'s hours cap', () => {
	function lockedConversation(chunkCount: number) {
		const requests: string[] = [];
		const { context: ctx, warnings } = fakeDembraneContext((request): ScriptedResponse => {
			const { offset, limit } = (request.qs ?? {}) as { offset: number; limit: number };
			if (String(request.url).endsWith('/transcript')) {
				requests.push('transcript');
				// Production: application/json, the text as a JSON string.
				return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify('the first 1,500 chunks') };
			}
			requests.push(`${offset}+${limit}`);
			const chunks = Array.from({ length: chunkCount }, (_, i) => ({ id: `k${i}`, timestamp: `2025-01-01T00:00:${String(i).padStart(6, '0')}Z`, transcript: null, transcript_locked: true }));
			return { statusCode: 200, headers: {}, body: JSON.stringify(chunks.slice(offset, offset + limit)) };
		});
		return { ctx, warnings, requests };
	}

	test('comes from the transcript route, with a warning when that route cannot give all of it (more than 1,500 chunks)', async () => {
		const long = lockedConversation(1600);
		expect(await readTranscript.call(long.ctx, 'c1')).toBe('the first 1,500 chunks');
		expect(long.requests).toEqual(['0+1000', '950+1000', 'transcript']);
		expect(long.warnings).toEqual([expect.stringMatching(/over the plan's hours cap.*only its first 1500 of 1600 chunks/)]);
		const short = lockedConversation(300);
		expect(await readTranscript.call(short.ctx, 'c2')).toBe('the first 1,500 chunks');
		expect(short.warnings).toEqual([]);
	});
});
