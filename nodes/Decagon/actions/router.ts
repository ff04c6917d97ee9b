import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { runPerItem } from '../../shared/perItem';
import type { DecagonConnection } from '../transport';
import { openDecagonConnection } from '../transport';
import * as conversation from './conversation';

/**
 * Runs the chosen operation once per input item. One connection (and so one pacer) serves all items of
 * a run, so their requests share the rate limit. The next free slot is kept in the execution's flow
 * context, per Decagon host and API key, so that the node run again in the same execution (a loop over
 * date windows), or another Decagon node after it, does not start its first request too early. The
 * context belongs to the execution (its data, not this process), as queue mode needs.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	// Opened by the first item, inside the per-item run, so a credential problem (a bad custom Base URL)
	// becomes an error item under Continue On Fail like any other failure.
	let connection: Promise<DecagonConnection> | undefined;
	let pacing: { key: string; connection: DecagonConnection } | undefined;
	const open = async () => {
		const opened = await openDecagonConnection.call(this);
		// The host only: a custom Base URL's user info, if any, is not written into the execution's data.
		const key = `decagonNextRequest ${hostOf(opened.baseUrl)} ${opened.credentials.id}`;
		const flow = this.getContext('flow');
		if (typeof flow[key] === 'number') opened.pacer.notBefore(flow[key] as number);
		pacing = { key, connection: opened };
		return opened;
	};
	try {
		return await runPerItem.call(this, async (itemIndex) => {
			if (resource === 'conversation' && operation === 'export') {
				connection ??= open();
				return await conversation.exportOperation.execute.call(this, await connection, itemIndex);
			}
			throw new NodeOperationError(this.getNode(), `The operation "${operation}" of "${resource}" is not supported`, { itemIndex });
		});
	} finally {
		if (pacing) this.getContext('flow')[pacing.key] = pacing.connection.pacer.nextStart;
	}
}

function hostOf(url: string): string {
	try {
		return new URL(url).host;
	} catch {
		return '';
	}
}
