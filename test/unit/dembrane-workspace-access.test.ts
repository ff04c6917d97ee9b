/**
 * Projects across workspaces the account reaches in different ways, as production answers
 * (api/v2/workspaces.py lists every membership whatever its role; a billing role or an expired membership
 * gets 403 for the workspace's projects; an org owner reaches workspaces that are not listed): one refused
 * workspace does not fail the listing of the rest, and a Workspace ID that is not listed is asked for.
 */
import type { ILoadOptionsFunctions } from 'n8n-workflow';

import { listProjects } from '../../nodes/DembraneEcho/actions/project/getMany.operation';
import { searchProjects } from '../../nodes/DembraneEcho/methods/listSearch';
import type { DembraneStandin } from '../standins/dembrane';
import { startDembraneStandin } from '../standins/dembrane';
import { fetchHttpHelper } from '../support/fetch-http-helper';

let standin: DembraneStandin;
beforeAll(async () => {
	standin = await startDembraneStandin({ workspaces: 3, projects: 9, conversationsPerProject: 1, chunksPerConversation: 1 });
}, 60_000);
afterAll(async () => standin.close());

const warnings: string[] = [];
function context(): ILoadOptionsFunctions {
	const token = standin.issueAccessToken({ ttlSeconds: 600 });
	return {
		getNode: () => ({ id: 'n1', name: 'ECHO', type: 'dembraneEcho', typeVersion: 1, position: [0, 0], parameters: {} }),
		getCurrentNodeParameter: () => undefined,
		getCredentials: async () => ({ baseUrl: standin.url, authMethod: 'accessToken', accessToken: token, dashboardUrl: '' }),
		logger: { debug: () => undefined, info: () => undefined, warn: (message: string) => warnings.push(message), error: () => undefined },
		helpers: { httpRequestWithAuthentication: fetchHttpHelper(token) },
	} as unknown as ILoadOptionsFunctions;
}

const workspace = (index: number) => standin.listWorkspaces()[index];
const projectsOf = (index: number) => standin.listProjects().filter((project) => project.workspaceId === workspace(index).id).map((project) => project.id).sort();

test('a billing role and an expired membership leave their workspaces out, named; the other workspace is listed in full', async () => {
	standin.configure({ workspaceAccess: ['member', 'billing', 'expired'] });
	const { projects, refusedWorkspaces } = await listProjects.call(context(), '', Infinity);
	expect(projects.map((project) => project.id).sort()).toEqual(projectsOf(0));
	expect(projectsOf(0).length).toBeGreaterThan(0);
	expect(refusedWorkspaces).toEqual([
		expect.stringMatching(new RegExp(`^Workspace 2 \\(${workspace(1).id}\\): .*Access denied`)),
		expect.stringMatching(new RegExp(`^Workspace 3 \\(${workspace(2).id}\\): .*No access to this workspace`)),
	]);
	// The picker too.
	const picked = await searchProjects.call(context(), '');
	expect(picked.results.map((result) => result.value).sort()).toEqual(projectsOf(0));
}, 60_000);

test('refused in every workspace: that refusal is the error, not an empty list', async () => {
	standin.configure({ workspaceAccess: ['billing', 'expired', 'billing'] });
	await expect(listProjects.call(context(), '', Infinity)).rejects.toThrow(/403.*Access denied/);
}, 60_000);

test("a refused workspace asked for by its ID is an error, not an empty list", async () => {
	standin.configure({ workspaceAccess: ['member', 'billing', 'member'] });
	await expect(listProjects.call(context(), '', Infinity, workspace(1).id)).rejects.toThrow(/Access denied/);
}, 60_000);

test("a workspace reached through the organisation (not listed) is listed when asked for by its ID; an unknown ID is still an error", async () => {
	standin.configure({ workspaceAccess: ['member', 'inherited', 'member'] });
	const all = await listProjects.call(context(), '', Infinity);
	expect(all.projects.map((project) => project.id).sort()).toEqual([...projectsOf(0), ...projectsOf(2)].sort());
	const inherited = await listProjects.call(context(), '', Infinity, workspace(1).id);
	expect(inherited.projects.map((project) => project.id).sort()).toEqual(projectsOf(1));
	expect(projectsOf(1).length).toBeGreaterThan(0);
	await expect(listProjects.call(context(), '', Infinity, '00000000-0000-4000-8000-000000000000')).rejects.toThrow(
		'This account has no workspace with ID "00000000-0000-4000-8000-000000000000"',
	);
}, 60_000);

test('a Workspace ID typed in upper case is the same workspace', async () => {
	standin.configure({ workspaceAccess: [] });
	const { projects } = await listProjects.call(context(), '', Infinity, workspace(0).id.toUpperCase());
	expect(projects.map((project) => project.id).sort()).toEqual(projectsOf(0));
}, 60_000);
