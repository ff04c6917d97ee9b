import type { IDataObject, IExecuteFunctions, INode, INodeParameterResourceLocator, NodeApiError } from 'n8n-workflow';
import { NodeOperationError, sleep } from 'n8n-workflow';

import { mapConcurrently } from '../../shared/concurrency';
import { apiError } from '../../shared/errors';
import type { DembraneContext } from '../transport';
import { apiPath, DEMBRANE_CREDENTIAL, dembraneApiRequest, parseJson } from '../transport';

/** The listing's page-size maximum. */
export const LISTING_PAGE_SIZE = 1000;
/** Bounds offset paging: a server that ignored `offset` would otherwise be read forever. */
const MAX_LISTING_PAGES = 10_000;
/**
 * Each page after the first starts this many rows (at most a tenth of a page) before the end of the one
 * before: a row removed above the read position while paging (a conversation deleted) moves every later
 * row up, and the first of the next page would otherwise be passed over. Rows read twice are dropped by id.
 */
const PAGE_OVERLAP = 50;

/**
 * dembrane's IDs as dembrane writes them: a UUID in lower case. Postgres finds a row whatever the case,
 * but some routes then compare IDs as text (a report's project, api/project.py) and answer 404.
 */
export function canonicalId(id: string): string {
	const trimmed = id.trim();
	return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(trimmed) ? trimmed.toLowerCase() : trimmed;
}

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
	return canonicalId(id);
}

export function requiredId(this: IExecuteFunctions, name: string, label: string, itemIndex: number): string {
	const id = String(this.getNodeParameter(name, itemIndex, '') ?? '').trim();
	if (id === '') throw new NodeOperationError(this.getNode(), `${label} is empty`, { itemIndex });
	return canonicalId(id);
}

/** An offset-paged list: its route and query, and the field it is sorted on. */
export interface OffsetListRequest {
	path: string;
	qs: IDataObject;
	what: string;
	/** With it, a 404 calls it and ends the paging instead of failing. */
	onNotFound?: () => void;
	/** The field the route sorts on (the rows must carry it): rows of one value across pages are read again. */
	sortField?: string;
	/** Rows of one value straddled pages and could not be read again whole: some may be missing. */
	onUnstableOrder?: () => void;
	/** Where the rows are in the body; default: the body is the array. */
	rowsOf?: (body: unknown) => unknown;
	/** The route's largest page; default LISTING_PAGE_SIZE. */
	maxPageSize?: number;
	/**
	 * How many rows the list holds, from the route's count (undefined: it cannot say). Asked only when a page
	 * comes back empty, to tell the end of the list from a failed database query (see confirmEmpty).
	 */
	count?: () => Promise<number | undefined>;
}

/** Waits before asking again for what came back empty though the count says it has rows. */
const EMPTY_ANSWER_RETRY_DELAYS_MS = [2000, 5000];

/**
 * dembrane's routes answer an empty list (or text), not an error, when their database query fails after
 * its own retries (directus.py and directus_async.py return `[]` or an error object, which the routes turn
 * into nothing). An empty answer where the route's count says rows are is asked again after a pause;
 * still empty, it fails: taking it as the end would lose the rest silently. Returns the answer that came
 * on asking again, or `empty` when the count agrees with it (or cannot say).
 */
async function confirmEmpty<T>(
	context: DembraneContext,
	what: string,
	position: number,
	count: OffsetListRequest['count'],
	empty: T,
	readAgain: () => Promise<T>,
	isEmpty: (answer: T) => boolean,
): Promise<T> {
	const counted = count ? await count() : undefined;
	if (counted === undefined || counted <= position) return empty;
	for (const delayMs of EMPTY_ANSWER_RETRY_DELAYS_MS) {
		await sleep(delayMs);
		const again = await readAgain();
		if (!isEmpty(again)) return again;
	}
	throw apiError(context.getNode(), {
		message: `dembrane's ${what} came back empty${position > 0 ? ` from row ${position + 1} on` : ''}, though it counts ${counted}`,
		description: 'dembrane answers so when its database does not answer in time. Run the node again later.',
	});
}

