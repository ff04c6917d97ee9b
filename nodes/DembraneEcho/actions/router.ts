import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { runPerItem } from '../../shared/perItem';
import * as conversation from './conversation';
import * as project from './project';
import * as report from './report/operations';

type Operation = (this: IExecuteFunctions, itemIndex: number) => Promise<INodeExecutionData[]>;

const OPERATIONS: Record<string, Record<string, Operation>> = {
	project: {
		exportTranscripts: project.exportTranscripts.execute,
		getMany: project.getMany.execute,
	},
	conversation: {
		get: conversation.get.execute,
		getMany: conversation.getMany.execute,
		getTranscript: conversation.getTranscript.execute,
	},
	report: {
		get: async function (this: IExecuteFunctions, i: number) {
			return await report.execute.call(this, 'get', i);
		},
		getLatest: async function (this: IExecuteFunctions, i: number) {
			return await report.execute.call(this, 'getLatest', i);
		},
		getMany: async function (this: IExecuteFunctions, i: number) {
			return await report.execute.call(this, 'getMany', i);
		},
	},
};

/** Runs the chosen operation once per input item, with Continue On Fail and paired items. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const run = OPERATIONS[resource]?.[operation];
	return await runPerItem.call(this, async (itemIndex) => {
		if (!run) {
			throw new NodeOperationError(this.getNode(), `The operation "${operation}" of "${resource}" is not supported`, { itemIndex });
		}
		return await run.call(this, itemIndex);
	});
}
