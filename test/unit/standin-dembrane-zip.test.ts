/**
 * The stand-in's transcript zip: names exactly as production writes them (checked against hand-written
 * names and against Python's `str.isalnum`), bodies, Content-Disposition, streaming, the archive layout
 * Python's zipfile writes (read back by python3 itself), production's limits, and every zip quirk.
 */
import { unzipSync } from 'fflate';
import { get as httpGet } from 'node:http';
import { crc32, inflateRawSync } from 'node:zlib';

import type { DembraneStandin } from '../standins/dembrane';
import { sanitizeForFileName, startDembraneStandin, zipDownloadName } from '../standins/dembrane';
import { SPECIAL_PARTICIPANTS } from '../standins/dembrane/data';
import { readZipStructure, runPython, walkLocalHeaders } from '../standins/dembrane/testkit';

jest.setTimeout(30_000);

let standin: DembraneStandin;
let token: string;

beforeAll(async () => {
	standin = await startDembraneStandin();
	token = standin.issueAccessToken();
});
afterAll(async () => standin.close());
beforeEach(() => {
	standin.configure({ zipQuirk: null, zipLayout: 'python', faults: [], zipConversationLimit: 1000, zipChunkLimit: 100, projectNames: [], nonLatin1FileName: 'error-500' });
	standin.resetStats();
});

