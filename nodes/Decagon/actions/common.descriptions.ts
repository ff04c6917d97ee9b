import type { INodeProperties } from 'n8n-workflow';

/** Fields the Export operation and the trigger both show. */

export const metadataFilterField: INodeProperties = {
	displayName: 'Metadata',
	name: 'metadata',
	type: 'fixedCollection',
	placeholder: 'Add Metadata Filter',
	typeOptions: { multipleValues: true },
	default: {},
	description: 'Only conversations whose metadata has all of these values',
	options: [
		{
			displayName: 'Filter',
			name: 'filter',
			values: [
				{ displayName: 'Key', name: 'key', type: 'string', default: '', placeholder: 'user_type' },
				{ displayName: 'Value', name: 'value', type: 'string', default: '', placeholder: 'VIP' },
				{
					displayName: 'Value Type',
					name: 'valueType',
					type: 'options',
					options: [
						{ name: 'Text', value: 'string' },
						{ name: 'Number', value: 'number' },
						{ name: 'True or False', value: 'boolean' },
					],
					default: 'string',
					description: 'How the value is sent: as text (as Decagon documents it), or as a JSON number or true/false, for metadata that holds those',
				},
			],
		},
	],
};

export const simplifyField: INodeProperties = {
	displayName: 'Simplify',
	name: 'simplify',
	type: 'boolean',
	validateType: 'boolean',
	default: false,
	description:
		'Whether to return flat rows for spreadsheets: tag names joined, CSAT, metadata as columns; per conversation also transcript text, message count, first and last message time; per message its role, text and time',
};

/** Conversation and message outputs; the export adds a JSON Lines file to these. */
export const itemOutputOptions = [
	{
		name: 'One Item per Conversation',
		value: 'conversation',
		description: 'Each conversation as an item, with its messages',
	},
	{
		name: 'One Item per Message',
		value: 'message',
		description: 'Each message as an item, with its conversation',
	},
];

export const exportOutputOptions = [
	...itemOutputOptions,
	{
		name: 'JSON Lines File',
		value: 'jsonl',
		description: 'One binary file, one conversation per line; for very large exports',
	},
];
