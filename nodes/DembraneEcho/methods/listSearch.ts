import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { listProjects } from '../actions/project/getMany.operation';
import { dashboardRoot } from '../helpers/api';
import { projectDashboardUrl } from '../helpers/conversation';

/** Projects shown per scroll of the picker. */
const PICKER_PAGE = 200;

/**
 * Projects of every workspace, for the Project picker; the workspace name tells same-named ones apart.
 * The picker asks for more as it scrolls (paginationToken = how many it has): the listing is read again
 * up to there, as projects span workspaces and their pages.
 */
export async function searchProjects(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
	const shown = Math.max(0, Number.parseInt(paginationToken ?? '0', 10) || 0);
	const { projects } = await listProjects.call(this, filter ?? '', shown + PICKER_PAGE + 1);
	const base = await dashboardRoot.call(this);
	return {
		results: projects.slice(shown, shown + PICKER_PAGE).map((project) => ({
			name: `${String(project.name)} (${String(project.workspace_name ?? 'workspace')})`,
			value: String(project.id),
			// The picker's "open" link.
			url: projectDashboardUrl(base, project.workspace_id, project.id) ?? undefined,
		})),
		paginationToken: projects.length > shown + PICKER_PAGE ? String(shown + PICKER_PAGE) : undefined,
	};
}