/**
 * dembrane's offset paging over a route that answers a bare JSON array: pages of `pageSize()` new rows
 * from `offset` 0 on (each later page overlapping the one before by PAGE_OVERLAP), until a short page, two
 * pages running with nothing new (a server that ignored `offset`) or MAX_LISTING_PAGES. Yields each page's
 * rows not seen before (rows shift down when others arrive during paging, and up when some are removed), and
 * `end`, the positions read so far.
 *
 * Directus sorts on the requested field alone (no tie-breaker, directus/directus#17435), and the database
 * may order rows of one value differently for each page: where they straddle two pages, one can come twice
 * and another not at all. Their positions are certain, though, so such a run is read again in one request
 * of exactly its positions (up to a page); a longer run calls `onUnstableOrder`.
 */
export async function* offsetPages(
	this: DembraneContext,
	request: OffsetListRequest,
	pageSize: () => number,
): AsyncGenerator<{ fresh: IDataObject[]; end: number }> {
	const { path, qs, what, onNotFound, sortField, rowsOf = (body: unknown) => body, maxPageSize = LISTING_PAGE_SIZE } = request;
	const seen = new Set<unknown>();
	const isFresh = (row: IDataObject) => !seen.has(row.id) && seen.add(row.id);
	const read = async (limit: number, offset: number): Promise<IDataObject[] | undefined> => {
		const { statusCode, body } = await dembraneApiRequest.call(this, { path, qs: { ...qs, limit, offset }, acceptStatuses: onNotFound ? [404] : [] });
		if (statusCode === 404) return undefined;
		const rows = rowsOf(body);
		if (!Array.isArray(rows)) throw new NodeOperationError(this.getNode(), `dembrane sent an unexpected ${what} (not a list)`);
		return rows as IDataObject[];
	};
	// The run of one sort value the rows read so far end on: that value and its first position.
	let run: { value: unknown; start: number } | undefined;
	let nothingNew = false;
	let offset = 0;
	for (let page = 0; page < MAX_LISTING_PAGES; page++) {
		const back = Math.min(PAGE_OVERLAP, Math.floor(maxPageSize / 10), offset);
		const asked = Math.min(maxPageSize, pageSize() + back);
		const limit = asked - back;
		let answer = await read(asked, offset - back);
		// Past the first page the overlap comes back even at the end of the list: all empty is a failure, or an end.
		if (answer?.length === 0) {
			const position = offset - back;
			answer = await confirmEmpty(this, what, position, request.count, answer, async () => await read(asked, position), (rows) => rows?.length === 0);
		}
		if (answer === undefined) return onNotFound?.();
		// The overlap only catches rows that moved up; ties and positions are about the rows from `offset` on.
		const overlap = answer.slice(0, back);
		const rows = answer.slice(back);
		let pageRows = rows;
		if (sortField && run && rows.length > 0 && rows[0][sortField] === run.value) {
			const value = run.value;
			let last = 0;
			while (last + 1 < rows.length && rows[last + 1][sortField] === value) last++;
			const size = offset + last + 1 - run.start;
			if (size > maxPageSize) request.onUnstableOrder?.();
			else {
				const again = await read(size, run.start);
				// Anything but the run whole means rows moved while paging (one added or removed shifts them all, and
				// the first row here is then the last one before): the page is taken as it came.
				if (again && again.length === size && again.every((row) => row[sortField] === value)) pageRows = [...again, ...rows.slice(last + 1)];
			}
		}
		if (sortField && rows.length > 0) {
			const value = rows[rows.length - 1][sortField];
			let first = rows.length - 1;
			while (first > 0 && rows[first - 1][sortField] === value) first--;
			const continues = first === 0 && run !== undefined && run.value === value;
			run = value === undefined ? undefined : { value, start: continues ? run!.start : offset + first };
		}
		const fresh = [...overlap, ...pageRows].filter(isFresh);
		yield { fresh, end: offset + rows.length };
		offset += limit;
		if (rows.length < limit) return;
		// Nothing new twice running: a server that ignores offset. Once can be rows that moved down while paging.
		if (fresh.length === 0 && nothingNew) return;
		nothingNew = fresh.length === 0;
	}
}

