/**
 * The dembrane ECHO stand-in must keep the contract of api-notes ("dembrane ECHO"), quirks included, or
 * every test built on it proves nothing. These tests talk to it over real HTTP on loopback.
 * (Zip: standin-dembrane-zip.test.ts; webhooks: standin-dembrane-webhooks.test.ts.)
 */
import { spawn } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { createInterface } from 'node:readline';
import { gunzipSync } from 'node:zlib';

import type { DembraneStandin } from '../standins/dembrane';
import { startDembraneStandin } from '../standins/dembrane';
import { signJwt } from '../standins/dembrane/jwt';
import { compareText } from '../standins/dembrane/listing';

jest.setTimeout(20_000);

let standin: DembraneStandin;
let token: string;

beforeAll(async () => {
	standin = await startDembraneStandin();
	token = standin.issueAccessToken();
});
afterAll(async () => standin.close());
beforeEach(() => {
	standin.configure({ faults: [], transcriptMediaType: 'json-string', durationLiterals: 'float', latencyMs: 0 });
	standin.resetStats();
});

interface Answer {
	status: number;
	headers: Headers;
	text: string;
	json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(path: string, init: RequestInit & { auth?: string | null } = {}): Promise<Answer> {
	const { auth = token, ...rest } = init;
	const headers = new Headers(rest.headers);
	if (auth !== null) headers.set('authorization', `Bearer ${auth}`);
	if (rest.body !== undefined) headers.set('content-type', 'application/json');
	const response = await fetch(new URL(path, standin.url), { ...rest, headers, signal: AbortSignal.timeout(10_000) });
	const text = await response.text();
	return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

const unicodeProject = () => standin.ids().unicodeProjectId;

describe('authentication', () => {
	test('a valid HS256 token is accepted; /api/health needs none', async () => {
		expect((await call('/api/health', { auth: null })).json()).toEqual({ status: 'ok' });
		const me = await call('/api/v2/me');
		expect(me.status).toBe(200);
		expect(me.json()).toEqual(expect.objectContaining({ id: standin.ids().userId, email: 'demo@example.com', display_name: expect.any(String) }));
		expect(standin.stats().requests.map((r) => r.auth)).toEqual(['none', 'jwt']);
	});

	test.each([
		['missing', null],
		['static Directus token', 'STATIC'],
		['bad signature', 'BAD'],
		['expired', 'EXPIRED'],
		['alg none', 'NONE'],
		['no id claim', 'NOID'],
	])('%s → 401 {"detail":"Invalid session"}', async (_label, kind) => {
		const now = Math.floor(Date.now() / 1000);
		const secret = standin.options().jwtSecret;
		const tokens: Record<string, string> = {
			STATIC: standin.staticToken,
			BAD: signJwt({ id: standin.ids().userId, admin_access: false, exp: now + 600 }, 'another-secret'),
			EXPIRED: standin.issueAccessToken({ ttlSeconds: -10 }),
			NONE: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ id: 'x', exp: now + 600 })).toString('base64url')}.`,
			NOID: signJwt({ admin_access: false, exp: now + 600 }, secret),
		};
		const answer = await call('/api/v2/me', { auth: kind === null ? null : tokens[kind] });
		expect(answer.status).toBe(401);
		expect(answer.text).toBe('{"detail":"Invalid session"}');
		expect(answer.headers.get('content-type')).toBe('application/json');
		const expectedKind = { STATIC: 'not-jwt', BAD: 'bad-signature', EXPIRED: 'expired', NONE: 'bad-signature', NOID: 'invalid-claims' }[kind ?? ''] ?? 'missing';
		expect(standin.stats().requests.at(-1)?.auth).toBe(expectedKind);
		expect(standin.stats().unauthorized).toBe(1);
	});

	test('"bearer" in lower case is not a session (the API checks the exact prefix)', async () => {
		const answer = await call('/api/v2/me', { auth: null, headers: { authorization: `bearer ${token}` } });
		expect(answer.status).toBe(401);
	});

	test('Directus login, then refresh rotates the refresh token', async () => {
		const directus = (path: string, body: unknown) => call(`/directus${path}`, { method: 'POST', body: JSON.stringify(body), auth: null });
		const wrong = await directus('/auth/login', { email: standin.email, password: 'nope' });
		expect(wrong.status).toBe(401);
		expect(wrong.json()).toEqual({ errors: [{ message: 'Invalid user credentials.', extensions: { code: 'INVALID_CREDENTIALS' } }] });
		expect((await directus('/auth/login', { password: 'x' })).status).toBe(400);

		const login = await directus('/auth/login', { email: standin.email, password: standin.password, mode: 'json' });
		expect(login.status).toBe(200);
		const first = login.json().data;
		expect(first).toEqual({ access_token: expect.any(String), expires: 900_000, refresh_token: expect.any(String) });
		const claims = JSON.parse(Buffer.from(first.access_token.split('.')[1], 'base64url').toString('utf8'));
		expect(claims).toEqual(expect.objectContaining({ id: standin.ids().userId, admin_access: false, iss: 'directus' }));
		expect(claims.exp - claims.iat).toBe(900);
		expect((await call('/api/v2/me', { auth: first.access_token })).status).toBe(200);

		const refreshed = await directus('/auth/refresh', { refresh_token: first.refresh_token, mode: 'json' });
		expect(refreshed.status).toBe(200);
		const second = refreshed.json().data;
		expect(second.refresh_token).not.toBe(first.refresh_token);
		expect((await call('/api/v2/me', { auth: second.access_token })).status).toBe(200);
		const reused = await directus('/auth/refresh', { refresh_token: first.refresh_token });
		expect(reused.status).toBe(401);
		expect(reused.json().errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
		expect((await directus('/auth/refresh', { refresh_token: second.refresh_token })).status).toBe(200);

		const stats = standin.stats();
		expect([stats.logins, stats.loginFailures, stats.refreshes, stats.refreshFailures]).toEqual([1, 2, 2, 1]);
	});

	test('a token of another user sees no projects', async () => {
		const stranger = standin.issueAccessToken({ userId: 'someone-else' });
		const answer = await call(`/api/v2/projects/${unicodeProject()}`, { auth: stranger });
		expect(answer.status).toBe(404);
		expect(answer.json()).toEqual({ detail: 'Project not found' });
	});
});

describe('workspaces and projects', () => {
	test('workspaces, then the projects of one with search, offset, limit (1–100)', async () => {
		const { workspaces } = (await call('/api/v2/workspaces')).json();
		expect(workspaces).toHaveLength(1);
		expect(workspaces[0]).toEqual(expect.objectContaining({ id: standin.ids().workspaceIds[0], name: expect.any(String), org_name: expect.any(String), role: 'admin', tier: 'changemaker', project_count: 4 }));
		const path = `/api/v2/workspaces/${workspaces[0].id}/projects`;
		const all = (await call(`${path}?limit=100`)).json();
		expect(all.total_count).toBe(4);
		expect(all.has_more).toBe(false);
		expect(all.projects[0]).toEqual(expect.objectContaining({ id: expect.any(String), name: expect.any(String), updated_at: expect.any(String), language: expect.any(String), conversations_count: expect.any(Number) }));
		const updated = all.projects.map((p: { updated_at: string }) => p.updated_at);
		expect(updated).toEqual([...updated].sort().reverse());
		const page = (await call(`${path}?limit=2&offset=1`)).json();
		expect(page.projects.map((p: { id: string }) => p.id)).toEqual(all.projects.slice(1, 3).map((p: { id: string }) => p.id));
		expect(page.has_more).toBe(true);
		const found = (await call(`${path}?search=${encodeURIComponent('café')}`)).json();
		expect(found.projects.map((p: { id: string }) => p.id)).toEqual([unicodeProject()]);
		// Every word, in any order, in the name only (dembrane's search_filters.py): the language "de" is not searched.
		const words = (await call(`${path}?search=${encodeURIComponent('CAFÉ zoë')}`)).json();
		expect(words.projects.map((p: { id: string }) => p.id)).toEqual([unicodeProject()]);
		const byLanguage = (await call(`${path}?search=de`)).json();
		expect(byLanguage.projects.every((p: { name: string }) => p.name.toLowerCase().includes('de'))).toBe(true);
		for (const bad of ['limit=0', 'limit=101', 'offset=-1', 'limit=abc']) expect((await call(`${path}?${bad}`)).status).toBe(422);
		expect((await call('/api/v2/workspaces/nope/projects')).json()).toEqual({ detail: 'Workspace not found' });
	});

	test('one project; an unknown one is 404 Project not found', async () => {
		const project = (await call(`/api/v2/projects/${unicodeProject()}`)).json();
		expect(project).toEqual(expect.objectContaining({ id: unicodeProject(), name: "Stadtgespräch / Zoë's Café 2025", workspace_id: standin.ids().workspaceIds[0], language: 'de' }));
		expect((await call('/api/v2/projects/00000000-0000-4000-8000-000000000000')).json()).toEqual({ detail: 'Project not found' });
	});
});

describe('conversation listing', () => {
	const list = (query: string) => call(`/api/v2/bff/conversations?project_id=${unicodeProject()}${query}`);

	test('a bare array of every conversation, default fields, newest first', async () => {
		const answer = await list('');
		expect(answer.status).toBe(200);
		const rows = answer.json();
		expect(Array.isArray(rows)).toBe(true);
		expect(rows).toHaveLength(25);
		for (const field of ['id', 'created_at', 'updated_at', 'recording_started_at', 'project_id', 'participant_name', 'participant_email', 'title', 'summary', 'source', 'duration', 'is_finished', 'is_audio_processing_finished', 'is_anonymized']) {
			expect(rows[0]).toHaveProperty(field);
		}
		expect(rows[0]).not.toHaveProperty('tags');
		const created = rows.map((r: { created_at: string }) => r.created_at);
		expect(created).toEqual([...created].sort().reverse());
		// Durations are Python floats on the wire: 245 is written 245.0.
		const zoe = standin.conversations(unicodeProject())[0];
		expect(answer.text).toContain(`"id":"${zoe.id}"`);
		expect(answer.text).toMatch(new RegExp(`"id":"${zoe.id}"[^}]*"duration":245\\.0,`));
		standin.configure({ durationLiterals: 'directus' });
		expect((await list('')).text).toMatch(new RegExp(`"id":"${zoe.id}"[^}]*"duration":245,`));
	});

	test.each([
		['participant_name', false],
		['-duration', true],
		['updated_at', false],
	] as const)('sort=%s with NULLs where Postgres puts them', async (sort, nullsFirst) => {
		const rows = (await list(`&sort=${sort}`)).json() as Array<Record<string, string | number | null>>;
		const field = sort.replace('-', '');
		const values = rows.map((row) => row[field]);
		const nulls = values.filter((v) => v === null).length;
		const present = values.filter((v) => v !== null) as Array<string | number>;
		expect(nullsFirst ? values.slice(0, nulls) : values.slice(values.length - nulls)).toEqual(Array(nulls).fill(null));
		const sorted = [...present].sort((a, b) => (typeof a === 'number' ? (a as number) - (b as number) : compareText(String(a), String(b))));
		expect(present).toEqual(sort.startsWith('-') ? sorted.reverse() : sorted);
		if (sort === 'participant_name') expect(nulls).toBeGreaterThan(0);
	});

	test('limit and offset page through the same order', async () => {
		const all = (await list('')).json().map((r: { id: string }) => r.id);
		const pages: string[] = [];
		for (let offset = 0; offset < all.length; offset += 7) pages.push(...(await list(`&limit=7&offset=${offset}`)).json().map((r: { id: string }) => r.id));
		expect(pages).toEqual(all);
	});

	test('out-of-range and malformed parameters are FastAPI 422s', async () => {
		const answer = await list('&limit=1001');
		expect(answer.status).toBe(422);
		expect(answer.json()).toEqual({
			detail: [
				{
					type: 'less_than_equal',
					loc: ['query', 'limit'],
					msg: 'Input should be less than or equal to 1000',
					input: '1001',
					ctx: { le: 1000 },
					url: 'https://errors.pydantic.dev/2.12/v/less_than_equal',
				},
			],
		});
		expect((await list('&limit=0')).json().detail[0].type).toBe('greater_than_equal');
		expect((await list('&offset=-3')).json().detail[0].loc).toEqual(['query', 'offset']);
		expect((await list('&sort=title')).json().detail[0].type).toBe('literal_error');
		expect((await list('&include_tags=maybe')).json().detail[0].type).toBe('bool_parsing');
		const two = (await list('&limit=x&offset=y')).json().detail;
		expect(two.map((e: { loc: string[] }) => e.loc[1])).toEqual(['limit', 'offset']);
		const missing = await call('/api/v2/bff/conversations');
		expect(missing.json().detail[0]).toEqual(expect.objectContaining({ type: 'missing', loc: ['query', 'project_id'], msg: 'Field required' }));
		// Auth comes before validation.
		expect((await call('/api/v2/bff/conversations?limit=0', { auth: null })).status).toBe(401);
	});

	test('include_tags, fields, filters, count and one conversation', async () => {
		const rows = (await list('&include_tags=true')).json();
		const tagged = rows.find((r: { tags: unknown[] }) => r.tags.length > 0);
		expect(tagged.tags[0]).toEqual({ id: expect.any(String), conversation_id: tagged.id, project_tag_id: { id: expect.any(String), text: expect.any(String), created_at: expect.any(String) } });
		const tagId = tagged.tags[0].project_tag_id.id;
		const withTag = (await list(`&tag_ids=${tagId}&include_tags=true`)).json();
		expect(withTag.length).toBeGreaterThan(0);
		for (const row of withTag) expect(row.tags.map((t: { project_tag_id: { id: string } }) => t.project_tag_id.id)).toContain(tagId);
		expect((await call(`/api/v2/bff/conversations/count?project_id=${unicodeProject()}&tag_ids=${tagId}`)).json()).toEqual({ count: withTag.length });
		expect((await call(`/api/v2/bff/conversations/count?project_id=${unicodeProject()}`)).json()).toEqual({ count: 25 });

		const lean = (await list('&fields=title&limit=1')).json()[0];
		expect(Object.keys(lean).slice(0, 2)).toEqual(['id', 'title']);
		expect(lean).not.toHaveProperty('created_at');

		// Directus' count() field function: `{relation}_count`, a number over the whole relation; has_transcript is always added.
		const counted = (await list(`&fields=${encodeURIComponent('id,created_at,count(chunks)')}`)).json() as Array<Record<string, unknown>>;
		expect(counted.length).toBe(25);
		for (const row of counted) {
			expect(Object.keys(row).slice(0, 3)).toEqual(['id', 'created_at', 'chunks_count']);
			expect(row.chunks_count).toBe(standin.chunks(String(row.id)).length);
			expect(row.has_transcript).toBe(standin.zipFileBody(String(row.id)) !== null);
		}

		const found = (await list(`&search_text=${encodeURIComponent('MÜLLER')}`)).json();
		expect(found.map((r: { participant_name: string }) => r.participant_name)).toEqual(['Zoë Müller-Łukasz']);

		const one = (await call(`/api/v2/bff/conversations/${tagged.id}?include_tags=true`)).json();
		expect(one.id).toBe(tagged.id);
		expect(one.tags[0]).toEqual({ id: expect.any(String), project_tag_id: expect.any(Object) });
		expect((await call('/api/v2/bff/conversations/nope')).json()).toEqual({ detail: 'Conversation not found' });
	});

	test('transcript_required drops rows AFTER limit/offset, as production does', async () => {
		const all = (await list('&sort=created_at')).json() as Array<{ id: string }>;
		const untranscribed = standin.conversations(unicodeProject()).filter((c) => standin.zipFileBody(c.id) === null).map((c) => c.id);
		expect(untranscribed.length).toBeGreaterThan(0);
		const position = all.findIndex((row) => untranscribed.includes(row.id));
		const page = (await list(`&sort=created_at&limit=1&offset=${position}&transcript_required=true`)).json();
		expect(page).toEqual([]);
	});
});

describe('one transcript', () => {
	const firstId = () => standin.conversations(unicodeProject())[0].id;
	const expected = (id: string) =>
		standin
			.chunks(id)
			.filter((chunk) => chunk.transcript)
			.map((chunk) => chunk.transcript)
			.join('\n');

	test('production: application/json whose body is a JSON string', async () => {
		const answer = await call(`/api/conversations/${firstId()}/transcript`);
		expect(answer.status).toBe(200);
		expect(answer.headers.get('content-type')).toBe('application/json');
		expect(answer.text.startsWith('"')).toBe(true);
		expect(answer.json()).toBe(expected(firstId()));
		expect(answer.json()).toBe(standin.transcript(firstId()));
	});

	test('docs: text/plain', async () => {
		standin.configure({ transcriptMediaType: 'text' });
		const answer = await call(`/api/conversations/${firstId()}/transcript`);
		expect(answer.headers.get('content-type')).toBe('text/plain; charset=utf-8');
		expect(answer.text).toBe(expected(firstId()));
	});

	test('no chunks → ""; unknown → 404 Conversation not found', async () => {
		const silent = standin.conversations(unicodeProject()).find((c) => standin.chunks(c.id).length === 0)!;
		expect((await call(`/api/conversations/${silent.id}/transcript`)).text).toBe('""');
		expect((await call('/api/conversations/nope/transcript')).json()).toEqual({ detail: 'Conversation not found' });
	});
});

describe('chunk list', () => {
	const firstId = () => standin.conversations(unicodeProject())[0].id;
	afterEach(() => standin.configure({ chunkListing: true, lockedConversationIds: [] }));

	test('a bare array in time order: 10 by default, limit 1–1000, offset, -timestamp, a field list', async () => {
		const id = firstId();
		const all = standin.chunks(id);
		const first = await call(`/api/v2/bff/conversations/${id}/chunks`);
		expect(first.json()).toEqual(all.slice(0, 10).map(({ id: chunkId, conversation_id, transcript, path, timestamp, error, source, created_at }) => ({ id: chunkId, conversation_id, transcript, path, timestamp, error, source, created_at })));
		const page = await call(`/api/v2/bff/conversations/${id}/chunks?fields=id,transcript&limit=2&offset=1`);
		expect(page.json()).toEqual(all.slice(1, 3).map((chunk) => ({ id: chunk.id, transcript: chunk.transcript })));
		const newest = await call(`/api/v2/bff/conversations/${id}/chunks?fields=id&sort=-timestamp&limit=1`);
		expect(newest.json()).toEqual([{ id: all.at(-1)!.id }]);
		for (const limit of ['0', '1001']) expect((await call(`/api/v2/bff/conversations/${id}/chunks?limit=${limit}`)).status).toBe(422);
		expect((await call('/api/v2/bff/conversations/nope/chunks')).json()).toEqual({ detail: 'Conversation not found' });
	});

	test('chunks of one timestamp come in no set order: a page of another offset may repeat one and leave out another', async () => {
		standin.configure({ chunksPerTimestamp: 1000 });
		try {
			let chunks = 0;
			let distinct = 0;
			for (const { id } of standin.conversations(unicodeProject()).slice(0, 8)) {
				const all = standin.chunks(id);
				expect(new Set(all.map((chunk) => chunk.timestamp)).size).toBeLessThanOrEqual(1);
				const pages = await Promise.all(all.map((_, offset) => call(`/api/v2/bff/conversations/${id}/chunks?fields=id&limit=1&offset=${offset}`)));
				chunks += all.length;
				distinct += new Set(pages.map((page) => page.json()[0].id as string)).size;
			}
			expect(distinct).toBeLessThan(chunks);
			// The same request gets the same answer (a query plan, not chance).
			const id = firstId();
			const again = async () => (await call(`/api/v2/bff/conversations/${id}/chunks?fields=id&limit=2&offset=1`)).json();
			expect(await again()).toEqual(await again());
		} finally {
			standin.configure({ chunksPerTimestamp: 1 });
		}
	});

	test('a locked conversation\'s transcripts are held back; an older dembrane has no chunk list', async () => {
		const id = firstId();
		standin.configure({ lockedConversationIds: [id] });
		const locked = (await call(`/api/v2/bff/conversations/${id}/chunks?fields=id,transcript`)).json();
		expect(locked.length).toBeGreaterThan(0);
		for (const chunk of locked) expect(chunk).toEqual({ id: expect.any(String), transcript: null, transcript_locked: true });
		expect((await call(`/api/v2/bff/conversations/${id}`)).json()).toEqual(expect.objectContaining({ locked: true, lock_reason: 'hours_cap', summary: null }));
		// The listing holds the same back, row by row (and the chunks it embeds).
		const listed = (await call(`/api/v2/bff/conversations?project_id=${unicodeProject()}&include_chunks=true`)).json() as Array<Record<string, unknown>>;
		const row = listed.find((r) => r.id === id)!;
		expect(row).toEqual(expect.objectContaining({ locked: true, lock_reason: 'hours_cap', summary: null, summary_locked: true }));
		for (const chunk of row.chunks as Array<Record<string, unknown>>) expect(chunk).toEqual(expect.objectContaining({ transcript: null, transcript_locked: true }));
		expect(listed.filter((r) => r.id !== id).every((r) => r.locked === false)).toBe(true);
		standin.configure({ lockedConversationIds: [], chunkListing: false });
		const missing = await call(`/api/v2/bff/conversations/${id}/chunks`);
		expect([missing.status, missing.json()]).toEqual([404, { detail: 'Not Found' }]);
	});
});

describe('reports', () => {
	test('list (no content; draft and published; error left out), latest (content null) and detail', async () => {
		const pid = unicodeProject();
		const reports = (await call(`/api/projects/${pid}/reports`)).json();
		expect(reports.map((r: { status: string }) => r.status)).toEqual(['published', 'draft', 'archived']);
		expect(reports[0]).toEqual({ id: expect.any(Number), status: 'published', date_created: expect.any(String), language: 'de', user_instructions: null, scheduled_at: null, title: expect.stringContaining("Stadtgespräch / Zoë's Café 2025") });
		expect(reports[1].title).toBeNull();
		const latest = (await call(`/api/projects/${pid}/reports/latest`)).json();
		expect(latest).toEqual({ id: reports[0].id, status: 'published', project_id: pid, show_portal_link: true, date_created: reports[0].date_created, error_message: null, content: null, title: reports[0].title });
		const detail = (await call(`/api/projects/${pid}/reports/${latest.id}/detail`)).json();
		expect(detail.content.startsWith(`# ${reports[0].title}\n`)).toBe(true);
		expect(detail).toEqual(expect.objectContaining({ id: latest.id, project_id: pid, status: 'published', language: 'de', date_created: expect.any(String) }));
		expect((await call(`/api/projects/${pid}/reports/abc/detail`)).json().detail[0]).toEqual(expect.objectContaining({ type: 'int_parsing', loc: ['path', 'report_id'] }));
		expect((await call(`/api/projects/${pid}/reports/99999/detail`)).json()).toEqual({ detail: 'Report not found' });
		const other = standin.ids().projectIds[1];
		expect((await call(`/api/projects/${other}/reports/${latest.id}/detail`)).json()).toEqual({ detail: 'Report not found' });
		// In the other project a report is being generated: the latest is a draft with empty content.
		expect((await call(`/api/projects/${other}/reports/latest`)).json()).toEqual(expect.objectContaining({ status: 'draft', content: null, title: null }));
		expect((await call(`/api/projects/${standin.ids().emptyProjectId}/reports/latest`)).text).toBe('null');
	});
});

