/**
 * The credentials side of the workflow harness (see ./workflow-harness.ts).
 *
 * n8n's CLI keeps credentials encrypted in its database and hands the execution engine an
 * `ICredentialsHelper` that decrypts them, fills in defaults, resolves `={{ }}` expressions,
 * applies the credential type's `authenticate` block and runs `preAuthentication` for
 * expirable tokens. This is our own small implementation of that contract for tests: the
 * database is a plain in-memory map keyed by credential type, everything else follows what the
 * CLI does, using n8n-workflow's own expression resolution and parameter helpers, so a
 * credential class is exercised the way n8n exercises it.
 */
import { Credentials, getAdditionalKeys } from 'n8n-core';
import {
	getCredentialOwnRequestAllowedDomains,
	ICredentialsHelper,
	isExpression,
	NodeHelpers,
	UnexpectedError,
	UserError,
	Workflow,
} from 'n8n-workflow';
import type {
	ICredentialDataDecryptedObject,
	ICredentialsExpressionResolveValues,
	ICredentialType,
	IDataObject,
	IExecuteData,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeParameters,
	INodeProperties,
	INodeType,
	INodeTypes,
	IRequestOptionsSimplified,
	IWorkflowExecuteAdditionalData,
	WorkflowExecuteMode,
} from 'n8n-workflow';

/** Where credential classes come from: n8n's package loader, plus test-only classes. */
export interface CredentialTypeSource {
	/** The credential class instance for `name`; throws for an unknown type. */
	getByName(name: string): ICredentialType;
	/** Fully qualified node types (`<package>.<node>`) whose description lists this credential. */
	getSupportedNodes(name: string): string[];
}

/** One call of `updateCredentials` (what n8n would write back to its database). */
export interface CredentialUpdate {
	type: string;
	nodeCredentials: INodeCredentialsDetails;
	data: ICredentialDataDecryptedObject;
}

/** One call of a credential type's `preAuthentication`. */
export interface PreAuthenticationCall {
	type: string;
	node: string;
	/** true when the engine asked for a refresh after a 401 (or the configured status). */
	expired: boolean;
}

/** A node type with no parameters, used only to evaluate credential expressions outside a node. */
const CREDENTIAL_SCOPE_NODE: INode = {
	id: 'credential-scope',
	name: 'Credential expression scope',
	type: 'harness.credentialScope',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};
const credentialScopeNodeType: INodeType = {
	description: {
		displayName: 'Credential expression scope',
		name: 'credentialScope',
		group: [],
		version: 1,
		description: '',
		defaults: {},
		inputs: [],
		outputs: [],
		properties: [],
	},
};
const credentialScopeNodeTypes: INodeTypes = {
	getByName: () => credentialScopeNodeType,
	getByNameAndVersion: () => credentialScopeNodeType,
	getKnownTypes: () => ({}),
};

const clone = <T>(value: T): T => structuredClone(value);

export class FakeCredentialsHelper extends ICredentialsHelper {
	/** The "database": stored (not yet defaulted or resolved) data per credential type. */
	private readonly store = new Map<string, ICredentialDataDecryptedObject>();

	readonly updates: CredentialUpdate[] = [];

	readonly preAuthenticationCalls: PreAuthenticationCall[] = [];

	constructor(
		private readonly credentialTypes: CredentialTypeSource,
		stored: Record<string, ICredentialDataDecryptedObject> = {},
	) {
		super();
		for (const [type, data] of Object.entries(stored)) this.store.set(type, clone(data));
	}

	/** The data as currently stored for `type` (after any pre-authentication write-back). */
	stored(type: string): ICredentialDataDecryptedObject | undefined {
		const data = this.store.get(type);
		return data === undefined ? undefined : clone(data);
	}

	getParentTypes(typeName: string): string[] {
		const extendsTypes = this.credentialTypes.getByName(typeName).extends ?? [];
		return extendsTypes.flatMap((parent) => [parent, ...this.getParentTypes(parent)]);
	}

