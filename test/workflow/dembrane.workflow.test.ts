/**
 * The dembrane ECHO node on n8n's real execution engine against the dembrane stand-in over real HTTP.
 * Expected values are read from the stand-in's own API with a token of its own, never hard-coded.
 */
import { unzipSync } from 'fflate';
import type { ICredentialDataDecryptedObject, IDataObject, INode, INodeParameters } from 'n8n-workflow';

import { passwordCredentialData, startDembraneStandin } from '../standins/dembrane';
import { credentialRef, manualTriggerNode, packageNodeType, readBinary, runWorkflow } from '../support/workflow-harness';
import { Seed, SEED_TYPE } from './harness-probe-nodes';

jest.setTimeout(60_000);

type Standin = Awaited<ReturnType<typeof startDembraneStandin>>;
let standin: Standin;
let projects: Array<{ id: string; name: string; zip?: Buffer; status: number }> = [];

async function api(path: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
	const response = await fetch(new URL(path, standin.url), { headers: { authorization: `Bearer ${standin.issueAccessToken()}` } });
	return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}
const apiJson = async <T>(path: string) => JSON.parse((await api(path)).bytes.toString('utf8')) as T;

beforeAll(async () => {
	standin = await startDembraneStandin({ conversationsPerProject: 40 });
	const { workspaces } = await apiJson<{ workspaces: Array<{ id: string }> }>('/api/v2/workspaces');
	for (const workspace of workspaces) {
		const { projects: rows } = await apiJson<{ projects: Array<{ id: string; name: string }> }>(
			`/api/v2/workspaces/${workspace.id}/projects?limit=100`,
		);
		for (const row of rows) {
			const zip = await api(`/api/projects/${row.id}/transcripts`);
			projects.push({ id: row.id, name: row.name, status: zip.status, zip: zip.status === 200 ? zip.bytes : undefined });
		}
	}
	projects = projects.sort((a, b) => (b.zip?.length ?? 0) - (a.zip?.length ?? 0));
});
afterAll(async () => standin.close());
beforeEach(() => standin.configure({ zipQuirk: null, transcriptMediaType: 'json-string', chunkListing: true, faults: [] }));

const withTranscripts = () => projects.find((p) => p.zip)!;

const trigger = manualTriggerNode('c3000000-0000-4000-8000-000000000001');

function echo(parameters: INodeParameters, extra: Partial<INode> = {}): INode {
	return {
		id: 'c3000000-0000-4000-8000-000000000002',
		name: 'ECHO',
		type: packageNodeType('dembraneEcho'),
		typeVersion: 1,
		position: [220, 0],
		parameters,
		credentials: credentialRef('dembraneEchoApi'),
		...extra,
	};
}

function passwordCredential(overrides: ICredentialDataDecryptedObject = {}): ICredentialDataDecryptedObject {
	return passwordCredentialData(standin, overrides) as ICredentialDataDecryptedObject;
}

function run(node: INode, credential: ICredentialDataDecryptedObject = passwordCredential(), timeoutMs = 50_000) {
	return runWorkflow({
		nodes: [trigger, node],
		connections: { [trigger.name]: { main: [[{ node: node.name, type: 'main', index: 0 }]] } },
		credentials: { dembraneEchoApi: credential },
		timeoutMs,
	});
}

const project = (id: string, mode = 'id') => ({ __rl: true, mode, value: id });

/** Runs `node` against another stand-in, with an access token of its user. */
function runAgainst(target: Standin, node: INode, timeoutMs = 60_000) {
	const accessToken = target.issueAccessToken({ ttlSeconds: 600 });
	return run(node, { baseUrl: target.url, authMethod: 'accessToken', accessToken, sessionToken: '' }, timeoutMs);
}

describe('Project → Export Transcripts', () => {
	test('one item per conversation: every file of the zip, text exact, joined to its conversation', async () => {
		const { id, zip } = withTranscripts();
		const files = unzipSync(new Uint8Array(zip!));
		const result = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(id) }));
		expect(result.error).toBeUndefined();
		const items = result.outputOf('ECHO');
		expect(items).toHaveLength(Object.keys(files).length);
		const listing = await apiJson<IDataObject[]>(`/api/v2/bff/conversations?project_id=${id}&include_tags=true`);
		for (const { json, pairedItem } of items) {
			expect(pairedItem).toEqual({ item: 0 });
			expect(json.transcript).toBe(Buffer.from(files[json.fileName as string]).toString('utf8'));
			expect(json.matched).toBe(true);
			const row = listing.find((r) => r.id === json.conversationId)!;
			expect(String(row.id).startsWith(json.conversationIdPrefix as string)).toBe(true);
			expect(json.participantName).toBe(row.participant_name ?? null);
			expect(json.dashboardUrl).toMatch(new RegExp(`^https://dashboard\\.example/w/[^/]+/projects/${id}/conversations/${row.id}/overview$`));
		}
		expect(items.some((i) => /[^\x00-\x7f]/.test(String(i.json.participantName)))).toBe(true);
	});

	test("a Free workspace over its hours cap: finished conversations keep their summary (the listing is asked for what dembrane decides the lock on)", async () => {
		const { id } = withTranscripts();
		standin.configure({ overCapActive: true });
		try {
			const result = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(id) }));
			expect(result.error).toBeUndefined();
			const items = result.outputOf('ECHO');
			const finished = new Set(standin.conversations(id).filter((c) => c.is_finished).map((c) => c.id));
			const withSummary = standin.conversations(id).filter((c) => finished.has(c.id) && c.summary).map((c) => c.id);
			expect(withSummary.length).toBeGreaterThan(0);
			// Was: every summary null, as if every conversation were still recording and locked.
			for (const item of items) {
				if (withSummary.includes(String(item.json.conversationId))) expect(item.json.summary).toEqual(expect.any(String));
			}
		} finally {
			standin.configure({ overCapActive: false });
		}
	});

	test('zip file output: the bytes and the server file name', async () => {
		const { id, zip } = withTranscripts();
		const result = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(id), output: 'zip', binaryPropertyName: 'archive' }));
		const [item] = result.outputOf('ECHO');
		expect(item.binary!.archive.fileName).toMatch(/_transcripts\.zip$/);
		// The same entries with the same bytes (entry times may differ between two downloads).
		const entries = (bytes: Buffer) => Object.entries(unzipSync(new Uint8Array(bytes))).map(([name, data]) => [name, Buffer.from(data).toString('utf8')]);
		expect(entries(await readBinary(item.binary!.archive))).toEqual(entries(zip!));
	});

	test('Include Files as Binary: each item carries its zip file, same name and bytes, as Markdown', async () => {
		const { id, zip } = withTranscripts();
		const files = unzipSync(new Uint8Array(zip!));
		const result = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(id), options: { includeFiles: true } }));
		expect(result.error).toBeUndefined();
		const items = result.outputOf('ECHO').filter((item) => item.json.fileName);
		expect(items.map((item) => item.json.fileName).sort()).toEqual(Object.keys(files).sort());
		for (const item of items) {
			const file = item.binary!.data;
			expect(file.fileName).toBe(item.json.fileName);
			expect(file.mimeType).toBe('text/markdown');
			expect((await readBinary(file)).equals(Buffer.from(files[String(item.json.fileName)]))).toBe(true);
		}
	});

	test('a project without transcripts: no items and a notice, or an error when asked', async () => {
		const empty = projects.find((p) => p.status === 404)!;
		const quiet = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(empty.id) }));
		expect(quiet.error).toBeUndefined();
		expect(quiet.outputOf('ECHO')).toEqual([]);
		expect(JSON.stringify(quiet.runData.ECHO[0].hints)).toMatch(/No (transcripts|conversations)/);
		const strict = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(empty.id), options: { failIfEmpty: true } }));
		expect(strict.status).toBe('error');
		expect(strict.error?.message).toMatch(/^dembrane answered 404 for project .*: No (transcripts|conversations)/);
	});

	test('an unknown project, and an id that tries to leave its path segment, are 404 Project not found', async () => {
		for (const id of ['00000000-0000-4000-8000-000000000000', '../conversations']) {
			const result = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(id) }));
			expect(result.status).toBe('error');
			expect(result.error?.message).toMatch(/Project not found/);
		}
	});

	test('a dashboard URL picks the project', async () => {
		const { id } = withTranscripts();
		const url = `https://dashboard.dembrane.com/en-US/w/ws/projects/${id}/overview`;
		const result = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: { __rl: true, mode: 'url', value: url }, output: 'zip' }));
		expect(result.error).toBeUndefined();
	});

	test.each(['corrupt', 'truncated', 'zip-slip', 'bomb'] as const)('zip quirk %s fails clearly and emits nothing', async (zipQuirk) => {
		standin.configure({ zipQuirk });
		const { id } = withTranscripts();
		const node = echo({ resource: 'project', operation: 'exportTranscripts', project: project(id), options: { maxTotalMegabytes: 64 } });
		const result = await run(node);
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/transcript zip .* was refused/);
		const tolerant = await run({ ...node, onError: 'continueRegularOutput' });
		const items = tolerant.outputOf('ECHO');
		expect(items).toHaveLength(1);
		expect(items[0].json.error).toMatch(/refused/);
		// On Error → Continue (using error output): the failure goes to the error branch, nothing to the other.
		const branched = await run({ ...node, onError: 'continueErrorOutput' });
		expect(branched.status).toBe('success');
		expect(branched.outputOf('ECHO', 0)).toEqual([]);
		expect(branched.outputOf('ECHO', 1).map((item) => item.json.error)).toEqual([expect.stringMatching(/refused/)]);
	});
});

