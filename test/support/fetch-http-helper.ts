/**
 * n8n's `httpRequestWithAuthentication` stood in by fetch, for unit tests that call a node's method
 * (list search, webhook registration) outside n8n against a stand-in: it adds the Bearer header n8n's
 * credential `authenticate` would add, sends `body` as JSON, and throws on non-2xx the way n8n's helper
 * does (an error whose `response` carries status and data), which our transport reads.
 */
import type { IHttpRequestOptions } from 'n8n-workflow';

export function fetchHttpHelper(token: string) {
	return async (_credentialType: string, options: IHttpRequestOptions) => {
		const url = new URL(String(options.url), String(options.baseURL));
		for (const [key, value] of Object.entries(options.qs ?? {})) url.searchParams.set(key, String(value));
		const headers: Record<string, string> = { authorization: `Bearer ${token}` };
		if (options.body !== undefined) headers['content-type'] = 'application/json';
		const response = await fetch(url, {
			method: options.method ?? 'GET',
			headers,
			body: options.body === undefined ? undefined : JSON.stringify(options.body),
		});
		const body = await response.text();
		if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { response: { status: response.status, headers: {}, data: body } });
		return { statusCode: response.status, headers: Object.fromEntries(response.headers), body };
	};
}
