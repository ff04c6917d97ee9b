import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { refusesEveryItem, toNodeError } from './errors';

/**
 * Runs an operation once per input item: paired items come from the operation, Continue On Fail turns
 * a failure into an `{error, description}` item paired with its input (n8n keeps only `error` on the
 * error output), anything else stops the node with the item's index on the error.
 */
export async function runPerItem(
	this: IExecuteFunctions,
	operation: (itemIndex: number) => Promise<INodeExecutionData[]>,
): Promise<INodeExecutionData[][]> {
	const returnData: INodeExecutionData[] = [];
	const count = this.getInputData().length;
	// A refused credential fails the items after it alike, without asking the server again.
	let refused: unknown;
	for (let itemIndex = 0; itemIndex < count; itemIndex++) {
		try {
			if (refused !== undefined) throw refused;
			// One by one: spread into push(), some 125,000 items exceed V8's argument limit.
			for (const item of await operation(itemIndex)) returnData.push(item);
		} catch (error) {
			if (refusesEveryItem(error)) refused = error;
			const failure = toNodeError(this.getNode(), error, itemIndex);
			if (this.continueOnFail()) {
				const item: INodeExecutionData = { json: { error: failure.message, description: failure.description ?? null }, pairedItem: { item: itemIndex } };
				// On Error → Continue (using error output): n8n sends an item to the error output by its `error`
				// (the json alone counts only as `{error}` or `{error, message}`), and then keeps only the message
				// in its json. Elsewhere (Continue, a tool's answer to an AI agent) the description, what to do,
				// stays: n8n would cut any item that has `error` down to `{error}`.
				if (this.getNode().onError === 'continueErrorOutput') item.error = failure;
				returnData.push(item);
				continue;
			}
			throw failure;
		}
	}
	return [returnData];
}