describe('Conversation', () => {
	test('Get Transcript: the transcript route\'s text, also where it answers with a JSON string or plain text', async () => {
		const { id } = withTranscripts();
		const listing = await apiJson<IDataObject[]>(`/api/v2/bff/conversations?project_id=${id}&transcript_required=true`);
		const conversationId = String(listing[0].id);
		const node = echo({ resource: 'conversation', operation: 'getTranscript', conversationId });
		const fromChunks = (await run(node)).outputOf('ECHO')[0].json.transcript;
		expect(fromChunks).toBe(standin.transcript(conversationId));
		expect((fromChunks as string).length).toBeGreaterThan(0);
		// An older dembrane without the chunk list: the transcript route, in either media type.
		standin.configure({ chunkListing: false });
		const production = (await run(node)).outputOf('ECHO')[0].json.transcript;
		standin.configure({ transcriptMediaType: 'text' });
		const docs = (await run(node)).outputOf('ECHO')[0].json.transcript;
		standin.configure({ chunkListing: true });
		expect(production).toBe(fromChunks);
		expect(docs).toBe(fromChunks);
		const file = (await run(echo({ resource: 'conversation', operation: 'getTranscript', conversationId, output: 'md' }))).outputOf('ECHO')[0];
		expect((await readBinary(file.binary!.data)).toString('utf8')).toBe(production);
		expect(file.binary!.data.fileName).toBe(`${conversationId}-transcript.md`);
	});

	test('Get Transcript as a file: a Markdown or text file of the transcript, and an item that says its name and length', async () => {
		const { id } = withTranscripts();
		const [row] = await apiJson<IDataObject[]>(`/api/v2/bff/conversations?project_id=${id}&transcript_required=true`);
		const conversationId = String(row.id);
		const text = standin.transcript(conversationId);
		for (const [output, mimeType] of [['md', 'text/markdown'], ['txt', 'text/plain']]) {
			const [file] = (await run(echo({ resource: 'conversation', operation: 'getTranscript', conversationId, output, binaryPropertyName: 'transcriptFile' }))).outputOf('ECHO');
			const fileName = `${conversationId}-transcript.${output}`;
			expect(file.json).toEqual({ conversationId, fileName, characters: text.length });
			expect(file.binary!.transcriptFile).toEqual(expect.objectContaining({ fileName, mimeType }));
			expect((await readBinary(file.binary!.transcriptFile)).toString('utf8')).toBe(text);
		}
	});

	test('Get Many: limit, return all, simplify', async () => {
		const { id } = withTranscripts();
		const all = await apiJson<IDataObject[]>(`/api/v2/bff/conversations?project_id=${id}`);
		const limited = (await run(echo({ resource: 'conversation', operation: 'getMany', project: project(id), limit: 7 }))).outputOf('ECHO');
		expect(limited).toHaveLength(Math.min(7, all.length));
		const every = (await run(echo({ resource: 'conversation', operation: 'getMany', project: project(id), returnAll: true, simplify: true }))).outputOf('ECHO');
		expect(every).toHaveLength(all.length);
		expect(every[0].json).toEqual(expect.objectContaining({ id: expect.any(String), tags: expect.any(String), dashboard_url: expect.stringContaining('/overview') }));
	});

	test('Get: one conversation', async () => {
		const { id } = withTranscripts();
		const [first] = await apiJson<IDataObject[]>(`/api/v2/bff/conversations?project_id=${id}`);
		const result = await run(echo({ resource: 'conversation', operation: 'get', conversationId: String(first.id) }));
		expect(result.outputOf('ECHO')[0].json.id).toBe(first.id);
	});

	test.each(['-created_at', 'created_at', 'participant_name', '-participant_name', '-updated_at'])('Get Many sorted by %s: the order dembrane gives for that sort', async (sort) => {
		const { id } = withTranscripts();
		const expected = (await apiJson<IDataObject[]>(`/api/v2/bff/conversations?project_id=${id}&sort=${sort}&limit=1000`)).map((row) => row.id);
		expect(new Set(expected).size).toBeGreaterThan(1);
		const result = await run(echo({ resource: 'conversation', operation: 'getMany', project: project(id), returnAll: true, sort }));
		expect(result.error).toBeUndefined();
		expect(result.outputOf('ECHO').map((item) => item.json.id)).toEqual(expected);
	});

	test('Get and Get Many come with the conversation\'s tags; Simplify gives their names and the dashboard link', async () => {
		const { id } = withTranscripts();
		const tagged = (await apiJson<IDataObject[]>(`/api/v2/bff/conversations?project_id=${id}&include_tags=true`)).find((row) => Array.isArray(row.tags) && row.tags.length > 0)!;
		expect(tagged).toBeDefined();
		const tagNames = (tagged.tags as Array<{ project_tag_id: { text: string } }>).map((tag) => tag.project_tag_id.text).join(', ');
		const get = (simplify: boolean) => run(echo({ resource: 'conversation', operation: 'get', conversationId: String(tagged.id), simplify }));
		const single = await apiJson<IDataObject>(`/api/v2/bff/conversations/${String(tagged.id)}?include_tags=true`);
		expect((single.tags as unknown[]).length).toBeGreaterThan(0);
		expect((await get(false)).outputOf('ECHO')[0].json).toEqual(single);
		expect((await get(true)).outputOf('ECHO')[0].json).toEqual(
			expect.objectContaining({ id: tagged.id, tags: tagNames, dashboard_url: expect.stringMatching(new RegExp(`/projects/${id}/conversations/${String(tagged.id)}/overview$`)) }),
		);
		const many = (await run(echo({ resource: 'conversation', operation: 'getMany', project: project(id), returnAll: true }))).outputOf('ECHO');
		expect(many.find((item) => item.json.id === tagged.id)?.json.tags).toEqual(tagged.tags);
	});

	test('Get Many with a filter (Search, Sources, Tag IDs, Verified Only): the conversations dembrane finds for it, and only those', async () => {
		const { id } = withTranscripts();
		const ids = (rows: IDataObject[]) => rows.map((row) => String(row.id)).sort();
		const all = await apiJson<IDataObject[]>(`/api/v2/bff/conversations?project_id=${id}`);
		const rows = standin.conversations(id);
		const named = rows.find((row) => row.participant_name)!;
		const tagCounts = new Map<string, number>();
		for (const tagId of rows.flatMap((row) => row.tagIds)) tagCounts.set(tagId, (tagCounts.get(tagId) ?? 0) + 1);
		const someTag = [...tagCounts].find(([, count]) => count < rows.length)![0];
		const cases: Array<[INodeParameters, string]> = [
			[{ search: String(named.participant_name) }, `search_text=${encodeURIComponent(String(named.participant_name))}`],
			[{ sources: rows[0].source }, `sources=${encodeURIComponent(rows[0].source)}`],
			[{ tagIds: someTag }, `tag_ids=${someTag}`],
			[{ verifiedOnly: true }, 'verified_only=true'],
		];
		for (const [filters, query] of cases) {
			const expected = await apiJson<IDataObject[]>(`/api/v2/bff/conversations?project_id=${id}&${query}`);
			// A filter that leaves some out, so a filter the node drops shows.
			expect(expected.length).toBeGreaterThan(0);
			expect(expected.length).toBeLessThan(all.length);
			const result = await run(echo({ resource: 'conversation', operation: 'getMany', project: project(id), returnAll: true, filters }));
			expect(result.error).toBeUndefined();
			expect(ids(result.outputOf('ECHO').map((item) => item.json))).toEqual(ids(expected));
		}
	});
});