/**
 * The count route's query for a listing: the filters the count takes. It does not take `sources`, so a
 * listing filtered by source has no count to check against.
 */
function conversationCountQuery(projectId: string, query: IDataObject): IDataObject | undefined {
	if (query.sources !== undefined) return undefined;
	const qs: IDataObject = { project_id: projectId };
	for (const name of ['tag_ids', 'verified_only', 'search_text']) if (query[name] !== undefined) qs[name] = query[name];
	return qs;
}

/** A count route's `{count}` as OffsetListRequest.count asks it; undefined where the route is missing (an older dembrane). */
function countOf(this: DembraneContext, path: string, qs: IDataObject | undefined): OffsetListRequest['count'] {
	if (qs === undefined) return undefined;
	return async () => {
		const { statusCode, body } = await dembraneApiRequest.call(this, { path, qs, acceptStatuses: [404] });
		const count = statusCode === 404 ? NaN : Number((body as IDataObject | null)?.count);
		return Number.isFinite(count) ? count : undefined;
	};
}

/**
 * Postgres' order of one field's values: NULL above every value (last ascending, first descending). For
 * listings the node sorts itself (see listConversations). Text as Postgres' en_US.UTF-8 collation, the
 * default of the postgres and pgvector images dembrane runs on, orders it: glibc passes over spaces and
 * punctuation first ("Annelies" before "Anne Marie"), as ICU does with ignorePunctuation.
 */
export function compareRows(field: string, descending: boolean): (a: IDataObject, b: IDataObject) => number {
	const collator = new Intl.Collator('en', { ignorePunctuation: true });
	return (a, b) => {
		const x = a[field] ?? null;
		const y = b[field] ?? null;
		let order: number;
		if (x === null || y === null) order = x === y ? 0 : x === null ? 1 : -1;
		else order = typeof x === 'number' && typeof y === 'number' ? x - y : collator.compare(String(x), String(y));
		return descending ? -order : order;
	};
}

/**
 * Reads the conversation listing until `limit` rows or its end.
 *
 * `transcriptRequired` is applied here, to the `has_transcript` dembrane adds to every row, not sent as
 * `transcript_required`: the route drops rows without a transcript AFTER limit/offset, so its pages come
 * short and a short page would end the listing early. Filtered pages are read whole (1,000 rows).
 *
 * Only creation time never changes. Sorted on anything else (updated, duration, participant name), a
 * conversation that changes while the pages are read can move from a page not read yet into one already
 * read and be missed. So such a listing is read by that sort only when one page holds it; a longer one is
 * read whole by creation time and sorted here. So is one with more than a page of conversations of one
 * sort value, which cannot be read across pages in a stable order (see offsetPages).
 */
export async function listConversations(
	this: DembraneContext,
	projectId: string,
	query: IDataObject,
	limit = Infinity,
	options: { transcriptRequired?: boolean; checkTranscriptFlags?: boolean } = {},
): Promise<IDataObject[]> {
	const sort = String(query.sort ?? '-created_at');
	const sortField = sort.replace(/^-/, '');
	const read = async (sortOn: string, upTo: number, onePage: boolean) => {
		const rows: IDataObject[] = [];
		let unstable = false;
		let more = false;
		const pageSize = () => (options.transcriptRequired ? LISTING_PAGE_SIZE : Math.min(LISTING_PAGE_SIZE, upTo - rows.length));
		const firstPage = pageSize();
		const request: OffsetListRequest = {
			path: '/api/v2/bff/conversations',
			qs: { ...query, sort: sortOn, project_id: projectId },
			what: 'conversation listing',
			sortField: sortOn.replace(/^-/, ''),
			onUnstableOrder: () => {
				unstable = true;
			},
			count: countOf.call(this, '/api/v2/bff/conversations/count', conversationCountQuery(projectId, query)),
		};
		for await (const { fresh: page, end } of offsetPages.call(this, request, pageSize)) {
			let fresh = page;
			if ((options.transcriptRequired || options.checkTranscriptFlags) && (await transcriptFlagsFailed.call(this, fresh))) {
				this.logger.warn(`dembrane ECHO: the listing of project ${projectId} said no conversation of a page has a transcript, but one has: the query behind has_transcript failed, so the conversations of that page are checked one by one`);
				if (options.transcriptRequired) fresh = await rowsWithTranscripts.call(this, fresh, upTo - rows.length);
				else for (const row of fresh) delete row.has_transcript;
			}
			// A server that does not say (has_transcript missing) keeps its rows.
			rows.push(...(options.transcriptRequired ? fresh.filter((row) => row.has_transcript !== false) : fresh));
			if (rows.length >= upTo) break;
			if (onePage) {
				more = end >= firstPage;
				break;
			}
		}
		return { rows, unstable, more };
	};
	const stableSort = sortField === 'created_at';
	let { rows, unstable, more } = await read(sort, limit, !stableSort);
	if (!stableSort && (more || unstable)) {
		({ rows, unstable } = await read('-created_at', Infinity, false));
		rows.sort(compareRows(sortField, sort.startsWith('-')));
	}
	if (unstable) {
		this.logger.warn(`dembrane ECHO: more than ${LISTING_PAGE_SIZE} conversations of project ${projectId} share one creation time, which dembrane's listing does not order stably across pages; some may be missing`);
	}
	return rows.slice(0, limit);
}

