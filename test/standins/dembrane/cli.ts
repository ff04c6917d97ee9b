/**
 * Runs the dembrane stand-in as its own process:
 *   npx ts-node --transpile-only test/standins/dembrane/cli.ts [--port N] [--options '{"conversationsPerProject":100}']
 * Prints one JSON line {"dembrane": url, "directus": directusUrl, "email": ..., "password": ...} and runs
 * until SIGINT/SIGTERM. Steer it over /__standin/* (configure, stats, reset-stats, emit, token, ...).
 */
import type { DembraneStandin } from './index';
import { startDembraneStandin } from './index';
import { closeOnSignal, parseCliArgs } from '../cliArgs';

/** Starts the stand-in from CLI arguments; a combined CLI can call this and print `announce()` itself. */
export async function startFromCli(argv: string[]): Promise<DembraneStandin> {
	const args = parseCliArgs(argv);
	return startDembraneStandin({ ...args.options, ...(args.port !== undefined ? { port: args.port } : {}) });
}

export function announce(standin: DembraneStandin): Record<string, string> {
	return { dembrane: standin.url, directus: standin.directusUrl, email: standin.email, password: standin.password };
}

async function main(): Promise<void> {
	const standin = await startFromCli(process.argv.slice(2));
	process.stdout.write(`${JSON.stringify(announce(standin))}\n`);
	closeOnSignal(standin);
}

if (require.main === module) {
	main().catch((error: Error) => {
		process.stderr.write(`${error.stack ?? error.message}\n`);
		process.exit(1);
	});
}
