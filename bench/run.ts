/**
 * `npm run bench [-- --size small|full] [--only name[,name]] [--out file] [--runs n] [--no-build]`
 *
 * Builds and packs this repository, installs it into the pinned real n8n, and runs benchmarks that
 * compare our nodes with the chains of n8n built-ins a user would otherwise build, on the same machine
 * against the same local stand-ins. Writes bench/results.md (or --out) and prints it.
 *
 * Exit code: 0 when every benchmark ran and produced the right items, whether or not its targets were
 * met; 1 when a benchmark could not run or produced wrong results; 2 for bad arguments; 130 on Ctrl-C.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

import { packPackage, REPO_ROOT, resolveN8nRuntime } from '../test/support/n8n-instance';
import { decagonExportOverhead, decagonFloor, decagonJsonlMemory, decagonPacing } from './decagon';
import { dembraneZip } from './dembrane';
import { webhookDeliveries } from './webhooks';
import type { Benchmark, BenchContext } from './measure';
import { SkipBenchmark } from './measure';
import type { BenchmarkReport, Size } from './report';
import { fmtMs, machineInfo, renderResults, ReportBuilder } from './report';

const BENCHMARKS: Benchmark[] = [decagonExportOverhead, decagonPacing, decagonJsonlMemory, dembraneZip, webhookDeliveries, decagonFloor];

/** Upper bound of one benchmark, stand-ins and n8n set-up included. */
const BENCHMARK_TIMEOUT_MS: Record<Size, number> = { small: 5 * 60_000, full: 90 * 60_000 };
const CLEANUP_TIMEOUT_MS = 60_000;
/** Executions per chain (medians reported): small proves the benchmarks work, full measures. */
const DEFAULT_RUNS: Record<Size, number> = { small: 1, full: 3 };

interface Args {
	size: Size;
	only?: string[];
	out: string;
	runs?: number;
	build: boolean;
}

function usage(problem: string): never {
	console.error(`${problem}\nusage: npm run bench -- [--size small|full] [--only ${BENCHMARKS.map((b) => b.name).join('|')}] [--out file] [--runs n] [--no-build]`);
	process.exit(2);
}

function parseArgs(argv: string[]): Args {
	const args: Args = { size: 'full', out: path.join(REPO_ROOT, 'bench', 'results.md'), build: true };
	for (let i = 0; i < argv.length; i++) {
		const [flag, inline] = argv[i].split(/=(.*)/s, 2);
		const value = () => {
			const next = inline ?? argv[++i];
			if (next === undefined || next === '') usage(`${flag} needs a value`);
			return next;
		};
		switch (flag) {
			case '--size': {
				const size = value();
				if (size !== 'small' && size !== 'full') usage(`--size must be small or full, not "${size}"`);
				args.size = size;
				break;
			}
			case '--only': {
				args.only = value().split(',').map((name) => name.trim()).filter(Boolean);
				const unknown = args.only.filter((name) => !BENCHMARKS.some((b) => b.name === name));
				if (unknown.length > 0) usage(`unknown benchmark: ${unknown.join(', ')}`);
				break;
			}
			case '--out':
				args.out = path.resolve(value());
				break;
			case '--runs': {
				const runs = Number(value());
				if (!Number.isInteger(runs) || runs < 1 || runs > 20) usage('--runs must be a whole number from 1 to 20');
				args.runs = runs;
				break;
			}
			case '--no-build':
				args.build = false;
				break;
			case '--help':
			case '-h':
				usage('Benchmarks of our nodes against the n8n built-ins a user would chain.');
				break;
			default:
				usage(`unknown argument: ${argv[i]}`);
		}
	}
	return args;
}

const started = Date.now();
function log(message: string): void {
	const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
	process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}

/** Cleanups of the benchmark that runs now; Ctrl-C runs them too. */
let cleanups: Array<() => Promise<void> | void> = [];

async function runCleanups(): Promise<void> {
	const pending = cleanups.reverse();
	cleanups = [];
	for (const cleanup of pending) {
		let timer: NodeJS.Timeout | undefined;
		try {
			await Promise.race([
				Promise.resolve().then(cleanup),
				new Promise((_, reject) => {
					timer = setTimeout(() => reject(new Error(`cleanup took over ${CLEANUP_TIMEOUT_MS} ms`)), CLEANUP_TIMEOUT_MS);
				}),
			]);
		} catch (error) {
			log(`cleanup failed: ${(error as Error).message}`);
		} finally {
			clearTimeout(timer);
		}
	}
}

