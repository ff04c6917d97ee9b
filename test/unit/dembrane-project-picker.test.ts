/**
 * The Project picker (list search) pages past its first 200 projects. n8n's load-options context is
 * stood in by the few members the transport uses, its HTTP helper by fetch against the dembrane stand-in.
 */
import type { ILoadOptionsFunctions } from 'n8n-workflow';

import { searchProjects } from '../../nodes/DembraneEcho/methods/listSearch';
import type { DembraneStandin } from '../standins/dembrane';
import { startDembraneStandin } from '../standins/dembrane';
import { fetchHttpHelper } from '../support/fetch-http-helper';

let standin: DembraneStandin;
beforeAll(async () => {
	standin = await startDembraneStandin({ projects: 430, conversationsPerProject: 1, chunksPerConversation: 1 });
}, 60_000);
afterAll(async () => standin.close());

function pickerContext(dashboardUrl = '', server: DembraneStandin = standin): ILoadOptionsFunctions {
	const token = server.issueAccessToken({ ttlSeconds: 600 });
	return {
		getNode: () => ({ id: 'n1', name: 'ECHO', type: 'dembraneEcho', typeVersion: 1, position: [0, 0], parameters: {} }),
		getCurrentNodeParameter: () => undefined,
		getCredentials: async () => ({ baseUrl: server.url, authMethod: 'accessToken', accessToken: token, dashboardUrl }),
		logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
		helpers: { httpRequestWithAuthentication: fetchHttpHelper(token) },
	} as unknown as ILoadOptionsFunctions;
}

test('the picker shows every project, 200 per scroll, each once', async () => {
	const context = pickerContext();
	const seen: string[] = [];
	let token: string | undefined;
	for (let scroll = 0; scroll < 10; scroll++) {
		const page = await searchProjects.call(context, '', token);
		expect(page.results.length).toBeLessThanOrEqual(200);
		seen.push(...page.results.map((result) => String(result.value)));
		token = page.paginationToken as string | undefined;
		if (token === undefined) break;
	}
	const all = standin.listProjects().map((project) => project.id);
	expect(all.length).toBeGreaterThan(400);
	expect(new Set(seen).size).toBe(seen.length);
	expect([...seen].sort()).toEqual([...all].sort());
}, 60_000);

test('exactly 200 projects are one scroll: no further, empty scroll that would list every workspace again', async () => {
	// 198 regular projects and the stand-in's two special ones.
	const exact = await startDembraneStandin({ projects: 198, conversationsPerProject: 1, chunksPerConversation: 1 });
	try {
		expect(exact.listProjects()).toHaveLength(200);
		const context = pickerContext('', exact);
		// As n8n's picker does: asks again while it is handed a pagination token.
		const scrolls: number[] = [];
		let token: string | undefined;
		do {
			const page = await searchProjects.call(context, '', token);
			scrolls.push(page.results.length);
			token = page.paginationToken as string | undefined;
		} while (token !== undefined && scrolls.length < 5);
		expect(scrolls).toEqual([200]);
		// Each scroll starts over from the list of workspaces: it was read once.
		expect(exact.stats().requests.filter((request) => request.path === '/api/v2/workspaces')).toHaveLength(1);
	} finally {
		await exact.close();
	}
}, 60_000);

test("each project links to where it opens in the dashboard (no language prefix: the reader's own language applies)", async () => {
	const page = await searchProjects.call(pickerContext('https://dashboard.example/'), '');
	const result = page.results[0];
	const project = standin.listProjects().find((entry) => entry.id === result.value)!;
	expect(result.url).toBe(`https://dashboard.example/w/${project.workspaceId}/projects/${project.id}`);
	// Without a dashboard URL in the credential, no link.
	expect((await searchProjects.call(pickerContext(), '')).results[0].url).toBeUndefined();
}, 60_000);

test('a failing dembrane fails the picker after one retry, not after the six a workflow request gets', async () => {
	standin.configure({ faults: Array.from({ length: 6 }, (_, i) => ({ request: i + 1, kind: '503' as const, path: '/api/v2/workspaces' })) });
	try {
		const before = standin.stats().faultsInjected;
		const started = Date.now();
		await expect(searchProjects.call(pickerContext(), '')).rejects.toThrow(/503/);
		expect(standin.stats().faultsInjected - before).toBe(2);
		expect(Date.now() - started).toBeLessThan(5_000);
	} finally {
		standin.configure({ faults: [] });
	}
}, 60_000);

test('the picker names each project with its workspace, and what is typed in its search narrows it to the projects named so', async () => {
	const projects = standin.listProjects();
	const workspaces = standin.listWorkspaces();
	const [first] = (await searchProjects.call(pickerContext(), '')).results;
	const project = projects.find((entry) => entry.id === first.value)!;
	expect(first.name).toBe(`${project.name} (${workspaces.find((workspace) => workspace.id === project.workspaceId)!.name})`);

	const found = (await searchProjects.call(pickerContext(), project.name)).results;
	const words = project.name.toLowerCase().split(/\s+/);
	const named = projects.filter((entry) => words.every((word) => entry.name.toLowerCase().includes(word)));
	expect(named.length).toBeLessThan(200);
	expect(found.map((result) => result.value).sort()).toEqual(named.map((entry) => entry.id).sort());
}, 60_000);
