import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { serverMessage } from '../../../shared/errors';
import { resultLimit } from '../../../shared/parameters';
import { projectIdOf, projectNotFoundError, requiredId } from '../../helpers/api';
import { reportTitle } from '../../helpers/conversation';
import { apiPath, dembraneApiRequest } from '../../transport';
import { limitField, projectLocator, returnAllField } from '../common.descriptions';

const showForReport = { resource: ['report'] };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: showForReport },
		options: [
			{ name: 'Get', value: 'get', description: 'Get a report with its content', action: 'Get a report' },
			{
				name: 'Get Latest',
				value: 'getLatest',
				description: 'Get the newest report of a project with its content',
				action: 'Get the latest report',
			},
			{ name: 'Get Many', value: 'getMany', description: 'List the reports of a project', action: 'Get many reports' },
		],
		default: 'getLatest',
	},
	{ ...projectLocator, displayOptions: { show: showForReport } },
	{
		displayName: 'Report ID',
		name: 'reportId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. 42',
		displayOptions: { show: { ...showForReport, operation: ['get'] } },
	},
	{ ...returnAllField, displayOptions: { show: { ...showForReport, operation: ['getMany'] } } },
	{ ...limitField, displayOptions: { show: { ...showForReport, operation: ['getMany'], returnAll: [false] } } },
];

/** A report row with its title (the first `# ` heading of the Markdown) up front. */
function withTitle(report: IDataObject): IDataObject {
	return { id: report.id, title: report.title ?? reportTitle(report.content), ...report };
}

async function reportDetail(this: IExecuteFunctions, projectId: string, reportId: string | number): Promise<IDataObject> {
	const { body } = await dembraneApiRequest.call(this, { path: apiPath`/api/projects/${projectId}/reports/${reportId}/detail` });
	return withTitle(body as IDataObject);
}

export async function execute(this: IExecuteFunctions, operation: string, itemIndex: number): Promise<INodeExecutionData[]> {
	const projectId = projectIdOf.call(this, itemIndex);
	const pairedItem = { item: itemIndex };
	if (operation === 'get') {
		const reportId = requiredId.call(this, 'reportId', 'Report ID', itemIndex);
		// dembrane's report IDs are integers; anything else draws a bare 422 from its route.
		if (!/^\d+$/.test(reportId)) {
			throw new NodeOperationError(this.getNode(), `Report ID must be a whole number, not "${reportId}"`, {
				itemIndex,
				description: 'Pick the report from Report → Get Many or Get Latest (its "id").',
			});
		}
		return [{ json: await reportDetail.call(this, projectId, reportId), pairedItem }];
	}
	if (operation === 'getLatest') {
		// The latest route leaves content out; the detail route has it.
		const { statusCode, body } = await dembraneApiRequest.call(this, {
			path: apiPath`/api/projects/${projectId}/reports/latest`,
			acceptStatuses: [404],
		});
		const detail = statusCode === 404 ? serverMessage(body) : undefined;
		// dembrane's answer for a missing, deleted or unreachable project: not "no report yet".
		if (detail && /project not found/i.test(detail)) throw projectNotFoundError(this.getNode(), projectId, detail, itemIndex);
		const latest = body as IDataObject | null;
		if (statusCode === 404 || !latest || latest.id === undefined || latest.id === null) {
			this.addExecutionHints({ message: `Project ${projectId} has no report yet`, type: 'info', location: 'outputPane' });
			return [];
		}
		return [{ json: await reportDetail.call(this, projectId, latest.id as number), pairedItem }];
	}
	const limit = resultLimit.call(this, itemIndex);
	const { body } = await dembraneApiRequest.call(this, { path: apiPath`/api/projects/${projectId}/reports` });
	const reports = Array.isArray(body) ? (body as IDataObject[]) : (((body as IDataObject)?.reports as IDataObject[]) ?? []);
	return reports.slice(0, limit).map((report) => ({ json: withTitle(report), pairedItem }));
}