describe("a database query that fails: dembrane answers as if there were nothing (an empty list, \"\", \"No conversations found\")", () => {
	const database = (path: string, ...requests: number[]) => standin.configure({ faults: requests.map((request) => ({ path, request, kind: 'database' as const })) });

	test('Export Transcripts: a zip that says "No conversations found" while the list has them: every transcript, read one by one, and a warning', async () => {
		const { id } = withTranscripts();
		const expected = standin.conversations(id).filter((c) => standin.zipFileBody(c.id) !== null);
		database('/transcripts', 1);
		const result = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(id) }));
		expect(result.error).toBeUndefined();
		const items = result.outputOf('ECHO');
		expect(items.map((item) => item.json.conversationId).sort()).toEqual(expected.map((c) => c.id).sort());
		for (const item of items) expect(item.json.transcriptSource).toBe('transcript');
		expect(JSON.stringify(result.runData.ECHO[0].hints)).toMatch(/answered \\"No conversations found\\", but its list has \d+, so their transcripts were read one by one/);

		// And the list's has_transcript failing with it (false on every row): the chunk counts decide.
		database('/transcripts', 1);
		standin.configure({ transcriptFlagsFail: true });
		try {
			const both = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(id) }));
			expect(both.outputOf('ECHO').map((item) => item.json.conversationId).sort()).toEqual(expected.map((c) => c.id).sort());
		} finally {
			standin.configure({ transcriptFlagsFail: false });
		}

		database('/transcripts', 1);
		const zip = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(id), output: 'zip' }));
		expect(zip.error?.message).toMatch(/zip of project .* answered "No conversations found", but its list has \d+/);
	});

	test('Get Transcript: an empty chunk list, and an empty transcript route, for a conversation that has chunks: asked again, the whole transcript', async () => {
		const { id } = withTranscripts();
		const conversationId = standin.conversations(id).find((c) => standin.transcript(c.id) !== '')!.id;
		const node = echo({ resource: 'conversation', operation: 'getTranscript', conversationId });
		database('/chunks', 1);
		const fromChunks = await run(node);
		expect(fromChunks.outputOf('ECHO')[0].json.transcript).toBe(standin.transcript(conversationId));
		standin.configure({ chunkListing: false });
		database('/transcript', 1);
		const fromRoute = await run(node);
		expect(fromRoute.outputOf('ECHO')[0].json.transcript).toBe(standin.transcript(conversationId));
		// Empty every time: an error, not an empty transcript.
		database('/transcript', 1, 2, 3);
		const failing = await run(node);
		expect(failing.error?.message).toBe(`dembrane's transcript of conversation ${conversationId} came back empty, though it counts ${standin.chunks(conversationId).filter((c) => c.transcript).length}`);
	}, 60_000);
});

describe('a conversation longer than the transcript route serves (1,500 chunks)', () => {
	let long: Standin;
	const longRun = (node: INode) => run(node, passwordCredentialData(long) as ICredentialDataDecryptedObject);
	beforeAll(async () => {
		long = await startDembraneStandin({ projects: 1, conversationsPerProject: 3, chunksPerConversation: 1600, chunkTextBytes: 40 });
	});
	afterAll(async () => long?.close());
	beforeEach(() => long.configure({ chunkListing: true, lockedConversationIds: [] }));
	const transcribed = () => long.conversations(long.listProjects()[0].id).filter((c) => long.wholeTranscript(c.id) !== '');

	test('Get Transcript and Export Transcripts read every chunk, 1,000 a request', async () => {
		const [conversation] = transcribed();
		const whole = long.wholeTranscript(conversation.id);
		expect(whole.length).toBeGreaterThan(long.transcript(conversation.id).length);
		long.resetStats();
		const got = await longRun(echo({ resource: 'conversation', operation: 'getTranscript', conversationId: conversation.id }));
		expect(got.outputOf('ECHO')[0].json.transcript).toBe(whole);
		const chunkPages = long.stats().requests.filter((request) => request.path.endsWith('/chunks'));
		expect(chunkPages.map((request) => [request.query.offset, request.query.limit])).toEqual([['0', '1000'], ['950', '1000']]); // each later page overlaps the one before by 50
		const exported = await longRun(echo({ resource: 'project', operation: 'exportTranscripts', project: project(long.listProjects()[0].id) }));
		expect(exported.error).toBeUndefined();
		const items = exported.outputOf('ECHO');
		expect(items.map((item) => item.json.conversationId).sort()).toEqual(transcribed().map((c) => c.id).sort());
		for (const item of items) expect(item.json.transcript).toBe(`${long.wholeTranscript(item.json.conversationId as string)}\n`);
	});

	test('where the chunk list is missing (an older dembrane) or locked (the plan\'s hours cap), the transcript route answers', async () => {
		const [conversation] = transcribed();
		const node = echo({ resource: 'conversation', operation: 'getTranscript', conversationId: conversation.id });
		long.configure({ chunkListing: false });
		expect((await longRun(node)).outputOf('ECHO')[0].json.transcript).toBe(long.transcript(conversation.id));
		long.configure({ chunkListing: true, lockedConversationIds: [conversation.id] });
		expect((await longRun(node)).outputOf('ECHO')[0].json.transcript).toBe(long.transcript(conversation.id));
	});

	test('an unknown conversation is 404 Conversation not found', async () => {
		const result = await longRun(echo({ resource: 'conversation', operation: 'getTranscript', conversationId: '00000000-0000-4000-8000-000000000000' }));
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/Conversation not found/);
	});
});

describe('chunks of one timestamp across two pages of the chunk list (no stable order there)', () => {
	let tied: Standin;
	/** Get Transcript of the first transcribed conversation of a stand-in of chunks × perTimestamp. */
	async function transcriptOfTied(chunks: number, perTimestamp: number, chunkTextBytes: number) {
		tied = await startDembraneStandin({ projects: 1, conversationsPerProject: 2, chunksPerConversation: chunks, chunksPerTimestamp: perTimestamp, chunkTextBytes });
		const conversation = tied.conversations(tied.listProjects()[0].id).find((c) => tied.wholeTranscript(c.id) !== '')!;
		const node = echo({ resource: 'conversation', operation: 'getTranscript', conversationId: conversation.id });
		const result = await run(node, passwordCredentialData(tied) as ICredentialDataDecryptedObject);
		expect(result.error).toBeUndefined();
		return { id: conversation.id, transcript: String(result.outputOf('ECHO')[0].json.transcript) };
	}
	afterEach(async () => tied?.close());

	const chunkRequests = (conversationId: string) =>
		tied
			.stats()
			.requests.filter((request) => request.path.includes(conversationId))
			.map((request) => (request.path.endsWith('/transcript') ? 'transcript' : `${request.query.offset}+${request.query.limit}`));
	/** How often each chunk transcript of the conversation is in the text, and in the whole transcript. */
	const occurrences = (conversationId: string, text: string) => {
		const whole = tied.wholeTranscript(conversationId);
		return tied
			.chunks(conversationId)
			.filter((chunk) => chunk.transcript)
			.map((chunk) => ({
				at: text.indexOf(chunk.transcript!),
				times: text.split(chunk.transcript!).length - 1,
				inWhole: whole.split(chunk.transcript!).length - 1,
				timestamp: chunk.timestamp,
			}));
	};

	test('a group of one timestamp across a page boundary is read again in one request of its positions: every chunk once, in time order', async () => {
		const conversation = await transcriptOfTied(1600, 30, 300);
		const { transcript } = conversation;
		const found = occurrences(conversation.id, transcript);
		expect(found.filter((chunk) => chunk.times !== chunk.inWhole)).toEqual([]);
		expect(transcript.length).toBe(tied.wholeTranscript(conversation.id).length);
		// Groups in time order (inside a group, no order is set).
		for (let i = 1; i < found.length; i++) {
			if (found[i].timestamp > found[i - 1].timestamp) expect(found[i].at).toBeGreaterThan(found.filter((chunk) => chunk.timestamp === found[i - 1].timestamp).reduce((max, chunk) => Math.max(max, chunk.at), -1));
		}
		// Positions 990–1019 share a timestamp (the second page starts 50 early, to catch rows that moved up).
		expect(chunkRequests(conversation.id)).toEqual(['0+1000', '950+1000', '990+30']);
	});

	test('more than a request of one timestamp, up to 1,500 chunks: the transcript route reads them in one query', async () => {
		const conversation = await transcriptOfTied(1200, 1200, 40);
		expect(conversation.transcript).toBe(tied.wholeTranscript(conversation.id));
		expect(chunkRequests(conversation.id)).toEqual(['0+1000', '950+1000', 'transcript']);
	});

	test('more than 1,500 of one timestamp: no chunk comes twice', async () => {
		const conversation = await transcriptOfTied(1600, 1600, 300);
		const found = occurrences(conversation.id, conversation.transcript);
		expect(found.filter((chunk) => chunk.times > chunk.inWhole)).toEqual([]);
		expect(found.filter((chunk) => chunk.inWhole === 1).length).toBeGreaterThan(found.length * 0.9);
		expect(chunkRequests(conversation.id)).toEqual(['0+1000', '950+1000']);
	});
});

