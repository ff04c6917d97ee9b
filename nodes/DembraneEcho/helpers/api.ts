import type { IDataObject, IExecuteFunctions, INode, INodeParameterResourceLocator, NodeApiError } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { apiError } from '../../shared/errors';
import type { DembraneContext } from '../transport';
import { apiPath, DEMBRANE_CREDENTIAL, dembraneApiRequest } from '../transport';

/** The listing's page-size maximum. */
export const LISTING_PAGE_SIZE = 1000;
/** Bounds offset paging: a server that ignored `offset` would otherwise be read forever. */
const MAX_LISTING_PAGES = 10_000;

export function projectIdOf(this: IExecuteFunctions, itemIndex: number): string {
	const locator = this.getNodeParameter('project', itemIndex, undefined, { extractValue: true }) as
		| string
		| INodeParameterResourceLocator;
	const id = typeof locator === 'string' ? locator : String(locator?.value ?? '');
	if (id.trim() === '') {
		throw new NodeOperationError(this.getNode(), 'No project chosen', {
			itemIndex,
			description: 'Pick a project from the list, or enter its ID or dashboard URL.',
		});
	}
	return id.trim();
}

export function requiredId(this: IExecuteFunctions, name: string, label: string, itemIndex: number): string {
	const id = String(this.getNodeParameter(name, itemIndex, '') ?? '').trim();
	if (id === '') throw new NodeOperationError(this.getNode(), `${label} is empty`, { itemIndex });
	return id;
}

/**
 * Reads the conversation listing with offset paging until `limit` rows or a short page. The route
 * answers a bare JSON array.
 *
 * `transcriptRequired` is applied here, to the `has_transcript` dembrane adds to every row, not sent as
 * `transcript_required`: the route drops rows without a transcript AFTER limit/offset, so its pages come
 * short and a short page would end the listing early. Filtered pages are read whole (1,000 rows).
 */
export async function listConversations(
	this: DembraneContext,
	projectId: string,
	query: IDataObject,
	limit = Infinity,
	options: { transcriptRequired?: boolean } = {},
): Promise<IDataObject[]> {
	const rows: IDataObject[] = [];
	const seen = new Set<unknown>();
	let offset = 0;
	for (let page = 0; page < MAX_LISTING_PAGES && rows.length < limit; page++) {
		const pageSize = options.transcriptRequired ? LISTING_PAGE_SIZE : Math.min(LISTING_PAGE_SIZE, limit - rows.length);
		const { body } = await dembraneApiRequest.call(this, {
			path: '/api/v2/bff/conversations',
			qs: { ...query, project_id: projectId, limit: pageSize, offset },
		});
		if (!Array.isArray(body)) {
			throw new NodeOperationError(this.getNode(), 'dembrane sent an unexpected conversation listing (not a list)');
		}
		offset += pageSize;
		let fresh = 0;
		for (const row of body as IDataObject[]) {
			if (seen.has(row.id)) continue; // rows shift when conversations arrive during paging
			seen.add(row.id);
			fresh++;
			// A server that does not say (has_transcript missing) keeps its rows.
			if (options.transcriptRequired && row.has_transcript === false) continue;
			rows.push(row);
		}
		if (body.length < pageSize || fresh === 0) break;
	}
	return rows.slice(0, limit);
}

/**
 * dembrane's 404 about the project itself ("Project not found": missing, deleted or out of this account's
 * reach), for routes whose other 404s mean "nothing there yet" and are accepted.
 */
export function projectNotFoundError(node: INode, projectId: string, detail: string, itemIndex: number): NodeApiError {
	return apiError(node, {
		message: `dembrane answered 404 for project ${projectId}: ${detail}`,
		description: 'Check the project ID, and that this account has access to the project.',
		httpCode: 404,
	}, itemIndex);
}

/** `GET /api/v2/projects/{pid}` → `{id, name, workspace_id, ...}`, or undefined when dembrane answers 403/404. */
export async function projectDetails(this: DembraneContext, projectId: string): Promise<IDataObject | undefined> {
	const { statusCode, body } = await dembraneApiRequest.call(this, { path: apiPath`/api/v2/projects/${projectId}`, acceptStatuses: [403, 404] });
	return statusCode < 300 && body && typeof body === 'object' ? (body as IDataObject) : undefined;
}

/**
 * The dashboard root from the credential, and the project's workspace, for dashboard links. A caller
 * that already read the project passes it as `known`, so it is not read twice.
 */
export async function dashboardContext(this: DembraneContext, projectId: string | undefined, known?: { project: IDataObject | undefined }) {
	const credentials = await this.getCredentials(DEMBRANE_CREDENTIAL);
	const base = String(credentials.dashboardUrl ?? '');
	if (!projectId || !base) return { base, workspaceId: undefined };
	const project = known ? known.project : await projectDetails.call(this, projectId);
	const workspaceId = project?.workspace_id;
	return { base, workspaceId: typeof workspaceId === 'string' ? workspaceId : undefined };
}

/** `GET /api/v2/bff/conversations/count` → the number of conversations of a project. */
export async function countConversations(this: DembraneContext, projectId: string): Promise<number> {
	const { body } = await dembraneApiRequest.call(this, { path: '/api/v2/bff/conversations/count', qs: { project_id: projectId } });
	const count = Number((body as IDataObject | undefined)?.count);
	return Number.isFinite(count) ? count : 0;
}
