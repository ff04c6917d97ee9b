import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IWebhookFunctions,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { LOGIN_REFUSED, apiError, cancelledError, executionCancelled, failureCodeAtTimeLimit, networkErrorCode, serverMessage, toNodeError } from '../../shared/errors';
import { RequestPacer } from '../../shared/pacer';
import type { AttemptFailure } from '../../shared/retry';
import { DEFAULT_RETRY_POLICY, EDITOR_RETRY_POLICY, decideRetry, describeFailure } from '../../shared/retry';

export type DembraneContext = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions | IWebhookFunctions;

export const DEMBRANE_CREDENTIAL = 'dembraneEchoApi';

/** How long a picker's request may take: a workflow's get 120 s. */
const EDITOR_TIMEOUT_MS = 15_000;

export interface DembraneRequest {
	method?: IHttpRequestMethods;
	/** Path under the API root, e.g. `/api/v2/me`; build it with apiPath() so ids are encoded. */
	path: string;
	qs?: IDataObject;
	body?: IDataObject;
	/** `json` (default) parses the body; `text` returns it as text; `stream` returns the response stream. */
	responseType?: 'json' | 'text' | 'stream';
	/** Turns chosen HTTP statuses into a value instead of an error (e.g. 404 "No transcripts"). */
	acceptStatuses?: number[];
	timeoutMs?: number;
	/** Attempts at most, where the package's policy would allow more (a route whose failures take minutes). */
	maxAttempts?: number;
	/** Counts the attempts, shared with a caller that asks again itself (dembraneStreamedGet). */
	tally?: { attempts: number };
}

/** Errors of a route that kept failing on dembrane's side (5xx, no answer in time, a body that kept breaking off). */
const gaveUp = new WeakSet<object>();

/** Whether dembrane's route itself kept failing, after every retry: another route may still serve the data. */
export function dembraneGaveUp(error: unknown): boolean {
	return typeof error === 'object' && error !== null && gaveUp.has(error);
}

function givenUp<E extends object>(error: E): E {
	gaveUp.add(error);
	return error;
}

export interface DembraneResponse<T = unknown> {
	statusCode: number;
	headers: Record<string, string | string[] | undefined>;
	body: T;
}

/**
 * `/api/projects/{id}/transcripts` with every id URL-encoded, so an id like `../x` stays one segment.
 * An id that is `.` or `..` (even encoded, URL parsing resolves it) would leave its segment: refused.
 */
export function apiPath(strings: TemplateStringsArray, ...ids: Array<string | number>): string {
	for (const id of ids) {
		if (/^\.{1,2}$/.test(String(id))) throw new Error(`"${String(id)}" is not an ID`);
	}
	return strings.reduce((path, part, i) => path + part + (i < ids.length ? encodeURIComponent(String(ids[i])) : ''), '');
}

export async function dembraneBaseUrl(this: DembraneContext): Promise<string> {
	const credentials = await this.getCredentials(DEMBRANE_CREDENTIAL);
	const baseUrl = String(credentials.baseUrl ?? '').trim().replace(/\/+$/, '');
	if (!/^https?:\/\/[^/\s]+/i.test(baseUrl)) {
		throw new NodeOperationError(this.getNode(), `The dembrane credential's API URL "${baseUrl}" is not an http(s) URL`, {
			description: 'Open the dembrane ECHO API credential and enter a URL such as https://api.dembrane.com',
		});
	}
	return baseUrl;
}

function whatToDo(statusCode: number, detail: string | undefined): string {
	if (statusCode === 401) {
		return 'dembrane did not accept the login. Re-check the email and password (or the access token) in the dembrane ECHO API credential; static Directus tokens are not accepted.';
	}
	if (statusCode === 403) {
		if (detail && /tier/i.test(detail)) return 'This needs a higher dembrane plan, as the message says. Ask your workspace owner.';
		if (detail && /onboarded/i.test(detail)) return 'Finish onboarding in the dembrane dashboard with this account first.';
		if (detail && /no access to this workspace/i.test(detail)) return "This account's membership of the workspace has expired or ended. Ask a workspace admin to renew it.";
		return "This account's role lacks the permission for this action (a billing role may not read projects; webhooks need a workspace admin or owner). Ask your workspace owner.";
	}
	if (statusCode === 404) return 'Check the ID, and that this account can see it.';
	if (statusCode === 422 || statusCode === 400) return "Check the node's parameters.";
	if (statusCode >= 500) return 'dembrane had a server problem. Try again later.';
	return 'Check the request.';
}

interface HttpFailure {
	statusCode: number;
	headers: Record<string, string | string[] | undefined>;
	body: unknown;
}

/** The HTTP response behind an error thrown by n8n's request helper, if there was one. */
function responseOf(error: unknown): HttpFailure | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
		const response = (current as { response?: { status?: number; headers?: HttpFailure['headers']; data?: unknown } }).response;
		if (response && typeof response.status === 'number') {
			return { statusCode: response.status, headers: response.headers ?? {}, body: response.data };
		}
		// n8n 1.x keeps only the status of the response behind its NodeApiError.
		const httpCode = current instanceof NodeApiError ? Number(current.httpCode) : NaN;
		if (httpCode >= 400 && httpCode <= 599) return { statusCode: httpCode, headers: {}, body: undefined };
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

