/**
 * Test-only node and credential classes for harness.workflow.test.ts. They use n8n's node API the
 * way our real nodes do (httpRequestWithAuthentication, continueOnFail, NodeApiError, pairedItem,
 * prepareBinaryData with a stream, workflow static data), so the harness is proven on the real
 * engine independently of the Decagon node.
 */
import { NodeApiError, NodeConnectionTypes } from 'n8n-workflow';
import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IAuthenticateGeneric,
	IDataObject,
	IExecuteFunctions,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeExecutionData,
	INodeProperties,
	INodeType,
	INodeTypeDescription,
	JsonObject,
} from 'n8n-workflow';
import type { Readable } from 'node:stream';

import { dembraneApiRequest, dembraneGaveUp } from '../../nodes/DembraneEcho/transport';

export const PROBE_TYPE = 'harness-test.probe';
export const SEED_TYPE = 'harness-test.seed';
export const SESSION_PROBE_TYPE = 'harness-test.sessionProbe';

function decagonBaseUrl(credentials: ICredentialDataDecryptedObject): string {
	if (credentials.region === 'custom') return String(credentials.baseUrl).replace(/\/+$/, '');
	return credentials.region === 'eu' ? 'https://eu.api.decagon.ai' : 'https://api.decagon.ai';
}

/** Emits the items given as a JSON parameter (stand-in for a Code or Set node). */
export class Seed implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Seed',
		name: 'seed',
		group: ['transform'],
		version: 1,
		description: 'Emits fixed items',
		defaults: { name: 'Seed' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [{ displayName: 'Items', name: 'items', type: 'json', default: '[]' }],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const raw = this.getNodeParameter('items', 0) as string | IDataObject[];
		const items = (typeof raw === 'string' ? JSON.parse(raw) : raw) as IDataObject[];
		return [items.map((json) => ({ json, pairedItem: { item: 0 } }))];
	}
}

/** Calls the Decagon stand-in with the decagonApi credential, once per input item. */
export class Probe implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Probe',
		name: 'probe',
		group: ['transform'],
		version: 1,
		description: 'Calls a loopback server with the decagonApi credential',
		defaults: { name: 'Probe' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'decagonApi', required: true }],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				options: [
					{ name: 'Echo', value: 'echo' },
					{ name: 'Download', value: 'download' },
					{ name: 'Count Runs', value: 'countRuns' },
				],
				default: 'echo',
			},
			{ displayName: 'Path', name: 'path', type: 'string', default: '/echo' },
			{ displayName: 'Label', name: 'label', type: 'string', default: '' },
			{ displayName: 'File Name', name: 'fileName', type: 'string', default: 'download.jsonl' },
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const out: INodeExecutionData[] = [];
		const operation = this.getNodeParameter('operation', 0) as string;

		if (operation === 'countRuns') {
			const staticData = this.getWorkflowStaticData('node');
			staticData.runs = ((staticData.runs as number | undefined) ?? 0) + 1;
			return [[{ json: { runs: staticData.runs }, pairedItem: { item: 0 } }]];
		}

		const credentials = await this.getCredentials('decagonApi');
		const baseUrl = decagonBaseUrl(credentials);
		for (let i = 0; i < items.length; i++) {
			try {
				const path = this.getNodeParameter('path', i) as string;
				if (operation === 'download') {
					const stream = (await this.helpers.httpRequestWithAuthentication.call(this, 'decagonApi', {
						method: 'GET',
						url: `${baseUrl}${path}`,
						encoding: 'stream',
					})) as Readable;
					const fileName = this.getNodeParameter('fileName', i) as string;
					const binary = await this.helpers.prepareBinaryData(stream, fileName, 'application/x-ndjson');
					out.push({ json: { fileName }, binary: { data: binary }, pairedItem: { item: i } });
					continue;
				}
				const label = this.getNodeParameter('label', i) as string;
				const response = (await this.helpers.httpRequestWithAuthentication.call(this, 'decagonApi', {
					method: 'GET',
					url: `${baseUrl}${path}`,
					qs: { label },
					json: true,
				})) as IDataObject;
				out.push({
					json: { ...response, requestsPerSecond: credentials.requestsPerSecond as number },
					pairedItem: { item: i },
				});
			} catch (error) {
				if (this.continueOnFail()) {
					out.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
					continue;
				}
				if (error instanceof NodeApiError) throw error;
				throw new NodeApiError(this.getNode(), error as JsonObject, { itemIndex: i });
			}
		}
		return [out];
	}
}

/** A credential with an expirable session token obtained by preAuthentication, like dembrane's. */
export class HarnessSessionApi implements ICredentialType {
	name = 'harnessSessionApi';

	displayName = 'Harness Session API';

	properties: INodeProperties[] = [
		{ displayName: 'Base URL', name: 'baseUrl', type: 'string', default: '' },
		{ displayName: 'Email', name: 'email', type: 'string', default: '' },
		{ displayName: 'Password', name: 'password', type: 'string', typeOptions: { password: true }, default: '' },
		{
			displayName: 'Session Token',
			name: 'sessionToken',
			type: 'hidden',
			typeOptions: { expirable: true },
			default: '',
		},
	];

	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const options: IHttpRequestOptions = {
			method: 'POST',
			url: `${String(credentials.baseUrl)}/login`,
			body: { email: credentials.email, password: credentials.password },
			json: true,
		};
		const { token } = (await this.helpers.httpRequest(options)) as { token: string };
		return { sessionToken: token };
	}

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '=Session {{$credentials.sessionToken}}' } },
	};
}

export class SessionProbe implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Session Probe',
		name: 'sessionProbe',
		group: ['transform'],
		version: 1,
		description: 'Calls a loopback server with the expirable session credential',
		defaults: { name: 'Session Probe' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'harnessSessionApi', required: true }],
		properties: [],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const credentials = await this.getCredentials('harnessSessionApi');
		const response = (await this.helpers.httpRequestWithAuthentication.call(this, 'harnessSessionApi', {
			method: 'GET',
			url: `${String(credentials.baseUrl)}/session-data`,
			json: true,
		})) as IDataObject;
		return [[{ json: response, pairedItem: { item: 0 } }]];
	}
}

export const DEMBRANE_REQUEST_PROBE_TYPE = 'harness-test.dembraneRequestProbe';

/** Calls one dembrane route through the package's transport, with the limits given, and says how it ended. */
export class DembraneRequestProbe implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'dembrane Request Probe',
		name: 'dembraneRequestProbe',
		group: ['transform'],
		version: 1,
		description: "Calls a dembrane route through the package's transport",
		defaults: { name: 'dembrane Request Probe' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'dembraneEchoApi', required: true }],
		properties: [
			{ displayName: 'Path', name: 'path', type: 'string', default: '/api/v2/me' },
			{ displayName: 'Timeout', name: 'timeoutMs', type: 'number', default: 1500 },
			{ displayName: 'Max Attempts', name: 'maxAttempts', type: 'number', default: 1 },
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const request = {
			path: this.getNodeParameter('path', 0) as string,
			timeoutMs: this.getNodeParameter('timeoutMs', 0) as number,
			maxAttempts: this.getNodeParameter('maxAttempts', 0) as number,
		};
		try {
			const response = await dembraneApiRequest.call(this, request);
			return [[{ json: { statusCode: response.statusCode }, pairedItem: { item: 0 } }]];
		} catch (error) {
			return [[{ json: { error: (error as Error).message, gaveUp: dembraneGaveUp(error) }, pairedItem: { item: 0 } }]];
		}
	}
}
