/** `--port N` and `--options '{json}'`, the arguments every stand-in CLI takes. */
export function parseCliArgs(argv: string[]): { port?: number; options: Record<string, unknown> } {
	const result: { port?: number; options: Record<string, unknown> } = { options: {} };
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--port') result.port = Number(argv[++i]);
		else if (argv[i] === '--options') result.options = JSON.parse(argv[++i] ?? '{}') as Record<string, unknown>;
		else throw new Error(`unknown argument ${argv[i]}`);
	}
	return result;
}

/** Runs until SIGINT/SIGTERM, then closes every server and exits 0. */
export function closeOnSignal(...servers: Array<{ close(): Promise<void> }>): void {
	const stop = () => void Promise.allSettled(servers.map(async (server) => await server.close())).then(() => process.exit(0));
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}
