/**
 * The dembrane ECHO API credential's own logic: which token a request carries. n8n keeps the session
 * when the credential is edited and renews it only when empty or refused (test/workflow and
 * test/e2e/dembrane-trigger cover that loop in n8n's engine and in a real n8n's credential test).
 */
import type { ICredentialDataDecryptedObject, IExecuteFunctions, IHttpRequestHelper, IHttpRequestOptions } from 'n8n-workflow';

import { DembraneEchoApi } from '../../credentials/DembraneEchoApi.credentials';
import { dembraneApiRequest } from '../../nodes/DembraneEcho/transport';
import type { DembraneStandin } from '../standins/dembrane';
import { passwordCredentialData, startDembraneStandin } from '../standins/dembrane';

let standin: DembraneStandin;
beforeAll(async () => {
	standin = await startDembraneStandin({ projects: 1, conversationsPerProject: 1, chunksPerConversation: 1 });
}, 60_000);
afterAll(async () => standin.close());

const credential = new DembraneEchoApi();

/** What n8n gives preAuthentication: a plain httpRequest helper (JSON body, throws on non-2xx). */
const loginHelper = {
	helpers: {
		httpRequest: async (options: IHttpRequestOptions) => {
			const response = await fetch(String(options.url), {
				method: options.method,
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(options.body),
			});
			const body = (await response.json()) as unknown;
			if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { response: { status: response.status } });
			return body;
		},
	},
} as unknown as IHttpRequestHelper;

async function authorization(credentials: ICredentialDataDecryptedObject): Promise<string> {
	const options = await credential.authenticate(credentials, { url: '/api/v2/me', headers: { accept: 'application/json' } });
	expect(options.headers?.accept).toBe('application/json');
	return String(options.headers?.Authorization);
}

test('a login session is sent only for the login it belongs to; an edited email, password or Directus URL sends none (n8n then logs in again)', async () => {
	const login = passwordCredentialData(standin) as ICredentialDataDecryptedObject;
	const session = await credential.preAuthentication!.call(loginHelper, login);
	expect(session.sessionToken).toEqual(expect.any(String));
	expect(session.sessionPasswordFingerprint).toMatch(/^[0-9a-f]{32}$/);
	expect(JSON.stringify(session)).not.toContain(String(login.password));
	const stored = { ...login, ...session };
	expect(await authorization(stored)).toBe(`Bearer ${String(session.sessionToken)}`);
	const edits: ICredentialDataDecryptedObject[] = [{ password: 'another' }, { email: 'someone@else.example' }, { directusUrl: 'https://directus.example.org' }, { sessionPasswordFingerprint: '' }];
	for (const edit of edits) {
		expect(await authorization({ ...stored, ...edit })).toBe('Bearer ');
	}
	// The same login written differently (a trailing slash on the URL, a pasted space after the email) is the same login.
	expect(await authorization({ ...stored, directusUrl: `${String(login.directusUrl)}/` })).toBe(`Bearer ${String(session.sessionToken)}`);
	expect(await authorization({ ...stored, email: ` ${String(login.email)}\n` })).toBe(`Bearer ${String(session.sessionToken)}`);
});

test('an email pasted with a space or line break around it logs in (Directus would answer "wrong email or password")', async () => {
	const login = passwordCredentialData(standin) as ICredentialDataDecryptedObject;
	const session = await credential.preAuthentication!.call(loginHelper, { ...login, email: ` ${String(login.email)}\n` });
	expect(session.sessionToken).toEqual(expect.any(String));
});

test('an access token is sent as it is now, and leaves no login fingerprint behind', async () => {
	const token = standin.issueAccessToken({ ttlSeconds: 600 });
	const pasted = { authMethod: 'accessToken', accessToken: `Bearer ${token} `, sessionToken: 'old-session', sessionPasswordFingerprint: 'fingerprint-of-a-login' };
	expect(await authorization(pasted)).toBe(`Bearer ${token}`);
	expect(await credential.preAuthentication!.call(loginHelper, pasted)).toEqual({ sessionToken: token, sessionPasswordFingerprint: '' });
});

