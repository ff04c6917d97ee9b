/**
 * `/__standin/*`: steering for tests, the demo and e2e that run the stand-in as its own process.
 *   GET  options | stats | ids | projects | conversations?project_id= | webhooks
 *   POST configure {options} | reset-stats | token {ttlSeconds?, userId?, admin?} → {access_token}
 *   POST emit {event, projectId, conversationId?, reportId?} → {deliveries} (after every attempt)
 *   POST add-conversation {projectId, ...fields} | add-chunk {conversationId, text} | summarize {conversationId, summary}
 *        | generate-report {projectId}: these fire webhook events; with `"wait": true` the answer waits for
 *        the deliveries ({result, deliveries: "settled"}) | idle
 * Errors are 400 `{"detail": message}`; unknown control routes 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { transcriptEntryName } from './fileNames';
import { readBody } from './http';
import type { DembraneStandinServer } from './server';
import type { ConversationInput, DembraneStandinOptions, WebhookEvent } from './types';

export async function handleControl(server: DembraneStandinServer, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
	const send = (status: number, body: unknown) => {
		const text = JSON.stringify(body);
		response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
		response.end(text);
	};
	let body: Record<string, unknown> = {};
	if (request.method === 'POST') {
		const text = (await readBody(request)).toString('utf8');
		body = text.trim() ? (JSON.parse(text) as Record<string, unknown>) : {};
	}
	const wait = async <T>(value: T): Promise<T | { result: T; deliveries: 'settled' }> => {
		if (body.wait !== true) return value;
		await server.idle();
		return { result: value, deliveries: 'settled' };
	};
	const store = server.store;
	switch (`${request.method} ${url.pathname}`) {
		case 'GET /__standin/options':
			return send(200, server.currentOptions());
		case 'POST /__standin/configure':
			server.configure(body as Partial<DembraneStandinOptions>);
			return send(200, server.currentOptions());
		case 'GET /__standin/stats':
			return send(200, server.stats());
		case 'POST /__standin/reset-stats':
			server.resetStats();
			return send(200, { ok: true });
		case 'POST /__standin/token':
			return send(200, {
				access_token: server.issueAccessToken({
					ttlSeconds: body.ttlSeconds as number | undefined,
					userId: body.userId as string | undefined,
					admin: body.admin as boolean | undefined,
				}),
			});
		case 'POST /__standin/emit': {
			const deliveries = await server.emit(body.event as WebhookEvent, {
				projectId: body.projectId as string,
				conversationId: body.conversationId as string | undefined,
				reportId: body.reportId as number | undefined,
			});
			return send(200, { deliveries });
		}
		case 'GET /__standin/ids':
			return send(200, store.ids);
		case 'GET /__standin/projects':
			return send(200, store.projects);
		case 'GET /__standin/conversations': {
			const projectId = url.searchParams.get('project_id') ?? '';
			return send(200, store.conversationsOf(projectId).map((record) => ({ ...record.row, zip_entry_name: transcriptEntryName(record.row) })));
		}
		case 'GET /__standin/webhooks':
			return send(200, [...store.webhooks.values()]);
		case 'POST /__standin/idle':
			await server.idle();
			return send(200, { ok: true });
		case 'POST /__standin/add-conversation': {
			const input: Record<string, unknown> = { ...body };
			delete input.projectId;
			delete input.wait;
			return send(200, await wait(server.addConversation(String(body.projectId ?? store.ids.projectIds[0]), input as ConversationInput)));
		}
		case 'POST /__standin/add-chunk':
			return send(200, await wait(server.addChunk(String(body.conversationId), (body.text as string | null | undefined) ?? null)));
		case 'POST /__standin/summarize':
			return send(200, await wait(server.summarize(String(body.conversationId), String(body.summary ?? ''))));
		case 'POST /__standin/generate-report':
			return send(200, await wait(server.generateReport(String(body.projectId ?? store.ids.projectIds[0]))));
		default:
			return send(404, { detail: 'Unknown control route' });
	}
}
