/**
 * The few parts of an n8n execute context that dembrane's list readers use, over a scripted server:
 * `answer` gets each request n8n's HTTP helper would send and returns the full response. Warnings
 * the node logs are collected.
 */
import type { IHttpRequestOptions } from 'n8n-workflow';

import type { DembraneContext } from '../../nodes/DembraneEcho/transport';

export interface ScriptedResponse {
	statusCode: number;
	headers: Record<string, string>;
	body: string;
}

export function fakeDembraneContext(answer: (request: IHttpRequestOptions) => ScriptedResponse): { context: DembraneContext; warnings: string[] } {
	const warnings: string[] = [];
	const context = {
		getNode: () => ({ id: '1', name: 'ECHO', type: 'dembraneEcho', typeVersion: 1, position: [0, 0], parameters: {} }),
		getCredentials: async () => ({ baseUrl: 'http://dembrane.invalid' }),
		logger: { warn: (message: string) => warnings.push(message), debug: () => undefined, info: () => undefined },
		helpers: {
			httpRequestWithAuthentication: async (_credential: string, request: IHttpRequestOptions) => answer(request),
		},
	} as unknown as DembraneContext;
	return { context, warnings };
}
