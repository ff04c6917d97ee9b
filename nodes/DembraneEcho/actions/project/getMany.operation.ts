import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { resultLimit } from '../../../shared/parameters';
import { apiPath, dembraneApiRequest } from '../../transport';
import type { DembraneContext } from '../../transport';
import { limitField, returnAllField } from '../common.descriptions';

const showFor = { resource: ['project'], operation: ['getMany'] };
const PAGE_SIZE = 100;
const MAX_PAGES = 1000;

export const description: INodeProperties[] = [
	{ ...returnAllField, displayOptions: { show: showFor } },
	{ ...limitField, displayOptions: { show: { ...showFor, returnAll: [false] } } },
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		displayOptions: { show: showFor },
		default: {},
		options: [
			{ displayName: 'Search', name: 'search', type: 'string', default: '', description: 'Only projects whose name contains every word of this, in any order' },
			{ displayName: 'Workspace ID', name: 'workspaceId', type: 'string', default: '', description: 'Only this workspace; empty means every workspace you belong to' },
		],
	},
];

/** Every project the account can see, workspace by workspace, with the workspace's name. */
export async function listProjects(this: DembraneContext, search: string, limit: number, workspaceId?: string): Promise<IDataObject[]> {
	const { body } = await dembraneApiRequest.call(this, { path: '/api/v2/workspaces' });
	const all = ((body as IDataObject)?.workspaces as IDataObject[]) ?? [];
	const workspaces = all.filter((workspace) => !workspaceId || workspace.id === workspaceId);
	if (workspaceId && workspaces.length === 0) {
		// A typo would otherwise return no projects, as if the workspace were empty.
		const known = all.map((workspace) => `${String(workspace.name)} (${String(workspace.id)})`).join(', ');
		throw new NodeOperationError(this.getNode(), `This account has no workspace with ID "${workspaceId}"`, {
			description: known ? `Its workspaces: ${known.slice(0, 500)}` : 'This account belongs to no workspace.',
		});
	}
	const projects: IDataObject[] = [];
	// Every word in the name, in any order: dembrane's own search (older versions also matched other fields).
	const words = search.toLowerCase().split(/\s+/).filter(Boolean);
	for (const workspace of workspaces) {
		for (let page = 0; page < MAX_PAGES && projects.length < limit; page++) {
			const { body: listing } = await dembraneApiRequest.call(this, {
				path: apiPath`/api/v2/workspaces/${String(workspace.id)}/projects`,
				qs: { search, offset: page * PAGE_SIZE, limit: PAGE_SIZE },
			});
			const rows = ((listing as IDataObject)?.projects as IDataObject[]) ?? [];
			for (const project of rows) {
				const name = String(project.name ?? '').toLowerCase();
				if (!words.every((word) => name.includes(word))) continue;
				projects.push({ ...project, workspace_id: workspace.id, workspace_name: workspace.name });
			}
			if (!(listing as IDataObject)?.has_more || rows.length === 0) break;
		}
		if (projects.length >= limit) break;
	}
	return projects.slice(0, limit);
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const limit = resultLimit.call(this, itemIndex);
	const filters = this.getNodeParameter('filters', itemIndex, {}) as { search?: string; workspaceId?: string };
	const projects = await listProjects.call(this, filters.search ?? '', limit, filters.workspaceId?.trim() || undefined);
	return projects.map((json) => ({ json, pairedItem: { item: itemIndex } }));
}
