import type { IBinaryData, IDataObject, IExecuteFunctions, INode, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { binaryBytes, warnIfHeldInMemory } from '../../../shared/binaryData';
import { mapConcurrently } from '../../../shared/concurrency';
import { apiError, serverMessage, toNodeError } from '../../../shared/errors';
import { numberParameter, outputBinaryField } from '../../../shared/parameters';
import type { ZipLimits } from '../../../shared/zip';
import { readZipEntries, ZipReadError } from '../../../shared/zip';
import { dashboardContext, listConversations, projectDetails, projectIdOf, projectNotFoundError, readTranscript, TRANSCRIPT_FETCHES_AT_ONCE } from '../../helpers/api';
import { dashboardUrl, emailLocalPart, tagTexts } from '../../helpers/conversation';
import { fileNameTime, parseTranscriptFileName } from '../../helpers/transcriptFiles';
import { apiPath, dembraneGaveUp, dembraneStreamedGet } from '../../transport';
import { projectLocator } from '../common.descriptions';

const showFor = { resource: ['project'], operation: ['exportTranscripts'] };

export const description: INodeProperties[] = [
	{ ...projectLocator, displayOptions: { show: showFor } },
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		displayOptions: { show: showFor },
		options: [
			{
				name: 'One Item per Conversation',
				value: 'conversations',
				description: 'Each conversation\'s transcript as an item with its text and details',
			},
			{ name: 'Zip File', value: 'zip', description: 'The zip as one binary file, as dembrane sends it' },
		],
		default: 'conversations',
	},
	{
		displayName: 'Put Output File in Field',
		name: 'binaryPropertyName',
		type: 'string',
		displayOptions: { show: { ...showFor, output: ['zip'] } },
		default: 'data',
		hint: 'The name of the output binary field to put the file in',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		displayOptions: { show: showFor },
		default: {},
		options: [
			{
				displayName: 'Fail If No Transcripts',
				name: 'failIfEmpty',
				type: 'boolean',
				validateType: 'boolean',
				default: false,
				description:
					'Whether a project without transcripts fails the node. Off: it returns no items and a notice.',
			},
			{
				displayName: 'Fetch Transcripts Beyond the Zip Limit',
				name: 'completeBeyondZipLimit',
				type: 'boolean',
				validateType: 'boolean',
				default: true,
				displayOptions: { show: { '/output': ['conversations'] } },
				description:
					'Whether to fetch, one by one, the transcripts the zip holds only in part or not at all. dembrane\'s zip holds the first 1,000 conversations of a project and the first 100 chunks of each (a conversation with no transcribed chunk among those is left out). Only those conversations are fetched. Needs Match Conversation Details (on unless turned off).',
			},
			{
				displayName: 'Include Files as Binary',
				name: 'includeFiles',
				type: 'boolean',
				validateType: 'boolean',
				default: false,
				displayOptions: { show: { '/output': ['conversations'] } },
				description: 'Whether to add each transcript file as binary data (field "data") next to its text',
			},
			{
				displayName: 'Match Conversation Details',
				name: 'matchDetails',
				type: 'boolean',
				validateType: 'boolean',
				default: true,
				displayOptions: { show: { '/output': ['conversations'] } },
				description:
					'Whether to join each file to its conversation (full ID, participant, e-mail, tags, duration, summary) from the conversation list. File names alone carry only an 8-character ID prefix.',
			},
			{
				displayName: 'Max Files',
				name: 'maxEntries',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 100000,
				displayOptions: { show: { '/output': ['conversations'] } },
				description: 'A zip with more files than this is refused (protects n8n from malformed or hostile zips)',
			},
			{
				displayName: 'Max Unzipped Size (MB)',
				name: 'maxTotalMegabytes',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 1024,
				displayOptions: { show: { '/output': ['conversations'] } },
				description: 'A zip that unpacks to more than this is refused (zip bombs)',
			},
		],
	},
];

/** dembrane's zip route includes at most this many conversations (the first by id). */
export const ZIP_CONVERSATION_LIMIT = 1000;
/** ...and of each only the first this many chunks (Directus' default limit of a nested list). */
export const ZIP_CHUNK_LIMIT = 100;

