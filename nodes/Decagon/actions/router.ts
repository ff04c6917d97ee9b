import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { runPerItem } from '../../shared/perItem';
import { openDecagonConnection } from '../transport';
import * as conversation from './conversation';

/**
 * Runs the chosen operation once per input item. One connection (and so one pacer) serves all items of
 * an execution, so their requests share the rate limit.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const connection = await openDecagonConnection.call(this);
	return await runPerItem.call(this, async (itemIndex) => {
		if (resource === 'conversation' && operation === 'export') {
			return await conversation.exportOperation.execute.call(this, connection, itemIndex);
		}
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" of "${resource}" is not supported`, { itemIndex });
	});
}
