/**
 * The Decagon transport's decisions per attempt, over scripted answers of n8n's HTTP helper: what reaches
 * the pacer (Retry-After and back-off waits, which answers count as round trips), what is retried, and
 * that the API key never reaches an error. The workflow layer covers the same over real HTTP; these pin
 * the decisions a stand-in cannot observe.
 */
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import type { DecagonConnection, DecagonContext } from '../../nodes/Decagon/transport';
import { decagonApiRequest, openDecagonConnection } from '../../nodes/Decagon/transport';
import { RequestPacer } from '../../nodes/shared/pacer';
import { DEFAULT_RETRY_POLICY } from '../../nodes/shared/retry';

interface Answer {
	statusCode: number;
	headers?: Record<string, string>;
	body: string;
}

const node = { id: '1', name: 'Decagon', type: 'decagon', typeVersion: 1, position: [0, 0] as [number, number], parameters: {} };

/** A context whose HTTP helper gives `answers` in order, and a pacer that records what it is asked. */
function scripted(answers: Answer[], credentials: ICredentialDataDecryptedObject = { region: 'us', apiKey: 'sk-live-abcdef123' }) {
	const queue = [...answers];
	let requests = 0;
	const context = {
		getNode: () => node,
		getCredentials: async () => credentials,
		logger: { debug: () => undefined },
		helpers: {
			httpRequestWithAuthentication: async () => {
				requests++;
				const answer = queue.shift();
				if (!answer) throw new Error('asked more often than the script answers');
				return { statusCode: answer.statusCode, headers: answer.headers ?? {}, body: Buffer.from(answer.body) };
			},
		},
	} as unknown as DecagonContext;
	const waits: number[] = [];
	const succeeded: boolean[] = [];
	const pacer = new RequestPacer(0);
	const acquire = pacer.acquire.bind(pacer);
	// The waits are recorded, not waited: these tests are about what is asked, not about time.
	pacer.acquire = async (extraDelayMs = 0, cancelled?: () => boolean) => {
		waits.push(extraDelayMs);
		return await acquire(0, cancelled);
	};
	const finished = pacer.finished.bind(pacer);
	pacer.finished = (startedMs: number, ok: boolean) => {
		succeeded.push(ok);
		finished(startedMs, ok);
	};
	const connect = async (overrides: { deadlineMs?: number } = {}): Promise<DecagonConnection> => ({
		...(await openDecagonConnection.call(context, { retryPolicy: { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 }, ...overrides })),
		pacer,
	});
	return { context, connect, waits, succeeded, requests: () => requests };
}

const empty: Answer = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"conversations":[]}' };

test('a 429 with Retry-After: 2 makes the pacer wait 2 s before the retry, on top of its spacing', async () => {
	const run = scripted([{ statusCode: 429, headers: { 'retry-after': '2' }, body: '{}' }, empty]);
	await decagonApiRequest.call(run.context, await run.connect(), '/conversation/export');
	expect(run.waits).toEqual([0, 2000]);
});

test('a failed answer is reported to the pacer as failed: a quick 503 must not become the round trip it paces by', async () => {
	const run = scripted([{ statusCode: 503, body: '{}' }, empty]);
	await decagonApiRequest.call(run.context, await run.connect(), '/conversation/export');
	expect(run.succeeded).toEqual([false, true]);
	expect(run.waits[1]).toBeGreaterThan(0); // the 5xx back-off
});

test('the API key echoed in an error body never reaches the error, also when the credential has it with spaces around', async () => {
	for (const apiKey of ['sk-live-abcdef123', '  sk-live-abcdef123\n']) {
		const run = scripted([{ statusCode: 401, body: '{"detail":"Invalid API key sk-live-abcdef123"}' }], { region: 'us', apiKey });
		const error = (await decagonApiRequest.call(run.context, await run.connect(), '/conversation/export').catch((e: Error) => e)) as Error & { description?: string };
		expect(error.message).toBe('Decagon answered HTTP 401: Invalid API key [redacted]');
		expect(JSON.stringify({ message: error.message, description: error.description })).not.toContain('sk-live-abcdef123');
		expect(run.requests()).toBe(1); // a 401 is final
	}
});

