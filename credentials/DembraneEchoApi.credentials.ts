import { createHash } from 'crypto';
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';
import { sleep } from 'n8n-workflow';

import { LOGIN_REFUSED, networkErrorCode } from '../nodes/shared/errors';
import type { AttemptFailure, RetryPolicy } from '../nodes/shared/retry';
import { decideRetry } from '../nodes/shared/retry';

/**
 * Which login a session belongs to. n8n keeps the session when the credential is edited (it renews it
 * only when empty or refused), so without this an edited email, password or Directus URL would go on
 * acting as the old login, and a credential test would pass with a wrong new password.
 */
function loginFingerprint(credentials: ICredentialDataDecryptedObject): string {
	const login = [directusUrlOf(credentials), emailOf(credentials), String(credentials.password ?? '')];
	return createHash('sha256').update(JSON.stringify(login)).digest('hex').slice(0, 32);
}

/** The email as typed, less the space or line break a paste brings (a password keeps every character). */
function emailOf(credentials: ICredentialDataDecryptedObject): string {
	return String(credentials.email ?? '').trim();
}

function directusUrlOf(credentials: ICredentialDataDecryptedObject): string {
	return String(credentials.directusUrl ?? '').trim().replace(/\/+$/, '');
}

const bareToken = (value: unknown) => String(value ?? '').replace(/^Bearer\s+/i, '').trim();

/** A login that neither answers nor fails would hold the execution: n8n's login request has no limit of its own. */
const LOGIN_TIMEOUT_MS = 30_000;
/** The shared policy, shorter: a login waits on behalf of a running request. */
const LOGIN_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 3000, maxRetryAfterMs: 30_000 };

/** Directus' error code: `{"errors": [{"extensions": {"code": "INVALID_OTP"}}]}`. */
function directusErrorCode(body: unknown): string | undefined {
	const errors = (body as { errors?: Array<{ extensions?: { code?: unknown } }> } | undefined)?.errors;
	const code = Array.isArray(errors) ? errors[0]?.extensions?.code : undefined;
	return typeof code === 'string' ? code : undefined;
}

/**
 * dembrane ECHO's API checks a Directus-signed JWT. Production integrations log in to Directus with
 * e-mail and password and get a short-lived access token (minutes); n8n keeps it in the hidden,
 * expirable `sessionToken` field and calls preAuthentication again when it is empty or draws a 401.
 * A pasted access token (self-hosted setups with long-lived JWTs) is sent as it is now.
 */
export class DembraneEchoApi implements ICredentialType {
	name = 'dembraneEchoApi';

	displayName = 'Dembrane ECHO API';

	icon = { light: 'file:dembrane.svg', dark: 'file:dembrane.dark.svg' } as const;

	documentationUrl = 'https://docs.dembrane.com/';

