/**
 * Runs the Decagon stand-in as its own process:
 *   npx ts-node --transpile-only test/standins/decagon/cli.ts [--port N] [--options '{"count":1000}']
 * Prints one JSON line {"decagon": url, "apiKey": key} and runs until SIGINT/SIGTERM.
 */
import { startDecagonStandin } from './index';

export function parseCliArgs(argv: string[]): { port?: number; options: Record<string, unknown> } {
	const result: { port?: number; options: Record<string, unknown> } = { options: {} };
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--port') result.port = Number(argv[++i]);
		else if (argv[i] === '--options') result.options = JSON.parse(argv[++i] ?? '{}') as Record<string, unknown>;
		else throw new Error(`unknown argument ${argv[i]}`);
	}
	return result;
}

async function main(): Promise<void> {
	const args = parseCliArgs(process.argv.slice(2));
	const standin = await startDecagonStandin({ ...args.options, ...(args.port !== undefined ? { port: args.port } : {}) });
	process.stdout.write(`${JSON.stringify({ decagon: standin.url, apiKey: standin.apiKey })}\n`);
	const stop = () => void standin.close().then(() => process.exit(0));
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

if (require.main === module) {
	main().catch((error: Error) => {
		process.stderr.write(`${error.stack ?? error.message}\n`);
		process.exit(1);
	});
}
