/**
 * What both stand-ins share: a loopback HTTP server that closes with its open connections, and the
 * merging of option changes (unknown keys refused, undefined keys left alone).
 */
import { once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export class LoopbackServer {
	private readonly server: Server;
	private readonly sockets = new Set<Socket>();
	private baseUrl = '';

	constructor(handler: (request: IncomingMessage, response: ServerResponse) => void) {
		this.server = createServer(handler);
		this.server.keepAliveTimeout = 5_000;
		this.server.on('connection', (socket) => {
			this.sockets.add(socket);
			socket.on('close', () => this.sockets.delete(socket));
		});
	}

	/** Listens on 127.0.0.1 (`port` 0: any free port); resolves with the base URL. */
	async listen(port: number): Promise<string> {
		this.server.listen(port, '127.0.0.1');
		await once(this.server, 'listening');
		this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
		return this.baseUrl;
	}

	get url(): string {
		return this.baseUrl;
	}

	/** Drops every open connection (keep-alive ones too) and stops listening. */
	async close(): Promise<void> {
		for (const socket of this.sockets) socket.destroy();
		await new Promise<void>((resolve) => this.server.close(() => resolve()));
	}
}

/**
 * `partial` over `current`, throwing an Error that names an unknown option (the control routes turn it
 * into a 400). Keys set to undefined are left unchanged. The caller validates the result.
 */
export function mergeKnownOptions<T extends object>(current: T, partial: Partial<T>): T {
	if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
		throw new Error('options must be a JSON object');
	}
	const known = new Set(Object.keys(current));
	const merged: Record<string, unknown> = { ...(current as Record<string, unknown>) };
	for (const [key, value] of Object.entries(partial)) {
		if (!known.has(key)) throw new Error(`unknown option "${key}"`);
		if (value !== undefined) merged[key] = value;
	}
	return merged as unknown as T;
}

/** Whether any of `keys` differs between two option sets (compared as JSON). */
export function optionsChanged<T extends object>(keys: ReadonlyArray<keyof T>, before: T, after: T): boolean {
	return keys.some((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}