	properties: INodeProperties[] = [
		{
			displayName: 'Authentication',
			name: 'authMethod',
			type: 'options',
			options: [
				{
					name: 'Email and Password',
					value: 'password',
					description: 'Log in to dembrane’s Directus; the short-lived token is renewed automatically',
				},
				{
					name: 'Access Token',
					value: 'accessToken',
					description: 'A JWT issued by your self-hosted Directus (static Directus tokens are rejected by the API)',
				},
			],
			default: 'password',
		},
		{
			displayName: 'Email',
			name: 'email',
			type: 'string',
			placeholder: 'name@email.com',
			default: '',
			displayOptions: { show: { authMethod: ['password'] } },
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { authMethod: ['password'] } },
		},
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { authMethod: ['accessToken'] } },
		},
		{
			displayName: 'API URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.dembrane.com',
			description: 'The ECHO API root; routes are under /api',
			hint: 'Change the URLs only if you run your own ECHO',
		},
		{
			displayName: 'Directus URL',
			name: 'directusUrl',
			type: 'string',
			default: 'https://directus.dembrane.com',
			description: 'Where dembrane’s login lives (POST /auth/login)',
			displayOptions: { show: { authMethod: ['password'] } },
		},
		{
			displayName: 'Dashboard URL',
			name: 'dashboardUrl',
			type: 'string',
			default: 'https://dashboard.dembrane.com',
			description: 'Used to build links to conversations in the dashboard',
		},
		{
			displayName: 'Session Token',
			name: 'sessionToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
		{
			displayName: 'Session Password Fingerprint',
			name: 'sessionPasswordFingerprint',
			type: 'hidden',
			// Derived from the password: redacted like it wherever n8n shows credential data.
			typeOptions: { password: true },
			default: '',
		},
	];

	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		// No login behind a pasted token: a fingerprint left from one would vouch for it after a switch back.
		if (credentials.authMethod === 'accessToken') return { sessionToken: bareToken(credentials.accessToken), sessionPasswordFingerprint: '' };
		const directusUrl = directusUrlOf(credentials);
		let response: { data?: { access_token?: string } } | undefined;
		// A login at a token renewal in a long run should survive a passing Directus hiccup: the package's one
		// retry policy, with 3 attempts and short waits (a 5xx, 429, 408 or a passing network failure); a
		// refusal is final at once.
		for (let attempt = 1; response === undefined; attempt++) {
			try {
				response = (await this.helpers.httpRequest({
					method: 'POST',
					url: `${directusUrl}/auth/login`,
					body: { email: emailOf(credentials), password: credentials.password, mode: 'json' },
					json: true,
					timeout: LOGIN_TIMEOUT_MS,
				})) as NonNullable<typeof response>;
			} catch (error) {
				// A clean error: the HTTP client's own one carries the request body, password included.
				const answer = (error as { response?: { status?: number; data?: unknown; headers?: Record<string, string | string[] | undefined> } }).response;
				const status = answer?.status;
				if (status === 401 || status === 400) {
					if (directusErrorCode(answer?.data) === 'INVALID_OTP') {
						throw new Error(
							`dembrane ${LOGIN_REFUSED}: this account signs in with a one-time password (two-factor), which n8n cannot type. Set Authentication to Access Token, or use an account without two-factor login.`,
						);
					}
					throw new Error(`dembrane ${LOGIN_REFUSED}: wrong email or password (Directus answered ${status})`);
				}
				const failure: AttemptFailure =
					status !== undefined
						? { kind: 'status', statusCode: status, retryAfter: answer?.headers?.['retry-after'] }
						: { kind: 'network', code: networkErrorCode(error) ?? 'unknown' };
				const decision = decideRetry(failure, attempt, LOGIN_RETRY_POLICY, Date.now());
				if (decision.retry) {
					await sleep(decision.delayMs);
					continue;
				}
				if (status) throw new Error(`dembrane login failed: Directus at ${directusUrl} answered HTTP ${status}`);
				throw new Error(`dembrane login failed: could not reach Directus at ${directusUrl}. Check the Directus URL.`);
			}
		}
		const token = response?.data?.access_token;
		if (!token) throw new Error(`dembrane login failed: ${directusUrl}/auth/login answered without an access token`);
		return { sessionToken: token, sessionPasswordFingerprint: loginFingerprint(credentials) };
	}

	async authenticate(credentials: ICredentialDataDecryptedObject, requestOptions: IHttpRequestOptions): Promise<IHttpRequestOptions> {
		let token: string;
		if (credentials.authMethod === 'accessToken') token = bareToken(credentials.accessToken);
		// A session of another login is not sent: the 401 that follows makes n8n log in again, once.
		else token = credentials.sessionPasswordFingerprint === loginFingerprint(credentials) ? String(credentials.sessionToken ?? '') : '';
		return { ...requestOptions, headers: { ...requestOptions.headers, Authorization: `Bearer ${token}` } };
	}

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.trim().replace(/\\/+$/, "")}}',
			url: '/api/v2/me',
			method: 'GET',
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message:
						'dembrane rejected the token (401 Invalid session): it has expired or is not a JWT. Static Directus tokens do not work; use Email and Password.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message: 'No ECHO API at this API URL (404). Give its root (https://api.dembrane.com), without /api or another path.',
				},
			},
		],
	};
}