/**
 * Transcripts read at once: each is a round trip, and dembrane sets no rate limit. 8 took a
 * 2,000-conversation project from 86 s to 13 s at 100 ms round trips.
 */
export const TRANSCRIPT_FETCHES_AT_ONCE = 8;
/** Conversations of a page read to tell whether its has_transcript flags failed. */
const FLAG_PROBES = 3;

/**
 * The rows of a page whose has_transcript failed, in order and each with its flag set from its
 * transcript, as far as needed for `wanted` rows with one.
 */
async function rowsWithTranscripts(this: DembraneContext, page: IDataObject[], wanted: number): Promise<IDataObject[]> {
	let found = 0;
	let checked = 0;
	while (checked < page.length && found < wanted) {
		const batch = page.slice(checked, checked + TRANSCRIPT_FETCHES_AT_ONCE);
		const texts = await mapConcurrently(batch, TRANSCRIPT_FETCHES_AT_ONCE, async (row) => await readTranscript.call(this, String(row.id), { acceptNotFound: true }));
		batch.forEach((row, index) => {
			row.has_transcript = Boolean(texts[index]);
			if (texts[index]) found++;
		});
		checked += batch.length;
	}
	return page.slice(0, checked);
}

/**
 * How likely a listing row is to have a transcript, from fields the failed query does not touch: a
 * summary is made from one; a finished recording with chunks and no transcription error usually has one.
 */
function transcriptLikelihood(row: IDataObject): number {
	const chunks = Number(row.chunks_count ?? Number.NaN);
	if (chunks === 0) return -Infinity;
	return (
		(typeof row.summary === 'string' && row.summary.trim() !== '' ? 8 : 0) +
		(row.is_finished === true ? 2 : 0) +
		(chunks > 0 ? 2 : 0) +
		(row.last_chunk_at ? 1 : 0) +
		(Number(row.duration) > 0 ? 1 : 0) -
		(row.has_transcription_error === true ? 4 : 0)
	);
}

/**
 * Whether a listing page's has_transcript flags are wrong: when the query behind them fails, dembrane
 * still answers, with has_transcript false on every row (bff/conversations.py). A page where no row says
 * true is checked against the transcripts of its likeliest rows.
 */