	isCredentialUsableByNode(credentialType: string, nodeType: string): boolean {
		let type: ICredentialType;
		try {
			type = this.credentialTypes.getByName(credentialType);
		} catch {
			return true;
		}
		if (!type.restrictToSupportedNodes) return true;
		return this.credentialTypes.getSupportedNodes(credentialType).includes(nodeType);
	}

	getCredentialsProperties(type: string): INodeProperties[] {
		const credentialType = this.credentialTypes.getByName(type);
		if (!credentialType.extends) return credentialType.properties;
		const merged: INodeProperties[] = [];
		for (const parent of credentialType.extends) {
			NodeHelpers.mergeNodeProperties(merged, this.getCredentialsProperties(parent));
		}
		NodeHelpers.mergeNodeProperties(merged, credentialType.properties);
		return merged;
	}

	async getCredentials(nodeCredentials: INodeCredentialsDetails, type: string): Promise<Credentials> {
		const data = this.readStored(nodeCredentials, type);
		const credentials = new Credentials({ id: nodeCredentials.id, name: nodeCredentials.name }, type);
		await credentials.setData(data);
		return credentials;
	}

	async getDecrypted(
		additionalData: IWorkflowExecuteAdditionalData,
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		mode: WorkflowExecuteMode,
		executeData?: IExecuteData,
		raw?: boolean,
		expressionResolveValues?: ICredentialsExpressionResolveValues,
	): Promise<ICredentialDataDecryptedObject> {
		const storedData = this.readStored(nodeCredentials, type);
		if (raw === true) return storedData;

		// Defaults for properties the user never touched; properties hidden by displayOptions drop out.
		const properties = this.getCredentialsProperties(type);
		let data = (NodeHelpers.getNodeParameters(
			properties,
			storedData as INodeParameters,
			true,
			false,
			null,
			null,
		) ?? {}) as ICredentialDataDecryptedObject;

		const additionalKeys = getAdditionalKeys(additionalData, mode, null, { isCredential: true });
		if (expressionResolveValues) {
			const { workflow, runExecutionData, runIndex, itemIndex, node, connectionInputData } =
				expressionResolveValues;
			try {
				data = workflow.expression.getParameterValue(
					data as INodeParameters,
					runExecutionData,
					runIndex,
					itemIndex,
					node.name,
					connectionInputData,
					mode,
					additionalKeys,
					executeData,
					false,
					data,
				) as ICredentialDataDecryptedObject;
			} catch (error) {
				(error as Error).message += ' [Error resolving credentials]';
				throw error;
			}
		} else {
			const scope = new Workflow({
				nodes: [CREDENTIAL_SCOPE_NODE],
				connections: {},
				active: false,
				nodeTypes: credentialScopeNodeTypes,
			});
			await scope.expression.acquireIsolate();
			try {
				data = scope.expression.getComplexParameterValue(
					CREDENTIAL_SCOPE_NODE,
					data as INodeParameters,
					mode,
					additionalKeys,
					undefined,
					undefined,
					data,
				) as ICredentialDataDecryptedObject;
			} finally {
				await scope.expression.releaseIsolate();
			}
		}
		return data;
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		incomingRequestOptions: IHttpRequestOptions | IRequestOptionsSimplified,
		workflow?: Workflow,
		node?: INode,
	): Promise<IHttpRequestOptions> {
		const requestOptions = incomingRequestOptions as IHttpRequestOptions;
		const { authenticate } = this.credentialTypes.getByName(typeName);
		if (authenticate === undefined) return requestOptions;
		if (typeof authenticate === 'function') return await authenticate(credentials, requestOptions);
		if (authenticate.type !== 'generic') return requestOptions;
		if (!workflow || !node) {
			throw new UnexpectedError('Declarative credential authentication needs the workflow and node');
		}

		const resolve = (value: unknown): unknown => {
			if (!isExpression(value)) return value;
			const resolved = workflow.expression.getSimpleParameterValue(
				node,
				value as string,
				'internal',
				{ $credentials: credentials },
				undefined,
				'',
			);
			return resolved ? String(resolved) : '';
		};

		requestOptions.headers ??= {};
		const target = requestOptions as unknown as Record<string, IDataObject | undefined>;
		for (const [section, entries] of Object.entries(authenticate.properties)) {
			for (const [key, value] of Object.entries(entries as IDataObject)) {
				const bucket = (target[section] ??= {});
				bucket[String(resolve(key))] = resolve(value) as IDataObject[string];
			}
		}
		return requestOptions;
	}

