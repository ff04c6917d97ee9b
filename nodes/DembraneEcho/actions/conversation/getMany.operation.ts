import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { resultLimit } from '../../../shared/parameters';
import { dashboardContext, listConversations, projectIdOf } from '../../helpers/api';
import { dashboardUrl, simplifyConversation } from '../../helpers/conversation';
import { limitField, projectLocator, returnAllField, simplifyField } from '../common.descriptions';

const showFor = { resource: ['conversation'], operation: ['getMany'] };

export const description: INodeProperties[] = [
	{ ...projectLocator, displayOptions: { show: showFor } },
	{ ...returnAllField, displayOptions: { show: showFor } },
	{ ...limitField, displayOptions: { show: { ...showFor, returnAll: [false] } } },
	{ ...simplifyField, displayOptions: { show: showFor } },
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		displayOptions: { show: showFor },
		default: {},
		options: [
			{
				displayName: 'Search',
				name: 'search',
				type: 'string',
				default: '',
				description: 'Conversations where every word of this appears in the participant name, e-mail, title or summary, in any order',
			},
			{
				displayName: 'Sources',
				name: 'sources',
				type: 'string',
				default: '',
				placeholder: 'e.g. PORTAL_AUDIO,DASHBOARD_UPLOAD',
				description: 'Comma-separated conversation sources',
			},
			{ displayName: 'Tag IDs', name: 'tagIds', type: 'string', default: '', description: 'Comma-separated project tag IDs' },
			{ displayName: 'Transcript Required', name: 'transcriptRequired', type: 'boolean', validateType: 'boolean', default: false, description: 'Whether to return only conversations that have a transcript' },
			{ displayName: 'Verified Only', name: 'verifiedOnly', type: 'boolean', validateType: 'boolean', default: false, description: 'Whether to return only verified conversations' },
		],
	},
	{
		displayName: 'Sort',
		name: 'sort',
		type: 'options',
		displayOptions: { show: showFor },
		options: [
			{ name: 'Longest First', value: '-duration' },
			{ name: 'Newest First', value: '-created_at' },
			{ name: 'Oldest First', value: 'created_at' },
			{ name: 'Participant Name (A–Z)', value: 'participant_name' },
			{ name: 'Participant Name (Z–A)', value: '-participant_name' },
			{ name: 'Recently Updated First', value: '-updated_at' },
			{ name: 'Shortest First', value: 'duration' },
		],
		default: '-created_at',
	},
];

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const projectId = projectIdOf.call(this, itemIndex);
	const limit = resultLimit.call(this, itemIndex);
	const simplify = this.getNodeParameter('simplify', itemIndex, false) as boolean;
	const sort = this.getNodeParameter('sort', itemIndex, '-created_at') as string;
	const filters = this.getNodeParameter('filters', itemIndex, {}) as IDataObject;
	const query: IDataObject = { sort, include_tags: true };
	if (filters.search) query.search_text = filters.search;
	if (filters.sources) query.sources = filters.sources;
	if (filters.tagIds) query.tag_ids = filters.tagIds;
	if (filters.verifiedOnly) query.verified_only = true;

	const rows = await listConversations.call(this, projectId, query, limit, { transcriptRequired: filters.transcriptRequired === true });
	const links = simplify ? await dashboardContext.call(this, projectId) : undefined;
	return rows.map((row) => ({
		json: links ? simplifyConversation(row, dashboardUrl(links.base, links.workspaceId, projectId, row.id)) : row,
		pairedItem: { item: itemIndex },
	}));
}