test('the session fields are redacted wherever n8n shows credential data', () => {
	for (const name of ['sessionToken', 'sessionPasswordFingerprint']) {
		expect(credential.properties.find((property) => property.name === name)?.typeOptions?.password).toBe(true);
	}
});

test('an error answer that echoes the password or the session token shows neither', async () => {
	// A proxy or a debug build may echo the request (its login, its Authorization header) in its error body,
	// and n8n shows an error's message and description to everyone who can open the execution.
	const password = 'correct-horse-battery-staple';
	const sessionToken = 'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6InUxIn0.c2Vzc2lvbi10b2tlbi1zaWduYXR1cmU';
	const context = {
		getNode: () => ({ id: 'n1', name: 'ECHO', type: 'dembraneEcho', typeVersion: 1, position: [0, 0], parameters: {} }),
		getCredentials: async () => ({ baseUrl: 'https://api.dembrane.example', authMethod: 'password', email: 'a@example.com', password, sessionToken }),
		logger: { debug: () => undefined, warn: () => undefined },
		helpers: {
			httpRequestWithAuthentication: async () => ({
				statusCode: 400,
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ detail: `Bad request: {"password": "${password}"} with Authorization: Bearer ${sessionToken}` }),
			}),
		},
	} as unknown as IExecuteFunctions;
	const error = (await dembraneApiRequest.call(context, { path: '/api/v2/me' }).catch((caught: unknown) => caught)) as Error & { description?: string };
	expect(error.message).toMatch(/400.*Bad request/);
	expect(error.message).toContain('[redacted]');
	const shown = JSON.stringify({ message: error.message, description: error.description });
	expect(shown).not.toContain(password);
	expect(shown).not.toContain(sessionToken);
});

test("the credential test asks the URL the node asks: a pasted API URL's spaces and trailing slashes are dropped", () => {
	const expression = String(new DembraneEchoApi().test.request.baseURL);
	const body = /^=\{\{([\s\S]*)\}\}$/.exec(expression)?.[1];
	const baseUrl = new Function('$credentials', `return (${body});`)({ baseUrl: ' https://api.dembrane.com/ \n' }) as string;
	expect(baseUrl).toBe('https://api.dembrane.com');
});

/** A login helper that answers from a script: a status and body per attempt (200 with a token at the end). */
function scriptedLogin(script: Array<{ status: number; body?: unknown; headers?: Record<string, string>; code?: string }>) {
	const calls: IHttpRequestOptions[] = [];
	const helper = {
		helpers: {
			httpRequest: async (options: IHttpRequestOptions) => {
				calls.push(options);
				const { status, body, headers, code } = script[Math.min(calls.length, script.length) - 1];
				// Status 0: no answer at all, a network failure with its code.
				if (status === 0) throw Object.assign(new Error(`getaddrinfo ${code} directus.example.org`), { code });
				if (status >= 300) throw Object.assign(new Error(`HTTP ${status}`), { response: { status, data: body, headers: headers ?? {} } });
				return body;
			},
		},
	} as unknown as IHttpRequestHelper;
	return { helper, calls };
}

const login = { authMethod: 'password', directusUrl: 'https://directus.example.org', email: 'a@example.org', password: 'right-password' };

test('a two-factor account is told so, not "wrong email or password"', async () => {
	const { helper } = scriptedLogin([{ status: 401, body: { errors: [{ message: 'Invalid user OTP', extensions: { code: 'INVALID_OTP' } }] } }]);
	await expect(credential.preAuthentication!.call(helper, login)).rejects.toThrow(/one-time password \(two-factor\).*Access Token/);
	const { helper: wrong } = scriptedLogin([{ status: 401, body: { errors: [{ message: 'Invalid user credentials.', extensions: { code: 'INVALID_CREDENTIALS' } }] } }]);
	await expect(credential.preAuthentication!.call(wrong, login)).rejects.toThrow(/wrong email or password/);
});

