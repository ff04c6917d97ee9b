import type { INodeProperties } from 'n8n-workflow';

import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as getTranscript from './getTranscript.operation';

export { get, getMany, getTranscript };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['conversation'] } },
		options: [
			{ name: 'Get', value: 'get', description: 'Get a conversation', action: 'Get a conversation' },
			{ name: 'Get Many', value: 'getMany', description: 'List the conversations of a project', action: 'Get many conversations' },
			{
				name: 'Get Transcript',
				value: 'getTranscript',
				description: 'Get the transcript of a conversation',
				action: 'Get the transcript of a conversation',
			},
		],
		default: 'getTranscript',
	},
	...get.description,
	...getMany.description,
	...getTranscript.description,
];