/**
 * Listing fields for the join: what the items show, plus the chunk count that tells whether the zip cut a
 * file short. Named one by one, only fields dembrane's own default list has (Directus refuses a field the
 * collection lacks, and `*` would bring every column). `is_finished` and `is_over_cap` are what dembrane
 * decides a row's lock on (bff/conversations.py `_conversation_lock`): without `is_finished`, a Free
 * workspace over its hours cap has every conversation taken for still recording, locked, summary withheld.
 */
const DETAIL_FIELDS = 'id,created_at,participant_name,participant_email,title,summary,duration,is_finished,is_over_cap,count(chunks)';
/** Without the join only the zip's match key and the chunk count are needed. */
const LEAN_FIELDS = 'id,created_at,count(chunks)';

interface ExportOptions {
	completeBeyondZipLimit?: boolean;
	failIfEmpty?: boolean;
	includeFiles?: boolean;
	matchDetails?: boolean;
	maxEntries?: number;
	maxTotalMegabytes?: number;
}

interface TranscriptFile {
	/** The zip's entry name, or the name the zip would give (for the binary file). */
	name: string;
	data: Buffer;
	/** Null when the file does not come from the zip. */
	fileName: string | null;
	source: 'zip' | 'transcript';
	/** The listing row, when it is known without matching by name. */
	row?: IDataObject;
}

/** `attachment; filename="My_Project_transcripts.zip"` → the file name. */
export function fileNameFromDisposition(header: unknown, fallback: string): string {
	const value = Array.isArray(header) ? header[0] : header;
	if (typeof value !== 'string') return fallback;
	const encoded = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(value);
	if (encoded) {
		try {
			return decodeURIComponent(encoded[1].trim());
		} catch {
			// fall through to the plain form
		}
	}
	// Starlette puts the name between quotes without escaping, so a quote in a project name is part of the
	// name: it runs to the last quote before the end of the header (or the next parameter).
	const plain = /filename\s*=\s*"(.*)"\s*(?:;\s*[\w*-]+\s*=|$)|filename\s*=\s*([^;]+)/i.exec(value);
	const name = (plain?.[1] ?? plain?.[2] ?? '').trim();
	return name || fallback;
}

/** The zip's download name as dembrane builds it: `/`, `\` and spaces become `_`. */
export function zipDownloadName(projectName: string): string {
	return `${projectName.replace(/[/\\ ]/g, '_')}_transcripts.zip`;
}

/**
 * Whether dembrane can send the zip of a project with this name: the name goes into the
 * Content-Disposition header, which Starlette encodes as Latin-1, so any other character makes the
 * route answer 500 every time.
 */
export function zipCanBeNamed(projectName: string): boolean {
	for (const character of zipDownloadName(projectName)) if (character.codePointAt(0)! > 0xff) return false;
	return true;
}

/** One part of a zip entry name, as dembrane makes it: non-alphanumerics to `_`, runs collapsed, edges trimmed, then cut. */
function fileNamePart(text: unknown, maxLength: number): string {
	if (typeof text !== 'string') return '';
	const collapsed = text.replace(/[^\p{L}\p{N}]/gu, '_').split('_').filter((piece) => piece !== '').join('_');
	return Array.from(collapsed).slice(0, maxLength).join('');
}

/** The entry name dembrane's zip gives a conversation, so fetched transcripts carry the same parts. */
export function transcriptFileNameOf(row: IDataObject): string {
	const id = String(row.id);
	const time = fileNameTime(row.created_at as string | undefined);
	const parts = [
		time ? time.replace(/[-:]/g, '').replace('T', '_').replace('Z', '') : '',
		fileNamePart(row.participant_name, 50),
		typeof row.participant_email === 'string' ? fileNamePart(row.participant_email.split('@')[0], 30) : '',
		Array.from(id).slice(0, 8).join(''),
	];
	return `${parts.filter((part) => part !== '').join('_')}-transcript.md`;
}

/** `count(chunks)` of a listing row; undefined when the server did not apply the field function. */
function chunkCountOf(row: IDataObject | undefined): number | undefined {
	const value = row?.chunks_count;
	// Directus may send counts as numeric strings (Postgres bigint).
	const count = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
	return Number.isFinite(count) ? count : undefined;
}

/**
 * Whether the zip's file of this conversation may hold only part of its transcript: it has more chunks
 * than the zip takes, or (count unknown) the file has as many lines as the zip's chunk limit.
 */