test('Report → Get Latest is the newest finished report, with its Markdown and title, also while a newer one is being generated', async () => {
	const withReports = standin.listProjects().filter((p) => standin.reports(p.id).length > 0);
	const newestFirst = (id: string) => standin.reports(id).sort((a, b) => (a.date_created < b.date_created ? 1 : -1));
	// The stand-in's projects: one whose newest report is published, others where a draft is being generated.
	expect(withReports.some((p) => newestFirst(p.id)[0].status === 'draft')).toBe(true);
	for (const { id } of withReports) {
		const finished = newestFirst(id).find((report) => report.status === 'published' || report.status === 'archived')!;
		const result = await run(echo({ resource: 'report', operation: 'getLatest', project: project(id) }));
		expect(result.error).toBeUndefined();
		const [item] = result.outputOf('ECHO');
		expect(item.json).toEqual(expect.objectContaining({ id: finished.id, content: finished.content, title: expect.any(String) }));
		expect(String(item.json.content)).not.toBe('');
		if (newestFirst(id)[0].status === 'draft') expect(JSON.stringify(result.runData.ECHO[0].hints)).toMatch(/is draft: this is the newest finished one/);
		else expect(result.runData.ECHO[0].hints ?? []).toEqual([]);
	}
	const many = await run(echo({ resource: 'report', operation: 'getMany', project: project(withReports[0].id), returnAll: true }));
	expect(many.error).toBeUndefined();
	expect(many.outputOf('ECHO').length).toBeGreaterThan(0);
});

test('Report → Get gives the report of that ID, with its Markdown and title', async () => {
	const finished = standin.listProjects().flatMap((p) => standin.reports(p.id).filter((report) => report.status === 'published' && report.content).map((report) => ({ projectId: p.id, report })));
	expect(finished.length).toBeGreaterThan(1);
	for (const { projectId, report } of finished.slice(0, 2)) {
		const result = await run(echo({ resource: 'report', operation: 'get', project: project(projectId), reportId: String(report.id) }));
		expect(result.error).toBeUndefined();
		expect(result.outputOf('ECHO').map((item) => item.json)).toEqual([expect.objectContaining({ id: report.id, content: report.content, title: expect.any(String) })]);
	}
});

test('Export Transcripts refuses a zip with more files than Max Files, and takes one with exactly that many', async () => {
	const target = projects.find((p) => p.zip !== undefined && Object.keys(unzipSync(new Uint8Array(p.zip))).length > 1)!;
	const files = Object.keys(unzipSync(new Uint8Array(target.zip!))).length;
	const node = (maxEntries: number) => echo({ resource: 'project', operation: 'exportTranscripts', project: project(target.id), options: { maxEntries } });
	const refused = await run(node(files - 1));
	expect(refused.error?.message).toMatch(/transcript zip .* was refused/);
	expect(`${refused.error?.message} ${(refused.error as { description?: string })?.description}`).toMatch(new RegExp(`more than ${files - 1} entries`));
	const taken = await run(node(files));
	expect(taken.error).toBeUndefined();
	expect(taken.outputOf('ECHO').length).toBeGreaterThanOrEqual(files);
});

test('a project ID typed in upper case works as dembrane writes it (its report route compares IDs as text)', async () => {
	const { id } = standin.listProjects().find((p) => standin.reports(p.id).length > 0)!;
	const result = await run(echo({ resource: 'report', operation: 'getLatest', project: project(id.toUpperCase()) }));
	expect(result.error).toBeUndefined();
	expect(result.outputOf('ECHO')[0].json.project_id).toBe(id);
});

test('Report → Get Many with Return All on a project of 105 reports: dembrane lists its 100 newest, and the node warns that older ones are left out', async () => {
	const target = standin.listProjects().find((p) => standin.reports(p.id).length === 0)!;
	for (let i = 0; i < 105; i++) standin.generateReport(target.id);
	const all = await run(echo({ resource: 'report', operation: 'getMany', project: project(target.id), returnAll: true }));
	expect(all.error).toBeUndefined();
	expect(all.outputOf('ECHO')).toHaveLength(100);
	expect(JSON.stringify(all.runData.ECHO[0].hints)).toMatch(/dembrane lists only its 100 newest reports/);
	// A Limit inside the 100 gets what it asked for: nothing to warn about.
	const some = await run(echo({ resource: 'report', operation: 'getMany', project: project(target.id), returnAll: false, limit: 20 }));
	expect(some.outputOf('ECHO')).toHaveLength(20);
	expect(some.runData.ECHO[0].hints ?? []).toEqual([]);
});

test('Report → Get Latest of a project without a finished report: no items and a notice that says why; an archived report counts as finished', async () => {
	const target = standin.listProjects().filter((p) => standin.reports(p.id).length === 0).at(-1)!;
	const latest = async () => {
		const result = await run(echo({ resource: 'report', operation: 'getLatest', project: project(target.id) }));
		expect(result.error).toBeUndefined();
		return { items: result.outputOf('ECHO'), hints: JSON.stringify(result.runData.ECHO[0].hints) };
	};
	const none = await latest();
	expect(none.items).toEqual([]);
	expect(none.hints).toContain(`Project ${target.id} has no report yet`);

	const firstDraft = standin.addReport(target.id, 'draft');
	const onlyDraft = await latest();
	expect(onlyDraft.items).toEqual([]);
	expect(onlyDraft.hints).toContain(`(${firstDraft.id}) is draft, and none is finished yet`);

	const archived = standin.addReport(target.id, 'archived');
	await new Promise((resolve) => setTimeout(resolve, 5));
	standin.addReport(target.id, 'draft');
	const afterArchived = await latest();
	expect(afterArchived.items.map((item) => item.json)).toEqual([expect.objectContaining({ id: archived.id, status: 'archived', content: archived.content })]);
	expect(String(afterArchived.items[0].json.content)).not.toBe('');
	expect(afterArchived.hints).toContain(`this is the newest finished one (${archived.id})`);
});

test('Report → Get Many with Return All "false" from an expression keeps to the Limit', async () => {
	const { id } = standin.listProjects().find((p) => standin.reports(p.id).length > 2)!;
	const result = await run(echo({ resource: 'report', operation: 'getMany', project: project(id), returnAll: '={{ "false" }}', limit: 2 }));
	expect(result.error).toBeUndefined();
	expect(result.outputOf('ECHO')).toHaveLength(2);
});

test('Report → Get Latest with the API URL ending in /api: dembrane\'s 404 Not Found says to check the URL, not "no report yet"', async () => {
	const { id } = withTranscripts();
	const result = await run(echo({ resource: 'report', operation: 'getLatest', project: project(id) }), passwordCredential({ baseUrl: `${standin.url}/api` }));
	expect(result.status).toBe('error');
	expect(result.error?.message).toMatch(/has no route .*404 Not Found/);
	expect((result.error as { description?: string }).description).toMatch(/Check the API URL/);
});

test('Report → Get Latest of a project that does not exist fails with what to check, not "no report yet"', async () => {
	const missing = '00000000-0000-4000-8000-000000000000';
	const result = await run(echo({ resource: 'report', operation: 'getLatest', project: project(missing) }));
	expect(result.status).toBe('error');
	expect(result.error?.message).toMatch(/Project not found/);
	const tolerant = (await run(echo({ resource: 'report', operation: 'getLatest', project: project(missing) }, { onError: 'continueRegularOutput' }))).outputOf('ECHO');
	expect(tolerant).toEqual([expect.objectContaining({ json: expect.objectContaining({ error: expect.stringMatching(/Project not found/) }), pairedItem: { item: 0 } })]);
});

