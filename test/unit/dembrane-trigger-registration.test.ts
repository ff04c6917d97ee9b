/**
 * The dembrane ECHO Trigger's webhook registration (Automatic) against the stand-in: what n8n's
 * activation calls (checkExists, then create when it answers false; delete on deactivation). n8n's hook
 * context is stood in by the members the node uses; its HTTP helper by fetch. test/e2e/dembrane-trigger
 * covers create and delete in a real n8n. There n8n 2.41.1 asks checkExists on activation; a restart
 * does not ask (the stand-in sees no request), so the cases below are checked here.
 */
import type { IDataObject, IHookFunctions } from 'n8n-workflow';

import { DembraneEchoTrigger } from '../../nodes/DembraneEcho/DembraneEchoTrigger.node';
import type { DembraneStandin } from '../standins/dembrane';
import { startDembraneStandin } from '../standins/dembrane';
import { fetchHttpHelper } from '../support/fetch-http-helper';

let standin: DembraneStandin;
let projectId: string;
let token: string;
beforeAll(async () => {
	standin = await startDembraneStandin({ projects: 2, conversationsPerProject: 1, chunksPerConversation: 1 });
	projectId = standin.listProjects()[0].id;
	token = standin.issueAccessToken({ ttlSeconds: 600 });
}, 60_000);
afterAll(async () => standin.close());

const hooks = new DembraneEchoTrigger().webhookMethods.default;

/** One workflow's trigger node: its static data lives as long as the object, as n8n keeps it. */
/** A node registering at n8n's webhook URL for `name`, with its own static data and logged warnings. */
function registrationAt(name: string) {
	const state = { url: `http://127.0.0.1:5678/webhook/${name}/webhook`, staticData: {} as IDataObject, warnings: [] as string[] };
	return { state, context: hookContext(state) };
}

function hookContext(state: { url: string; staticData: IDataObject; warnings: string[] }): IHookFunctions {
	const parameters: IDataObject = { registration: 'automatic', project: projectId, events: ['conversation.summarized'] };
	return {
		getNode: () => ({ id: 'n1', name: 'Dembrane ECHO Trigger', type: 'dembraneEchoTrigger', typeVersion: 1.1, position: [0, 0], parameters }),
		getNodeParameter: (name: string, fallback?: unknown) => parameters[name] ?? fallback,
		getWorkflowStaticData: () => state.staticData,
		getNodeWebhookUrl: () => state.url,
		getWorkflow: () => ({ id: 'wf1', name: 'registration test', active: true }),
		getCredentials: async () => ({ baseUrl: standin.url, authMethod: 'accessToken', accessToken: token }),
		logger: { debug: () => undefined, info: () => undefined, warn: (message: string) => state.warnings.push(message), error: () => undefined },
		helpers: { httpRequestWithAuthentication: fetchHttpHelper(token) },
	} as unknown as IHookFunctions;
}

/** Changes a webhook the way a person does in dembrane's dashboard (POST: creates one). */
async function manage(method: 'POST' | 'PATCH' | 'DELETE', hookId: string, body?: IDataObject): Promise<void> {
	const response = await fetch(`${standin.url}/api/projects/${projectId}/webhooks${hookId ? `/${hookId}` : ''}`, {
		method,
		headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
		body: body && JSON.stringify(body),
	});
	expect(response.ok).toBe(true);
	await response.text();
}

const liveHooks = () => standin.webhooks(projectId).filter((hook) => !hook.deleted_at);

// A test that failed halfway leaves its webhooks behind: removed, so the next test starts from none.
afterEach(async () => {
	standin.onWebhookCreated(undefined);
	for (const hook of liveHooks()) await manage('DELETE', hook.id);
});

