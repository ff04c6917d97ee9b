import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { outputBinaryField } from '../../../shared/parameters';
import { readTranscript, requiredId } from '../../helpers/api';
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

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const conversationId = requiredId.call(this, 'conversationId', 'Conversation ID', itemIndex);
	const output = this.getNodeParameter('output', itemIndex, 'field') as 'field' | 'md' | 'txt';
	// Checked before the request, like every file output.
	const binaryPropertyName = output === 'field' ? undefined : outputBinaryField.call(this, itemIndex);
	const transcript = (await readTranscript.call(this, conversationId)) ?? '';
	const pairedItem = { item: itemIndex };
	if (binaryPropertyName === undefined) return [{ json: { conversationId, transcript }, pairedItem }];
	const fileName = `${conversationId}-transcript.${output}`;
	const binary = await this.helpers.prepareBinaryData(
		Buffer.from(transcript, 'utf8'),
		fileName,
		output === 'md' ? 'text/markdown' : 'text/plain',
	);
	return [{ json: { conversationId, fileName, characters: transcript.length }, binary: { [binaryPropertyName]: binary }, pairedItem }];
}
