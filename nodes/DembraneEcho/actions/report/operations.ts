import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { apiError, serverMessage } from '../../../shared/errors';
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
		description: 'The number of the report, the ID that Get Many lists',
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
		const detail = statusCode === 404 ? (serverMessage(body) ?? 'Not Found') : undefined;
		// dembrane's answer for a missing, deleted or unreachable project: not "no report yet".
		if (detail && /project not found/i.test(detail)) throw projectNotFoundError(this.getNode(), projectId, detail, itemIndex);
		// FastAPI's own 404 for a route it does not have: the API URL is wrong (it answers `null` for no report).
		if (detail && /^not found$/i.test(detail.trim())) {
			throw apiError(this.getNode(), {
				message: `dembrane has no route ${`/api/projects/${projectId}/reports/latest`} (404 Not Found)`,
				description: 'Check the API URL in the dembrane ECHO API credential (such as https://api.dembrane.com, without /api).',
				httpCode: 404,
			}, itemIndex);
		}
		const latest = body as IDataObject | null;
		if (statusCode === 404 || !latest || latest.id === undefined || latest.id === null) {
			this.addExecutionHints({ message: `Project ${projectId} has no report yet`, type: 'info', location: 'outputPane' });
			return [];
		}
		if (FINISHED_REPORT.includes(String(latest.status))) return [{ json: await reportDetail.call(this, projectId, latest.id as number), pairedItem }];
		// The newest is being generated (draft), failed or waits (scheduled): it has no content. The newest
		// finished one is what a "latest report" means.
		const finished = (await listReports.call(this, projectId))
			.filter((report) => FINISHED_REPORT.includes(String(report.status)))
			.sort((a, b) => String(b.date_created ?? '').localeCompare(String(a.date_created ?? '')))[0];
		const newest = `The newest report of project ${projectId} (${String(latest.id)}) is ${String(latest.status)}`;
		if (!finished) {
			this.addExecutionHints({ message: `${newest}, and none is finished yet`, type: 'info', location: 'outputPane' });
			return [];
		}
		this.addExecutionHints({ message: `${newest}: this is the newest finished one (${String(finished.id)})`, type: 'info', location: 'outputPane' });
		return [{ json: await reportDetail.call(this, projectId, finished.id as number), pairedItem }];
	}
	const limit = resultLimit.call(this, itemIndex);
	const reports = await listReports.call(this, projectId);
	if (reports.length >= REPORT_LIST_LIMIT && limit > REPORT_LIST_LIMIT) {
		this.addExecutionHints({
			message: `Project ${projectId}: dembrane lists only its ${REPORT_LIST_LIMIT} newest reports, so any older ones are not in this list. Get an older report by its ID with Report → Get.`,
			type: 'warning',
			location: 'outputPane',
		});
	}
	return reports.slice(0, limit).map((report) => ({ json: withTitle(report), pairedItem }));
}

/** dembrane's list route asks its database without a limit, so the database's default of 100 rows applies. */
const REPORT_LIST_LIMIT = 100;

/** Reports with content: a draft is being generated, a scheduled one waits, and error and cancelled have none. */
const FINISHED_REPORT = ['published', 'archived'];

/** `GET /api/projects/{pid}/reports`: the project's 100 newest reports (not error or cancelled ones), without content. */
async function listReports(this: IExecuteFunctions, projectId: string): Promise<IDataObject[]> {
	const { body } = await dembraneApiRequest.call(this, { path: apiPath`/api/projects/${projectId}/reports` });
	return Array.isArray(body) ? (body as IDataObject[]) : (((body as IDataObject)?.reports as IDataObject[]) ?? []);
}
