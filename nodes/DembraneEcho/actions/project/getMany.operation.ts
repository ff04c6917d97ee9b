import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { toNodeError } from '../../../shared/errors';

import { resultLimit, textParameter } from '../../../shared/parameters';
import type { OffsetListRequest } from '../../helpers/api';
import { canonicalId, compareRows, offsetPages } from '../../helpers/api';
import { apiPath, dembraneApiRequest } from '../../transport';
import type { DembraneContext } from '../../transport';
import { limitField, returnAllField } from '../common.descriptions';

const showFor = { resource: ['project'], operation: ['getMany'] };
/** The route's largest page. */
const PAGE_SIZE = 100;
/** Readings of a list longer than a page: until all counted projects are found, or nothing new (uncounted). */
const MAX_READINGS = 10;
const MAX_READINGS_UNCOUNTED = 3;

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

/** What listProjects found, and the workspaces whose projects dembrane would not list. */
export interface ProjectListing {
	projects: IDataObject[];
	/** "name (id): dembrane's message" of each workspace left out. */
	refusedWorkspaces: string[];
}

/**
 * Every project the account can see, workspace by workspace, with the workspace's name. dembrane lists
 * every workspace the account is a member of, whatever its role, but answers 403 for the projects of one
 * where that role may not read projects (billing) or the membership has expired: those are left out (and
 * named) rather than failing the rest. A Workspace ID dembrane does not list (reached through the
 * organisation, as an org owner) is asked for directly.
 */
export async function listProjects(this: DembraneContext, search: string, limit: number, workspaceId?: string): Promise<ProjectListing> {
	const { body } = await dembraneApiRequest.call(this, { path: '/api/v2/workspaces' });
	const all = ((body as IDataObject)?.workspaces as IDataObject[]) ?? [];
	const listed = all.filter((workspace) => !workspaceId || String(workspace.id).toLowerCase() === workspaceId.toLowerCase());
	const unlisted = Boolean(workspaceId) && listed.length === 0;
	const workspaces = unlisted ? [{ id: canonicalId(String(workspaceId)), name: null }] : listed;
	const projects: IDataObject[] = [];
	const refusedWorkspaces: string[] = [];
	let refusal: NodeApiError | undefined;
	for (const workspace of workspaces) {
		let found: IDataObject[];
		try {
			found = await workspaceProjects.call(this, workspace, search, limit - projects.length);
		} catch (error) {
			const status = error instanceof NodeApiError ? String(error.httpCode) : '';
			if (unlisted && (status === '403' || status === '404')) {
				// A typo would otherwise return no projects, as if the workspace were empty.
				const known = all.map((listedWorkspace) => `${String(listedWorkspace.name)} (${String(listedWorkspace.id)})`).join(', ');
				throw new NodeOperationError(this.getNode(), `This account has no workspace with ID "${workspaceId}"`, {
					description: known ? `Its workspaces: ${known.slice(0, 500)}` : 'This account belongs to no workspace.',
				});
			}
			if (status !== '403' || workspaceId || !(error instanceof NodeApiError)) throw toNodeError(this.getNode(), error, 0);
			refusal ??= error;
			refusedWorkspaces.push(`${String(workspace.name)} (${String(workspace.id)}): ${error.message}`);
			continue;
		}
		projects.push(...found);
		if (projects.length >= limit) break;
	}
	// Refused everywhere (not onboarded, say): that is the answer, not an empty list.
	if (refusal && refusedWorkspaces.length === workspaces.length) throw refusal;
	if (refusedWorkspaces.length > 0) {
		this.logger.warn(`dembrane ECHO: left out the projects of workspaces dembrane would not list them for: ${refusedWorkspaces.join('; ')}`);
	}
	return { projects: projects.slice(0, limit), refusedWorkspaces };
}

/** One workspace's projects (at most `limit` matching `search`), newest update first. */
async function workspaceProjects(this: DembraneContext, workspace: IDataObject, search: string, limit: number): Promise<IDataObject[]> {
	const found: IDataObject[] = [];
	// Every word in the name, in any order: dembrane's own search (older versions also matched other fields).
	const words = search.toLowerCase().split(/\s+/).filter(Boolean);
	const seen = new Set<unknown>();
	let total: number | undefined;
	let unstable = false;
	const request: OffsetListRequest = {
		path: apiPath`/api/v2/workspaces/${String(workspace.id)}/projects`,
		qs: { search },
		what: 'project list',
		sortField: 'updated_at',
		rowsOf: (body) => {
			const count = (body as IDataObject | undefined)?.total_count;
			// With a search dembrane only knows a lower bound.
			if (typeof count === 'number' && words.length === 0) total = count;
			return (body as IDataObject | undefined)?.projects;
		},
		maxPageSize: PAGE_SIZE,
		onUnstableOrder: () => {
			unstable = true;
		},
	};
	// dembrane lists projects most recently updated first, with no tie-breaker. A project edited while the
	// pages are read moves up into a page already read, and more than a page of projects of one update
	// time come in another order for each page. So a list that took more than a page is read again, its
	// first pages as far as the first reading went (an edited project only moves up), until a reading
	// finds nothing new, or, where dembrane counts the projects (no search), until all are found; then the
	// projects are put back in order. A Limit stops the first reading as soon as it has enough.
	let firstReadingPages = 0;
	for (let reading = 1; reading <= MAX_READINGS; reading++) {
		let pages = 0;
		let added = 0;
		for await (const { fresh } of offsetPages.call(this, request, () => PAGE_SIZE)) {
			pages++;
			for (const project of fresh) {
				if (seen.has(project.id)) continue;
				seen.add(project.id);
				added++;
				const name = String(project.name ?? '').toLowerCase();
				if (words.every((word) => name.includes(word))) found.push({ ...project, workspace_id: workspace.id, workspace_name: workspace.name });
			}
			if (reading === 1 ? found.length >= limit : pages >= firstReadingPages) break;
		}
		if (reading === 1) firstReadingPages = pages;
		if (firstReadingPages <= 1) break;
		if (total !== undefined && seen.size >= total) break;
		if (reading > 1 && added === 0) break;
		if (total === undefined && reading >= MAX_READINGS_UNCOUNTED) break;
	}
	if (unstable && (total === undefined || seen.size < total)) {
		this.logger.warn(
			`dembrane ECHO: more than ${PAGE_SIZE} projects of workspace ${String(workspace.id)} share one update time, which dembrane's project list does not order stably across pages; some may be missing`,
		);
	}
	return found.sort(compareRows('updated_at', true));
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const limit = resultLimit.call(this, itemIndex);
	const filters = this.getNodeParameter('filters', itemIndex, {}) as { search?: unknown; workspaceId?: unknown };
	const { projects, refusedWorkspaces } = await listProjects.call(this, textParameter(filters.search), limit, textParameter(filters.workspaceId) || undefined);
	if (refusedWorkspaces.length > 0) {
		this.addExecutionHints({
			message: `Left out ${refusedWorkspaces.length === 1 ? 'a workspace' : `${refusedWorkspaces.length} workspaces`} whose projects dembrane would not list for this account (a billing role, or an expired membership): ${refusedWorkspaces.join('; ').slice(0, 600)}`,
			type: 'warning',
			location: 'outputPane',
		});
	}
	return projects.map((json) => ({ json, pairedItem: { item: itemIndex } }));
}
