import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { outputBinaryField } from '../../../shared/parameters';
import { requiredId } from '../../helpers/api';
import { apiPath, dembraneApiRequest, parseJson } from '../../transport';
import { conversationIdField } from '../common.descriptions';

const showFor = { resource: ['conversation'], operation: ['getTranscript'] };

export const description: INodeProperties[] = [
	{ ...conversationIdField, displayOptions: { show: showFor } },
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		displayOptions: { show: showFor },
		options: [
			{ name: 'Text Field', value: 'field', description: 'The transcript in the field "transcript"' },
			{ name: 'Markdown File', value: 'md', description: 'A binary .md file' },
			{ name: 'Text File', value: 'txt', description: 'A binary .txt file' },
		],
		default: 'field',
	},
	{
		displayName: 'Put Output File in Field',
		name: 'binaryPropertyName',
		type: 'string',
		displayOptions: { show: { ...showFor, output: ['md', 'txt'] } },
		default: 'data',
		hint: 'The name of the output binary field to put the file in',
	},
];

/**
 * The docs promise plain text; production answers `application/json` whose body is a JSON string.
 * Both give the same text.
 */
export function transcriptText(body: unknown, contentType: unknown): string {
	const type = String(Array.isArray(contentType) ? contentType[0] : (contentType ?? ''));
	const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : JSON.stringify(body ?? '');
	if (/json/i.test(type)) {
		const parsed = parseJson(text);
		if (typeof parsed === 'string') return parsed;
		if (parsed === null || parsed === undefined) return '';
		return typeof parsed === 'object' ? JSON.stringify(parsed) : String(parsed);
	}
	return text;
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const conversationId = requiredId.call(this, 'conversationId', 'Conversation ID', itemIndex);
	const output = this.getNodeParameter('output', itemIndex, 'field') as 'field' | 'md' | 'txt';
	const response = await dembraneApiRequest.call(this, {
		path: apiPath`/api/conversations/${conversationId}/transcript`,
		responseType: 'text',
	});
	const transcript = transcriptText(response.body, response.headers['content-type']);
	const pairedItem = { item: itemIndex };
	if (output === 'field') return [{ json: { conversationId, transcript }, pairedItem }];
	const binaryPropertyName = outputBinaryField.call(this, itemIndex);
	const fileName = `${conversationId}-transcript.${output}`;
	const binary = await this.helpers.prepareBinaryData(
		Buffer.from(transcript, 'utf8'),
		fileName,
		output === 'md' ? 'text/markdown' : 'text/plain',
	);
	return [{ json: { conversationId, fileName, characters: transcript.length }, binary: { [binaryPropertyName]: binary }, pairedItem }];
}