async function readSmallBody(body: unknown): Promise<unknown> {
	if (body && typeof body === 'object' && Symbol.asyncIterator in body) {
		const chunks: Buffer[] = [];
		let size = 0;
		for await (const chunk of body as AsyncIterable<Buffer>) {
			chunks.push(Buffer.from(chunk));
			size += chunk.length;
			if (size > 64 * 1024) break; // an error body; the message is at its start
		}
		return Buffer.concat(chunks).toString('utf8');
	}
	if (Buffer.isBuffer(body)) return body.toString('utf8');
	return body;
}

/**
 * Calls the dembrane ECHO API with the credential's token. A 401 makes n8n renew the token (log in
 * again) and retry once; 5xx, 408 and network errors on GETs are retried under the shared policy;
 * every other failure becomes a NodeApiError with the server's message and what to do, never a token.
 */
export async function dembraneApiRequest<T = unknown>(this: DembraneContext, request: DembraneRequest): Promise<DembraneResponse<T>> {
	const node = this.getNode();
	const baseUrl = await dembraneBaseUrl.call(this);
	const credentials = await this.getCredentials(DEMBRANE_CREDENTIAL);
	const secrets = [credentials.password, credentials.accessToken, credentials.sessionToken].map((s) => (s ? String(s) : undefined));
	const method = request.method ?? 'GET';
	const responseType = request.responseType ?? 'json';
	// No rate limit at dembrane: the pacer only spaces retries out.
	const pacer = new RequestPacer(0);
	// A picker in the editor (only load-options contexts have getCurrentNodeParameter) is waited on by a
	// person: fewer attempts and a shorter limit than a workflow's requests get.
	const forEditor = 'getCurrentNodeParameter' in this;
	const basePolicy = forEditor ? EDITOR_RETRY_POLICY : DEFAULT_RETRY_POLICY;
	const policy = { ...basePolicy, maxAttempts: Math.min(basePolicy.maxAttempts, request.maxAttempts ?? Infinity) };
	let extraDelayMs = 0;
	// n8n renews the login only when its request helper throws a 401: that is how a 401 is sent again, once.
	let renewLogin = false;
	let renewed = false;
	const tally = request.tally ?? { attempts: 0 };
	for (;;) {
		const attempt = ++tally.attempts;
		if (!(await pacer.acquire(extraDelayMs, () => executionCancelled(this)))) throw cancelledError(node);
		const timeoutMs = request.timeoutMs ?? (forEditor ? EDITOR_TIMEOUT_MS : 120_000);
		const startedMs = Date.now();
		const options: IHttpRequestOptions = {
			method,
			baseURL: baseUrl,
			url: request.path,
			qs: request.qs,
			body: request.body,
			json: request.body !== undefined,
			encoding: responseType === 'stream' ? 'stream' : 'text',
			returnFullResponse: true,
			// An error status comes back as a response, read here alike on every n8n version: n8n 1.x's request
			// helper drops the status, headers and body of an error it throws.
			ignoreHttpStatusErrors: !renewLogin,
			timeout: timeoutMs,
		};
		let failure: AttemptFailure | undefined;
		let failed: HttpFailure | undefined;
		try {
			const response = (await this.helpers.httpRequestWithAuthentication.call(this, DEMBRANE_CREDENTIAL, options)) as DembraneResponse;
			if (response.statusCode >= 200 && response.statusCode < 300) {
				if (responseType === 'json') response.body = parseJson(response.body);
				return response as DembraneResponse<T>;
			}
			if (response.statusCode === 401 && !renewed) {
				// Refused before anything happened (a POST too): the same request again, for n8n to log in first.
				await readSmallBody(response.body);
				renewLogin = true;
				extraDelayMs = 0;
				tally.attempts--;
				continue;
			}
			failed = { statusCode: response.statusCode, headers: response.headers ?? {}, body: response.body };
		} catch (error) {
			// n8n aborts the request of a cancelled execution: not a network failure to retry or report as one.
			if (executionCancelled(this)) throw cancelledError(node);
			failed = responseOf(error);
			if (renewLogin) {
				// The renewal round is over: later attempts read error answers again.
				renewLogin = false;
				renewed = true;
				if (failed && failed.statusCode >= 400 && failed.statusCode !== 401 && (method === 'GET' || method === 'DELETE')) {
					// Logged in now, but n8n 1.x dropped this answer's body and headers with its throw (and they
					// decide what the error says): asked once more, to be read.
					extraDelayMs = 0;
					tally.attempts--;
					continue;
				}
			}
			if (failed && failed.statusCode >= 200 && failed.statusCode < 300) {
				// The headers said 200 but the body broke off (a reset mid-body): a network failure, retried.
				// In words: n8n swaps a message that holds a network code for a generic sentence of its own.
				const code = networkErrorCode(error);
				failure = { kind: 'badBody', reason: `a response cut off (${code ? describeFailure({ kind: 'network', code }) : 'incomplete body'})` };
				failed = undefined;
			} else if (!failed) {
				const code = networkErrorCode(error);
				if (!code) {
					// Not HTTP and not the network: the login itself failed, with its own clean message.
					const message = error instanceof Error ? error.message : String(error);
					throw apiError(node, {
						message,
						description: 'Check the dembrane ECHO API credential.',
						secrets,
						refusesEveryItem: message.startsWith(`dembrane ${LOGIN_REFUSED}`),
					});
				}
				failure = { kind: 'network', code: failureCodeAtTimeLimit(code, startedMs, timeoutMs) };
			}
		}
		if (failed) {
			failed.body = await readSmallBody(failed.body);
			if (request.acceptStatuses?.includes(failed.statusCode)) {
				return { ...failed, body: (responseType === 'json' ? parseJson(failed.body) : failed.body) as T };
			}
			failure = { kind: 'status', statusCode: failed.statusCode, retryAfter: failed.headers['retry-after'] };
		}
		if (!failure) throw new NodeOperationError(node, `dembrane request ${method} ${request.path} failed without a reason`);
		const decision = decideRetry(failure, attempt, policy, Date.now());
		// Only requests that are safe to repeat: a retried POST could create a second webhook.
		const idempotent = method === 'GET' || method === 'DELETE';
		if (decision.retry && idempotent) {
			this.logger.debug(`dembrane ${method} ${request.path}: ${decision.reason}; retrying in ${decision.delayMs} ms`);
			extraDelayMs = decision.delayMs;
			continue;
		}
		if (failure.kind === 'network' || failure.kind === 'badBody') {
			const error = apiError(node, {
				message: `Could not reach dembrane at ${baseUrl} (${decision.reason})`,
				description: `Check the API URL in the dembrane ECHO API credential and that this n8n can reach it${failure.kind === 'network' ? ` (network error ${failure.code})` : ''}.`,
				secrets,
			});
			// No answer in time: the route is slow, not the host unreachable.
			throw failure.kind === 'network' && /TIMEDOUT/.test(failure.code) ? givenUp(error) : error;
		}
		const detail = serverMessage(failed?.body);
		const error = apiError(node, {
			message: `dembrane answered ${decision.reason}${detail ? `: ${detail}` : ''} (${method} ${request.path})`,
			description: whatToDo(failed?.statusCode ?? 0, detail),
			httpCode: failed?.statusCode,
			secrets,
		});
		throw failed && failed.statusCode >= 500 ? givenUp(error) : error;
	}
}

