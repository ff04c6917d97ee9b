import type { INodeProperties } from 'n8n-workflow';

import * as exportTranscripts from './exportTranscripts.operation';
import * as getMany from './getMany.operation';

export { exportTranscripts, getMany };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['project'] } },
		options: [
			{
				name: 'Export Transcripts',
				value: 'exportTranscripts',
				description: 'Download every transcript of a project (the transcript zip)',
				action: 'Export transcripts of a project',
			},
			{ name: 'Get Many', value: 'getMany', description: 'List projects', action: 'Get many projects' },
		],
		default: 'exportTranscripts',
	},
	...exportTranscripts.description,
	...getMany.description,
];