async function transcriptFlagsFailed(this: DembraneContext, page: IDataObject[]): Promise<boolean> {
	if (page.length === 0 || page.some((row) => row.has_transcript !== false)) return false;
	// The likeliest first; of equals, the oldest (the newest may still be recording).
	const probes = page
		.map((row, index) => ({ row, index, likelihood: transcriptLikelihood(row) }))
		.filter((probe) => probe.likelihood > -Infinity)
		.sort((a, b) => b.likelihood - a.likelihood || compareRows('created_at', false)(a.row, b.row) || a.index - b.index)
		.slice(0, FLAG_PROBES)
		.map((probe) => probe.row);
	const texts = await mapConcurrently(probes, FLAG_PROBES, async (row) => await readTranscript.call(this, String(row.id), { acceptNotFound: true }));
	return texts.some(Boolean);
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
 * conversation it cannot find, which that route then reports), holds transcripts back (a conversation
 * over the plan's recording-hours cap), or cannot give more than a page of chunks of one timestamp in a
 * stable order (see offsetPages) and the route reads them all in its one query. Null when the conversation
 * is not found and `acceptNotFound`.
 */
export async function readTranscript(this: DembraneContext, conversationId: string, options: { acceptNotFound?: boolean } = {}): Promise<string | null> {
	let complete = true;
	let unstable = false;
	const request: OffsetListRequest = {
		path: apiPath`/api/v2/bff/conversations/${conversationId}/chunks`,
		qs: { fields: 'id,transcript,timestamp', sort: 'timestamp' },
		what: 'chunk list',
		sortField: 'timestamp',
		onNotFound: () => {
			complete = false;
		},
		onUnstableOrder: () => {
			unstable = true;
		},
		count: countOf.call(this, apiPath`/api/v2/bff/conversations/${conversationId}/chunk-count`, {}),
	};
	const parts: string[] = [];
	let chunks = 0;
	let locked = false;
	for await (const { fresh, end } of offsetPages.call(this, request, () => LISTING_PAGE_SIZE)) {
		chunks = end;
		// Held back (the plan's hours cap): the transcript route answers instead. Read on only to count the chunks.
		if (fresh.some((chunk) => chunk.transcript_locked === true)) locked = true;
		if (locked) continue;
		for (const chunk of fresh) if (typeof chunk.transcript === 'string' && chunk.transcript !== '') parts.push(chunk.transcript);
	}
	if (locked) {
		complete = false;
		if (chunks > TRANSCRIPT_ROUTE_CHUNKS) {
			this.logger.warn(
				`dembrane ECHO: conversation ${conversationId} is over the plan's hours cap, so its chunks are held back; the transcript route gives only its first ${TRANSCRIPT_ROUTE_CHUNKS} of ${chunks} chunks`,
			);
		}
	}
	if (complete && unstable) {
		if (chunks <= TRANSCRIPT_ROUTE_CHUNKS) complete = false;
		else {
			this.logger.warn(
				`dembrane ECHO: conversation ${conversationId} has more than ${LISTING_PAGE_SIZE} chunks of one timestamp, which dembrane's chunk list does not order stably across pages; its transcript may lack some of them`,
			);
		}
	}
	if (complete) return parts.join('\n');
	const readRoute = async () => {
		const response = await dembraneApiRequest.call(this, {
			path: apiPath`/api/conversations/${conversationId}/transcript`,
			responseType: 'text',
			acceptStatuses: options.acceptNotFound ? [404] : [],
		});
		return response.statusCode === 404 ? null : transcriptText(response.body, response.headers['content-type']);
	};
	const text = await readRoute();
	if (text !== '') return text;
	// The route answers "" also when its database query fails: checked against the count of transcribed chunks.
	const chunkCount = countOf.call(this, apiPath`/api/v2/bff/conversations/${conversationId}/chunk-count`, { transcript_required: true });
	return await confirmEmpty(this, `transcript of conversation ${conversationId}`, 0, chunkCount, text, readRoute, (answer) => answer === '');
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

/** The dashboard root from the credential ('' when none is set). */
export async function dashboardRoot(this: DembraneContext): Promise<string> {
	const credentials = await this.getCredentials(DEMBRANE_CREDENTIAL);
	// Trimmed as the API and Directus URLs are: a pasted URL brings a space or line break into every link.
	return String(credentials.dashboardUrl ?? '').trim();
}

/**
 * The dashboard root from the credential, and the project's workspace, for dashboard links. A caller
 * that already read the project passes it as `known`, so it is not read twice.
 */
export async function dashboardContext(this: DembraneContext, projectId: string | undefined, known?: { project: IDataObject | undefined }) {
	const base = await dashboardRoot.call(this);
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
