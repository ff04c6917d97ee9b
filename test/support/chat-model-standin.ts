/**
 * A scripted stand-in of OpenAI's Chat Completions API (`POST /v1/chat/completions`), so that n8n's AI
 * Agent can call our action nodes as tools without an account. It plays one scripted tool call per run:
 * while no tool answer follows the last user message, it calls the tool the script names with the
 * script's arguments; once the tool has answered, it replies with that answer's text, so a test reads
 * what the model was given in the agent's output. Non-streaming only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { LoopbackServer } from '../standins/common';
import { readBody } from '../standins/dembrane/http';

export interface ToolCallScript {
	/** The first offered tool whose name matches is called. */
	tool: RegExp;
	/** The arguments the model passes (the tool's `$fromAI` keys). */
	arguments: Record<string, unknown>;
}

export interface ChatRequestRecord {
	/** Names of the tools offered to the model. */
	tools: string[];
}

export interface ChatModelStandin {
	url: string;
	/** Every request, in order. */
	requests: ChatRequestRecord[];
	close(): Promise<void>;
}

/** The final answer's text: what the tool returned, after this marker. */
export const TOOL_ANSWER_MARKER = 'TOOL ANSWERED: ';

interface ChatMessage {
	role?: string;
	content?: unknown;
	tool_calls?: unknown[];
}

const textOf = (content: unknown): string =>
	typeof content === 'string'
		? content
		: Array.isArray(content)
			? content.map((part) => (part && typeof part === 'object' && 'text' in part ? String((part as { text: unknown }).text) : '')).join('')
			: '';

/**
 * `scriptFor` picks the tool call from the last user message (the agent's prompt), so one stand-in serves
 * several workflows.
 */
export async function startChatModelStandin(scriptFor: (prompt: string) => ToolCallScript): Promise<ChatModelStandin> {
	const requests: ChatRequestRecord[] = [];
	let calls = 0;
	const server = new LoopbackServer((request: IncomingMessage, response: ServerResponse) => {
		void (async () => {
			const send = (status: number, body: unknown) => {
				response.writeHead(status, { 'content-type': 'application/json' });
				response.end(JSON.stringify(body));
			};
			if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
				send(404, { error: { message: `no route ${request.method} ${request.url}`, type: 'invalid_request_error' } });
				return;
			}
			const body = JSON.parse((await readBody(request)).toString('utf8')) as { messages?: ChatMessage[]; tools?: Array<{ function?: { name?: string } }>; stream?: boolean; model?: string };
			if (body.stream) {
				// n8n 2.41.1 and 1.123.81 ask without streaming; a version that streams needs this stand-in extended.
				send(400, { error: { message: 'the chat-model stand-in does not stream', type: 'invalid_request_error' } });
				return;
			}
			const messages = body.messages ?? [];
			const tools = (body.tools ?? []).map((tool) => String(tool.function?.name ?? ''));
			requests.push({ tools });
			const lastUser = messages.map((message) => message.role).lastIndexOf('user');
			const toolAnswer = messages.slice(lastUser + 1).find((message) => message.role === 'tool');
			let message: Record<string, unknown>;
			if (toolAnswer) {
				message = { role: 'assistant', content: TOOL_ANSWER_MARKER + textOf(toolAnswer.content) };
			} else {
				const script = scriptFor(textOf(messages[lastUser]?.content));
				const name = tools.find((tool) => script.tool.test(tool));
				if (!name) {
					send(400, { error: { message: `no tool matching ${String(script.tool)} among ${tools.join(', ')}`, type: 'invalid_request_error' } });
					return;
				}
				message = {
					role: 'assistant',
					content: null,
					tool_calls: [{ id: `call_${++calls}`, type: 'function', function: { name, arguments: JSON.stringify(script.arguments) } }],
				};
			}
			const finish = message.tool_calls ? 'tool_calls' : 'stop';
			const usage = { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 };
			send(200, { id: `chatcmpl-${requests.length}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: body.model ?? 'gpt-4o-mini', choices: [{ index: 0, message, finish_reason: finish }], usage });
		})().catch((error: unknown) => {
			if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
			response.end(JSON.stringify({ error: { message: String(error), type: 'server_error' } }));
		});
	});
	const url = await server.listen(0);
	return { url, requests, close: async () => await server.close() };
}
