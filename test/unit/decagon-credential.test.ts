/**
 * The Decagon API credential's own logic: the header every request carries. Requests through n8n's
 * engine with this credential are covered in test/workflow and test/e2e.
 */
import type { IHttpRequestOptions } from 'n8n-workflow';

import { DecagonApi } from '../../credentials/DecagonApi.credentials';
import type { DecagonStandin } from '../standins/decagon';
import { startDecagonStandin } from '../standins/decagon';

let standin: DecagonStandin;
beforeAll(async () => {
	standin = await startDecagonStandin({ count: 3, rateLimitPerSecond: 0 });
});
afterAll(async () => standin.close());

const credential = new DecagonApi();

/** The export's status when asked with the headers the credential adds for `apiKey`. */
async function exportStatus(apiKey: string): Promise<number> {
	const request: IHttpRequestOptions = { url: '/conversation/export', headers: { accept: 'application/json' } };
	const options = await credential.authenticate(
		{ region: 'custom', baseUrl: standin.url, apiKey, requestsPerSecond: 1 },
		request,
	);
	expect(options.headers?.accept).toBe('application/json');
	expect(request.headers).toEqual({ accept: 'application/json' }); // the caller's options are not changed
	const response = await fetch(new URL('/conversation/export', standin.url), { headers: options.headers as Record<string, string> });
	return response.status;
}

test('sends the API key as a Bearer token', async () => {
	expect(await exportStatus(standin.apiKey)).toBe(200);
	expect(await exportStatus('not-the-key')).toBe(401);
	expect(await exportStatus('')).toBe(401);
});

test('drops the spaces and line break a pasted key often carries (a line break in a header fails the request)', async () => {
	expect(await exportStatus(` ${standin.apiKey}\n`)).toBe(200);
	const options = await credential.authenticate({ apiKey: `${standin.apiKey}\r\n` }, { url: '/' });
	expect(options.headers?.Authorization).toBe(`Bearer ${standin.apiKey}`);
});

/** The credential test's base URL expression, run as the JavaScript it is (n8n evaluates it the same way). */
function testBaseUrl(credentials: Record<string, unknown>): string {
	const expression = String(credential.test.request.baseURL);
	const body = /^=\{\{([\s\S]*)\}\}$/.exec(expression)?.[1];
	return new Function('$credentials', `return (${body});`)(credentials) as string;
}

test("the credential test asks the URL the node asks: a pasted custom Base URL's spaces and trailing slashes are dropped", () => {
	expect(testBaseUrl({ region: 'custom', baseUrl: ' http://127.0.0.1:9/// \n' })).toBe('http://127.0.0.1:9');
	expect(testBaseUrl({ region: 'eu', baseUrl: '' })).toBe('https://eu.api.decagon.ai');
	expect(testBaseUrl({ region: 'us', baseUrl: '' })).toBe('https://api.decagon.ai');
});

test('the credential test asks for conversations from now on: an empty answer, not a page of the account\'s history', async () => {
	const expression = String(credential.test.request.qs?.min_timestamp);
	const body = /^=\{\{([\s\S]*)\}\}$/.exec(expression)?.[1];
	const before = Math.floor(Date.now() / 1000);
	const minTimestamp = new Function(`return (${body});`)() as number;
	expect(Number.isInteger(minTimestamp)).toBe(true);
	expect(minTimestamp).toBeGreaterThanOrEqual(before);
	expect(minTimestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
	const options = await credential.authenticate({ apiKey: standin.apiKey }, { url: '/' });
	const response = await fetch(new URL(`/conversation/export?min_timestamp=${minTimestamp}`, standin.url), { headers: options.headers as Record<string, string> });
	expect(response.status).toBe(200);
	expect((await response.json()) as unknown).toEqual(expect.objectContaining({ conversations: [] }));
});

test("a new credential paces at Decagon's limit of 1 request per second (going over gets the IP address banned)", () => {
	expect(credential.properties.find((property) => property.name === 'requestsPerSecond')?.default).toBe(1);
});