export function zipFileMayBeCut(row: IDataObject | undefined, data: Buffer): boolean {
	const count = chunkCountOf(row);
	if (count !== undefined) return count > ZIP_CHUNK_LIMIT;
	let lines = 0;
	for (let at = data.indexOf(10); at !== -1 && lines < ZIP_CHUNK_LIMIT; at = data.indexOf(10, at + 1)) lines++;
	return lines >= ZIP_CHUNK_LIMIT;
}

/**
 * Whether a conversation absent from the zip has a transcript the zip left out. dembrane adds
 * `has_transcript` to every row; without it, a conversation past the first 1,000 or with more chunks
 * than the zip reads may have one.
 */
export function missingFromZip(row: IDataObject, conversationCount: number): boolean {
	if (typeof row.has_transcript === 'boolean') return row.has_transcript;
	const count = chunkCountOf(row);
	if (count === 0) return false; // no chunk, no transcript
	return conversationCount > ZIP_CONVERSATION_LIMIT || count === undefined || count > ZIP_CHUNK_LIMIT;
}

const matchKey = (prefix: unknown, time: string | null) => `${String(prefix).slice(0, 8)}|${time}`;
const rowKey = (row: IDataObject) => matchKey(row.id, fileNameTime(row.created_at as string | undefined));

/** The stored file's size: n8n 2.x says it (`bytes`); n8n 1.x only in the file's metadata or as base64. */
async function storedBytes(this: IExecuteFunctions, binary: IBinaryData): Promise<number | null> {
	if (binary.id && typeof binary.bytes !== 'number') return (await this.helpers.getBinaryMetadata(binary.id)).fileSize ?? null;
	return binaryBytes(binary) ?? null;
}

/**
 * Joins each zip file to its listing row (`file.row`) by ID prefix and time, and returns the rows the zip
 * holds. A file whose time does not match its row's (dembrane names a file with the current time when
 * created_at is empty) still belongs to the one unmatched row with its ID prefix; such rows are in the
 * zip either way, and fetching them too would give their transcript twice.
 */
function matchFilesToRows(files: TranscriptFile[], rows: IDataObject[]): Set<IDataObject> {
	// Rows of one key (same ID prefix and second) give files of one name, in the zip's order: by id.
	const byKey = new Map<string, IDataObject[]>();
	for (const row of [...rows].sort(byConversationId)) {
		const key = rowKey(row);
		const sameKey = byKey.get(key);
		if (sameKey) sameKey.push(row);
		else byKey.set(key, [row]);
	}
	const inZip = new Set<IDataObject>();
	const unmatched: Array<{ file: TranscriptFile; prefix: string }> = [];
	for (const file of files) {
		const parsed = parseTranscriptFileName(file.name);
		file.row = byKey.get(matchKey(parsed.conversationIdPrefix, parsed.recordedAt))?.find((row) => !inZip.has(row));
		if (file.row) inZip.add(file.row);
		else unmatched.push({ file, prefix: String(parsed.conversationIdPrefix) });
	}
	const byPrefix = new Map<string, IDataObject[]>();
	for (const row of rows) {
		if (inZip.has(row)) continue;
		const prefix = String(row.id).slice(0, 8);
		byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), row]);
	}
	for (const { file, prefix } of unmatched) {
		const candidates = byPrefix.get(prefix) ?? [];
		if (candidates.length === 1 && !inZip.has(candidates[0])) file.row = candidates[0];
		for (const row of candidates) inZip.add(row);
	}
	return inZip;
}

/** A conversation's whole transcript as the zip would hold it; null when gone or empty. */
async function fetchTranscript(this: IExecuteFunctions, conversationId: string): Promise<Buffer | null> {
	const text = await readTranscript.call(this, conversationId, { acceptNotFound: true });
	if (text === null) return null;
	// The zip ends every chunk with a newline, the transcript route joins chunks with one: one more
	// newline makes the same text either way.
	return text === '' ? null : Buffer.from(`${text}\n`, 'utf8');
}

/**
 * Whole transcripts of these conversations, in their order (null: gone or empty). A few at a time: each
 * is a round trip, and a project past the zip's limits may need thousands (dembrane sets no rate limit).
 */
async function fetchTranscripts(this: IExecuteFunctions, rows: IDataObject[]): Promise<Array<Buffer | null>> {
	return await mapConcurrently(rows, TRANSCRIPT_FETCHES_AT_ONCE, async (row) => await fetchTranscript.call(this, String(row.id)));
}

