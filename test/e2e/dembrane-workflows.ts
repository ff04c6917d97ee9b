import type { CredentialFixture, WorkflowFixture } from '../support/n8n-instance';

/** "Start" (manual trigger) → "ECHO" (dembrane ECHO action node with the given parameters). */
export function echoActionWorkflow(id: string, credential: CredentialFixture, parameters: Record<string, unknown>): WorkflowFixture {
	return {
		id,
		name: `dembrane: ${id}`,
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{ id: `${id}-manual`, name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				id: `${id}-echo`,
				name: 'ECHO',
				type: 'n8n-nodes-conversation-export.dembraneEcho',
				typeVersion: 1,
				position: [220, 0],
				parameters,
				credentials: { dembraneEchoApi: { id: credential.id, name: credential.name } },
			},
		],
		connections: { Start: { main: [[{ node: 'ECHO', type: 'main', index: 0 }]] } },
	};
}
