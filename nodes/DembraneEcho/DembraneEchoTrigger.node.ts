import { randomBytes } from 'crypto';
import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { apiError, toNodeError } from '../shared/errors';
import { failedItem, runPerItem } from '../shared/perItem';
import { projectLocator } from './actions/common.descriptions';
import { canonicalId, readTranscript } from './helpers/api';
import { eventItem, reportTitle } from './helpers/conversation';
import { verifySignature } from './helpers/signature';
import { searchProjects } from './methods/listSearch';
import { apiPath, dembraneApiRequest } from './transport';

const EVENTS = ['conversation.started', 'conversation.transcribed', 'conversation.summarized', 'report.generated'];
/** Deliveries remembered for Ignore Redeliveries: dembrane's retries come within minutes (4 attempts, 5–60 s apart). */
const REMEMBERED_DELIVERIES = 10_000;

interface RegistrationData {
	webhookId?: string;
	secret?: string;
	projectId?: string;
	url?: string;
}

export class DembraneEchoTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Dembrane ECHO Trigger',
		name: 'dembraneEchoTrigger',
		// The editor's Docs link: without it n8n appends its tracking query after the codex link's #anchor, which then matches no heading.
		documentationUrl: 'https://www.npmjs.com/package/n8n-nodes-conversation-export#dembrane-echo-trigger',
		icon: { light: 'file:dembrane.svg', dark: 'file:dembrane.dark.svg' },
		group: ['trigger'],
		// 1.1 behaves exactly as 1. n8n evaluates an extra expression for every delivery to a version-1
		// webhook node (`$parameter.options.binaryData`, in its expression sandbox), and skips it from 1.1.
		version: [1, 1.1],
		defaultVersion: 1.1,
		subtitle: '={{ $parameter["events"].join(", ") }}',
		// n8n's node panel shows the trigger's description for the dembrane ECHO entry as a whole.
		description: 'Export dembrane ECHO transcripts, conversations and reports, or start a workflow on its webhook events',
		defaults: { name: 'Dembrane ECHO Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'dembraneEchoApi', required: true }],
		// responseData '' (not absent): n8n 2.41.1 otherwise answers a started workflow with the body "firstEntryJson",
		// the name of its default; empty, it sends the webhookResponse returned with the items.
		webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook', responseData: '' }],
		properties: [
			{
				displayName: 'Registration',
				name: 'registration',
				type: 'options',
				options: [
					{
						name: 'Automatic',
						value: 'automatic',
						description: 'Create the webhook in the project on activation and delete it on deactivation (needs the workspace:webhooks permission)',
					},
					{
						name: 'Manual',
						value: 'manual',
						description: 'You add this node’s URL in dembrane yourself and type its secret here',
					},
				],
				default: 'automatic',
			},
			{
				displayName:
					'In dembrane, add a webhook to the project with this node’s Production URL (under Webhook URLs above) and a secret, and type the same secret below. Publish the workflow to receive events. To listen for a test event in the editor, add the Test URL too, with the same secret.',
				name: 'manualNotice',
				type: 'notice',
				default: '',
				displayOptions: { show: { registration: ['manual'] } },
			},
			{ ...projectLocator, displayOptions: { show: { registration: ['automatic'] } } },
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				options: [
					{ name: 'Conversation Started', value: 'conversation.started' },
					{ name: 'Conversation Summarized', value: 'conversation.summarized' },
					{ name: 'Conversation Transcribed', value: 'conversation.transcribed' },
					{ name: 'Report Generated', value: 'report.generated' },
				],
				default: ['conversation.summarized'],
			},
			{
				displayName: 'Secret',
				name: 'secret',
				type: 'string',
				typeOptions: { password: true },
				default: '',
				displayOptions: { show: { registration: ['manual'] } },
				description: 'The secret you set on the webhook in dembrane. Empty accepts unsigned deliveries: anyone who knows this URL can then start the workflow (not recommended).',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Fetch Full Transcript',
						name: 'fetchFullTranscript',
						type: 'boolean',
						validateType: 'boolean',
						default: false,
						description:
							'Whether to fetch the whole transcript from the API for transcribed and summarized events (the event itself carries at most 2,000 chunks)',
					},
					{
						displayName: 'Fetch Report Content',
						name: 'fetchReportContent',
						type: 'boolean',
						validateType: 'boolean',
						default: false,
						description: 'Whether to fetch the report’s Markdown for report.generated events',
					},
					{
						displayName: 'Ignore Redeliveries',
						name: 'ignoreRedeliveries',
						type: 'boolean',
						validateType: 'boolean',
						default: true,
						description:
							'Whether to drop a delivery dembrane sends again (same event, ID and timestamp) after it already ran this workflow. Kept in n8n’s deduplication store: survives restarts, shared by queue-mode workers. Not in test runs.',
					},
					{
						displayName: 'Start on Test Events',
						name: 'includeTestEvents',
						type: 'boolean',
						validateType: 'boolean',
						default: false,
						description: 'Whether webhook.test events (the "Test" button in dembrane) start the published workflow. While the editor listens for a test event, they always do.',
					},
				],
			},
		],
	};

	methods = { listSearch: { searchProjects } };

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				if (this.getNodeParameter('registration') !== 'automatic') return true;
				const data = this.getWorkflowStaticData('node') as RegistrationData;
				const projectId = projectIdOfHook.call(this);
				const url = this.getNodeWebhookUrl('default');
				if (!data.webhookId || data.projectId !== projectId || data.url !== url || !data.secret) return false;
				const events = selectedEvents.call(this);
				// create() replaces a webhook that would miss events: set to draft or archived in dembrane, or with
				// an event chosen here unticked there.
				return (await projectWebhooks.call(this, projectId)).some(
					(hook) =>
						String(hook.id) === String(data.webhookId) &&
						hook.url === url &&
						(hook.status ?? 'published') === 'published' &&
						(!Array.isArray(hook.events) || events.every((event) => (hook.events as unknown[]).includes(event))),
				);
			},

			async create(this: IHookFunctions): Promise<boolean> {
				if (this.getNodeParameter('registration') !== 'automatic') return true;
				const projectId = projectIdOfHook.call(this);
				const url = this.getNodeWebhookUrl('default') as string;
				const events = selectedEvents.call(this);
				const data = this.getWorkflowStaticData('node') as RegistrationData;
				// Re-registering keeps the secret: n8n stores the new one only after every webhook of the workflow is
				// created, and a delivery in between, checked against the stored secret, would be refused for good.
				const secret = data.secret || randomBytes(32).toString('hex');
				// Webhooks left behind would stay subscribed, their deliveries refused (their secret is lost): the one
				// registered before (n8n's URL changed, or it was unpublished in dembrane), and any at this URL from a
				// create whose answer never arrived. Best effort: they may be gone or out of reach.
				try {
					await deleteRegisteredWebhook.call(this, data);
					for (const hook of await projectWebhooks.call(this, projectId)) {
						if (hook.url !== url || hook.id === undefined) continue;
						await deleteRegisteredWebhook.call(this, { webhookId: String(hook.id), projectId });
					}
				} catch (error) {
					this.logger.warn(`Dembrane ECHO Trigger: could not delete a webhook registered before (${(error as Error).message}); creating the new one anyway`);
				}
				let created: IDataObject;
				try {
					const { body } = await dembraneApiRequest.call(this, {
						method: 'POST',
						path: apiPath`/api/projects/${projectId}/webhooks`,
						body: { name: `n8n: ${this.getWorkflow().name ?? 'workflow'}`, url, secret, events },
					});
					created = body as IDataObject;
				} catch (error) {
					// "User not onboarded" is a 403 too, and the transport's advice for it stands.
					if (error instanceof NodeApiError && String(error.httpCode) === '403' && !/onboarded/i.test(error.message)) {
						throw apiError(this.getNode(), {
							message: `dembrane refused to create the webhook: ${error.message}`,
							description:
								'Creating webhooks needs a workspace admin or owner (workspace:webhooks) and a plan with webhooks. Ask your workspace owner, or set Registration to Manual, add this URL in dembrane yourself and type its secret here.',
							httpCode: 403,
						});
					}
					// Our transport's errors are NodeApiErrors already; n8n hands those back unchanged.
					throw new NodeApiError(this.getNode(), error as JsonObject);
				}
				if (created?.id === undefined) throw new NodeOperationError(this.getNode(), 'dembrane created the webhook but sent no ID');
				Object.assign(data, { webhookId: String(created.id), secret, projectId, url });
				return true;
			},

			async delete(this: IHookFunctions): Promise<boolean> {
				if (this.getNodeParameter('registration') !== 'automatic') return true;
				try {
					await deleteRegisteredWebhook.call(this, this.getWorkflowStaticData('node') as RegistrationData);
					return true;
				} catch (error) {
					// Thrown, it would stop n8n's unpublishing halfway (its webhook rows and static data not saved).
					this.logger.warn(
						`Dembrane ECHO Trigger: could not delete this workflow's webhook in dembrane (${(error as Error).message}). Delete it in the project's webhook settings, or dembrane keeps sending events to this URL.`,
					);
					return false;
				}
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject() as ReturnType<IWebhookFunctions['getRequestObject']> & { rawBody?: Buffer };
		const response = this.getResponseObject();
		const headers = this.getHeaderData() as Record<string, string | undefined>;
		const reject = (status: number, message: string): IWebhookResponseData => {
			response.status(status).json({ message });
			return { noWebhookResponse: true };
		};
		const raw = Buffer.isBuffer(request.rawBody) ? request.rawBody : Buffer.from(JSON.stringify(request.body ?? {}), 'utf8');

		const registration = this.getNodeParameter('registration') as string;
		// Only Automatic keeps its secret in static data. In Manual mode, getWorkflowStaticData would add an
		// empty entry for this node to the workflow's static data on every delivery, for nothing.
		const secret =
			registration === 'automatic'
				? (this.getWorkflowStaticData('node') as RegistrationData).secret
				: (this.getNodeParameter('secret', '') as string);
		if (registration === 'automatic' && !secret) {
			// n8n routes the webhook before create() returns and stores its secret, so an event can arrive in
			// that gap. Refuse it rather than run it unchecked; dembrane retries a 5xx 5–60 s later.
			this.logger.warn('Dembrane ECHO Trigger: a delivery came before this webhook’s secret was stored; answered 503 so dembrane retries it');
			return reject(503, 'This webhook is still being registered; try again shortly');
		}
		if (secret) {
			const header = headers['x-webhook-signature'] ?? headers['x-dembrane-signature'];
			let check = verifySignature(secret, raw, header);
			// A secret pasted with a trailing space or line break: dembrane never retries the 401s it would cause.
			if (check === 'invalid' && secret.trim() !== secret && secret.trim()) check = verifySignature(secret.trim(), raw, header);
			if (check === 'missing' || check === 'invalid') {
				// Every event is lost while the secrets differ (dembrane does not retry a 4xx): say so where the user looks.
				this.logger.warn(
					`Dembrane ECHO Trigger: refused a delivery whose signature is ${check}. If it came from dembrane, the webhook's secret there differs from this node's (${registration === 'automatic' ? 'unpublish and publish the workflow to register it again' : 'type the same secret in both'})`,
				);
				return reject(401, `Signature ${check}`);
			}
		}

		let payload: IDataObject;
		try {
			payload = JSON.parse(raw.toString('utf8')) as IDataObject;
		} catch {
			return reject(400, 'Body is not JSON');
		}
		if (!payload || typeof payload !== 'object' || Array.isArray(payload) || typeof payload.event !== 'string') {
			return reject(400, 'Body is not a dembrane event');
		}
		const options = this.getNodeParameter('options', {}) as IDataObject;
		const event = payload.event;
		// Listening in the editor, dembrane's Test button is the natural way to send one.
		const wanted =
			event === 'webhook.test' ? options.includeTestEvents === true || this.getMode() === 'manual' : selectedEvents.call(this).includes(event);
		if (!wanted) return { webhookResponse: { received: true, started: false, reason: `event ${event} not selected` } };

		// Answer now; redelivery checks and API fetches run in the execution (execute below), so dembrane
		// never waits on them and never retries because of them.
		return { workflowData: [this.helpers.returnJsonArray([eventItem(payload)])], webhookResponse: { received: true, started: true } };
	}

	/**
	 * n8n runs a webhook node's execute() as the first step of the execution its webhook started, with
	 * the webhook's items as input. Unlike the webhook phase, this has n8n's deduplication store.
	 */
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const options = this.getNodeParameter('options', 0, {}) as IDataObject;
		const fresh = new Set(await firstDeliveries.call(this, items, options));
		return await runPerItem.call(this, async (index) => {
			if (!fresh.has(index)) return [];
			const json = { ...items[index].json };
			try {
				await enrich.call(this, json, options);
			} catch (error) {
				const failure = toNodeError(this.getNode(), error, index);
				if (!this.continueOnFail()) {
					// Not handled: let n8n's Retry (or a redelivery) through again.
					await forgetDelivery.call(this, json, options);
					throw failure;
				}
				// Continue On Fail: the event goes on with the error beside it, not in its place.
				return [failedItem.call(this, failure, index, json)];
			}
			return [{ json, pairedItem: { item: index } }];
		});
	}
}