let interrupted = false;
process.on('SIGINT', () => {
	if (interrupted) process.exit(130); // a second Ctrl-C: leave now (the exit hook still kills n8n)
	interrupted = true;
	log('interrupted: stopping n8n and the stand-ins');
	void runCleanups().finally(() => process.exit(130));
});
process.on('SIGTERM', () => {
	void runCleanups().finally(() => process.exit(143));
});

async function runBenchmark(benchmark: Benchmark, base: Omit<BenchContext, 'defer' | 'log'>, size: Size): Promise<BenchmarkReport> {
	const report = new ReportBuilder();
	const benchStarted = Date.now();
	const context: BenchContext = {
		...base,
		log: (message) => log(`${benchmark.name}: ${message}`),
		defer: (cleanup) => {
			cleanups.push(cleanup);
		},
	};
	log(`${benchmark.name}: start`);
	let timer: NodeJS.Timeout | undefined;
	let skipped: string | undefined;
	try {
		await Promise.race([
			benchmark.run(context, report),
			new Promise((_, reject) => {
				timer = setTimeout(() => reject(new Error(`did not finish within ${fmtMs(BENCHMARK_TIMEOUT_MS[size])}`)), BENCHMARK_TIMEOUT_MS[size]);
			}),
		]);
	} catch (error) {
		if (error instanceof SkipBenchmark) skipped = error.message;
		else report.fail(`could not run: ${(error as Error).message.split('\n').slice(0, 6).join(' ')}`);
	} finally {
		clearTimeout(timer);
		await runCleanups();
	}
	const durationMs = Date.now() - benchStarted;
	log(`${benchmark.name}: done in ${fmtMs(durationMs)}${report.failures.length ? `, ${report.failures.length} failure(s)` : ''}`);
	return {
		name: benchmark.name,
		title: benchmark.title,
		sizes: report.sizes,
		tables: report.tables,
		targets: report.targets,
		notes: report.notes,
		failures: report.failures,
		skipped,
		durationMs,
	};
}

async function main(): Promise<void> {
	const args = parseArgs(process.argv.slice(2));
	const selected = args.only ? BENCHMARKS.filter((b) => args.only!.includes(b.name)) : BENCHMARKS;
	const runs = args.runs ?? DEFAULT_RUNS[args.size];
	const startedAt = new Date();

	if (args.build) {
		log('npm run build');
		const build = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 5 * 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
		if (build.status !== 0) {
			console.error(`npm run build failed (${build.status ?? build.signal}):\n${build.stdout}\n${build.stderr}`);
			process.exit(1);
		}
	}
	log('npm pack, and the pinned n8n');
	const tarball = await packPackage();
	const runtime = resolveN8nRuntime();
	const n8nNode = spawnSync(runtime.nodeBin, ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout.trim().replace(/^v/, '');
	const machine = machineInfo();

	const reports: BenchmarkReport[] = [];
	for (const benchmark of selected) {
		if (interrupted) break;
		reports.push(await runBenchmark(benchmark, { size: args.size, tarball, runs }, args.size));
	}

	const command = ['npm run bench --', `--size ${args.size}`, args.only ? `--only ${args.only.join(',')}` : '', args.runs ? `--runs ${args.runs}` : '']
		.filter(Boolean)
		.join(' ');
	const markdown = renderResults(
		{ n8nVersion: runtime.version, size: args.size, started: startedAt, durationMs: Date.now() - started, n8nNode, command },
		machine,
		reports,
	);
	mkdirSync(path.dirname(args.out), { recursive: true });
	writeFileSync(args.out, markdown);
	process.stdout.write(markdown);
	log(`wrote ${path.relative(process.cwd(), args.out) || args.out} in ${fmtMs(Date.now() - started)}`);

	const failures = reports.flatMap((report) => report.failures.map((failure) => `${report.name}: ${failure}`));
	if (failures.length > 0) {
		console.error(`\n${failures.length} benchmark failure(s):\n${failures.map((f) => `- ${f}`).join('\n')}`);
		process.exitCode = 1;
	}
}

main()
	.catch((error: Error) => {
		console.error(error.stack ?? error.message);
		process.exitCode = 1;
	})
	.finally(() => {
		// Everything is stopped by now; should a handle linger, do not wait for it.
		setTimeout(() => process.exit(), 2_000).unref();
	});
