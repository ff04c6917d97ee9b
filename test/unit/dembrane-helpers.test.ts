import {
	fileNameFromDisposition,
	missingFromZip,
	transcriptFileNameOf,
	zipCanBeNamed,
	zipDownloadName,
	zipFileMayBeCut,
} from '../../nodes/DembraneEcho/actions/project/exportTranscripts.operation';
import { transcriptText } from '../../nodes/DembraneEcho/helpers/api';
import { dashboardUrl, emailLocalPart, reportTitle, simplifyConversation, tagTexts } from '../../nodes/DembraneEcho/helpers/conversation';
import { fileNameTime, parseTranscriptFileName } from '../../nodes/DembraneEcho/helpers/transcriptFiles';
import { apiPath } from '../../nodes/DembraneEcho/transport';
import { isLatin1, transcriptEntryName, zipDownloadName as standinZipName } from '../standins/dembrane/fileNames';

describe('transcript file names', () => {
	test.each([
		['20250304_101530_Jane_Smith_jane_smith_3f2a9c1e-transcript.md', '2025-03-04T10:15:30Z', 'Jane_Smith_jane_smith', '3f2a9c1e'],
		['20250305_090000_Zoë_Müller_Łukasz_zoe_a1b2c3d4-transcript.md', '2025-03-05T09:00:00Z', 'Zoë_Müller_Łukasz_zoe', 'a1b2c3d4'],
		['20250306_120000_山田_太郎_deadbeef-transcript.md', '2025-03-06T12:00:00Z', '山田_太郎', 'deadbeef'],
		['20250307_000000_ffffffff-transcript.md', '2025-03-07T00:00:00Z', '', 'ffffffff'],
	])('%s', (name, recordedAt, participantPart, prefix) => {
		expect(parseTranscriptFileName(name)).toEqual({ fileName: name, recordedAt, participantPart, conversationIdPrefix: prefix });
	});

	test('an unexpected name keeps its text and no parsed parts', () => {
		expect(parseTranscriptFileName('notes.md')).toEqual({ fileName: 'notes.md', recordedAt: null, participantPart: '', conversationIdPrefix: null });
	});

	test('created_at as it appears in file names: UTC, whole seconds, any zone spelling', () => {
		expect(fileNameTime('2025-03-04T10:15:30.999+00:00')).toBe('2025-03-04T10:15:30Z');
		expect(fileNameTime('2025-03-04T11:15:30+01:00')).toBe('2025-03-04T10:15:30Z');
		expect(fileNameTime('2025-03-04T10:15:30')).toBe('2025-03-04T10:15:30Z');
		expect(fileNameTime(null)).toBeNull();
	});
});

test('Content-Disposition file names', () => {
	expect(fileNameFromDisposition('attachment; filename="My_Project_transcripts.zip"', 'x.zip')).toBe('My_Project_transcripts.zip');
	expect(fileNameFromDisposition("attachment; filename*=UTF-8''St%C3%A4dte_transcripts.zip", 'x.zip')).toBe('Städte_transcripts.zip');
	expect(fileNameFromDisposition('attachment; filename=plain.zip', 'x.zip')).toBe('plain.zip');
	expect(fileNameFromDisposition(undefined, 'x.zip')).toBe('x.zip');
	// A project named 'Workshop "Future City"': Starlette does not escape the quotes.
	expect(fileNameFromDisposition('attachment; filename="Workshop_"Future_City"_transcripts.zip"', 'x.zip')).toBe('Workshop_"Future_City"_transcripts.zip');
	expect(fileNameFromDisposition('attachment; filename="a"b.zip"; size=3', 'x.zip')).toBe('a"b.zip');
});

describe("what the zip holds of a conversation (first 1,000 conversations, first 100 chunks)", () => {
	const lines = (n: number) => Buffer.from('a line\n'.repeat(n));

	test('with count(chunks): cut short exactly when there are more than 100 chunks', () => {
		expect(zipFileMayBeCut({ chunks_count: 150 }, lines(90))).toBe(true);
		expect(zipFileMayBeCut({ chunks_count: '101' }, lines(101))).toBe(true);
		expect(zipFileMayBeCut({ chunks_count: 100 }, lines(100))).toBe(false);
		expect(zipFileMayBeCut({ chunks_count: 3 }, lines(400))).toBe(false);
	});

	test('a server that ignored count(chunks): a file of 100 or more lines may be cut short', () => {
		expect(zipFileMayBeCut({ id: 'x' }, lines(100))).toBe(true);
		expect(zipFileMayBeCut({ id: 'x' }, lines(250))).toBe(true);
		expect(zipFileMayBeCut({ id: 'x' }, lines(99))).toBe(false);
		expect(zipFileMayBeCut({ chunks_count: null }, lines(99))).toBe(false);
	});

	test('a conversation absent from the zip is fetched when it has a transcript, or may have one', () => {
		expect(missingFromZip({ has_transcript: true, chunks_count: 2 }, 10)).toBe(true);
		expect(missingFromZip({ has_transcript: false, chunks_count: 500 }, 5000)).toBe(false);
		// Without has_transcript: only past the conversation cap or the chunk cap can the zip have left one out.
		expect(missingFromZip({ chunks_count: 20 }, 10)).toBe(false);
		expect(missingFromZip({ chunks_count: 120 }, 10)).toBe(true);
		expect(missingFromZip({ chunks_count: 20 }, 1001)).toBe(true);
		expect(missingFromZip({}, 10)).toBe(true);
		// No chunk, no transcript, however many conversations.
		expect(missingFromZip({ chunks_count: 0 }, 5000)).toBe(false);
		expect(missingFromZip({ chunks_count: '0' }, Infinity)).toBe(false);
	});
});