async function download(projectId: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
	const response = await fetch(new URL(`/api/projects/${projectId}/transcripts`, standin.url), {
		headers: { authorization: `Bearer ${token}` },
		signal: AbortSignal.timeout(20_000),
	});
	return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

const unicodeProject = () => standin.ids().unicodeProjectId;

/** What production must name the files of the first project's special participants (default seed, epoch and shape). */
const EXPECTED_PREFIXES = [
	'20250304_101530_Zoë_Müller_Łukasz_zoe_mueller',
	'20250304_111530_山田_太郎_yamada_taro',
	'20250304_121530', // name '' and e-mail '': both left out
	'20250304_131530_Maximiliana_Alexandrina_Konstantinopoulou_Vandenb__maximiliana_alexandrina_konsta', // cut to 50 ends in "_"
	'20250304_141530', // both null
	'20250304_151530', // name of punctuation only, e-mail "@example.com"
	'20250304_161530_Ana_O_Brien_ana_podcast', // emoji and apostrophe are not alphanumeric
	'20250304_171530_Jose_Garci_a_jose', // combining accents (U+0301) are marks, not alphanumeric
	'20250304_181530_Ravi_४२_Kumar_RAVI_KUMAR', // Devanagari digits are
	`20250304_191530_${'𝔐𝔞𝔯𝔦𝔞_'.repeat(8)}𝔐𝔞_maria`, // 50 code points, not 50 UTF-16 units; e-mail "a@x, b@y" → "a"
	'20250304_201530_Ægir_Þór_no_at_sign', // e-mail without "@": the whole text
	'20250304_211530_Jane_Smith',
	'20250304_221530_jane_smith',
];

describe('entry names and bodies', () => {
	test('hand-written names for Unicode, long, empty and odd participants; bodies are the transcripts + "\\n"', async () => {
		const { status, bytes } = await download(unicodeProject());
		expect(status).toBe(200);
		const files = unzipSync(new Uint8Array(bytes));
		const conversations = standin.conversations(unicodeProject());
		EXPECTED_PREFIXES.forEach((prefix, index) => {
			const conversation = conversations[index];
			const name = `${prefix}_${conversation.id.slice(0, 8)}-transcript.md`;
			expect(Object.keys(files)).toContain(name);
			const body = standin
				.chunks(conversation.id)
				.filter((chunk) => chunk.transcript)
				.map((chunk) => `${chunk.transcript}\n`)
				.join('');
			expect(Buffer.from(files[name]).toString('utf8')).toBe(body);
			expect(standin.zipEntryName(conversation.id)).toBe(name);
		});
		// One file per conversation with a transcribed chunk; the others are not in the zip.
		const expected = conversations.filter((c) => standin.chunks(c.id).some((chunk) => chunk.transcript)).map((c) => standin.zipEntryName(c.id));
		expect(Object.keys(files).sort()).toEqual(expected.sort());
		expect(conversations.length - expected.length).toBeGreaterThanOrEqual(2);
	});

	test('the sanitiser agrees with Python (str.isalnum, split/join on "_", then cut by code point)', async () => {
		const samples = [...SPECIAL_PARTICIPANTS.flatMap((p) => [p.name ?? '', (p.email ?? '').split('@')[0]]), 'a__b', '_x_', '½ ² Ⅻ ١٢', 'ＡＢＣ', 'e\u0301', 'tab\there', '🙂🙂', 'ǅemal'];
		const script = [
			'import json, sys',
			'def sanitize(t, n):',
			'    if not t: return ""',
			'    s = "".join(c if c.isalnum() else "_" for c in t)',
			'    return "_".join(filter(None, s.split("_")))[:n]',
			'print(json.dumps([[sanitize(t, 50), sanitize(t, 30)] for t in json.load(sys.stdin)]))',
		].join('\n');
		const python = JSON.parse(await runPython(script, JSON.stringify(samples))) as string[][];
		expect(samples.map((text) => [sanitizeForFileName(text, 50), sanitizeForFileName(text, 30)])).toEqual(python);
	});

	test('Content-Disposition: project name with "/", "\\\\" and spaces → "_", Latin-1 kept', async () => {
		const { headers } = await download(unicodeProject());
		expect(headers.get('content-type')).toBe('application/zip');
		expect(headers.get('content-disposition')).toBe(`attachment; filename="Stadtgespräch___Zoë's_Café_2025_transcripts.zip"`);
		expect(zipDownloadName('a\\b/c d')).toBe('a_b_c_d_transcripts.zip');
		const second = await download(standin.ids().projectIds[1]);
		expect(second.headers.get('content-disposition')).toBe('attachment; filename="Pilot_interviews_transcripts.zip"');
	});

	test('a name outside Latin-1: production fails with a plain-text 500; or raw UTF-8 bytes', async () => {
		standin.configure({ projectNames: ['東京 / 調査'] });
		const failed = await download(unicodeProject());
		expect([failed.status, failed.bytes.toString()]).toEqual([500, 'Internal Server Error']);
		standin.configure({ nonLatin1FileName: 'utf8-bytes' });
		const ok = await download(unicodeProject());
		expect(ok.status).toBe(200);
		const header = ok.headers.get('content-disposition')!;
		expect(Buffer.from(header, 'latin1').toString('utf8')).toBe('attachment; filename="東京___調査_transcripts.zip"');
	});

	test('the two 404s and Project not found', async () => {
		const empty = await download(standin.ids().emptyProjectId);
		expect([empty.status, JSON.parse(empty.bytes.toString())]).toEqual([404, { detail: 'No conversations found for this project' }]);
		const untranscribed = await download(standin.ids().noTranscriptsProjectId);
		expect([untranscribed.status, JSON.parse(untranscribed.bytes.toString())]).toEqual([404, { detail: 'No transcripts available for this project' }]);
		const unknown = await download('00000000-0000-4000-8000-000000000000');
		expect([unknown.status, JSON.parse(unknown.bytes.toString())]).toEqual([404, { detail: 'Project not found' }]);
	});
});

describe('archive layout', () => {
	test("Python zipfile's layout: sizes in local headers, no descriptors, UTF-8 flag only for non-ASCII, 0644; python3 reads and tests it", async () => {
		const { bytes } = await download(unicodeProject());
		const { entries, zip64 } = readZipStructure(bytes);
		expect(zip64).toBe(false);
		for (const entry of entries) {
			expect(entry.method).toBe(8);
			expect(entry.versionMadeBy).toBe(0x0314);
			expect(entry.versionNeeded).toBe(20);
			expect(entry.flags & 0x08).toBe(0);
			expect(entry.flags & 0x800).toBe(/^[\x00-\x7f]*$/.test(entry.name) ? 0 : 0x800);
			expect(entry.externalAttributes >>> 16).toBe(0o100644);
			expect([entry.local.crc, entry.local.compressedSize, entry.local.size]).toEqual([entry.crc, entry.compressedSize, entry.size]);
			const data = inflateRawSync(bytes.subarray(entry.local.dataOffset, entry.local.dataOffset + entry.compressedSize));
			expect([data.length, crc32(data)]).toEqual([entry.size, entry.crc]);
		}
		const script = 'import io, json, sys, zipfile\nz = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))\nprint(json.dumps({"bad": z.testzip(), "names": z.namelist()}))';
		const python = JSON.parse(await runPythonBytes(script, bytes));
		expect(python).toEqual({ bad: null, names: entries.map((e) => e.name) });
	});

	test('data-descriptor layout: flag bit 3, zeros in local headers, still a valid archive', async () => {
		standin.configure({ zipLayout: 'data-descriptor' });
		const { bytes } = await download(unicodeProject());
		const { entries } = readZipStructure(bytes);
		expect(entries.every((e) => (e.flags & 0x08) === 0x08 && e.local.size === 0 && e.local.crc === 0)).toBe(true);
		expect(Object.keys(unzipSync(new Uint8Array(bytes)))).toHaveLength(entries.length);
	});

	test('streamed: chunked transfer encoding, no Content-Length, several body chunks', async () => {
		const result = await new Promise<{ headers: Record<string, unknown>; chunks: number }>((resolve, reject) => {
			const request = httpGet(new URL(`/api/projects/${unicodeProject()}/transcripts`, standin.url), { headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (response) => {
				let chunks = 0;
				response.on('data', () => chunks++);
				response.on('end', () => resolve({ headers: response.headers, chunks }));
			});
			request.on('error', reject);
		});
		expect(result.headers['transfer-encoding']).toBe('chunked');
		expect(result.headers['content-length']).toBeUndefined();
		expect(result.chunks).toBeGreaterThan(1);
		expect(standin.stats().zipsServed).toBe(1);
	});

	test("production's limits: the first 1,000 conversations by id, the first 100 chunks of each", async () => {
		standin.configure({ zipConversationLimit: 5 });
		const { bytes } = await download(unicodeProject());
		const names = readZipStructure(bytes).entries.map((e) => e.name);
		const firstFive = standin
			.conversations(unicodeProject())
			.map((c) => c.id)
			.sort()
			.slice(0, 5);
		expect(names.length).toBeLessThanOrEqual(5);
		for (const name of names) expect(firstFive.some((id) => name.endsWith(`_${id.slice(0, 8)}-transcript.md`))).toBe(true);

		standin.configure({ zipConversationLimit: 0, zipChunkLimit: 1 });
		const cut = unzipSync(new Uint8Array((await download(unicodeProject())).bytes));
		const zoe = standin.conversations(unicodeProject())[0];
		expect(Buffer.from(cut[standin.zipEntryName(zoe.id)]).toString('utf8')).toBe(`${standin.chunks(zoe.id)[0].transcript}\n`);
	});
});

describe('zip quirks', () => {
	test('corrupt: the first entry does not inflate to its CRC; python3 agrees', async () => {
		standin.configure({ zipQuirk: 'corrupt' });
		const { status, bytes } = await download(unicodeProject());
		expect(status).toBe(200);
		const [first, second] = readZipStructure(bytes).entries;
		let intact = true;
		try {
			const data = inflateRawSync(bytes.subarray(first.local.dataOffset, first.local.dataOffset + first.compressedSize));
			intact = crc32(data) === first.crc && data.length === first.size;
		} catch {
			intact = false;
		}
		expect(intact).toBe(false);
		const secondData = inflateRawSync(bytes.subarray(second.local.dataOffset, second.local.dataOffset + second.compressedSize));
		expect(crc32(secondData)).toBe(second.crc);
		const script = 'import io, sys, zipfile\ntry:\n    print(zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read())).testzip())\nexcept Exception as e:\n    print("error", type(e).__name__)';
		expect((await runPythonBytes(script, bytes)).trim()).not.toBe('None');
	});

	test('truncated: a clean 200 that stops after about half the entries, no end record', async () => {
		const whole = readZipStructure((await download(unicodeProject())).bytes).entries.length;
		standin.configure({ zipQuirk: 'truncated' });
		const { status, bytes } = await download(unicodeProject());
		expect(status).toBe(200);
		expect(() => readZipStructure(bytes)).toThrow(/end of central directory/);
		expect(walkLocalHeaders(bytes)).toHaveLength(Math.ceil(whole / 2));
	});

	test('zip-slip: entries named ../../evil.md and /abs.md', async () => {
		standin.configure({ zipQuirk: 'zip-slip' });
		const names = readZipStructure((await download(unicodeProject())).bytes).entries.map((e) => e.name);
		expect(names).toEqual(expect.arrayContaining(['../../evil.md', '/abs.md']));
		expect(names.indexOf('../../evil.md')).toBe(1);
	});

	test('bomb: tiny compressed, inflates to zipBombBytes zeros (honest headers), or lies about its size', async () => {
		const size = 48 * 1024 * 1024 + 123;
		standin.configure({ zipQuirk: 'bomb', zipBombBytes: size });
		const { bytes } = await download(unicodeProject());
		const bomb = readZipStructure(bytes).entries.find((e) => e.name.includes('_Bomb_'))!;
		expect(bomb.size).toBe(size);
		expect(bomb.compressedSize).toBeLessThan(size / 500);
		const data = inflateRawSync(bytes.subarray(bomb.local.dataOffset, bomb.local.dataOffset + bomb.compressedSize));
		expect(data.length).toBe(size);
		expect(data.every((byte) => byte === 0)).toBe(true);
		expect(crc32(data)).toBe(bomb.crc);

		standin.configure({ zipBombDeclaredBytes: 1000 });
		const lying = readZipStructure((await download(unicodeProject())).bytes).entries.find((e) => e.name.includes('_Bomb_'))!;
		expect([lying.size, lying.local.size]).toEqual([1000, 1000]);
	});

	test('many-entries: 70,000 extra entries make it ZIP64, like Python past 65,535', async () => {
		standin.configure({ zipQuirk: 'many-entries' });
		const { bytes } = await download(unicodeProject());
		const structure = readZipStructure(bytes);
		expect(structure.zip64).toBe(true);
		expect(structure.endRecordCount).toBe(0xffff);
		const regular = standin.conversations(unicodeProject()).filter((c) => standin.zipFileBody(c.id) !== null).length;
		expect(structure.entries).toHaveLength(regular + 70_000);
		const count = await runPythonBytes('import io, sys, zipfile\nprint(len(zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read())).namelist()))', bytes);
		expect(Number(count)).toBe(regular + 70_000);
	});

	test('the reset fault cuts the stream after part of the archive', async () => {
		standin.configure({ faults: [{ request: 1, kind: 'reset', path: '/transcripts' }] });
		await expect(download(unicodeProject())).rejects.toThrow();
		expect((await download(unicodeProject())).status).toBe(200);
	});
});

/** `runPython` with binary stdin (base64 through the text channel). */
async function runPythonBytes(script: string, bytes: Buffer): Promise<string> {
	const wrapped = `import base64, io, sys\nsys.stdin = io.TextIOWrapper(io.BytesIO(base64.b64decode(sys.stdin.read())))\n${script}`;
	return runPython(wrapped, bytes.toString('base64'));
}