test('checkExists keeps a published webhook; one set to draft, missing a chosen event, deleted, or at an old URL is replaced, and the one before removed', async () => {
	const { state, context } = registrationAt('abc');

	// A create whose answer never came (a timeout after dembrane stored it): at this URL, its secret unknown.
	await manage('POST', '', { name: 'n8n: lost answer', url: state.url, secret: 'lost', events: ['conversation.summarized'] });
	const other = 'https://elsewhere.example/hook';
	await manage('POST', '', { name: 'another integration', url: other, events: ['conversation.summarized'] });
	expect(await hooks.checkExists.call(context)).toBe(false);
	await hooks.create.call(context);
	// The one at this URL is replaced; another integration's webhook is left alone.
	expect(liveHooks().map((hook) => hook.url).sort()).toEqual([other, state.url].sort());
	await manage('DELETE', liveHooks().find((hook) => hook.url === other)!.id);
	const [first] = liveHooks();
	expect(first).toEqual(expect.objectContaining({ url: state.url, status: 'published', events: ['conversation.summarized'] }));
	expect(state.staticData).toEqual({ webhookId: first.id, secret: first.secret, projectId, url: state.url });
	expect(await hooks.checkExists.call(context)).toBe(true);

	// Set to draft in dembrane: no deliveries come. It is replaced, not left beside the new one.
	await manage('PATCH', first.id, { status: 'draft' });
	expect(await hooks.checkExists.call(context)).toBe(false);
	await hooks.create.call(context);
	const [second] = liveHooks();
	expect(liveHooks()).toHaveLength(1);
	expect(second.id).not.toBe(first.id);
	expect(second).toEqual(expect.objectContaining({ url: state.url, status: 'published' }));
	// The same secret: until n8n saves the new registration, deliveries are checked against the stored one.
	expect(second.secret).toBe(first.secret);
	expect(state.staticData).toEqual(expect.objectContaining({ webhookId: second.id, secret: second.secret }));

	// An event chosen in n8n unticked in dembrane: those events would never come. Replaced; extra events
	// ticked there are harmless (answered "not selected") and kept.
	await manage('PATCH', second.id, { events: ['conversation.started', 'conversation.summarized'] });
	expect(await hooks.checkExists.call(context)).toBe(true);
	await manage('PATCH', second.id, { events: ['conversation.started'] });
	expect(await hooks.checkExists.call(context)).toBe(false);
	await hooks.create.call(context);
	expect(liveHooks()).toEqual([expect.objectContaining({ url: state.url, status: 'published', events: ['conversation.summarized'] })]);
	expect(liveHooks()[0].secret).toBe(second.secret);

	// Deleted in dembrane: registered again.
	const [replaced] = liveHooks();
	await manage('DELETE', replaced.id);
	expect(await hooks.checkExists.call(context)).toBe(false);
	await hooks.create.call(context);
	const [third] = liveHooks();
	expect(liveHooks()).toHaveLength(1);
	expect(third.id).not.toBe(replaced.id);

	// n8n's URL changed (WEBHOOK_URL): the webhook at the old URL is removed, not left failing.
	state.url = 'https://n8n.example.org/webhook/abc/webhook';
	expect(await hooks.checkExists.call(context)).toBe(false);
	await hooks.create.call(context);
	expect(liveHooks()).toEqual([expect.objectContaining({ url: state.url, status: 'published' })]);
	expect(state.warnings).toEqual([]);

	await hooks.delete.call(context);
	expect(liveHooks()).toEqual([]);
	expect(state.staticData).toEqual({ projectId });
	// Deactivated and activated again: a fresh secret.
	await hooks.create.call(context);
	expect(liveHooks()[0].secret).not.toBe(first.secret);
	await hooks.delete.call(context);
}, 60_000);

test('unpublishing when dembrane refuses the delete (a plan without webhooks now): a warning, and n8n goes on', async () => {
	const { state, context } = registrationAt('refused');
	await hooks.create.call(context);
	standin.configure({ webhooksAllowed: 'tier' });
	try {
		await expect(hooks.delete.call(context)).resolves.toBe(false);
	} finally {
		standin.configure({ webhooksAllowed: 'yes' });
	}
	expect(state.warnings).toEqual([expect.stringMatching(/could not delete this workflow's webhook in dembrane .*403.*Delete it in the project's webhook settings/)]);
	// Kept, so the next publish finds it again.
	expect(state.staticData.webhookId).toEqual(expect.any(String));
	await hooks.delete.call(context);
	expect(liveHooks()).toEqual([]);
}, 60_000);

test('a 403 "User not onboarded" says to finish onboarding, not to ask for a plan or Manual mode', async () => {
	const state = { url: 'http://127.0.0.1:5678/webhook/onboarding/webhook', staticData: {} as IDataObject, warnings: [] as string[] };
	const stranger = standin.issueAccessToken({ ttlSeconds: 600, userId: '00000000-0000-4000-8000-00000000beef' });
	const context = hookContext(state);
	(context as unknown as { helpers: { httpRequestWithAuthentication: unknown } }).helpers.httpRequestWithAuthentication = fetchHttpHelper(stranger);
	(context as unknown as { getCredentials: unknown }).getCredentials = async () => ({ baseUrl: standin.url, authMethod: 'accessToken', accessToken: stranger });
	const error = (await hooks.create.call(context).catch((caught: unknown) => caught)) as { message: string; description?: string };
	expect(error.message).toMatch(/User not onboarded/);
	expect(error.description).toMatch(/Finish onboarding/);
	expect(error.description).not.toMatch(/Manual/);
}, 60_000);

test('a webhook create answered with a 500 after dembrane stored it is not sent again; the next activation leaves exactly one webhook', async () => {
	const { state, context } = registrationAt('create-500');
	// dembrane stores the webhook, then fails before answering: a repeated POST would store a second one,
	// whose deliveries this node could not tell from the first (two executions per event).
	let failNext = true;
	standin.onWebhookCreated(async () => {
		if (!failNext) return;
		failNext = false;
		throw new Error('failed after storing');
	});
	standin.resetStats();
	await expect(hooks.create.call(context)).rejects.toThrow(/500/);
	standin.onWebhookCreated(undefined);
	const posts = standin.stats().requests.filter((request) => request.method === 'POST' && request.path.endsWith('/webhooks'));
	expect(posts).toHaveLength(1);
	expect(liveHooks().filter((hook) => hook.url === state.url)).toHaveLength(1);

	// n8n activates again: the orphan (its secret never stored) is replaced, not kept beside the new one.
	expect(await hooks.checkExists.call(context)).toBe(false);
	await hooks.create.call(context);
	const atUrl = liveHooks().filter((hook) => hook.url === state.url);
	expect(atUrl).toHaveLength(1);
	expect(atUrl[0]).toEqual(expect.objectContaining({ id: state.staticData.webhookId, secret: state.staticData.secret }));
	await hooks.delete.call(context);
	expect(liveHooks()).toEqual([]);
}, 60_000);