test('values from expressions mean what they say: Include Files "false" adds no file, a Search that is a number is searched, a blank output field fails before any request', async () => {
	const { id } = withTranscripts();
	const items = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(id), options: { includeFiles: '={{ "false" }}' } }));
	expect(items.error).toBeUndefined();
	expect(items.outputOf('ECHO').length).toBeGreaterThan(0);
	expect(items.outputOf('ECHO').filter((item) => item.binary !== undefined)).toEqual([]);

	const year = await run(echo({ resource: 'project', operation: 'getMany', returnAll: true, filters: { search: '={{ 2025 }}' } }));
	expect(year.error).toBeUndefined();
	expect(year.outputOf('ECHO').map((item) => item.json.name)).toEqual(standin.listProjects().filter((p) => p.name.includes('2025')).map((p) => p.name));

	standin.resetStats();
	const zip = await run(echo({ resource: 'project', operation: 'exportTranscripts', project: project(id), output: 'zip', binaryPropertyName: '={{ "" }}' }));
	expect(zip.error?.message).toBe('Put Output File in Field is empty');
	const conversationId = standin.conversations(id)[0].id;
	const file = await run(echo({ resource: 'conversation', operation: 'getTranscript', conversationId, output: 'md', binaryPropertyName: ' ' }));
	expect(file.error?.message).toBe('Put Output File in Field is empty');
	expect(standin.stats().requests.filter((request) => request.path.startsWith('/api/'))).toEqual([]);
});

test('wrong input is an error that says what to do: a Report ID that is not a number, an unknown Workspace ID, a Limit of -1', async () => {
	const { id } = withTranscripts();
	const report = await run(echo({ resource: 'report', operation: 'get', project: project(id), reportId: 'abc' }));
	expect(report.error?.message).toBe('Report ID must be a whole number, not "abc"');
	const mixed = await run(echo({ resource: 'report', operation: 'get', project: project(id), reportId: '42abc' }));
	expect(mixed.error?.message).toBe('Report ID must be a whole number, not "42abc"');
	const workspace = await run(echo({ resource: 'project', operation: 'getMany', returnAll: true, filters: { workspaceId: 'no-such-workspace' } }));
	expect(workspace.error?.message).toBe('This account has no workspace with ID "no-such-workspace"');
	expect((workspace.error as { description?: string })?.description).toContain(standin.listWorkspaces()[0].id);
	// -1 sliced off the last report and 0 gave nothing, both silently.
	const limit = await run(echo({ resource: 'report', operation: 'getMany', project: project(id), returnAll: false, limit: -1 }));
	expect(limit.error?.message).toMatch(/^Limit must be a whole number of at least 1/);
});

test('Project → Get Many with Search: projects whose name holds every word of it, in any order and case', async () => {
	const projects = standin.listProjects();
	const target = projects.find((p) => p.name === "Stadtgespräch / Zoë's Café 2025")!;
	const result = await run(echo({ resource: 'project', operation: 'getMany', returnAll: true, filters: { search: 'café ZOË' } }));
	expect(result.error).toBeUndefined();
	expect(result.outputOf('ECHO').map((item) => item.json.id)).toEqual([target.id]);
	// The language is not searched (an older dembrane's search matched it too; the node keeps name matches only).
	const byLanguage = await run(echo({ resource: 'project', operation: 'getMany', returnAll: true, filters: { search: target.language } }));
	expect(byLanguage.outputOf('ECHO').map((item) => item.json.id)).toEqual(projects.filter((p) => p.name.toLowerCase().includes(target.language.toLowerCase())).map((p) => p.id));
});

test('Project → Get Many over two input items: each project is paired with the item whose search found it', async () => {
	// n8n follows pairedItem for $('Seed').item in later nodes: a wrong pair gives a project another item's data.
	const projects = standin.listProjects();
	const cafe = projects.find((p) => p.name === "Stadtgespräch / Zoë's Café 2025")!;
	const pilot = projects.find((p) => p.name === 'Pilot interviews')!;
	const seed: INode = {
		id: 'c3000000-0000-4000-8000-00000000000a',
		name: 'Seed',
		type: SEED_TYPE,
		typeVersion: 1,
		position: [100, 0],
		parameters: { items: JSON.stringify([{ search: 'café zoë' }, { search: 'pilot interviews' }]) },
	};
	const getMany = echo({ resource: 'project', operation: 'getMany', returnAll: true, filters: { search: '={{ $json.search }}' } });
	const result = await runWorkflow({
		nodes: [trigger, seed, getMany],
		connections: { [trigger.name]: { main: [[{ node: 'Seed', type: 'main', index: 0 }]] }, Seed: { main: [[{ node: 'ECHO', type: 'main', index: 0 }]] } },
		credentials: { dembraneEchoApi: passwordCredential() },
		extraNodeTypes: { [SEED_TYPE]: new Seed() },
		timeoutMs: 50_000,
	});
	expect(result.error).toBeUndefined();
	expect(result.outputOf('ECHO').map((item) => [item.json.id, item.pairedItem])).toEqual([
		[cafe.id, { item: 0 }],
		[pilot.id, { item: 1 }],
	]);
});

describe('authentication', () => {
	test('an expired token is renewed by logging in again, and the run succeeds', async () => {
		const expired = standin.issueAccessToken({ ttlSeconds: -10 });
		const before = standin.stats().logins;
		const result = await run(echo({ resource: 'project', operation: 'getMany', returnAll: true }), passwordCredential({ sessionToken: expired }));
		expect(result.error).toBeUndefined();
		expect(result.outputOf('ECHO').length).toBeGreaterThan(0);
		expect(standin.stats().logins).toBe(before + 1);
		expect(result.credentials.preAuthenticationCalls.some((call) => call.expired)).toBe(true);
	});

	test('a wrong password fails with what to do and never shows the password', async () => {
		const result = await run(echo({ resource: 'project', operation: 'getMany', returnAll: true }), passwordCredential({ password: 'hunter2-wrong-password' }));
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/wrong email or password/);
		expect(JSON.stringify(result.run)).not.toContain('hunter2-wrong-password');
	});

	test('a wrong password over 30 items with Continue On Fail: one refused login, and every item an error', async () => {
		// Directus suspends a user after 25 failed logins (AUTH_LOGIN_ATTEMPTS): one try per item would lock the account.
		const seed: INode = {
			id: 'c3000000-0000-4000-8000-000000000009',
			name: 'Seed',
			type: SEED_TYPE,
			typeVersion: 1,
			position: [100, 0],
			parameters: { items: JSON.stringify(Array.from({ length: 30 }, (_, i) => ({ id: `conversation-${i}` }))) },
		};
		const get = echo({ resource: 'conversation', operation: 'get', conversationId: '={{ $json.id }}' }, { onError: 'continueRegularOutput' });
		const before = standin.stats().loginFailures;
		const result = await runWorkflow({
			nodes: [trigger, seed, get],
			connections: { [trigger.name]: { main: [[{ node: 'Seed', type: 'main', index: 0 }]] }, Seed: { main: [[{ node: 'ECHO', type: 'main', index: 0 }]] } },
			credentials: { dembraneEchoApi: passwordCredential({ password: 'rotated-password' }) },
			extraNodeTypes: { [SEED_TYPE]: new Seed() },
			timeoutMs: 50_000,
		});
		const items = result.outputOf('ECHO');
		expect(items).toHaveLength(30);
		for (const [index, item] of items.entries()) {
			expect(item.json.error).toMatch(/wrong email or password/);
			expect(item.pairedItem).toEqual({ item: index });
		}
		expect(standin.stats().loginFailures - before).toBe(1);
	});

	test('a static Directus token is refused with a clear 401 message', async () => {
		const result = await run(echo({ resource: 'project', operation: 'getMany', returnAll: true }), {
			baseUrl: standin.url,
			authMethod: 'accessToken',
			accessToken: standin.staticToken,
			sessionToken: '',
		});
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/401/);
		expect((result.error as { description?: string }).description).toMatch(/static Directus tokens/);
		expect(JSON.stringify(result.run)).not.toContain(standin.staticToken);
	});

	test('an edited login applies at once: the session of the login before is not used', async () => {
		// Still valid, but it belongs to the login before the credential was edited.
		const stale = { sessionToken: standin.issueAccessToken({ ttlSeconds: 600 }), sessionPasswordFingerprint: 'another login' };
		const wrong = await run(echo({ resource: 'project', operation: 'getMany', returnAll: true }), passwordCredential({ ...stale, password: 'edited-to-a-wrong-one' }));
		expect(wrong.status).toBe('error');
		expect(wrong.error?.message).toMatch(/wrong email or password/);
		const right = await run(echo({ resource: 'project', operation: 'getMany', returnAll: true }), passwordCredential(stale));
		expect(right.error).toBeUndefined();
		expect(right.outputOf('ECHO').length).toBeGreaterThan(0);
	});

	test('an edited access token applies at once, not the session copied from the one before', async () => {
		// The credential was edited: the new token is a static one (refused); the session still holds the old, valid JWT.
		const result = await run(echo({ resource: 'project', operation: 'getMany', returnAll: true }), {
			baseUrl: standin.url,
			authMethod: 'accessToken',
			accessToken: standin.staticToken,
			sessionToken: standin.issueAccessToken({ ttlSeconds: 600 }),
		});
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/401/);
	});

	test('a pasted access token works', async () => {
		const result = await run(echo({ resource: 'project', operation: 'getMany', returnAll: true }), {
			baseUrl: standin.url,
			authMethod: 'accessToken',
			accessToken: standin.issueAccessToken({ ttlSeconds: 600 }),
			sessionToken: '',
		});
		expect(result.error).toBeUndefined();
	});
});