/** Files of these conversations' whole transcripts, read one by one; those gone or empty are left out. */
async function transcriptFilesOf(this: IExecuteFunctions, rows: IDataObject[]): Promise<TranscriptFile[]> {
	const wholes = await fetchTranscripts.call(this, rows);
	const files: TranscriptFile[] = [];
	rows.forEach((row, index) => {
		const whole = wholes[index];
		if (whole !== null) files.push({ name: transcriptFileNameOf(row), data: whole, fileName: null, source: 'transcript', row });
	});
	return files;
}

/**
 * A project without transcripts: no items and a notice, or an error when the user asked for one. `zip404`:
 * dembrane's zip said so (a 404); otherwise the listing and the transcripts read one by one did.
 * `beyondZip`: conversations the listing shows with a transcript that the zip does not read.
 */
function noTranscripts(
	this: IExecuteFunctions,
	projectId: string,
	detail: string,
	options: { failIfEmpty?: boolean; zip404?: boolean; beyondZip?: number },
	itemIndex: number,
): INodeExecutionData[] {
	const beyondZip = options.beyondZip ?? 0;
	const why =
		beyondZip > 0
			? `dembrane's zip reads the first ${ZIP_CHUNK_LIMIT} chunks of the first ${ZIP_CONVERSATION_LIMIT.toLocaleString('en-US')} conversations and found no transcript there, but ${beyondZip} conversation${beyondZip === 1 ? ' has' : 's have'} one. Set Output to "One Item per Conversation" with "Match Conversation Details" and "Fetch Transcripts Beyond the Zip Limit" on to get ${beyondZip === 1 ? 'it' : 'them'}.`
			: 'The project has no transcribed conversations yet.';
	if (options.failIfEmpty) {
		const description = `${why} Turn off "Fail If No Transcripts" to get no items instead.`;
		if (options.zip404) throw apiError(this.getNode(), { message: `dembrane answered 404 for project ${projectId}: ${detail}`, description, httpCode: 404 }, itemIndex);
		throw new NodeOperationError(this.getNode(), `Project ${projectId} has no transcripts: ${detail}`, { description, itemIndex });
	}
	const message = beyondZip > 0 ? `Project ${projectId}: ${why}` : `Project ${projectId}: ${detail}`;
	this.addExecutionHints({ message, type: beyondZip > 0 ? 'warning' : 'info', location: 'outputPane' });
	return [];
}

/** The zip said "No conversations found" while the list has some: its database query failed. */
function zipQueryFailed(node: INode, projectId: string, listed: number, itemIndex: number): NodeApiError {
	return apiError(node, {
		message: `dembrane's zip of project ${projectId} answered "No conversations found", but its list has ${listed}`,
		description:
			'dembrane answers so when the database query behind the zip fails (a large project, or a busy server). Run the node again later, or set Output to "One Item per Conversation" with "Match Conversation Details" and "Fetch Transcripts Beyond the Zip Limit" on, which reads transcripts the zip does not give one by one.',
		httpCode: 404,
	}, itemIndex);
}

/** The zip's order of conversations: by id (Directus' default order, by primary key). */
const byConversationId = (a: IDataObject, b: IDataObject) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0);

/**
 * What dembrane's zip leaves out, judged from the listing alone: conversations with a transcript past its
 * first 1,000 (by id), and those among them with more chunks than it reads.
 */
function zipShortfall(rows: IDataObject[]): { missing: number; mayBeCut: number } {
	const byId = [...rows].sort(byConversationId);
	const missing = byId.slice(ZIP_CONVERSATION_LIMIT).filter((row) => row.has_transcript === true).length;
	const mayBeCut = byId.slice(0, ZIP_CONVERSATION_LIMIT).filter((row) => (chunkCountOf(row) ?? 0) > ZIP_CHUNK_LIMIT).length;
	return { missing, mayBeCut };
}

/**
 * The zip route: dembrane builds the whole zip before the first byte, behind a proxy that gives up at 600 s
 * (a 504). The request waits a little longer, so the proxy's answer arrives; a failure is asked again once
 * (a busy server), not five times (an hour for a project too large to zip in time).
 */
function zipRequest(projectId: string) {
	return { path: apiPath`/api/projects/${projectId}/transcripts`, acceptStatuses: [404], timeoutMs: 620_000, maxAttempts: 2 };
}

