import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import * as conversation from './actions/conversation';
import { router } from './actions/router';

export class Decagon implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Decagon',
		name: 'decagon',
		// The editor's Docs link: without it n8n appends its tracking query after the codex link's #anchor, which then matches no heading.
		documentationUrl: 'https://www.npmjs.com/package/n8n-nodes-conversation-export#conversation--export',
		icon: { light: 'file:decagon.svg', dark: 'file:decagon.dark.svg' },
		group: ['input'],
		version: 1,
		// The canvas shows this under the node's name (which already says "Export conversations").
		subtitle:
			'={{ ({ conversation: "One item per conversation", message: "One item per message", jsonl: "JSON Lines file" })[$parameter["output"]] || $parameter["operation"] }}',
		description: 'Export conversations from Decagon, paced to its rate limit and de-duplicated',
		defaults: { name: 'Decagon' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'decagonApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [{ name: 'Conversation', value: 'conversation' }],
				default: 'conversation',
			},
			...conversation.description,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