function projectIdOfHook(this: IHookFunctions): string {
	const value = this.getNodeParameter('project', undefined, { extractValue: true }) as string | IDataObject;
	const id = typeof value === 'string' ? value : String(value?.value ?? '');
	if (!id.trim()) throw new NodeOperationError(this.getNode(), 'No project chosen', { description: 'Pick the project whose events should start this workflow.' });
	return canonicalId(id);
}

/** The project's webhooks; none when the project is not found (or out of this account's reach). */
async function projectWebhooks(this: IHookFunctions, projectId: string): Promise<IDataObject[]> {
	const { statusCode, body } = await dembraneApiRequest.call(this, { path: apiPath`/api/projects/${projectId}/webhooks`, acceptStatuses: [404] });
	return statusCode === 404 || !Array.isArray(body) ? [] : (body as IDataObject[]);
}

/** Deletes the webhook this node registered (gone already is fine) and forgets it. */
async function deleteRegisteredWebhook(this: IHookFunctions, data: RegistrationData): Promise<void> {
	if (!data.webhookId || !data.projectId) return;
	await dembraneApiRequest.call(this, {
		method: 'DELETE',
		path: apiPath`/api/projects/${data.projectId}/webhooks/${data.webhookId}`,
		acceptStatuses: [404],
	});
	delete data.webhookId;
	delete data.secret;
	delete data.url;
}