describe('the zip limit of production (1,000 conversations)', () => {
	let big: Standin;
	beforeAll(async () => {
		big = await startDembraneStandin({ conversationsPerProject: 1030, chunksPerConversation: 1, chunkTextBytes: 40 });
	});
	afterAll(async () => big.close());

	test('conversations beyond the zip limit are fetched one by one: every transcript once', async () => {
		const projectId = big.listProjects().find((p) => big.conversations(p.id).length > 1000)!.id;
		const expected = big.conversations(projectId).filter((c) => big.transcript(c.id) !== '');
		const node = echo({ resource: 'project', operation: 'exportTranscripts', project: project(projectId) });
		const result = await runAgainst(big, node, 120_000);
		expect(result.error).toBeUndefined();
		const items = result.outputOf('ECHO');
		expect(items.filter((i) => i.json.transcriptSource === 'zip').length).toBeLessThan(expected.length);
		expect(items.filter((i) => i.json.transcriptSource === 'transcript').length).toBeGreaterThan(0);
		expect(items).toHaveLength(expected.length);
		const byId = new Map(items.map((i) => [i.json.conversationId, i.json.transcript]));
		expect(byId.size).toBe(expected.length);
		for (const conversation of expected) expect(byId.get(conversation.id)).toBe(big.zipFileBody(conversation.id));
	}, 120_000);

	test("the list's has_transcript failing (false on every row): the zip's own files show it, and conversations beyond the zip are still fetched", async () => {
		const projectId = big.listProjects().find((p) => big.conversations(p.id).length > 1000)!.id;
		const expected = big.conversations(projectId).filter((c) => big.transcript(c.id) !== '');
		big.configure({ transcriptFlagsFail: true });
		try {
			const result = await runAgainst(big, echo({ resource: 'project', operation: 'exportTranscripts', project: project(projectId) }), 120_000);
			expect(result.error).toBeUndefined();
			const ids = result.outputOf('ECHO').map((item) => item.json.conversationId);
			expect(new Set(ids).size).toBe(expected.length);
			expect(ids).toHaveLength(expected.length);
		} finally {
			big.configure({ transcriptFlagsFail: false });
		}
	}, 120_000);

	test('Get Many (Return All): a page of the listing that comes back empty in passing is asked again; empty each time, a clear error (not 1,000 of 1,030)', async () => {
		const projectId = big.listProjects().find((p) => big.conversations(p.id).length > 1000)!.id;
		const getMany = echo({ resource: 'conversation', operation: 'getMany', project: project(projectId), returnAll: true });
		// Requests whose path holds the listing's: 1 page one, 2 page two, 3 the count, 4 and 5 page two again.
		big.configure({ faults: [{ path: '/api/v2/bff/conversations', request: 2, kind: 'database' }] });
		const passing = await runAgainst(big, getMany);
		expect(passing.error).toBeUndefined();
		expect(passing.outputOf('ECHO')).toHaveLength(big.conversations(projectId).length);
		big.configure({ faults: [2, 4, 5].map((request) => ({ path: '/api/v2/bff/conversations', request, kind: 'database' as const })) });
		const failing = await runAgainst(big, getMany);
		expect(failing.error?.message).toBe(`dembrane's conversation listing came back empty from row 951 on, though it counts ${big.conversations(projectId).length}`);
		big.configure({ faults: [] });
	}, 60_000);

	test('Zip File output past the zip limit: a warning says how many conversations with a transcript are not in it', async () => {
		const projectId = big.listProjects().find((p) => big.conversations(p.id).length > 1000)!.id;
		const beyond = big
			.conversations(projectId)
			.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
			.slice(1000)
			.filter((c) => big.wholeTranscript(c.id) !== '').length;
		expect(beyond).toBeGreaterThan(0);
		const result = await runAgainst(big, echo({ resource: 'project', operation: 'exportTranscripts', project: project(projectId), output: 'zip' }));
		expect(result.error).toBeUndefined();
		expect(JSON.stringify(result.runData.ECHO[0].hints)).toContain(`${beyond} conversation${beyond === 1 ? '' : 's'} with a transcript ${beyond === 1 ? 'is' : 'are'} not in it`);
	});

	test('Get Many with Transcript Required returns every conversation with a transcript, past the first page (the route filters after limit/offset)', async () => {
		const projectId = big.listProjects().find((p) => big.conversations(p.id).length > 1000)!.id;
		const expected = big.conversations(projectId).filter((c) => big.transcript(c.id) !== '').map((c) => c.id);
		expect(expected.length).toBeLessThan(big.conversations(projectId).length);
		const runGetMany = (parameters: INodeParameters) =>
			runAgainst(big, echo({ resource: 'conversation', operation: 'getMany', project: project(projectId), filters: { transcriptRequired: true }, ...parameters }));
		const all = (await runGetMany({ returnAll: true })).outputOf('ECHO').map((i) => String(i.json.id));
		expect(all.sort()).toEqual([...expected].sort());
		const some = (await runGetMany({ returnAll: false, limit: 50 })).outputOf('ECHO').map((i) => String(i.json.id));
		expect(some).toHaveLength(50);
		for (const id of some) expect(expected).toContain(id);
	});

	test('Get Many sorted on a field many share (no duration): conversations of one value across pages come each once, in order', async () => {
		const projectId = big.listProjects().find((p) => big.conversations(p.id).length > 1000)!.id;
		const conversations = big.conversations(projectId);
		const nulls = conversations.filter((c) => c.duration === null).length;
		// Shortest first puts those without a duration last, across the page boundary at 1,000.
		expect(conversations.length - nulls).toBeLessThan(1000);
		big.resetStats();
		const result = await runAgainst(big, echo({ resource: 'conversation', operation: 'getMany', project: project(projectId), returnAll: true, sort: 'duration' }));
		expect(result.error).toBeUndefined();
		const rows = result.outputOf('ECHO').map((item) => item.json);
		expect(rows.map((row) => row.id).sort()).toEqual(conversations.map((c) => c.id).sort());
		const durations = rows.map((row) => (row.duration === null ? Infinity : Number(row.duration)));
		expect(durations).toEqual([...durations].sort((a, b) => a - b));
		const listing = big.stats().requests.filter((request) => request.path === '/api/v2/bff/conversations');
		// More than a page, sorted on a field that changes: read whole by creation time (pages overlapping by 50), sorted here.
		const expected = ['duration 0+1000', '-created_at 0+1000'];
		for (let offset = 1000; ; offset += 950) {
			expected.push(`-created_at ${offset - 50}+1000`);
			if (conversations.length - offset < 950) break;
		}
		expect(listing.map((request) => `${request.query.sort} ${request.query.offset}+${request.query.limit}`)).toEqual(expected);
	});
});

