import type { IBinaryData, IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { apiError, serverMessage } from '../../../shared/errors';
import type { ZipLimits } from '../../../shared/zip';
import { readZipEntries, ZipReadError } from '../../../shared/zip';
import { countConversations, dashboardContext, listConversations, projectIdOf } from '../../helpers/api';
import { dashboardUrl, emailLocalPart, tagTexts } from '../../helpers/conversation';
import { fileNameTime, parseTranscriptFileName } from '../../helpers/transcriptFiles';
import { apiPath, dembraneApiRequest } from '../../transport';
import { transcriptText } from '../conversation/getTranscript.operation';
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
				description: 'Each transcript file of the zip as an item with its text and details',
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
				default: false,
				description:
					'Whether a project without transcripts fails the node. Off: it returns no items and a notice.',
			},
			{
				displayName: 'Fetch Transcripts Beyond the Zip Limit',
				name: 'completeBeyondZipLimit',
				type: 'boolean',
				default: true,
				displayOptions: { show: { '/output': ['conversations'] } },
				description:
					'Whether to fetch, one by one, the transcripts of conversations the zip left out. dembrane puts at most 1,000 conversations in a project zip. Needs Match Conversation Details (on unless turned off).',
			},
			{
				displayName: 'Include Files as Binary',
				name: 'includeFiles',
				type: 'boolean',
				default: false,
				displayOptions: { show: { '/output': ['conversations'] } },
				description: 'Whether to add each transcript file as binary data (field "data") next to its text',
			},
			{
				displayName: 'Match Conversation Details',
				name: 'matchDetails',
				type: 'boolean',
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

interface ExportOptions {
	completeBeyondZipLimit?: boolean;
	failIfEmpty?: boolean;
	includeFiles?: boolean;
	matchDetails?: boolean;
	maxEntries?: number;
	maxTotalMegabytes?: number;
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
	const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(value);
	const name = (plain?.[1] ?? plain?.[2] ?? '').trim();
	return name || fallback;
}

/** The stored file's size: n8n 2.x says it (`bytes`); n8n 1.x only in the file's metadata or as base64. */
async function storedBytes(this: IExecuteFunctions, binary: IBinaryData): Promise<number | null> {
	if (typeof binary.bytes === 'number') return binary.bytes;
	if (binary.id) return (await this.helpers.getBinaryMetadata(binary.id)).fileSize ?? null;
	return binary.data ? Buffer.from(binary.data, 'base64').length : null;
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const projectId = projectIdOf.call(this, itemIndex);
	const output = this.getNodeParameter('output', itemIndex) as 'conversations' | 'zip';
	const options = this.getNodeParameter('options', itemIndex, {}) as ExportOptions;
	const pairedItem = { item: itemIndex };

	const response = await dembraneApiRequest.call(this, {
		path: apiPath`/api/projects/${projectId}/transcripts`,
		responseType: 'stream',
		acceptStatuses: [404],
		timeoutMs: 600_000,
	});
	if (response.statusCode === 404) {
		const detail = serverMessage(response.body) ?? 'Not found';
		if (!/no (transcripts|conversations)/i.test(detail) || options.failIfEmpty) {
			throw apiError(node, {
				message: `dembrane answered 404 for project ${projectId}: ${detail}`,
				description: /project not found/i.test(detail)
					? 'Check the project ID, and that this account has access to the project.'
					: 'The project has no transcribed conversations yet. Turn off "Fail If No Transcripts" to get no items instead.',
				httpCode: 404,
			}, itemIndex);
		}
		this.addExecutionHints({ message: `Project ${projectId}: ${detail}`, type: 'info', location: 'outputPane' });
		return [];
	}
	const fileName = fileNameFromDisposition(response.headers['content-disposition'], `${projectId}_transcripts.zip`);
	const stream = response.body as NodeJS.ReadableStream;

	if (output === 'zip') {
		const binaryPropertyName = this.getNodeParameter('binaryPropertyName', itemIndex, 'data') as string;
		const binary = await this.helpers.prepareBinaryData(stream as never, fileName, 'application/zip');
		return [{ json: { projectId, fileName, bytes: await storedBytes.call(this, binary), fileSize: binary.fileSize ?? null }, binary: { [binaryPropertyName]: binary }, pairedItem }];
	}

	const limits: ZipLimits = {
		maxEntries: options.maxEntries ?? 100000,
		maxTotalBytes: (options.maxTotalMegabytes ?? 1024) * 1024 * 1024,
	};
	const files: Array<{ name: string; data: Buffer; fromZip?: false }> = [];
	try {
		for await (const entry of readZipEntries(stream as AsyncIterable<Uint8Array>, limits)) files.push(entry);
	} catch (error) {
		if (error instanceof ZipReadError) {
			throw new NodeOperationError(node, `The transcript zip of project ${projectId} was refused: ${error.message}`, {
				itemIndex,
				description:
					error.problem === 'too-many-entries' || error.problem === 'too-large'
						? 'If the project really is this large, raise "Max Files" or "Max Unzipped Size" in the options.'
						: 'No items were returned. Run the node again; if it keeps failing, download the zip with Output "Zip File" and check it.',
			});
		}
		throw apiError(node, {
			message: `The download of project ${projectId}'s transcripts broke off: ${(error as Error).message}`,
			description: 'Run the node again.',
		}, itemIndex);
	}

	let details = new Map<string, IDataObject>();
	let rows: IDataObject[] = [];
	let links = { base: '', workspaceId: undefined as string | undefined };
	if (options.matchDetails !== false && files.length > 0) {
		rows = await listConversations.call(this, projectId, { include_tags: true });
		details = new Map(rows.map((row) => [`${String(row.id).slice(0, 8)}|${fileNameTime(row.created_at as string)}`, row]));
		links = await dashboardContext.call(this, projectId);
	}
	// dembrane zips only the first 1,000 conversations of a project (by id): past that, some are missing.
	const conversationCount = options.matchDetails !== false ? rows.length : await countConversations.call(this, projectId);
	if (conversationCount > ZIP_CONVERSATION_LIMIT) {
		if (options.matchDetails === false || options.completeBeyondZipLimit === false) {
			this.addExecutionHints({
				message: `Project ${projectId} has ${conversationCount} conversations; dembrane's zip holds the first ${ZIP_CONVERSATION_LIMIT} only. Turn on "Match Conversation Details" and "Fetch Transcripts Beyond the Zip Limit" to get the rest.`,
				type: 'warning',
				location: 'outputPane',
			});
		} else {
			const inZip = new Set(files.map((file) => {
				const parsed = parseTranscriptFileName(file.name);
				return `${parsed.conversationIdPrefix}|${parsed.recordedAt}`;
			}));
			for (const row of rows) {
				const key = `${String(row.id).slice(0, 8)}|${fileNameTime(row.created_at as string)}`;
				if (inZip.has(key)) continue;
				const response = await dembraneApiRequest.call(this, {
					path: apiPath`/api/conversations/${String(row.id)}/transcript`,
					responseType: 'text',
					acceptStatuses: [404],
				});
				if (response.statusCode === 404) continue;
				const text = transcriptText(response.body, response.headers['content-type']);
				if (text === '') continue; // no transcribed chunk: the zip leaves such conversations out too
				const time = fileNameTime(row.created_at as string) ?? '';
				// Named as the zip would name it (without the participant part), so it is matched like the rest.
				const name = `${time.replace(/[-:]/g, '').replace('T', '_').replace('Z', '')}_${String(row.id).slice(0, 8)}-transcript.md`;
				// Zip files end every chunk with a newline, the transcript route joins chunks with one: one more
				// newline makes the same text either way.
				files.push({ name, data: Buffer.from(`${text}\n`, 'utf8'), fromZip: false });
			}
		}
	}

	const items: INodeExecutionData[] = [];
	for (const file of files) {
		const parsed = parseTranscriptFileName(file.name);
		const row = details.get(`${parsed.conversationIdPrefix}|${parsed.recordedAt}`);
		const json: IDataObject = {
			projectId,
			fileName: file.fromZip === false ? null : file.name,
			source: file.fromZip === false ? 'transcript' : 'zip',
			conversationIdPrefix: parsed.conversationIdPrefix,
			recordedAt: parsed.recordedAt,
			participantPart: parsed.participantPart,
			transcript: file.data.toString('utf8'),
		};
		if (options.matchDetails !== false) {
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
		const item: INodeExecutionData = { json, pairedItem };
		if (options.includeFiles) {
			item.binary = { data: await this.helpers.prepareBinaryData(file.data, file.name.split('/').pop(), 'text/markdown') };
		}
		items.push(item);
	}
	return items;
}
