import type { INodeProperties } from 'n8n-workflow';

import * as exportOperation from './export.operation';

export { exportOperation };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['conversation'] } },
		options: [
			{
				name: 'Export',
				value: 'export',
				description: 'Export conversations with their messages, tags, ratings and metadata',
				action: 'Export conversations',
			},
		],
		default: 'export',
	},
	...exportOperation.description,
];
