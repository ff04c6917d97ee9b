/**
 * Workflow and credential JSON for the e2e tests, as the n8n editor would export them, using the node
 * types a user install registers: `<package name>.<node name>`.
 */
import type { CredentialFixture, WorkflowFixture } from '../support/n8n-instance';

export const PACKAGE = 'n8n-nodes-conversation-export';
export const DECAGON = `${PACKAGE}.decagon`;
export const DECAGON_TRIGGER = `${PACKAGE}.decagonTrigger`;

export function decagonCredential(
	id: string,
	name: string,
	baseUrl: string,
	apiKey: string,
	requestsPerSecond = 1,
): CredentialFixture {
	return { id, name, type: 'decagonApi', data: { region: 'custom', baseUrl, apiKey, requestsPerSecond } };
}

const credentialRef = (credential: CredentialFixture) => ({ decagonApi: { id: credential.id, name: credential.name } });

/** "When clicking 'Execute workflow'" → Decagon (Conversation → Export); `settings`: the node's own (On Error). */
export function exportWorkflow(
	id: string,
	name: string,
	credential: CredentialFixture,
	parameters: Record<string, unknown>,
	settings: { onError?: string } = {},
): WorkflowFixture {
	return {
		id,
		name,
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: `${id}-manual`,
				name: "When clicking 'Execute workflow'",
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: `${id}-decagon`,
				name: 'Decagon',
				type: DECAGON,
				typeVersion: 1,
				position: [220, 0],
				parameters: { resource: 'conversation', operation: 'export', ...parameters },
				credentials: credentialRef(credential),
				...settings,
			},
		],
		connections: {
			"When clicking 'Execute workflow'": { main: [[{ node: 'Decagon', type: 'main', index: 0 }]] },
		},
	};
}

/** Decagon Trigger alone, polling every minute. */
export function triggerWorkflow(
	id: string,
	name: string,
	credential: CredentialFixture,
	parameters: Record<string, unknown>,
): WorkflowFixture {
	return {
		id,
		name,
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: `${id}-trigger`,
				name: 'Decagon Trigger',
				type: DECAGON_TRIGGER,
				typeVersion: 1,
				position: [0, 0],
				parameters: { pollTimes: { item: [{ mode: 'everyMinute' }] }, ...parameters },
				credentials: credentialRef(credential),
			},
		],
		connections: {},
	};
}
