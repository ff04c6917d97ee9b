import type {
	ICredentialsDecrypted,
	IDataObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	IPollFunctions,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { apiError, cancelledError, executionCancelled, failureCodeAtTimeLimit, networkErrorCode, serverMessage, toNodeError } from '../../shared/errors';
import { readJsonObject } from '../../shared/jsonReader';
import { RequestPacer } from '../../shared/pacer';
import type { AttemptFailure, RetryPolicy } from '../../shared/retry';
import { DEFAULT_RETRY_POLICY, decideRetry } from '../../shared/retry';

export type DecagonContext = IExecuteFunctions | IPollFunctions;

export const DECAGON_CREDENTIAL = 'decagonApi';

const REGION_BASE_URLS: Record<string, string> = {
	us: 'https://api.decagon.ai',
	eu: 'https://eu.api.decagon.ai',
};

/** Everything one execution needs to talk to Decagon; built once per execution, never kept longer. */
export interface DecagonConnection {
	baseUrl: string;
	pacer: RequestPacer;
	retryPolicy: RetryPolicy;
	/** Only to scrub it from error texts; requests are signed by n8n's credential helper. */
	apiKey: string;
	requestTimeoutMs: number;
	/**
	 * Epoch ms by which requests should be done (a poll's time budget): each has at most the time left
	 * (5 s at least), and a retry that would wait past it fails at once instead of outliving the poll n8n
	 * has given up on.
	 */
	deadlineMs?: number;
	/** What to do when the deadline is reached (a poll's default: the next poll tries again). */
	deadlineNote?: string;
	/**
	 * The credential as read once at the start: handed to n8n's credential helper with every request so
	 * that an export of thousands of pages does not decrypt it again for each (a static API key has no
	 * token to renew).
	 */
	credentials: ICredentialsDecrypted;
}

export async function openDecagonConnection(
	this: DecagonContext,
	overrides: Partial<Pick<DecagonConnection, 'retryPolicy' | 'requestTimeoutMs' | 'deadlineMs' | 'deadlineNote'>> = {},
): Promise<DecagonConnection> {
	const credentials = await this.getCredentials(DECAGON_CREDENTIAL);
	const reference = this.getNode().credentials?.[DECAGON_CREDENTIAL];
	const region = String(credentials.region ?? 'us');
	let baseUrl = REGION_BASE_URLS[region];
	if (region === 'custom') {
		baseUrl = String(credentials.baseUrl ?? '').trim().replace(/\/+$/, '');
		if (!/^https?:\/\/[^/\s]+/i.test(baseUrl)) {
			throw new NodeOperationError(
				this.getNode(),
				`The Decagon credential's Base URL "${shownUrl(baseUrl)}" is not an http(s) URL`,
				{ description: 'Open the Decagon API credential and enter a URL such as https://api.decagon.ai' },
			);
		}
	}
	if (!baseUrl) {
		throw new NodeOperationError(this.getNode(), `Unknown Decagon region "${region}" in the credential`);
	}
	return {
		baseUrl,
		pacer: RequestPacer.perSecond(Number(credentials.requestsPerSecond ?? 1)),
		retryPolicy: overrides.retryPolicy ?? DEFAULT_RETRY_POLICY,
		// Trimmed as the credential sends it, so that errors are redacted of what was sent.
		apiKey: String(credentials.apiKey ?? '').trim(),
		requestTimeoutMs: overrides.requestTimeoutMs ?? 120_000,
		deadlineMs: overrides.deadlineMs,
		deadlineNote: overrides.deadlineNote,
		credentials: {
			id: reference?.id ?? '',
			name: reference?.name ?? '',
			type: DECAGON_CREDENTIAL,
			data: credentials,
		},
	};
}

/** A URL as an error shows it: without user info (a proxy's user and password in a custom Base URL). */
function shownUrl(url: string): string {
	return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/?#\s]*@/i, '$1');
}

/** The least time worth giving a request against a deadline. */
const MIN_REQUEST_MS = 5000;

interface RawResponse {
	statusCode: number;
	headers: Record<string, string | string[] | undefined>;
	body: unknown;
}

function whatToDo(statusCode: number): string {
	if (statusCode === 401) return 'Check the API key in the Decagon API credential.';
	if (statusCode === 403) return 'This API key is not allowed to export conversations. Ask Decagon to enable it.';
	if (statusCode === 404) return 'Check the region or base URL in the Decagon API credential.';
	if (statusCode === 429)
		return 'Decagon allows 1 request per second. Lower "Requests per Second" in the credential, and make sure no other workflow uses the same API key at the same time.';
	if (statusCode >= 500) return 'Decagon had a server problem. Try again later.';
	return 'Check the node\'s filters.';
}

/**
 * GET a Decagon route and return its parsed JSON body. Every attempt waits for a pacing slot; 429, 5xx,
 * network errors and unreadable bodies are retried under the shared policy; anything else fails at once.
 */
export async function decagonApiRequest(
	this: DecagonContext,
	connection: DecagonConnection,
	path: string,
	qs: IDataObject = {},
): Promise<IDataObject> {
	const node = this.getNode();
	const secrets = [connection.apiKey];
	let extraDelayMs = 0;
	let lastFailure: string | undefined;
	for (let attempt = 1; ; attempt++) {
		const { deadlineMs } = connection;
		// A first attempt is always made, so that a poll moves on by at least a page.
		if (attempt > 1 && deadlineMs !== undefined && Date.now() + extraDelayMs + MIN_REQUEST_MS > deadlineMs) {
			throw apiError(node, {
				message: `Decagon did not answer ${path} in the time this poll has${lastFailure ? ` (${lastFailure})` : ''}`,
				description:
					connection.deadlineNote ?? 'n8n gives up on a poll that runs past its time budget and keeps none of its progress, so this poll stopped first. The next poll tries again.',
				secrets,
			});
		}
		if (!(await connection.pacer.acquire(extraDelayMs, () => executionCancelled(this)))) throw cancelledError(node);
		let failure: AttemptFailure;
		let response: RawResponse | undefined;
		const startedMs = Date.now();
		const timeoutMs = deadlineMs === undefined ? connection.requestTimeoutMs : Math.max(MIN_REQUEST_MS, Math.min(connection.requestTimeoutMs, deadlineMs - Date.now()));
		// Against a deadline, a whole-request limit: `timeout` only limits silence, and a body that trickles in
		// would hold the poll past it. (n8n passes an execution's own cancel signal instead; polls have none.)
		const deadlineSignal = deadlineMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
		try {
			const options: IHttpRequestOptions = {
				method: 'GET',
				baseURL: connection.baseUrl,
				url: path,
				qs,
				json: false,
				// Bytes, not text: readJsonObject parses them without a page-sized string (see there).
				encoding: 'arraybuffer',
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				timeout: timeoutMs,
				...(deadlineSignal ? { abortSignal: deadlineSignal } : {}),
			};
			response = (await this.helpers.httpRequestWithAuthentication.call(this, DECAGON_CREDENTIAL, options, {
				credentialsDecrypted: connection.credentials,
			})) as RawResponse;
			connection.pacer.finished(startedMs, response.statusCode >= 200 && response.statusCode < 300);
		} catch (error) {
			connection.pacer.finished(startedMs, false);
			// n8n aborts the request of a cancelled execution: not a network failure to retry or report as one.
			if (executionCancelled(this)) throw cancelledError(node);
			if (error instanceof NodeOperationError) throw toNodeError(node, error, 0);
			// Cut by the deadline, or failing at the time limit: no answer in time.
			const code = deadlineSignal?.aborted ? 'ETIMEDOUT' : failureCodeAtTimeLimit(networkErrorCode(error), startedMs, timeoutMs);
			if (!code) {
				// Neither HTTP nor the network (the credential could not be applied, say): say what it was.
				throw apiError(node, {
					message: `The request to Decagon could not be made: ${error instanceof Error ? error.message : String(error)}`,
					description: 'Check the Decagon API credential.',
					secrets,
				});
			}
			failure = { kind: 'network', code };
		}
		if (response) {
			if (response.statusCode >= 200 && response.statusCode < 300) {
				const parsed = parseJsonObject(response.body);
				if (parsed) return parsed;
				if (isWebPage(response)) {
					// A web page answering 200 (a login page, a proxy, the wrong host): trying again changes nothing.
					throw apiError(node, {
						message: `${shownUrl(connection.baseUrl)}${path} answered with a web page, not Decagon's JSON`,
						description: 'Check the region or base URL in the Decagon API credential (the API is at https://api.decagon.ai, or https://eu.api.decagon.ai).',
						secrets,
					});
				}
				failure = { kind: 'badBody', reason: 'an incomplete or unreadable JSON response' };
			} else {
				failure = {
					kind: 'status',
					statusCode: response.statusCode,
					retryAfter: response.headers['retry-after'],
				};
			}
		}
		const decision = decideRetry(failure!, attempt, connection.retryPolicy, Date.now());
		if (decision.retry) {
			this.logger.debug(`Decagon ${path}: ${decision.reason}; retrying in ${decision.delayMs} ms`);
			extraDelayMs = decision.delayMs;
			lastFailure = decision.reason;
			continue;
		}
		throw failureToError(node, failure!, decision.reason, response, connection, path, secrets);
	}
}

function failureToError(
	node: ReturnType<DecagonContext['getNode']>,
	failure: AttemptFailure,
	reason: string,
	response: RawResponse | undefined,
	connection: DecagonConnection,
	path: string,
	secrets: string[],
): NodeApiError {
	if (failure.kind === 'network') {
		return apiError(node, {
			message: `Could not reach Decagon at ${shownUrl(connection.baseUrl)} (${reason})`,
			description: `Check the region or base URL in the Decagon API credential and that this n8n can reach it (network error ${failure.code}).`,
			secrets,
		});
	}
	if (failure.kind === 'badBody') {
		return apiError(node, {
			message: `Decagon sent ${reason} for ${path}`,
			description: 'The response was cut off or is not JSON. Try again later.',
			secrets,
		});
	}
	const said = serverMessage(response?.body);
	return apiError(node, {
		message: `Decagon answered ${reason}${said ? `: ${said}` : ''}`,
		description: whatToDo(failure.statusCode),
		httpCode: failure.statusCode,
		secrets,
	});
}

/** An HTML page: by its content type, or, without one, by its first character. */
function isWebPage(response: RawResponse): boolean {
	const type = String(response.headers['content-type'] ?? '');
	if (/html/i.test(type)) return true;
	if (type !== '') return false;
	const bytes = Buffer.isBuffer(response.body) ? response.body : Buffer.from(String(response.body ?? ''), 'utf8');
	return bytes.subarray(0, 512).toString('utf8').trimStart().startsWith('<');
}

function parseJsonObject(body: unknown): IDataObject | undefined {
	if (body && typeof body === 'object' && !Buffer.isBuffer(body)) return body as IDataObject;
	const bytes = Buffer.isBuffer(body) ? body : typeof body === 'string' ? Buffer.from(body, 'utf8') : undefined;
	if (!bytes) return undefined;
	try {
		return readJsonObject(bytes) as IDataObject;
	} catch {
		return undefined;
	}
}