describe('more than a page of conversations of one sort value', () => {
	let many: Standin;
	beforeAll(async () => {
		many = await startDembraneStandin({ projects: 1, conversationsPerProject: 9500, chunksPerConversation: 1, chunkTextBytes: 20 });
	});
	afterAll(async () => many?.close());

	test('Get Many reads the listing by creation time and sorts it: every conversation once, in order', async () => {
		const projectId = many.listProjects()[0].id;
		const conversations = many.conversations(projectId);
		expect(conversations.filter((c) => c.duration === null).length).toBeGreaterThan(1000);
		many.resetStats();
		const result = await runAgainst(many, echo({ resource: 'conversation', operation: 'getMany', project: project(projectId), returnAll: true, sort: '-duration' }), 100_000);
		expect(result.error).toBeUndefined();
		const rows = result.outputOf('ECHO').map((item) => item.json);
		expect(rows).toHaveLength(conversations.length);
		expect(new Set(rows.map((row) => row.id))).toEqual(new Set(conversations.map((c) => c.id)));
		// Longest first: those without a duration first (Postgres puts NULL above every value).
		const durations = rows.map((row) => (row.duration === null ? Infinity : Number(row.duration)));
		expect(durations).toEqual([...durations].sort((a, b) => b - a));
		const sorts = many.stats().requests.filter((request) => request.path === '/api/v2/bff/conversations').map((request) => request.query.sort);
		expect(sorts.filter((sort) => sort === '-created_at').length).toBeGreaterThanOrEqual(10);
	}, 100_000);
});

describe("the zip's chunk limit of production (100 per conversation) and project names outside Latin-1", () => {
	let limits: Standin;
	let latin: string;
	let plain: string;
	let cyrillic: string;
	let long: string;
	let late: string;
	beforeAll(async () => {
		limits = await startDembraneStandin({
			projects: 3,
			conversationsPerProject: 12,
			chunksPerConversation: 3,
			chunkTextBytes: 60,
			projectNames: ["Zoë's Café 2025", 'Pilot interviews', 'Опрос жителей 2025'],
		});
		const named = (name: string) => limits.listProjects().find((p) => p.name === name)!.id;
		latin = named("Zoë's Café 2025");
		plain = named('Pilot interviews');
		cyrillic = named('Опрос жителей 2025');
		long = limits.addConversation(latin, { participant_name: 'Long Talker', participant_email: 'long.talker@example.com' }).id;
		for (let i = 1; i <= 150; i++) limits.addChunk(long, `Line ${i} of the long conversation.`);
		late = limits.addConversation(latin, { participant_name: 'Late Start' }).id;
		for (let i = 1; i <= 100; i++) limits.addChunk(late, null);
		limits.addChunk(late, 'The first words that were transcribed.');
	});
	afterAll(async () => limits.close());

	function runOn(parameters: INodeParameters) {
		limits.resetStats();
		return runWorkflow({
			nodes: [trigger, echo({ resource: 'project', operation: 'exportTranscripts', ...parameters })],
			connections: { [trigger.name]: { main: [[{ node: 'ECHO', type: 'main', index: 0 }]] } },
			credentials: { dembraneEchoApi: passwordCredentialData(limits) as ICredentialDataDecryptedObject },
			timeoutMs: 50_000,
		});
	}
	const requestsTo = (pattern: RegExp) => limits.stats().requests.filter((r) => pattern.test(r.path));
	/** Conversations whose transcript was read one by one (the chunk list, or the transcript route). */
	const transcriptsRead = () => requestsTo(/\/conversations\/[^/]+\/(transcript|chunks)$/).map((r) => r.path.split('/').at(-2));
	const transcribed = (projectId: string) => limits.conversations(projectId).filter((c) => limits.transcript(c.id) !== '');

	test('a conversation of 150 chunks comes whole, one with no transcript in its first 100 chunks is there, and only those two are fetched', async () => {
		expect(limits.zipFileBody(long)!.split('\n')).toHaveLength(101);
		expect(limits.zipFileBody(late)).toBeNull();
		const result = await runOn({ project: project(latin) });
		expect(result.error).toBeUndefined();
		const items = result.outputOf('ECHO');
		expect(items).toHaveLength(transcribed(latin).length);
		const byId = new Map(items.map((i) => [i.json.conversationId, i.json]));
		expect(byId.size).toBe(items.length);

		const whole = byId.get(long)!;
		expect(whole.transcript).toBe(`${limits.transcript(long)}\n`);
		expect(whole.transcript).toContain('Line 150 of the long conversation.');
		expect(whole).toMatchObject({ transcriptSource: 'transcript', fileName: limits.zipEntryName(long), participantName: 'Long Talker' });

		const found = byId.get(late)!;
		expect(found.transcript).toBe('The first words that were transcribed.\n');
		expect(found).toMatchObject({ transcriptSource: 'transcript', fileName: null, matched: true, participantName: 'Late Start', conversationIdPrefix: late.slice(0, 8) });

		for (const json of items.map((i) => i.json).filter((j) => j.conversationId !== long && j.conversationId !== late)) {
			expect(json.transcriptSource).toBe('zip');
			expect(json.transcript).toBe(limits.zipFileBody(String(json.conversationId)));
		}
		expect(transcriptsRead().sort()).toEqual([late, long].sort());
	});

	test('a cut-short file whose conversation was deleted after the zip was made keeps the zip\'s text instead of failing or coming empty', async () => {
		// Both routes a transcript is read from answer 404 "Conversation not found" for it, as after a delete.
		limits.configure({
			faults: [
				{ path: `/conversations/${long}/chunks`, request: 1, kind: 'gone' },
				{ path: `/conversations/${long}/transcript`, request: 1, kind: 'gone' },
			],
		});
		try {
			const result = await runOn({ project: project(latin) });
			expect(result.error).toBeUndefined();
			const mine = result.outputOf('ECHO').filter((i) => i.json.conversationId === long);
			expect(mine.map((i) => i.json)).toEqual([
				expect.objectContaining({ transcriptSource: 'zip', transcript: limits.zipFileBody(long), fileName: limits.zipEntryName(long), matched: true }),
			]);
			expect(requestsTo(new RegExp(`/conversations/${long}/(chunks|transcript)$`)).map((r) => r.status)).toEqual([404, 404]);
		} finally {
			limits.configure({ faults: [] });
		}
	});

	test('a zip of "No transcripts" when the only transcript starts after chunk 100: that transcript is fetched', async () => {
		const awaiting = limits.listProjects().find((p) => p.name === 'Awaiting transcription')!.id;
		const zip = await fetch(`${limits.url}/api/projects/${awaiting}/transcripts`, { headers: { authorization: `Bearer ${limits.issueAccessToken()}` } });
		expect(zip.status).toBe(404);
		const lone = limits.addConversation(awaiting, { participant_name: 'Lone Voice' }).id;
		for (let i = 1; i <= 100; i++) limits.addChunk(lone, null);
		limits.addChunk(lone, 'Finally transcribed.');
		const result = await runOn({ project: project(awaiting), options: { failIfEmpty: true } });
		expect(result.error).toBeUndefined();
		expect(result.outputOf('ECHO').map((i) => i.json)).toEqual([expect.objectContaining({ conversationId: lone, transcript: 'Finally transcribed.\n', transcriptSource: 'transcript', fileName: null })]);
		expect(transcriptsRead()).toEqual([lone]);
	});

	test('Zip File output of an incomplete zip: the zip as dembrane sends it, and a warning of what it lacks', async () => {
		const result = await runOn({ project: project(latin), output: 'zip' });
		expect(result.error).toBeUndefined();
		expect(result.outputOf('ECHO')).toHaveLength(1);
		// The 150-chunk conversation is cut; the one whose transcript starts after chunk 100 is left out.
		expect(JSON.stringify(result.runData.ECHO[0].hints)).toMatch(/dembrane's zip is incomplete: 2 may be cut short or left out .*One Item per Conversation/);
		const whole = await runOn({ project: project(plain), output: 'zip' });
		expect(whole.runData.ECHO[0].hints ?? []).toEqual([]);
	});

	test('a zip of "No transcripts" with Zip File output, while a conversation has one past what the zip reads: a warning, or an error that says so', async () => {
		const awaiting = limits.listProjects().find((p) => p.name === 'Awaiting transcription')!.id;
		if (!limits.conversations(awaiting).some((c) => c.participant_name === 'Lone Voice')) {
			const lone = limits.addConversation(awaiting, { participant_name: 'Lone Voice' }).id;
			for (let i = 1; i <= 100; i++) limits.addChunk(lone, null);
			limits.addChunk(lone, 'Finally transcribed.');
		}
		const quiet = await runOn({ project: project(awaiting), output: 'zip' });
		expect(quiet.error).toBeUndefined();
		expect(quiet.outputOf('ECHO')).toEqual([]);
		expect(JSON.stringify(quiet.runData.ECHO[0].hints)).toMatch(/found no transcript there, but 1 conversation has one.*One Item per Conversation/);
		const strict = await runOn({ project: project(awaiting), output: 'zip', options: { failIfEmpty: true } });
		expect(strict.error?.message).toMatch(/404 .*No transcripts/);
		expect((strict.error as { description?: string }).description).toMatch(/but 1 conversation has one/);
	});

	test('a file named by a time other than its row\'s (created_at with an offset) is matched by its ID prefix, not fetched again', async () => {
		const shifted = limits.addConversation(plain, { participant_name: 'Offset Clock', created_at: '2025-06-01T12:00:00+02:00' }).id;
		limits.addChunk(shifted, 'Said at noon, local time.');
		// dembrane names the file by the wall time of the offset, the node reads created_at as UTC.
		expect(limits.zipEntryName(shifted)).toMatch(/^20250601_120000_/);
		const result = await runOn({ project: project(plain) });
		expect(result.error).toBeUndefined();
		const mine = result.outputOf('ECHO').filter((i) => String(i.json.conversationIdPrefix) === shifted.slice(0, 8));
		expect(mine.map((i) => i.json)).toEqual([expect.objectContaining({ conversationId: shifted, matched: true, transcriptSource: 'zip', transcript: 'Said at noon, local time.\n' })]);
		expect(transcriptsRead()).not.toContain(shifted);
	});

	test('a file whose time matches no row, with two conversations of its 8-character ID prefix: left unmatched, never joined to the other one', async () => {
		// The prefix alone cannot tell which of the two the file is: joining the first (here the newer
		// one, still without a transcript) would put one participant's words under another's name.
		const spoken = limits.addConversation(plain, { id: 'c0ffee00-0000-4000-8000-00000000000a', participant_name: 'Offset Speaker', created_at: '2025-06-02T12:00:00+02:00' }).id;
		limits.addChunk(spoken, 'Words of the offset speaker.');
		const silent = limits.addConversation(plain, { id: 'c0ffee00-0000-4000-8000-00000000000b', participant_name: 'Not Yet Transcribed' }).id;
		expect(limits.zipEntryName(spoken)).toMatch(/^20250602_120000_.*c0ffee00/);
		const result = await runOn({ project: project(plain) });
		expect(result.error).toBeUndefined();
		const mine = result.outputOf('ECHO').filter((i) => i.json.conversationIdPrefix === 'c0ffee00');
		expect(mine.map((i) => i.json)).toEqual([
			expect.objectContaining({ matched: false, conversationId: null, participantName: null, transcriptSource: 'zip', transcript: 'Words of the offset speaker.\n' }),
		]);
		expect(mine[0].json.conversationId).not.toBe(silent);
		// Both rows are taken as the zip's: the transcript is not fetched a second time.
		expect(transcriptsRead()).not.toContain(spoken);
	});

	test('a project whose conversations the zip holds whole: no transcript is fetched', async () => {
		const result = await runOn({ project: project(plain) });
		expect(result.error).toBeUndefined();
		expect(result.outputOf('ECHO')).toHaveLength(transcribed(plain).length);
		expect(result.outputOf('ECHO').every((i) => i.json.transcriptSource === 'zip')).toBe(true);
		expect(transcriptsRead()).toEqual([]);
		// The listing says how many chunks each conversation has, which is how the node knows.
		const listings = requestsTo(/^\/api\/v2\/bff\/conversations$/);
		expect(listings).toHaveLength(1);
		expect(listings[0].query.fields).toContain('count(chunks)');
	});

	test.each([
		['Fetch Transcripts Beyond the Zip Limit off', { completeBeyondZipLimit: false }],
		['Match Conversation Details off', { matchDetails: false }],
	])('%s: a warning says how many transcripts are cut short or missing, and what to turn on', async (_, options) => {
		const result = await runOn({ project: project(latin), options });
		expect(result.error).toBeUndefined();
		const hints = JSON.stringify(result.runData.ECHO[0].hints);
		expect(hints).toMatch(/1 transcript may be cut short/);
		expect(hints).toMatch(/1 conversation with a transcript may be missing/);
		expect(hints).toMatch(/Match Conversation Details.*Fetch Transcripts Beyond the Zip Limit/);
		expect(transcriptsRead()).toEqual([]);
		expect(result.outputOf('ECHO').find((i) => i.json.fileName === limits.zipEntryName(long))!.json.transcript).toBe(limits.zipFileBody(long));
	});

	test('a project name outside Latin-1: one item per conversation from the listing and the transcript route, no zip asked for', async () => {
		const result = await runOn({ project: project(cyrillic), options: { includeFiles: true } });
		expect(result.error).toBeUndefined();
		const items = result.outputOf('ECHO');
		const expected = transcribed(cyrillic);
		expect(items).toHaveLength(expected.length);
		for (const conversation of expected) {
			const item = items.find((i) => i.json.conversationId === conversation.id)!;
			expect(item.json).toMatchObject({ transcriptSource: 'transcript', fileName: null, matched: true, transcript: `${limits.transcript(conversation.id)}\n` });
			// Named as the zip would name it, so recordedAt and participantPart are what a zip item has.
			expect(item.binary!.data.fileName).toBe(limits.zipEntryName(conversation.id));
		}
		expect(items.some((i) => i.json.participantPart !== '')).toBe(true);
		expect(requestsTo(/\/transcripts$/)).toEqual([]);
	});

	test('a project name outside Latin-1 with Zip File output: a clear error at once, the zip is not asked for', async () => {
		const result = await runOn({ project: project(cyrillic), output: 'zip' });
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/cannot send the zip .* outside Latin-1/);
		expect((result.error as { description?: string }).description).toMatch(/Rename the project.*One Item per Conversation/);
		expect(requestsTo(/\/transcripts$/)).toEqual([]);
	});
});