describe('HTTP behaviour', () => {
	test('unknown routes 404 {"detail":"Not Found"}, wrong methods 405, trailing slash redirects', async () => {
		expect((await call('/api/nothing/here')).json()).toEqual({ detail: 'Not Found' });
		const wrong = await call('/api/v2/me', { method: 'DELETE' });
		expect([wrong.status, wrong.json()]).toEqual([405, { detail: 'Method Not Allowed' }]);
		const slash = await call('/api/v2/me/', { redirect: 'manual' });
		expect([slash.status, slash.headers.get('location')]).toEqual([307, '/api/v2/me']);
	});

	test('large JSON is gzipped when the client accepts it', async () => {
		const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
			const request = httpGet(
				new URL(`/api/v2/bff/conversations?project_id=${unicodeProject()}`, standin.url),
				{ headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' }, timeout: 5000 },
				(response) => {
					const chunks: Buffer[] = [];
					response.on('data', (chunk: Buffer) => chunks.push(chunk));
					response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
				},
			);
			request.on('error', reject);
		});
		expect(raw.headers['content-encoding']).toBe('gzip');
		expect(JSON.parse(gunzipSync(raw.body).toString('utf8'))).toHaveLength(25);
	});

	test('faults by request number and by path', async () => {
		standin.configure({ faults: [{ request: 1, kind: '503' }, { request: 2, kind: '502' }, { request: 2, kind: '500', path: '/reports' }] });
		const first = await call('/api/v2/me');
		expect([first.status, first.json()]).toEqual([503, { detail: 'Service Unavailable' }]);
		const second = await call('/api/v2/me');
		expect([second.status, second.headers.get('content-type')]).toEqual([502, 'text/html']);
		expect((await call(`/api/projects/${unicodeProject()}/reports`)).status).toBe(200);
		const fifth = await call(`/api/projects/${unicodeProject()}/reports`);
		expect([fifth.status, fifth.text]).toEqual([500, 'Internal Server Error']);
		expect(standin.stats().faultsInjected).toBe(3);
	});

	test('reset cuts the answer; hang never answers', async () => {
		standin.configure({ faults: [{ request: 1, kind: 'reset' }, { request: 2, kind: 'hang' }] });
		await expect(call(`/api/v2/bff/conversations?project_id=${unicodeProject()}`)).rejects.toThrow();
		const hung = fetch(new URL('/api/v2/me', standin.url), { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(300) });
		await expect(hung).rejects.toThrow();
		expect(standin.stats().requests.map((r) => r.fault)).toEqual(['reset', 'hang']);
	});
});

