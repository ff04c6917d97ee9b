import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { dashboardContext, requiredId } from '../../helpers/api';
import { dashboardUrl, simplifyConversation } from '../../helpers/conversation';
import { apiPath, dembraneApiRequest } from '../../transport';
import { conversationIdField, simplifyField } from '../common.descriptions';

const showFor = { resource: ['conversation'], operation: ['get'] };

export const description: INodeProperties[] = [
	{ ...conversationIdField, displayOptions: { show: showFor } },
	{ ...simplifyField, displayOptions: { show: showFor } },
];

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const conversationId = requiredId.call(this, 'conversationId', 'Conversation ID', itemIndex);
	const simplify = this.getNodeParameter('simplify', itemIndex, false) as boolean;
	const { body } = await dembraneApiRequest.call(this, {
		path: apiPath`/api/v2/bff/conversations/${conversationId}`,
		qs: { include_tags: true },
	});
	const conversation = body as IDataObject;
	let json = conversation;
	if (simplify) {
		const links = await dashboardContext.call(this, conversation.project_id as string | undefined);
		json = simplifyConversation(conversation, dashboardUrl(links.base, links.workspaceId, conversation.project_id, conversation.id));
	}
	return [{ json, pairedItem: { item: itemIndex } }];
}