test('zip names follow dembrane (the stand-in): download name, Latin-1 rule, entry names of fetched transcripts', () => {
	for (const name of ["Stadtgespräch / Zoë's Café 2025", 'a\\b c', 'Опрос жителей', '東京 2025', 'Emoji 👋', 'Ÿ€']) {
		expect(zipDownloadName(name)).toBe(standinZipName(name));
		expect(zipCanBeNamed(name)).toBe(isLatin1(standinZipName(name)));
	}
	expect(zipCanBeNamed('Ærøskøbing Café')).toBe(true);
	expect(zipCanBeNamed('Опрос')).toBe(false);
	const rows = [
		{ id: '3f2a9c1e-0000-4000-8000-000000000001', created_at: '2025-03-04T10:15:30.123Z', participant_name: 'Jane Smith', participant_email: 'jane.smith@example.com' },
		{ id: 'a1b2c3d4-0000-4000-8000-000000000002', created_at: '2025-03-05T09:00:00Z', participant_name: ' Zoë  Müller-Łukasz!! ', participant_email: 'a@x, b@y' },
		{ id: 'deadbeef-0000-4000-8000-000000000003', created_at: '2025-03-06T12:00:00Z', participant_name: null, participant_email: null },
		{ id: 'cafebabe-0000-4000-8000-000000000004', created_at: '2025-03-06T12:00:00Z', participant_name: 'Ein sehr langer Name, der über fünfzig Zeichen hinausgeht und abgeschnitten wird', participant_email: '🙂@x' },
	];
	for (const row of rows) expect(transcriptFileNameOf(row)).toBe(transcriptEntryName(row));
});

test('a transcript is the same text as a JSON string (production) or plain text (docs)', () => {
	const text = 'line one\nline "two" 👋';
	expect(transcriptText(JSON.stringify(text), 'application/json')).toBe(text);
	expect(transcriptText(text, 'text/plain; charset=utf-8')).toBe(text);
	expect(transcriptText('""', 'application/json')).toBe('');
	expect(transcriptText('', 'text/plain')).toBe('');
	expect(transcriptText('"123"', 'text/plain')).toBe('"123"');
	// A route that returns None in FastAPI answers JSON null: no transcript, not the word "null".
	expect(transcriptText('null', 'application/json')).toBe('');
});

test('ids are single encoded path segments', () => {
	expect(apiPath`/api/projects/${'../x'}/transcripts`).toBe('/api/projects/..%2Fx/transcripts');
	expect(apiPath`/api/projects/${'a b'}/reports/${42}/detail`).toBe('/api/projects/a%20b/reports/42/detail');
	// URL parsing resolves "." and ".." (and %2e%2e) however they are encoded: such an id would reach another route.
	expect(() => apiPath`/api/conversations/${'..'}/transcript`).toThrow('".." is not an ID');
	expect(() => apiPath`/api/projects/${'p'}/reports/${'.'}/detail`).toThrow('"." is not an ID');
	expect(apiPath`/api/conversations/${'...'}/transcript`).toBe('/api/conversations/.../transcript');
});

test('conversation rows for spreadsheets', () => {
	const row = {
		id: 'c1',
		project_id: 'p1',
		participant_email: 'jane@example.com',
		duration: 245.0,
		tags: [{ id: 't', conversation_id: 'c1', project_tag_id: { id: 'pt', text: 'Mobility' } }, { project_tag_id: { text: 'Bikes' } }],
	};
	expect(tagTexts(row)).toEqual(['Mobility', 'Bikes']);
	const simple = simplifyConversation(row, dashboardUrl('https://dash.example/', 'w1', 'p1', 'c1'));
	expect(simple).toEqual(expect.objectContaining({ tags: 'Mobility, Bikes', duration_minutes: 4.08, dashboard_url: 'https://dash.example/w/w1/projects/p1/conversations/c1/overview' }));
	expect(emailLocalPart('a@x.org, b@y.org')).toBe('a');
	expect(dashboardUrl('https://dash.example', undefined, 'p', 'c')).toBeNull();
});

test('report titles come from the first # heading', () => {
	expect(reportTitle('intro\n# Findings of May\n## detail')).toBe('Findings of May');
	expect(reportTitle('no heading')).toBeNull();
	// Like dembrane's own title (Python re, MULTILINE): a trailing # is text, \s+ may cross a line break.
	expect(reportTitle('# Notes on C#\nbody')).toBe('Notes on C#');
	expect(reportTitle('#\nTitle on the next line')).toBe('Title on the next line');
	expect(reportTitle(null)).toBeNull();
});
