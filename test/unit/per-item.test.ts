/**
 * runPerItem, which every operation runs through: outputs of any size, and Continue On Fail.
 * (Through n8n's real engine: the workflow tests of each node.)
 */
import { NodeOperationError } from 'n8n-workflow';
import type { IExecuteFunctions, INode, INodeExecutionData } from 'n8n-workflow';

import { runPerItem } from '../../nodes/shared/perItem';

function context(inputs: number, continueOnFail = false, onError?: string): IExecuteFunctions {
	return {
		getInputData: () => Array.from({ length: inputs }, () => ({ json: {} })),
		continueOnFail: () => continueOnFail,
		getNode: () => ({ id: '1', name: 'Node', type: 'test', typeVersion: 1, position: [0, 0], parameters: {}, onError }),
	} as unknown as IExecuteFunctions;
}

test('an operation that returns 200,000 items (one item per message of a large export) gives all of them', async () => {
	const many: INodeExecutionData[] = Array.from({ length: 200_000 }, (_, i) => ({ json: { i }, pairedItem: { item: 0 } }));
	const [output] = await runPerItem.call(context(1), async () => many);
	expect(output).toHaveLength(200_000);
	expect(output[199_999].json.i).toBe(199_999);
});

test('Continue On Fail: a failing item becomes an {error, description} item paired with it, the others go on', async () => {
	const [output] = await runPerItem.call(context(3, true, 'continueRegularOutput'), async (index) => {
		if (index === 1) throw new Error('boom');
		return [{ json: { index }, pairedItem: { item: index } }];
	});
	// No `error` on the item: n8n would cut its json down to `{error}`, losing the description.
	expect(output).toEqual([
		{ json: { index: 0 }, pairedItem: { item: 0 } },
		{ json: { error: 'boom', description: null }, pairedItem: { item: 1 } },
		{ json: { index: 2 }, pairedItem: { item: 2 } },
	]);
});

test('Continue (using error output): the error item is `{error, message}`, which n8n 1.x and 2.x route to that output and keep whole', async () => {
	const [output] = await runPerItem.call(context(3, true, 'continueErrorOutput'), async (index) => {
		if (index === 1) throw new NodeOperationError({ name: 'Probe' } as INode, 'boom', { description: 'Do this instead.' });
		if (index === 2) throw new Error('no advice');
		return [{ json: { index }, pairedItem: { item: index } }];
	});
	// An item carrying the error itself would be cut down by n8n to `{error}`: no description, no input fields.
	// n8n 1.x needs `message` truthy: with no description it repeats the error.
	expect(output.slice(1)).toEqual([
		{ json: { error: 'boom', message: 'Do this instead.' }, pairedItem: { item: 1 } },
		{ json: { error: 'no advice', message: 'no advice' }, pairedItem: { item: 2 } },
	]);
});