	async preAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		node: INode,
		credentialsExpired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const credentialType = this.credentialTypes.getByName(typeName);
		const expirable = credentialType.properties.find(
			(property) => property.type === 'hidden' && property.typeOptions?.expirable === true,
		);
		if (expirable === undefined || typeof credentialType.preAuthentication !== 'function') {
			return undefined;
		}
		if (credentials[expirable.name] !== '' && !credentialsExpired) return undefined;

		this.preAuthenticationCalls.push({ type: typeName, node: node.name, expired: credentialsExpired });
		const output = await credentialType.preAuthentication.call(
			this.restrictToCredentialDomains(helpers, credentials),
			credentials,
		);
		if (output?.[expirable.name] === undefined) return undefined;

		const nodeCredentials = node.credentials?.[credentialType.name];
		if (!nodeCredentials) return undefined;
		// Persist the new token, but never overwrite a field the user set as an expression.
		const storedData = this.readStored(nodeCredentials, credentialType.name);
		const toPersist: ICredentialDataDecryptedObject = { ...storedData };
		for (const [key, value] of Object.entries(output)) {
			if (key === expirable.name || !isExpression(storedData[key])) {
				toPersist[key] = value as ICredentialDataDecryptedObject[string];
			}
		}
		await this.updateCredentials(nodeCredentials, credentialType.name, toPersist);
		return Object.assign(credentials, output);
	}

	async runPreAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const credentialType = this.credentialTypes.getByName(typeName);
		if (typeof credentialType.preAuthentication !== 'function') return undefined;
		const output = await credentialType.preAuthentication.call(
			this.restrictToCredentialDomains(helpers, credentials),
			credentials,
		);
		return (output as ICredentialDataDecryptedObject | undefined) ?? undefined;
	}

	async updateCredentials(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.store.set(type, clone(data));
		this.updates.push({ type, nodeCredentials: clone(nodeCredentials), data: clone(data) });
	}

	async updateCredentialsOauthTokenData(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		const stored = this.readStored(nodeCredentials, type);
		await this.updateCredentials(nodeCredentials, type, { ...stored, oauthTokenData: data.oauthTokenData });
	}

	private readStored(nodeCredentials: INodeCredentialsDetails, type: string): ICredentialDataDecryptedObject {
		// n8n looks credentials up by id; a workflow whose node credential has no id fails the same way.
		if (!nodeCredentials.id) {
			throw new UserError(`The node's "${type}" credential "${nodeCredentials.name}" has no id`);
		}
		const data = this.store.get(type);
		if (data === undefined) {
			throw new UserError(`No "${type}" credential was given to the workflow harness`);
		}
		return clone(data);
	}

	/**
	 * As in n8n: `preAuthentication` runs with a `this` that only offers `helpers.httpRequest`,
	 * held to the credential's own allowed domains when it declares any.
	 */
	private restrictToCredentialDomains(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
	): IHttpRequestHelper {
		return {
			helpers: {
				httpRequest: async (requestOptions: IHttpRequestOptions) => {
					const allowedDomains = getCredentialOwnRequestAllowedDomains(credentials);
					if (allowedDomains === undefined) return await helpers.helpers.httpRequest(requestOptions);
					if (requestOptions.allowedDomains !== undefined) {
						throw new UserError(
							'This credential restricts requests to specific domains, which cannot be combined with the domains its authentication step asks for.',
						);
					}
					return await helpers.helpers.httpRequest({ ...requestOptions, allowedDomains });
				},
			},
		} as IHttpRequestHelper;
	}
}
