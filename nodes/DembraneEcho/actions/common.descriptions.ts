import type { INodeProperties } from 'n8n-workflow';

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** A project: picked from a searchable list, typed as an ID, or taken from a dashboard URL. */
export const projectLocator: INodeProperties = {
	displayName: 'Project',
	name: 'project',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	required: true,
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			typeOptions: { searchListMethod: 'searchProjects', searchable: true },
		},
		{
			displayName: 'By URL',
			name: 'url',
			type: 'string',
			placeholder: 'https://dashboard.dembrane.com/w/…/projects/…/home',
			validation: [
				{
					type: 'regex',
					properties: { regex: `.*/projects/(${UUID}).*`, errorMessage: 'Not a dembrane project URL' },
				},
			],
			extractValue: { type: 'regex', regex: `/projects/(${UUID})` },
		},
		{
			displayName: 'ID',
			name: 'id',
			type: 'string',
			placeholder: 'e.g. 3f2a9c1e-…',
		},
	],
};

export const conversationIdField: INodeProperties = {
	displayName: 'Conversation ID',
	name: 'conversationId',
	type: 'string',
	default: '',
	required: true,
	placeholder: 'e.g. 3f2a9c1e-7d4b-4c3e-9a51-0b8e2f6d1c7a',
	description: 'The conversation’s ID, e.g. from a trigger or Get Many',
};

export const simplifyField: INodeProperties = {
	displayName: 'Simplify',
	name: 'simplify',
	type: 'boolean',
	validateType: 'boolean',
	default: false,
	description:
		'Whether to return flat rows for spreadsheets: tag texts joined, duration in minutes, a dashboard link',
};

export { limitField, returnAllField } from '../../shared/descriptions';