describe('control routes and CLI', () => {
	test('configure, token, stats, reset-stats, emit over /__standin', async () => {
		const control = (path: string, body?: unknown) =>
			fetch(new URL(path, standin.url), { method: body === undefined ? 'GET' : 'POST', body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(5000) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any })); // eslint-disable-line @typescript-eslint/no-explicit-any
		const { access_token } = (await control('/__standin/token', { ttlSeconds: 60 })).body;
		expect((await call('/api/v2/me', { auth: access_token })).status).toBe(200);
		expect((await control('/__standin/configure', { latencyMs: 1 })).body.latencyMs).toBe(1);
		expect((await control('/__standin/configure', { nope: 1 })).status).toBe(400);
		expect((await control('/__standin/stats')).body.requests).toHaveLength(1);
		await control('/__standin/reset-stats', {});
		expect((await control('/__standin/stats')).body.requests).toHaveLength(0);
		const cid = standin.conversations(unicodeProject())[0].id;
		expect((await control('/__standin/emit', { event: 'conversation.summarized', projectId: unicodeProject(), conversationId: cid })).body).toEqual({ deliveries: [] });
	});

	test('cli.ts prints one JSON line, serves, and stops on SIGTERM', async () => {
		const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'test/standins/dembrane/cli.ts', '--options', '{"conversationsPerProject":3}'], {
			cwd: `${__dirname}/../..`,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
		try {
			const line = await new Promise<string>((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error('cli did not start in 15 s')), 15_000);
				createInterface({ input: child.stdout! }).once('line', (text) => {
					clearTimeout(timer);
					resolve(text);
				});
			});
			const announced = JSON.parse(line);
			expect(Object.keys(announced)).toEqual(['dembrane', 'directus', 'email', 'password']);
			expect(announced.directus).toBe(`${announced.dembrane}/directus`);
			const login = await fetch(`${announced.directus}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: announced.email, password: announced.password }) });
			const { data } = (await login.json()) as { data: { access_token: string } };
			const me = await fetch(`${announced.dembrane}/api/v2/me`, { headers: { authorization: `Bearer ${data.access_token}` } });
			expect(me.status).toBe(200);
			child.kill('SIGTERM');
			let timer: NodeJS.Timeout | undefined;
			const code = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), 5000)))]);
			clearTimeout(timer);
			expect(code).toBe(0);
		} finally {
			child.kill('SIGKILL');
		}
	});
});