/**
 * A streamed GET whose body `consume` reads to its end. A body that breaks off on the way (a reset, an
 * abort) is asked for again under the package's retry policy, as a buffered one is: `consume` starts over
 * and keeps nothing of the broken one. A node error from `consume`, or what `refusal` makes of its error
 * (content refused), is final.
 */
export async function dembraneStreamedGet<T>(
	this: IExecuteFunctions,
	request: Omit<DembraneRequest, 'method' | 'responseType' | 'body'>,
	consume: (response: DembraneResponse) => Promise<T>,
	{ itemIndex, refusal }: { itemIndex: number; refusal?: (error: unknown) => NodeOperationError | undefined },
): Promise<T> {
	const node = this.getNode();
	const pacer = new RequestPacer(0);
	// One count of attempts for the route, whether an answer failed or its body broke off.
	const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: Math.min(DEFAULT_RETRY_POLICY.maxAttempts, request.maxAttempts ?? Infinity) };
	const tally = { attempts: 0 };
	for (;;) {
		const response = await dembraneApiRequest.call(this, { ...request, responseType: 'stream', tally });
		let code: string | undefined;
		try {
			return await consume(response);
		} catch (error) {
			if (executionCancelled(this)) throw cancelledError(node);
			// What the content was refused for (a corrupt zip, say) is final: the same file would come again.
			const refused = refusal?.(error);
			if (refused) throw refused;
			code = error instanceof NodeApiError || error instanceof NodeOperationError ? undefined : networkErrorCode(error);
			if (code === undefined) throw toNodeError(node, error, itemIndex);
		}
		const decision = decideRetry({ kind: 'network', code }, tally.attempts, policy, Date.now());
		if (!decision.retry) {
			throw givenUp(
				apiError(node, {
					// In words: n8n replaces a message that holds a network code with a generic sentence.
					message: `The download from dembrane broke off: ${decision.reason} (GET ${request.path})`,
					description: `The connection broke while dembrane sent the file (network error ${code}). Run the node again later.`,
				}, itemIndex),
			);
		}
		this.logger.debug(`dembrane GET ${request.path}: ${decision.reason}; asking again in ${decision.delayMs} ms`);
		if (!(await pacer.acquire(decision.delayMs, () => executionCancelled(this)))) throw cancelledError(node);
	}
}

/** JSON bodies, and production's JSON-string transcripts, parsed; anything else kept as text. */
export function parseJson(body: unknown): unknown {
	if (typeof body !== 'string' && !Buffer.isBuffer(body)) return body;
	const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
	if (text.trim() === '') return text;
	try {
		return JSON.parse(text);
	} catch {
		return text;
	}
}
