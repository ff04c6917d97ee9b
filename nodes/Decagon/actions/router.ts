import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { runPerItem } from '../../shared/perItem';
import type { DecagonConnection } from '../transport';
import { openDecagonConnection } from '../transport';
import * as conversation from './conversation';

/**
 * Runs the chosen operation once per input item. One connection (and so one pacer) serves all items of
 * an execution, so their requests share the rate limit.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	// Opened by the first item, inside the per-item run, so a credential problem (a bad custom Base URL)
	// becomes an error item under Continue On Fail like any other failure.
	let connection: Promise<DecagonConnection> | undefined;
	return await runPerItem.call(this, async (itemIndex) => {
		if (resource === 'conversation' && operation === 'export') {
			connection ??= openDecagonConnection.call(this);
			return await conversation.exportOperation.execute.call(this, await connection, itemIndex);
		}
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" of "${resource}" is not supported`, { itemIndex });
	});
}
