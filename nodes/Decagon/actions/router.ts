import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { NodeApiError } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { toNodeError } from '../../shared/errors';

import { openDecagonConnection } from '../transport';
import * as conversation from './conversation';

/**
 * Runs the chosen operation once per input item. One connection (and so one pacer) serves all items of
 * an execution, so their requests share the rate limit.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const connection = await openDecagonConnection.call(this);
	const returnData: INodeExecutionData[] = [];

	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			if (resource === 'conversation' && operation === 'export') {
				returnData.push(...(await conversation.exportOperation.execute.call(this, connection, itemIndex)));
			} else {
				throw new NodeOperationError(this.getNode(), `The operation "${operation}" of "${resource}" is not supported`, {
					itemIndex,
				});
			}
		} catch (error) {
			if (this.continueOnFail()) {
				returnData.push({
					json: { error: (error as Error).message, description: (error as NodeApiError).description ?? null },
					pairedItem: { item: itemIndex },
				});
				continue;
			}
			throw toNodeError(this.getNode(), error, itemIndex);
		}
	}
	return [returnData];
}
