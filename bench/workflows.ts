/**
 * Workflow and credential JSON for the benchmarks, as the n8n 2.41.1 editor exports them: every node at
 * the newest type version that n8n offers, parameters named as in the nodes' descriptions
 * (n8n-nodes-base/dist/nodes/...), and our nodes under the type names a user install registers.
 */
import type { CredentialFixture, WorkflowFixture } from '../test/support/n8n-instance';
import { passwordCredentialData } from '../test/standins/dembrane';

export const PACKAGE = 'n8n-nodes-conversation-export';
export const MANUAL_TRIGGER = "When clicking 'Execute workflow'";

/** One node of a chain; id and position are filled in by chainWorkflow(). */
export interface NodeSpec {
	name: string;
	type: string;
	typeVersion: number;
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string; name: string }>;
}

/** Manual Trigger → nodes[0] → nodes[1] → ..., one main connection each. */
export function chainWorkflow(id: string, name: string, nodes: NodeSpec[]): WorkflowFixture {
	const all: NodeSpec[] = [{ name: MANUAL_TRIGGER, type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} }, ...nodes];
	const connections: Record<string, unknown> = {};
	for (let i = 0; i + 1 < all.length; i++) {
		connections[all[i].name] = { main: [[{ node: all[i + 1].name, type: 'main', index: 0 }]] };
	}
	return {
		id,
		name,
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: all.map((node, i) => ({
			id: `${id}-node-${i}`,
			name: node.name,
			type: node.type,
			typeVersion: node.typeVersion,
			position: [i * 220, 0],
			parameters: node.parameters,
			...(node.credentials ? { credentials: node.credentials } : {}),
		})),
		connections,
	};
}

/** The names of the nodes a chain runs, trigger included: what the time sums over. */
export function chainNodeNames(workflow: WorkflowFixture): string[] {
	return (workflow.nodes as Array<{ name: string }>).map((node) => node.name);
}

const ref = (credential: CredentialFixture) => ({ [credential.type]: { id: credential.id, name: credential.name } });

// ---------------------------------------------------------------------------------------------
// Credentials

export function decagonCredential(id: string, baseUrl: string, apiKey: string, requestsPerSecond: number): CredentialFixture {
	return { id, name: `Decagon ${id}`, type: 'decagonApi', data: { region: 'custom', baseUrl, apiKey, requestsPerSecond } };
}

/** n8n's generic "Bearer Auth" credential, what a user picks in the HTTP Request node. */
export function bearerCredential(id: string, token: string): CredentialFixture {
	return { id, name: `Bearer ${id}`, type: 'httpBearerAuth', data: { token } };
}

export function dembranePasswordCredential(id: string, standin: Parameters<typeof passwordCredentialData>[0]): CredentialFixture {
	return { id, name: `dembrane ${id}`, type: 'dembraneEchoApi', data: passwordCredentialData(standin) };
}

// ---------------------------------------------------------------------------------------------
// Our nodes

export function decagonExportNode(
	credential: CredentialFixture,
	output: 'conversation' | 'message' | 'jsonl',
	options: { deduplicate?: boolean } = {},
): NodeSpec {
	return {
		name: 'Decagon',
		type: `${PACKAGE}.decagon`,
		typeVersion: 1,
		parameters: { resource: 'conversation', operation: 'export', returnAll: true, output, options },
		credentials: ref(credential),
	};
}

export function dembraneExportNode(
	credential: CredentialFixture,
	projectId: string,
	output: 'conversations' | 'zip',
	options: { matchDetails?: boolean } = {},
): NodeSpec {
	return {
		name: 'dembrane ECHO',
		type: `${PACKAGE}.dembraneEcho`,
		typeVersion: 1,
		parameters: {
			resource: 'project',
			operation: 'exportTranscripts',
			project: { __rl: true, mode: 'id', value: projectId },
			output,
			options,
		},
		credentials: ref(credential),
	};
}

// ---------------------------------------------------------------------------------------------
// n8n's built-in nodes (n8n-nodes-base 2.41.1)

/**
 * HTTP Request 4.5 with Bearer Auth, `GET <url>?timestamp_filter=updated_at`, and pagination "Update a
 * Parameter in Each Request": query `cursor` = the previous body's `next_page_cursor`, complete when that
 * is null. One output item per page. `intervalMs` is "Interval Between Requests (ms)".
 */
export function httpCursorPaginationNode(credential: CredentialFixture, url: string, intervalMs = 0): NodeSpec {
	const pagination: Record<string, unknown> = {
		paginationMode: 'updateAParameterInEachRequest',
		parameters: { parameters: [{ type: 'qs', name: 'cursor', value: '={{ $response.body.next_page_cursor }}' }] },
		paginationCompleteWhen: 'other',
		completeExpression: '={{ $response.body.next_page_cursor === null }}',
	};
	if (intervalMs > 0) pagination.requestInterval = intervalMs;
	return {
		name: 'HTTP Request',
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.5,
		parameters: {
			url,
			authentication: 'genericCredentialType',
			genericAuthType: 'httpBearerAuth',
			sendQuery: true,
			queryParameters: { parameters: [{ name: 'timestamp_filter', value: 'updated_at' }] },
			options: { pagination: { pagination } },
		},
		credentials: ref(credential),
	};
}

/** HTTP Request 4.5 with Bearer Auth, the response saved as a file in binary field `data`. */
export function httpFileNode(credential: CredentialFixture, url: string): NodeSpec {
	return {
		name: 'HTTP Request',
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.5,
		parameters: {
			url,
			authentication: 'genericCredentialType',
			genericAuthType: 'httpBearerAuth',
			options: { response: { response: { responseFormat: 'file' } } },
		},
		credentials: ref(credential),
	};
}

/** Split Out 1: one item per element of `field` (`$binary`: one item per binary field). */
export function splitOutNode(field: string): NodeSpec {
	return { name: 'Split Out', type: 'n8n-nodes-base.splitOut', typeVersion: 1, parameters: { fieldToSplitOut: field, options: {} } };
}

/** Remove Duplicates 2, "Remove Items Repeated Within Current Input" on selected fields (keeps the first). */
export function removeDuplicatesNode(fields: string): NodeSpec {
	return {
		name: 'Remove Duplicates',
		type: 'n8n-nodes-base.removeDuplicates',
		typeVersion: 2,
		parameters: { compare: 'selectedFields', fieldsToCompare: fields, options: {} },
	};
}

/** Compression 1.1, Decompress of binary field `data` into `file_0`, `file_1`, ... */
export function decompressNode(): NodeSpec {
	return { name: 'Compression', type: 'n8n-nodes-base.compression', typeVersion: 1.1, parameters: { operation: 'decompress' } };
}

/** Extract From File 1.1, "Extract From Text File" of the binary field `binaryPropertyName` into json `destinationKey`. */
export function extractTextNode(binaryPropertyName: string, destinationKey: string): NodeSpec {
	return {
		name: 'Extract from File',
		type: 'n8n-nodes-base.extractFromFile',
		typeVersion: 1.1,
		parameters: { operation: 'text', binaryPropertyName, destinationKey, options: {} },
	};
}

export function noOpNode(): NodeSpec {
	return { name: 'No Operation, do nothing', type: 'n8n-nodes-base.noOp', typeVersion: 1, parameters: {} };
}