/** What the zip route gave: its 404 message, the zip as a binary, or its files. */
type ZipDownload = { notFound: string } | { fileName: string; binary: IBinaryData } | { files: TranscriptFile[] };

/** The zip's files as they stream in. */
async function readTranscriptZip(body: AsyncIterable<Uint8Array>, limits: ZipLimits): Promise<TranscriptFile[]> {
	const files: TranscriptFile[] = [];
	for await (const entry of readZipEntries(body, limits)) {
		files.push({ name: entry.name, data: entry.data, fileName: entry.name, source: 'zip' });
	}
	return files;
}

/** A zip the limits or a check refuse: final, not asked for again. */
function zipRefused(node: INode, error: unknown, projectId: string, itemIndex: number): NodeOperationError | undefined {
	if (!(error instanceof ZipReadError)) return undefined;
	return new NodeOperationError(node, `The transcript zip of project ${projectId} was refused: ${error.message}`, {
		itemIndex,
		description:
			error.problem === 'too-many-entries' || error.problem === 'too-large'
				? 'If the project really is this large, raise "Max Files" or "Max Unzipped Size" in the options.'
				: 'No items were returned. Run the node again; if it keeps failing, download the zip with Output "Zip File" and check it.',
	});
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const projectId = projectIdOf.call(this, itemIndex);
	const output = this.getNodeParameter('output', itemIndex) as 'conversations' | 'zip';
	const options = this.getNodeParameter('options', itemIndex, {}) as ExportOptions;
	const matchDetails = options.matchDetails !== false;
	const complete = matchDetails && options.completeBeyondZipLimit !== false;
	// Checked before any request: a blank field name found after the download would waste it.
	const binaryPropertyName = output === 'zip' ? outputBinaryField.call(this, itemIndex) : undefined;

	// Read first, so a zip dembrane cannot name is never asked for (a 500 after every retry otherwise).
	const project = await projectDetails.call(this, projectId);
	if (typeof project?.name === 'string' && !zipCanBeNamed(project.name)) {
		if (output === 'zip') {
			throw new NodeOperationError(node, `dembrane cannot send the zip of project ${projectId}: its name "${project.name}" has characters outside Latin-1`, {
				itemIndex,
				description:
					'dembrane puts the project name into the download\'s file name and fails on such characters. Rename the project in dembrane so its name has only Latin-1 characters (Western European letters, digits, punctuation), or set Output to "One Item per Conversation", which reads the transcripts one by one.',
			});
		}
		return await exportWithoutZip.call(this, projectId, project, options, itemIndex);
	}

	const limits: ZipLimits = {
		maxEntries: numberParameter(node, options.maxEntries ?? 100000, 'Max Files', { min: 1, itemIndex }),
		maxTotalBytes: numberParameter(node, options.maxTotalMegabytes ?? 1024, 'Max Unzipped Size (MB)', { min: 1, whole: false, itemIndex }) * 1024 * 1024,
	};
	// Read to its end inside the download, so a zip that breaks off on the way is asked for again whole.
	let download: ZipDownload;
	try {
		download = await (dembraneStreamedGet<ZipDownload>).call(this, zipRequest(projectId), async (response) => {
			if (response.statusCode === 404) return { notFound: serverMessage(response.body) ?? 'Not found' };
			if (binaryPropertyName !== undefined) {
				const fileName = fileNameFromDisposition(response.headers['content-disposition'], `${projectId}_transcripts.zip`);
				return { fileName, binary: await this.helpers.prepareBinaryData(response.body as never, fileName, 'application/zip') };
			}
			return { files: await readTranscriptZip(response.body as AsyncIterable<Uint8Array>, limits) };
		}, { itemIndex, refusal: (error) => zipRefused(node, error, projectId, itemIndex) });
	} catch (error) {
		// The zip route itself kept failing (a 5xx, no answer in time, a body that kept breaking off): the
		// transcripts can still be read one by one.
		if (!dembraneGaveUp(error)) throw toNodeError(node, error, itemIndex);
		if (output === 'zip') {
			throw apiError(node, {
				message: (error as NodeApiError).message,
				description:
					'dembrane builds the whole zip before it sends it, and its proxy gives up after 10 minutes: a large project can fail this way every time. Set Output to "One Item per Conversation", which then reads the transcripts one by one.',
				httpCode: Number((error as NodeApiError).httpCode) || undefined,
			}, itemIndex);
		}
		this.addExecutionHints({
			message: `Project ${projectId}: dembrane's zip route failed (${(error as NodeApiError).message}), so the transcripts were read one by one.`,
			type: 'warning',
			location: 'outputPane',
		});
		return await exportWithoutZip.call(this, projectId, project ?? {}, options, itemIndex);
	}
	let emptyDetail: string | undefined;
	let zipSaidNoConversations = false;
	if ('notFound' in download) {
		const detail = download.notFound;
		if (!/no (transcripts|conversations)/i.test(detail)) throw projectNotFoundError(node, projectId, detail, itemIndex);
		// "No transcripts" judges only what the zip would read: the listing may still show transcripts. "No
		// conversations" is also dembrane's answer when the zip's database query failed (it answers as if empty).
		const failedZip = /no conversations/i.test(detail);
		if (output === 'zip' || !complete) {
			const rows = await listConversations.call(this, projectId, { fields: LEAN_FIELDS });
			if (failedZip && rows.length > 0) throw zipQueryFailed(node, projectId, rows.length, itemIndex);
			const beyondZip = rows.filter((row) => row.has_transcript === true).length;
			return noTranscripts.call(this, projectId, detail, { failIfEmpty: options.failIfEmpty, zip404: true, beyondZip }, itemIndex);
		}
		emptyDetail = detail;
		zipSaidNoConversations = failedZip;
	}

	if ('binary' in download && binaryPropertyName !== undefined) {
		const { fileName, binary } = download;
		warnIfHeldInMemory.call(this, binary, `The zip of project ${projectId}`);
		const { missing, mayBeCut } = zipShortfall(await listConversations.call(this, projectId, { fields: LEAN_FIELDS }));
		if (missing > 0 || mayBeCut > 0) {
			const problems = [
				missing > 0 ? `${missing} conversation${missing === 1 ? '' : 's'} with a transcript ${missing === 1 ? 'is' : 'are'} not in it (it holds the first ${ZIP_CONVERSATION_LIMIT.toLocaleString('en-US')})` : '',
				mayBeCut > 0 ? `${mayBeCut} may be cut short or left out (it holds the first ${ZIP_CHUNK_LIMIT} chunks of each)` : '',
			].filter(Boolean);
			this.addExecutionHints({
				message: `Project ${projectId}: dembrane's zip is incomplete: ${problems.join('; ')}. Set Output to "One Item per Conversation" to get every transcript whole.`,
				type: 'warning',
				location: 'outputPane',
			});
		}
		return [{ json: { projectId, fileName, bytes: await storedBytes.call(this, binary), fileSize: binary.fileSize ?? null }, binary: { [binaryPropertyName]: binary }, pairedItem: { item: itemIndex } }];
	}

	const files: TranscriptFile[] = emptyDetail === undefined && 'files' in download ? download.files : [];

	// The chunk count and has_transcript of each row tell which files the zip cut short or left out,
	// so only those conversations are fetched one by one.
	const rows = await listConversations.call(this, projectId, matchDetails ? { include_tags: true, fields: DETAIL_FIELDS } : { fields: LEAN_FIELDS });
	const inZip = matchFilesToRows(files, rows);
	const cut = files.filter((file) => file.row !== undefined && zipFileMayBeCut(file.row, file.data));
	// dembrane's list says has_transcript false for every row when the query behind that flag fails: a row
	// whose transcript is in the zip says so, and then no row's flag is taken at its word.
	const flagsFailed = files.some((file) => file.row?.has_transcript === false);
	const missing = zipSaidNoConversations
		? // The zip's own query failed: it says nothing of any conversation, and the flags may have failed with it.
			rows.filter((row) => row.has_transcript === true || missingFromZip({ ...row, has_transcript: undefined }, Infinity))
		: rows.filter((row) => !inZip.has(row) && missingFromZip(flagsFailed ? { ...row, has_transcript: undefined } : row, rows.length));

	if (!complete) {
		const problems = [
			cut.length > 0 ? `${cut.length} transcript${cut.length === 1 ? '' : 's'} may be cut short (the zip holds the first ${ZIP_CHUNK_LIMIT} chunks of a conversation)` : '',
			missing.length > 0
				? `${missing.length} conversation${missing.length === 1 ? '' : 's'} with a transcript may be missing (the zip holds the first ${ZIP_CONVERSATION_LIMIT.toLocaleString('en-US')} conversations, and none whose first ${ZIP_CHUNK_LIMIT} chunks lack a transcript)`
				: '',
		].filter(Boolean);
		if (problems.length > 0) {
			this.addExecutionHints({
				message: `Project ${projectId}: ${problems.join('; ')}. Turn on "Match Conversation Details" and "Fetch Transcripts Beyond the Zip Limit" to fetch them whole.`,
				type: 'warning',
				location: 'outputPane',
			});
		}
	} else {
		const wholeOfCut = await fetchTranscripts.call(this, cut.map((file) => file.row!));
		cut.forEach((file, index) => {
			const whole = wholeOfCut[index];
			if (whole === null) return; // gone since the zip was made: keep what the zip has
			file.data = whole;
			file.source = 'transcript';
		});
		for (const file of await transcriptFilesOf.call(this, missing)) files.push(file);
	}
	if (zipSaidNoConversations && rows.length > 0) {
		if (files.length > 0) {
			this.addExecutionHints({
				message: `Project ${projectId}: dembrane's zip answered "No conversations found", but its list has ${rows.length}, so their transcripts were read one by one. dembrane answers so when the zip's database query fails (a large project, or a busy server).`,
				type: 'warning',
				location: 'outputPane',
			});
		} else emptyDetail = 'No transcripts available for this project';
	}
	if (files.length === 0) {
		return noTranscripts.call(this, projectId, emptyDetail ?? 'No transcripts available for this project', { failIfEmpty: options.failIfEmpty, zip404: emptyDetail !== undefined }, itemIndex);
	}

	return await transcriptItems.call(this, projectId, project, files, options, itemIndex);
}

