import type { IDataObject, IExecuteFunctions, INode, INodeParameterResourceLocator, NodeApiError } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { apiError } from '../../shared/errors';
import type { DembraneContext } from '../transport';
import { apiPath, DEMBRANE_CREDENTIAL, dembraneApiRequest, parseJson } from '../transport';

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
 * dembrane's offset paging over a route that answers a bare JSON array: pages of `pageSize()` rows from
 * `offset` 0 on, until a short page, a page with nothing new (a server that ignored `offset`) or
 * MAX_LISTING_PAGES. Yields each page's rows not seen before (`fresh`: rows shift when others arrive during
 * paging) and the page as it came (`rows`, from position `offset`). With `onNotFound`, a 404 calls it and
 * ends the paging instead of failing.
 */
async function* offsetPages(
	this: DembraneContext,
	request: { path: string; qs: IDataObject; what: string; onNotFound?: () => void },
	pageSize: () => number,
): AsyncGenerator<{ fresh: IDataObject[]; rows: IDataObject[]; offset: number }> {
	const { path, qs, what, onNotFound } = request;
	const seen = new Set<unknown>();
	let offset = 0;
	for (let page = 0; page < MAX_LISTING_PAGES; page++) {
		const limit = pageSize();
		const { statusCode, body } = await dembraneApiRequest.call(this, { path, qs: { ...qs, limit, offset }, acceptStatuses: onNotFound ? [404] : [] });
		if (statusCode === 404) return onNotFound?.();
		if (!Array.isArray(body)) throw new NodeOperationError(this.getNode(), `dembrane sent an unexpected ${what} (not a list)`);
		const rows = body as IDataObject[];
		const fresh = rows.filter((row) => !seen.has(row.id) && seen.add(row.id));
		yield { fresh, rows, offset };
		offset += limit;
		if (body.length < limit || fresh.length === 0) return;
	}
}

/**
 * Reads the conversation listing until `limit` rows or its end.
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
	const pageSize = () => (options.transcriptRequired ? LISTING_PAGE_SIZE : Math.min(LISTING_PAGE_SIZE, limit - rows.length));
	const request = { path: '/api/v2/bff/conversations', qs: { ...query, project_id: projectId }, what: 'conversation listing' };
	for await (const { fresh } of offsetPages.call(this, request, pageSize)) {
		// A server that does not say (has_transcript missing) keeps its rows.
		rows.push(...(options.transcriptRequired ? fresh.filter((row) => row.has_transcript !== false) : fresh));
		if (rows.length >= limit) break;
	}
	return rows.slice(0, limit);
}

/**
 * The docs promise plain text from the transcript route; production answers `application/json` whose body
 * is a JSON string. Both give the same text.
 */
export function transcriptText(body: unknown, contentType: unknown): string {
	const type = String(Array.isArray(contentType) ? contentType[0] : (contentType ?? ''));
	const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : JSON.stringify(body ?? '');
	if (/json/i.test(type)) {
		const parsed = parseJson(text);
		if (typeof parsed === 'string') return parsed;
		if (parsed === null || parsed === undefined) return '';
		return typeof parsed === 'object' ? JSON.stringify(parsed) : String(parsed);
	}
	return text;
}

/** Chunks the transcript route reads at most, in one query (dembrane's `"limit": 1500`). */
const TRANSCRIPT_ROUTE_CHUNKS = 1500;

/**
 * A conversation's whole transcript: its chunks' transcripts in time order, joined with "\n". That is what
 * `GET /api/conversations/{id}/transcript` answers, but that route stops at the first 1,500 chunks, so the
 * chunks are read from the dashboard's chunk list (1,000 a request; one request for most conversations).
 * The transcript route answers instead where the chunk list is missing (404: an older dembrane, or a
 * conversation it cannot find, which that route then reports) or holds transcripts back (a conversation
 * over the plan's recording-hours cap). Null when the conversation is not found and `acceptNotFound`.
 */
export async function readTranscript(this: DembraneContext, conversationId: string, options: { acceptNotFound?: boolean } = {}): Promise<string | null> {
	let complete = true;
	const request = {
		path: apiPath`/api/v2/bff/conversations/${conversationId}/chunks`,
		qs: { fields: 'id,transcript,timestamp', sort: 'timestamp' },
		what: 'chunk list',
		onNotFound: () => {
			complete = false;
		},
	};
	// Every position of the list, as its pages came (see readTiesWhole).
	const chunks: IDataObject[] = [];
	for await (const { rows } of offsetPages.call(this, request, () => LISTING_PAGE_SIZE)) {
		if (rows.some((chunk) => chunk.transcript_locked === true)) {
			complete = false;
			break;
		}
		chunks.push(...rows);
	}
	if (complete && !(await readTiesWhole.call(this, request, chunks))) {
		if (chunks.length <= TRANSCRIPT_ROUTE_CHUNKS) complete = false;
		else {
			this.logger.warn(
				`dembrane ECHO: conversation ${conversationId} has more than ${LISTING_PAGE_SIZE} chunks of one timestamp, which dembrane's chunk list does not order stably across pages; its transcript may lack some of them`,
			);
		}
	}
	if (complete) {
		const seenIds = new Set<unknown>();
		const parts: string[] = [];
		for (const chunk of chunks) {
			if (chunk.id !== undefined && chunk.id !== null && (seenIds.has(chunk.id) || !seenIds.add(chunk.id))) continue;
			if (typeof chunk.transcript === 'string' && chunk.transcript !== '') parts.push(chunk.transcript);
		}
		return parts.join('\n');
	}
	const response = await dembraneApiRequest.call(this, {
		path: apiPath`/api/conversations/${conversationId}/transcript`,
		responseType: 'text',
		acceptStatuses: options.acceptNotFound ? [404] : [],
	});
	return response.statusCode === 404 ? null : transcriptText(response.body, response.headers['content-type']);
}

/**
 * The chunk list sorts on timestamp alone and Directus adds no tie-breaker (directus/directus#17435): chunks
 * of one timestamp that straddle two pages may be ordered differently for each page, so one comes twice and
 * another not at all. Their positions are certain, though, so such a group is read again in one request of
 * exactly its positions. False when a group is larger than a request (or changed meanwhile).
 */
async function readTiesWhole(this: DembraneContext, request: { path: string; qs: IDataObject }, chunks: IDataObject[]): Promise<boolean> {
	for (let boundary = LISTING_PAGE_SIZE; boundary < chunks.length; boundary += LISTING_PAGE_SIZE) {
		const timestamp = chunks[boundary].timestamp;
		if (timestamp === undefined || timestamp !== chunks[boundary - 1].timestamp) continue;
		let first = boundary - 1;
		while (first > 0 && chunks[first - 1].timestamp === timestamp) first--;
		let last = boundary;
		while (last + 1 < chunks.length && chunks[last + 1].timestamp === timestamp) last++;
		const size = last - first + 1;
		if (size > LISTING_PAGE_SIZE) return false;
		const { body } = await dembraneApiRequest.call(this, { path: request.path, qs: { ...request.qs, limit: size, offset: first } });
		if (!Array.isArray(body) || body.length !== size || body.some((chunk: IDataObject) => chunk?.timestamp !== timestamp)) return false;
		chunks.splice(first, size, ...(body as IDataObject[]));
	}
	return true;
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
