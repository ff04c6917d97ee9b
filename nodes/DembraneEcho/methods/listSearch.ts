import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { listProjects } from '../actions/project/getMany.operation';

/** Projects of every workspace, for the Project picker; the workspace name tells same-named ones apart. */
export async function searchProjects(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const projects = await listProjects.call(this, filter ?? '', 200);
	return {
		results: projects.map((project) => ({
			name: `${String(project.name)} (${String(project.workspace_name ?? 'workspace')})`,
			value: String(project.id),
		})),
	};
}
