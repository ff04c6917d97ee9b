/**
 * Both stand-ins in one process, for the demo and manual runs:
 *   npx ts-node --transpile-only test/standins/cli.ts [--decagon '{json options}'] [--dembrane '{json options}']
 * Prints one JSON line {"decagon", "apiKey", "dembrane", "directus", "email", "password"} and runs
 * until SIGINT/SIGTERM.
 */
import { closeOnSignal } from './cliArgs';
import { startDecagonStandin } from './decagon';
import { startDembraneStandin } from './dembrane';
import { announce } from './dembrane/cli';

async function main(): Promise<void> {
	const argv = process.argv.slice(2);
	const optionsOf = (flag: string) => {
		const index = argv.indexOf(flag);
		return index >= 0 ? (JSON.parse(argv[index + 1] ?? '{}') as Record<string, unknown>) : {};
	};
	const decagon = await startDecagonStandin(optionsOf('--decagon'));
	const dembrane = await startDembraneStandin(optionsOf('--dembrane'));
	process.stdout.write(`${JSON.stringify({ decagon: decagon.url, apiKey: decagon.apiKey, ...announce(dembrane) })}\n`);
	closeOnSignal(decagon, dembrane);
}

main().catch((error: Error) => {
	process.stderr.write(`${error.stack ?? error.message}\n`);
	process.exit(1);
});