describe('has_transcript failed (dembrane says false on every row when the query behind it fails)', () => {
	let flagged: Standin;
	beforeAll(async () => {
		flagged = await startDembraneStandin({ conversationsPerProject: 30 });
	}, 60_000);
	afterAll(async () => flagged?.close());

	/** A project where some conversations have a transcript and some do not. */
	function mixedProject() {
		const found = flagged.listProjects().find((p) => {
			const texts = flagged.conversations(p.id).map((c) => flagged.transcript(c.id) !== '');
			return texts.includes(true) && texts.includes(false);
		})!;
		const transcribed = flagged.conversations(found.id).filter((c) => flagged.transcript(c.id) !== '').map((c) => c.id).sort();
		return { id: found.id, transcribed };
	}

	test('Get Many with Transcript Required while the flags fail: every conversation with a transcript, and only those', async () => {
		const { id, transcribed } = mixedProject();
		flagged.configure({ transcriptFlagsFail: true });
		try {
			const result = await runAgainst(flagged, echo({ resource: 'conversation', operation: 'getMany', project: project(id), returnAll: true, filters: { transcriptRequired: true } }));
			expect(result.error).toBeUndefined();
			expect(result.outputOf('ECHO').map((item) => String(item.json.id)).sort()).toEqual(transcribed);
			expect(result.outputOf('ECHO').every((item) => item.json.has_transcript === true)).toBe(true);
		} finally {
			flagged.configure({ transcriptFlagsFail: false });
		}
	}, 120_000);

	test('Export Transcripts read one by one (the zip route failed twice) while the flags fail: every transcript', async () => {
		const { id, transcribed } = mixedProject();
		flagged.configure({ transcriptFlagsFail: true, faults: [1, 2].map((request) => ({ request, kind: '500' as const, path: '/transcripts' })) });
		try {
			const result = await runAgainst(flagged, echo({ resource: 'project', operation: 'exportTranscripts', project: project(id) }));
			expect(result.error).toBeUndefined();
			expect(result.outputOf('ECHO').map((item) => String(item.json.conversationId)).sort()).toEqual(transcribed);
		} finally {
			flagged.configure({ transcriptFlagsFail: false, faults: [] });
		}
	}, 120_000);

	test('a project where no conversation has a transcript yet is still "no transcripts", after a look at a few', async () => {
		const empty = flagged.listProjects().find((p) => p.name === 'Awaiting transcription')!;
		const requests = () => flagged.stats().requests.length + flagged.stats().requestsDropped;
		const before = requests();
		const result = await runAgainst(flagged, echo({ resource: 'conversation', operation: 'getMany', project: project(empty.id), returnAll: true, filters: { transcriptRequired: true } }));
		expect(result.error).toBeUndefined();
		expect(result.outputOf('ECHO')).toEqual([]);
		expect(requests() - before).toBeLessThan(20);
	}, 120_000);
});
