import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import * as conversation from './actions/conversation';
import * as project from './actions/project';
import * as report from './actions/report/operations';
import { router } from './actions/router';
import { searchProjects } from './methods/listSearch';

export class DembraneEcho implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Dembrane ECHO',
		name: 'dembraneEcho',
		// The editor's Docs link: without it n8n appends its tracking query after the codex link's #anchor, which then matches no heading.
		documentationUrl: 'https://www.npmjs.com/package/n8n-nodes-conversation-export#operations',
		icon: { light: 'file:dembrane.svg', dark: 'file:dembrane.dark.svg' },
		group: ['input'],
		version: 1,
		// Shown on the canvas under the node's name: the action in words, not "exportTranscripts: project".
		subtitle:
			'={{ ({ "project.exportTranscripts": "Export transcripts", "project.getMany": "Get many projects", "conversation.get": "Get conversation", "conversation.getMany": "Get many conversations", "conversation.getTranscript": "Get transcript", "report.get": "Get report", "report.getLatest": "Get latest report", "report.getMany": "Get many reports" })[$parameter["resource"] + "." + $parameter["operation"]] || $parameter["operation"] }}',
		description: 'Export transcripts, conversations and reports from dembrane ECHO',
		defaults: { name: 'Dembrane ECHO' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'dembraneEchoApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Conversation', value: 'conversation' },
					{ name: 'Project', value: 'project' },
					{ name: 'Report', value: 'report' },
				],
				default: 'project',
			},
			...project.description,
			...conversation.description,
			...report.description,
		],
	};

	methods = { listSearch: { searchProjects } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
