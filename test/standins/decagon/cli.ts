/**
 * Runs the Decagon stand-in as its own process:
 *   npx ts-node --transpile-only test/standins/decagon/cli.ts [--port N] [--options '{"count":1000}']
 * Prints one JSON line {"decagon": url, "apiKey": key} and runs until SIGINT/SIGTERM.
 */
import { closeOnSignal, parseCliArgs } from '../cliArgs';
import { startDecagonStandin } from './index';

async function main(): Promise<void> {
	const args = parseCliArgs(process.argv.slice(2));
	const standin = await startDecagonStandin({ ...args.options, ...(args.port !== undefined ? { port: args.port } : {}) });
	process.stdout.write(`${JSON.stringify({ decagon: standin.url, apiKey: standin.apiKey })}\n`);
	closeOnSignal(standin);
}

if (require.main === module) {
	main().catch((error: Error) => {
		process.stderr.write(`${error.stack ?? error.message}\n`);
		process.exit(1);
	});
}