/**
 * A project whose zip dembrane cannot send: every transcript from the listing and the transcript
 * route, as items of the same shape (fileName null), in the zip's order (by conversation id).
 */
async function exportWithoutZip(
	this: IExecuteFunctions,
	projectId: string,
	project: IDataObject,
	options: ExportOptions,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const rows = await listConversations.call(this, projectId, options.matchDetails !== false ? { include_tags: true } : {}, Infinity, { checkTranscriptFlags: true });
	if (rows.length === 0) return noTranscripts.call(this, projectId, 'No conversations found for this project', { failIfEmpty: options.failIfEmpty }, itemIndex);
	rows.sort(byConversationId);
	const files = await transcriptFilesOf.call(this, rows.filter((row) => row.has_transcript !== false));
	if (files.length === 0) return noTranscripts.call(this, projectId, 'No transcripts available for this project', { failIfEmpty: options.failIfEmpty }, itemIndex);
	return await transcriptItems.call(this, projectId, project, files, options, itemIndex);
}

async function transcriptItems(
	this: IExecuteFunctions,
	projectId: string,
	project: IDataObject | undefined,
	files: TranscriptFile[],
	options: ExportOptions,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const matchDetails = options.matchDetails !== false;
	const links = matchDetails ? await dashboardContext.call(this, projectId, { project }) : undefined;
	const items: INodeExecutionData[] = [];
	for (const file of files) {
		const parsed = parseTranscriptFileName(file.name);
		const row = file.row;
		const json: IDataObject = {
			projectId,
			fileName: file.fileName,
			// Not `source`: in dembrane's listing that is where a conversation was recorded (PORTAL_AUDIO, ...).
			transcriptSource: file.source,
			conversationIdPrefix: parsed.conversationIdPrefix,
			recordedAt: parsed.recordedAt,
			participantPart: parsed.participantPart,
			transcript: file.data.toString('utf8'),
		};
		if (links) {
			Object.assign(json, {
				matched: row !== undefined,
				conversationId: row?.id ?? null,
				participantName: row?.participant_name ?? null,
				participantEmail: row?.participant_email ?? null,
				emailPart: emailLocalPart(row?.participant_email),
				tags: row ? tagTexts(row) : [],
				duration: row?.duration ?? null,
				summary: row?.summary ?? null,
				title: row?.title ?? null,
				createdAt: row?.created_at ?? null,
				dashboardUrl: row ? dashboardUrl(links.base, links.workspaceId, projectId, row.id) : null,
			});
		}
		const item: INodeExecutionData = { json, pairedItem: { item: itemIndex } };
		if (options.includeFiles) {
			item.binary = { data: await this.helpers.prepareBinaryData(file.data, file.name.split('/').pop(), 'text/markdown') };
		}
		items.push(item);
	}
	return items;
}
