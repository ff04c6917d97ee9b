/**
 * For unit tests that drive the Decagon nodes' real paginator over a simulated export route: a fake of the
 * few n8n context members the transport uses, and a connection without pacing or retries. (The workflow
 * and e2e layers use the stand-in over real HTTP instead.)
 */
import type { IDataObject, IHttpRequestOptions } from 'n8n-workflow';

import type { WindowReader } from '../../nodes/Decagon/helpers/incrementalSync';
import type { DecagonConnection, DecagonContext } from '../../nodes/Decagon/transport';
import { paginateExport } from '../../nodes/Decagon/transport/paginator';
import { RequestPacer } from '../../nodes/shared/pacer';

/** A connection that neither paces nor retries (the route answers at once, or throws). */
export function testConnection(): DecagonConnection {
	return {
		baseUrl: 'http://decagon.invalid',
		pacer: new RequestPacer(0),
		retryPolicy: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
		apiKey: 'key',
		requestTimeoutMs: 1000,
		credentials: { id: '', name: '', type: 'decagonApi', data: {} },
	};
}

/** `route` (each request's query, cursor included → the response body) as n8n's HTTP helper answers it. */
export function routeRequest(route: (qs: IDataObject) => IDataObject) {
	return async (_credential: string, options: IHttpRequestOptions) => ({
		statusCode: 200,
		headers: {},
		body: Buffer.from(JSON.stringify(route({ ...(options.qs as IDataObject) }))),
	});
}

/** The Decagon Trigger's reader: paginateExport reading on by updated_at, over `route`. */
export function routeWindowReader(route: (qs: IDataObject) => IDataObject): WindowReader {
	const node = { id: '1', name: 'Decagon Trigger', type: 'decagonTrigger', typeVersion: 1, position: [0, 0], parameters: {} };
	const context = { getNode: () => node, logger: { debug: () => undefined }, helpers: { httpRequestWithAuthentication: routeRequest(route) } } as unknown as DecagonContext;
	const connection = testConnection();
	return async (query, startCursor, onPage, emptyPagesBefore) =>
		await paginateExport.call(context, connection, query, onPage, { startCursor, readOnBy: 'updated_at', emptyPagesBefore });
}

/** routeWindowReader recording each request's query, and stopping a test that reads more than `bound` times. */
export function recordedWindowReader(route: (qs: IDataObject) => IDataObject, bound = 50): { read: WindowReader; queries: IDataObject[] } {
	const queries: IDataObject[] = [];
	const read = routeWindowReader((qs) => {
		queries.push(qs);
		if (queries.length > bound) throw new Error('the sync kept reading');
		return route(qs);
	});
	return { read, queries };
}
