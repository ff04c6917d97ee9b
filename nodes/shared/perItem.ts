import type { IDataObject, IExecuteFunctions, INodeExecutionData, NodeApiError, NodeOperationError } from 'n8n-workflow';

import { refusesEveryItem, toNodeError } from './errors';

/**
 * Runs an operation once per input item: paired items come from the operation, Continue On Fail turns
 * a failure into an item paired with its input (see `failedItem`), anything else stops the node with the
 * item's index on the error.
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
				returnData.push(failedItem.call(this, failure, itemIndex));
				continue;
			}
			throw failure;
		}
	}
	return [returnData];
}

/**
 * The item Continue On Fail gives for a failure: `fields` (what the item would have held) with `error` and
 * `description` (what to do). Under On Error → Continue (using error output), n8n 1.x and 2.x both send
 * an item to the error output when its json is exactly `{error, message}` (a truthy `message`), and add
 * the input item's fields to it, as for their own nodes; so there `message` says what to do, or holds
 * `fields` and the description where the item has fields of its own (a trigger's event: no input to add).
 * Marking the item with the error itself would route it too, but n8n then cuts its json down to
 * `{error}`, losing what to do and the input.
 */
export function failedItem(
	this: IExecuteFunctions,
	failure: NodeApiError | NodeOperationError,
	itemIndex: number,
	fields: IDataObject = {},
): INodeExecutionData {
	const description = failure.description ?? null;
	if (this.getNode().onError !== 'continueErrorOutput') {
		return { json: { ...fields, error: failure.message, description }, pairedItem: { item: itemIndex } };
	}
	const message = Object.keys(fields).length > 0 ? { ...fields, description } : (description ?? failure.message);
	return { json: { error: failure.message, message }, pairedItem: { item: itemIndex } };
}