test('the registered secret is 64 random hex characters (256 bits), a new one for each new registration', async () => {
	const secrets: string[] = [];
	for (const name of ['secret-a', 'secret-b']) {
		const { state, context } = registrationAt(`${name}`);
		await hooks.create.call(context);
		const [hook] = liveHooks();
		await hooks.delete.call(context);
		expect(hook.secret).toMatch(/^[0-9a-f]{64}$/);
		secrets.push(hook.secret as string);
	}
	expect(secrets[0]).not.toBe(secrets[1]);
}, 60_000);

test('a webhook whose URL was edited in dembrane no longer reaches this workflow: checkExists is false, and it is replaced', async () => {
	const { state, context } = registrationAt('edited-url');
	await hooks.create.call(context);
	const [registered] = liveHooks();
	expect(await hooks.checkExists.call(context)).toBe(true);
	await manage('PATCH', registered.id, { url: 'https://someone-else.example/hook' });
	expect(await hooks.checkExists.call(context)).toBe(false);
	await hooks.create.call(context);
	expect(liveHooks()).toEqual([expect.objectContaining({ url: state.url, status: 'published' })]);
	expect(liveHooks()[0].id).not.toBe(registered.id);
	await hooks.delete.call(context);
}, 60_000);

test('deactivating when the webhook was already deleted in dembrane succeeds, with no warning', async () => {
	const { state, context } = registrationAt('deleted-first');
	// Deleted in the dashboard: dembrane soft-deletes, and deleting it again answers 204.
	await hooks.create.call(context);
	await manage('DELETE', liveHooks()[0].id);
	await expect(hooks.delete.call(context)).resolves.toBe(true);
	expect(state.warnings).toEqual([]);
	expect(state.staticData).toEqual({ projectId });
	// Not found at all (404 "Webhook not found": gone from dembrane's database): gone is what was asked for.
	await hooks.create.call(context);
	await manage('DELETE', liveHooks()[0].id);
	state.staticData.webhookId = '00000000-0000-4000-8000-00000000dead';
	await expect(hooks.delete.call(context)).resolves.toBe(true);
	expect(state.warnings).toEqual([]);
	expect(state.staticData).toEqual({ projectId });
}, 60_000);

test.each([
	['not-allowed', /Not allowed/],
	['tier', /changemaker tier/],
] as const)('a 403 (%s) on create says what it needs and points to Registration Manual', async (webhooksAllowed, detail) => {
	const { context } = registrationAt(`forbidden-${webhooksAllowed}`);
	standin.configure({ webhooksAllowed });
	try {
		const error = (await hooks.create.call(context).catch((caught: unknown) => caught)) as { message: string; description?: string; httpCode?: string };
		expect(error.message).toMatch(/^dembrane refused to create the webhook: /);
		expect(error.message).toMatch(detail);
		expect(error.description).toMatch(/workspace admin or owner.*Registration to Manual/);
		expect(String(error.httpCode)).toBe('403');
	} finally {
		standin.configure({ webhooksAllowed: 'yes' });
	}
	expect(liveHooks()).toEqual([]);
}, 60_000);

test('another project chosen: checkExists is false, and the webhook in the project before is deleted, not left sending', async () => {
	const { state, context } = registrationAt('moved');
	await hooks.create.call(context);
	const otherProject = standin.listProjects()[1].id;
	(context.getNode().parameters as IDataObject).project = otherProject;
	try {
		expect(await hooks.checkExists.call(context)).toBe(false);
		await hooks.create.call(context);
		expect(liveHooks()).toEqual([]);
		expect(standin.webhooks(otherProject).filter((hook) => !hook.deleted_at)).toEqual([expect.objectContaining({ url: state.url, id: state.staticData.webhookId })]);
		expect(state.staticData.projectId).toBe(otherProject);
		await hooks.delete.call(context);
		expect(standin.webhooks(otherProject).filter((hook) => !hook.deleted_at)).toEqual([]);
	} finally {
		(context.getNode().parameters as IDataObject).project = projectId;
	}
}, 60_000);

test('no event chosen (or only ones dembrane does not send): activation fails with what to do, nothing is registered', async () => {
	for (const events of [[], ['conversation.deleted']]) {
		const { context } = registrationAt(`no-events-${events.length}`);
		(context.getNode().parameters as IDataObject).events = events;
		await expect(hooks.create.call(context)).rejects.toThrow('Choose at least one event');
	}
	expect(liveHooks()).toEqual([]);
}, 60_000);