function selectedEvents(this: IHookFunctions | IWebhookFunctions): string[] {
	const events = (this.getNodeParameter('events', []) as string[]).filter((event) => EVENTS.includes(event));
	if (events.length === 0) throw new NodeOperationError(this.getNode(), 'Choose at least one event');
	return events;
}

/** Whether this run checks and records deliveries: test runs ("Listen for test event") may replay one on purpose. */
function checksRedeliveries(this: IExecuteFunctions, options: IDataObject): boolean {
	return options.ignoreRedeliveries !== false && this.getMode() !== 'manual';
}

/** Indexes of the items that are not redeliveries of a delivery this node already let through. */
async function firstDeliveries(this: IExecuteFunctions, items: INodeExecutionData[], options: IDataObject): Promise<number[]> {
	const all = items.map((_, index) => index);
	if (!checksRedeliveries.call(this, options)) return all;
	const ids = items.map((item) => String(item.json.deliveryId ?? ''));
	try {
		const { new: fresh } = await this.helpers.checkProcessedAndRecord(ids, 'node', { mode: 'entries', maxEntries: REMEMBERED_DELIVERIES });
		const remaining = new Set(fresh.map(String));
		// One delivery is one item; should two items share an ID, the first goes on.
		return all.filter((index) => remaining.delete(ids[index]));
	} catch (error) {
		// A store failure must not lose the event: let it through (at worst once more) and say so.
		this.logger.warn(`Dembrane ECHO Trigger: could not check for redeliveries, passing the delivery on: ${(error as Error).message}`);
		return all;
	}
}

async function forgetDelivery(this: IExecuteFunctions, json: IDataObject, options: IDataObject): Promise<void> {
	if (!checksRedeliveries.call(this, options)) return;
	try {
		await this.helpers.removeProcessed([String(json.deliveryId ?? '')], 'node', { mode: 'entries' });
	} catch {
		// The error being thrown matters more; a later redelivery would then be ignored.
	}
}

/** Optional fetches, in the execution: a failure fails the item (or continues, with Continue On Fail). */
async function enrich(this: IExecuteFunctions, item: IDataObject, options: IDataObject): Promise<void> {
	const projectId = item.projectId as string | null;
	if (options.fetchFullTranscript && item.conversationId && /transcribed|summarized/.test(String(item.event))) {
		item.transcript = await readTranscript.call(this, String(item.conversationId));
	}
	if (options.fetchReportContent && item.reportId !== null && projectId) {
		const { body } = await dembraneApiRequest.call(this, {
			path: apiPath`/api/projects/${projectId}/reports/${String(item.reportId)}/detail`,
		});
		item.reportContent = (body as IDataObject)?.content ?? null;
		item.reportTitle = reportTitle(item.reportContent);
	}
}