test('a 200 that is not JSON but not a web page either (an XML gateway error) is retried; one without a content type that starts with "<" is a web page and fails at once', async () => {
	const xml = scripted([{ statusCode: 200, headers: { 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><Error/>' }, empty]);
	await expect(decagonApiRequest.call(xml.context, await xml.connect(), '/conversation/export')).resolves.toEqual({ conversations: [] });
	expect(xml.requests()).toBe(2);

	const page = scripted([{ statusCode: 200, body: '  <html><title>Sign in</title></html>' }, empty]);
	await expect(decagonApiRequest.call(page.context, await page.connect(), '/conversation/export')).rejects.toThrow(/answered with a web page, not Decagon's JSON/);
	expect(page.requests()).toBe(1);
});

test("past a poll's deadline a page is still asked for once, so each poll moves on by at least a page; a failure is then not retried", async () => {
	const late = scripted([empty]);
	await expect(decagonApiRequest.call(late.context, await late.connect({ deadlineMs: Date.now() - 1 }), '/conversation/export')).resolves.toEqual({ conversations: [] });
	expect(late.requests()).toBe(1);

	const failing = scripted([{ statusCode: 503, body: '{}' }, empty]);
	await expect(decagonApiRequest.call(failing.context, await failing.connect({ deadlineMs: Date.now() - 1 }), '/conversation/export')).rejects.toThrow(
		'Decagon did not answer /conversation/export in the time this poll has (HTTP 503)',
	);
	expect(failing.requests()).toBe(1);
});

test("a retry is not started with less than 5 s left before the poll's deadline, even one Decagon says may come at once", async () => {
	const run = scripted([{ statusCode: 429, headers: { 'retry-after': '0' }, body: '{}' }, empty]);
	await expect(decagonApiRequest.call(run.context, await run.connect({ deadlineMs: Date.now() + 4000 }), '/conversation/export')).rejects.toThrow(
		/did not answer \/conversation\/export in the time this poll has \(rate limited \(HTTP 429\)\)/,
	);
	expect(run.requests()).toBe(1);
	// With the time a request needs left (and some to spare), it is retried.
	const inTime = scripted([{ statusCode: 429, headers: { 'retry-after': '0' }, body: '{}' }, empty]);
	await expect(decagonApiRequest.call(inTime.context, await inTime.connect({ deadlineMs: Date.now() + 8000 }), '/conversation/export')).resolves.toEqual({ conversations: [] });
	expect(inTime.requests()).toBe(2);
});

test("a custom Base URL's user info (a proxy's password) never reaches an error: unreachable, a web page, or not a URL", async () => {
	const proxied = { region: 'custom', baseUrl: 'https://proxyuser:Pr0xyPa55word@proxy.example.com', apiKey: 'sk-live-abcdef123' };
	const refused = scripted([], proxied);
	refused.context.helpers.httpRequestWithAuthentication = async () => {
		throw Object.assign(new Error('connect ECONNREFUSED 192.0.2.1:443'), { code: 'ECONNREFUSED' });
	};
	const webPage = scripted([{ statusCode: 200, headers: { 'content-type': 'text/html' }, body: '<html><title>Sign in</title></html>' }], proxied);
	const notAUrl = scripted([], { ...proxied, baseUrl: 'proxyuser:Pr0xyPa55word@proxy.example.com' });
	const errors = [
		await decagonApiRequest.call(refused.context, await refused.connect(), '/conversation/export').catch((e: Error) => e),
		await decagonApiRequest.call(webPage.context, await webPage.connect(), '/conversation/export').catch((e: Error) => e),
		await notAUrl.connect().catch((e: Error) => e),
	] as Array<Error & { description?: string }>;
	expect(errors[0].message).toMatch(/^Could not reach Decagon at https:\/\/proxy\.example\.com /);
	expect(errors[1].message).toMatch(/^https:\/\/proxy\.example\.com\/conversation\/export answered with a web page/);
	expect(errors[2].message).toMatch(/Base URL "proxy\.example\.com" is not an http\(s\) URL/);
	for (const error of errors) expect(JSON.stringify({ message: error.message, description: error.description })).not.toMatch(/Pr0xyPa55word|proxyuser/);
});

test('Region US and EU send requests to their own API hosts', async () => {
	for (const [region, host] of [['us', 'https://api.decagon.ai'], ['eu', 'https://eu.api.decagon.ai'], [undefined, 'https://api.decagon.ai']] as const) {
		const run = scripted([empty], { ...(region ? { region } : {}), apiKey: 'sk-live-abcdef123' });
		let asked: string | undefined;
		run.context.helpers.httpRequestWithAuthentication = async (_type: string, options: { baseURL?: string }) => {
			asked = options.baseURL;
			return { statusCode: 200, headers: {}, body: Buffer.from(empty.body) };
		};
		await decagonApiRequest.call(run.context, await run.connect(), '/conversation/export');
		expect(asked).toBe(host);
	}
});