test('a passing Directus 5xx at login is tried again; every attempt has a time limit', async () => {
	const { helper, calls } = scriptedLogin([{ status: 503 }, { status: 200, body: { data: { access_token: 'fresh-token' } } }]);
	const session = await credential.preAuthentication!.call(helper, login);
	expect(session.sessionToken).toBe('fresh-token');
	expect(calls).toHaveLength(2);
	expect(calls.every((call) => typeof call.timeout === 'number' && call.timeout > 0)).toBe(true);
});

test('the login follows the shared retry policy: a 429 waits its Retry-After, a lost host name fails at once, 3 attempts at most', async () => {
	const token = { status: 200, body: { data: { access_token: 'fresh-token' } } };
	const limited = scriptedLogin([{ status: 429, headers: { 'retry-after': '1' } }, token]);
	const started = Date.now();
	expect((await credential.preAuthentication!.call(limited.helper, login)).sessionToken).toBe('fresh-token');
	expect(Date.now() - started).toBeGreaterThanOrEqual(990);
	expect(limited.calls).toHaveLength(2);

	const lost = scriptedLogin([{ status: 0, code: 'ENOTFOUND' }, token]);
	await expect(credential.preAuthentication!.call(lost.helper, login)).rejects.toThrow('dembrane login failed: could not reach Directus at https://directus.example.org. Check the Directus URL.');
	expect(lost.calls).toHaveLength(1);

	const down = scriptedLogin([{ status: 502 }]);
	await expect(credential.preAuthentication!.call(down.helper, login)).rejects.toThrow('dembrane login failed: Directus at https://directus.example.org answered HTTP 502');
	expect(down.calls).toHaveLength(3);
}, 20_000);

test('an empty email or password is refused as a wrong login (Directus answers 400), at once and not as a Directus failure', async () => {
	const login = passwordCredentialData(standin) as ICredentialDataDecryptedObject;
	await expect(credential.preAuthentication!.call(loginHelper, { ...login, password: '' })).rejects.toThrow('wrong email or password (Directus answered 400)');
	const { helper, calls } = scriptedLogin([{ status: 400, body: { errors: [{ message: 'Invalid payload. "email" is required.', extensions: { code: 'INVALID_PAYLOAD' } }] } }]);
	await expect(credential.preAuthentication!.call(helper, { ...login, email: ' ' })).rejects.toThrow(/wrong email or password/);
	expect(calls).toHaveLength(1);
});

test('a login answered without an access token (a proxy page, Directus in session mode) fails saying so, instead of sending an empty token', async () => {
	const { helper } = scriptedLogin([{ status: 200, body: { data: { expires: 900_000 } } }]);
	await expect(credential.preAuthentication!.call(helper, login)).rejects.toThrow('dembrane login failed: https://directus.example.org/auth/login answered without an access token');
});

test('the credential test tells a static Directus token and a wrong API URL apart, each with what to do', async () => {
	const { request, rules } = credential.test;
	const messageFor = (status: number) =>
		(rules ?? []).map((rule) => rule.properties as { value?: number; message: string }).find((properties) => properties.value === status)?.message;
	const statusOf = async (baseUrl: string, token: string) =>
		(await fetch(`${baseUrl}${String(request.url)}`, { method: request.method, headers: { authorization: `Bearer ${token}` } })).status;
	const token = standin.issueAccessToken({ ttlSeconds: 600 });
	expect(await statusOf(standin.url, token)).toBe(200);
	expect(messageFor(await statusOf(standin.url, standin.staticToken))).toMatch(/Static Directus tokens do not work; use Email and Password/);
	expect(messageFor(await statusOf(`${standin.url}/api`, token))).toMatch(/^No ECHO API at this API URL \(404\)/);
});
