/**
 * Local stand-in of Decagon's conversation export API, for tests, benchmarks and the demo.
 * `startDecagonStandin()` in-process, or `cli.ts` as a separate process steered over `/__standin/*`.
 */
import { DecagonStandinServer } from './server';
import type { DecagonConversation, DecagonConversationInput, DecagonStandinOptions, DecagonStandinStats, MessageRole } from './types';

export * from './types';

export interface DecagonStandin {
	/** Base URL, e.g. http://127.0.0.1:41234 — what the credential's custom base URL gets. */
	url: string;
	apiKey: string;
	options(): DecagonStandinOptions;
	configure(partial: Partial<DecagonStandinOptions>): void;
	stats(): DecagonStandinStats;
	resetStats(): void;
	/** Every conversation as the export serves it now. */
	conversations(): DecagonConversation[];
	conversation(id: string): DecagonConversation | undefined;
	addMessage(id: string, text?: string, atEpochSeconds?: number, role?: MessageRole): DecagonConversation;
	addConversation(input?: DecagonConversationInput): DecagonConversation;
	/** The stand-in's clock in epoch seconds: `nowEpoch` moving with real time. */
	nowEpoch(): number;
	close(): Promise<void>;
}

export async function startDecagonStandin(options: Partial<DecagonStandinOptions> = {}): Promise<DecagonStandin> {
	const server = new DecagonStandinServer(options);
	const url = await server.listen();
	return {
		url,
		get apiKey() {
			return server.currentOptions().apiKey;
		},
		options: () => server.currentOptions(),
		configure: (partial) => server.configure(partial),
		stats: () => server.stats(),
		resetStats: () => server.resetStats(),
		conversations: () => server.conversations(),
		conversation: (id) => server.conversation(id),
		addMessage: (id, text, at, role) => server.addMessage(id, text, at, role),
		addConversation: (input) => server.addConversation(input),
		nowEpoch: () => server.nowEpoch(),
		close: () => server.close(),
	};
}
