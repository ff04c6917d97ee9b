/**
 * Running one workflow with `n8n execute` and reading what the benchmarks compare: the chain's time
 * (n8n's own executionTime per node), the process' peak RSS and the output items.
 */
import * as path from 'node:path';

import type { ExecuteResult, N8nInstance, WorkflowFixture } from '../test/support/n8n-instance';
import type { ReportBuilder, Size } from './report';
import { fmtMb, fmtMs, fmtRatio } from './report';
import { chainNodeNames, MANUAL_TRIGGER } from './workflows';

export interface BenchContext {
	size: Size;
	/** `npm pack` of this repository, installed into every n8n instance. */
	tarball: string;
	/** Executions per chain; time and memory are the medians over them. */
	runs: number;
	log(message: string): void;
	/** Cleanup that runs when the benchmark ends (also on errors and on Ctrl-C), last registered first. */
	defer(cleanup: () => Promise<void> | void): void;
}

export interface Benchmark {
	name: string;
	title: string;
	run(context: BenchContext, report: ReportBuilder): Promise<void>;
}

/** Thrown by a benchmark that cannot run here for a known reason: reported as skipped, not as a failure. */
export class SkipBenchmark extends Error {}

/** A run that ended in an error, with n8n's message for it. */
export class RunFailed extends Error {
	constructor(
		readonly label: string,
		message: string,
		readonly result: ExecuteResult,
	) {
		super(`${label}: ${message}`);
	}
}

export interface ChainRun {
	label: string;
	result: ExecuteResult;
	/** Sum of executionTime of the chain's nodes, ms. */
	timeMs: number;
	nodeTimesMs: Record<string, number>;
	peakRssKb?: number;
	/** Wall time of the whole `n8n execute` process, start-up included. */
	wallMs: number;
}

/** executionTime of each of the chain's nodes (all its runs), and their sum. */
export function chainTime(result: ExecuteResult, nodeNames: string[]): { timeMs: number; nodeTimesMs: Record<string, number> } {
	const runData = result.run.data.resultData.runData;
	const nodeTimesMs: Record<string, number> = {};
	let timeMs = 0;
	for (const name of nodeNames) {
		const time = (runData[name] ?? []).reduce((sum, task) => sum + (task.executionTime ?? 0), 0);
		nodeTimesMs[name] = time;
		timeMs += time;
	}
	return { timeMs, nodeTimesMs };
}

/**
 * BENCH_CPU_PROF=<folder>: a V8 CPU profile of every `n8n execute`, to open in Chrome's DevTools.
 * BENCH_MEM_TRACE=<folder>: process.memoryUsage() of every `n8n execute` every 100 ms, one TSV per process.
 */
export const EXECUTE_ENV: Record<string, string> = executeEnv();

function executeEnv(): Record<string, string> {
	const nodeOptions: string[] = [];
	const env: Record<string, string> = {};
	if (process.env.BENCH_CPU_PROF) nodeOptions.push(`--cpu-prof --cpu-prof-dir=${JSON.stringify(path.resolve(process.env.BENCH_CPU_PROF))}`);
	if (process.env.BENCH_MEM_TRACE) {
		nodeOptions.push(`--require ${JSON.stringify(path.join(__dirname, 'memory-trace.cjs'))}`);
		env.BENCH_MEM_TRACE_DIR = path.resolve(process.env.BENCH_MEM_TRACE);
	}
	return nodeOptions.length > 0 ? { ...env, NODE_OPTIONS: nodeOptions.join(' ') } : env;
}

/** `n8n execute` of one workflow; throws RunFailed when the run did not succeed. */
export async function runChain(
	context: BenchContext,
	n8n: N8nInstance,
	workflow: WorkflowFixture,
	label: string,
	options: { timeoutMs?: number } = {},
): Promise<ChainRun> {
	const result = await n8n.execute(workflow.id, { timeoutMs: options.timeoutMs ?? 20 * 60_000, env: EXECUTE_ENV });
	// A successful run whose process then ended by a signal (seen once under heavy load, after n8n had
	// printed the run) still measured what it should: its timings come from the run data.
	if (result.status === 'success' && result.exitCode === null) context.log(`${label}: n8n execute ended by a signal after a successful run`);
	if (result.status !== 'success' || (result.exitCode !== 0 && result.exitCode !== null)) {
		const error = result.error ?? Object.values(result.run.data.resultData.runData).flat().find((task) => task.error)?.error;
		const message = [error?.message, error?.description].filter(Boolean).join(' – ') || `status ${result.status}, exit code ${result.exitCode}`;
		throw new RunFailed(label, message, result);
	}
	const { timeMs, nodeTimesMs } = chainTime(result, chainNodeNames(workflow));
	const run: ChainRun = { label, result, timeMs, nodeTimesMs, peakRssKb: result.peakRssKb, wallMs: result.durationMs };
	context.log(`${label}: chain ${fmtMs(timeMs)}, peak RSS ${fmtMb(run.peakRssKb)}, process ${fmtMs(run.wallMs)}`);
	return run;
}

export interface ChainSpec {
	workflow: WorkflowFixture;
	label: string;
	/** Reads a run's output; returns whether it was right (and records what was wrong). */
	check: (run: ChainRun) => boolean | Promise<boolean>;
	/** Runs before each execution of this chain (e.g. resets the stand-in's data). */
	before?: () => Promise<void> | void;
}

/**
 * Runs the chains `context.runs` rounds, one execution of each chain per round (ours, theirs, ours,
 * theirs, ...), so that whatever else the machine does at a time weighs on both sides alike. A chain
 * whose run fails is recorded as a failure and not run again; its result is undefined. The output of
 * a run is dropped before the next starts: large runs hold hundreds of MB.
 */
export async function measureChains(
	context: BenchContext,
	report: ReportBuilder,
	n8n: N8nInstance,
	chains: ChainSpec[],
	options: { timeoutMs?: number } = {},
): Promise<Array<MeasuredChain | undefined>> {
	const collected = chains.map(() => ({ times: [] as number[], peaks: [] as number[], walls: [] as number[], nodeTimes: new Map<string, number[]>(), correct: true, failed: false }));
	for (let round = 0; round < context.runs; round++) {
		for (const [index, chain] of chains.entries()) {
			const into = collected[index];
			if (into.failed) continue;
			try {
				await chain.before?.();
				const label = context.runs > 1 ? `${chain.label} (run ${round + 1}/${context.runs})` : chain.label;
				const run = await runChain(context, n8n, chain.workflow, label, options);
				into.times.push(run.timeMs);
				into.walls.push(run.wallMs);
				if (run.peakRssKb !== undefined) into.peaks.push(run.peakRssKb);
				for (const [node, time] of Object.entries(run.nodeTimesMs)) into.nodeTimes.set(node, [...(into.nodeTimes.get(node) ?? []), time]);
				into.correct = (await chain.check(run)) && into.correct;
			} catch (error) {
				report.fail((error as Error).message);
				into.failed = true;
			}
		}
	}
	return chains.map((chain, index): MeasuredChain | undefined => {
		const into = collected[index];
		if (into.failed) return undefined;
		return {
			label: chain.label,
			timeMs: median(into.times),
			nodeTimesMs: Object.fromEntries([...into.nodeTimes].map(([node, values]) => [node, median(values)])),
			peakRssKb: into.peaks.length ? median(into.peaks) : undefined,
			wallMs: median(into.walls),
			times: into.times,
			correct: into.correct,
		};
	});
}

export interface MeasuredChain {
	label: string;
	/** Medians over the runs. */
	timeMs: number;
	nodeTimesMs: Record<string, number>;
	peakRssKb?: number;
	wallMs: number;
	/** Every run's chain time. */
	times: number[];
	/** Whether every run's output was right. */
	correct: boolean;
}

/** "HTTP Request 812 ms, Split Out 40 ms, ..." without the trigger (which takes next to nothing). */
export function perNode(nodeTimesMs: Record<string, number>): string {
	return Object.entries(nodeTimesMs)
		.filter(([node]) => node !== MANUAL_TRIGGER)
		.map(([node, time]) => `${node} ${fmtMs(time)}`)
		.join(', ');
}

export function median(values: number[]): number {
	if (values.length === 0) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const CHAIN_HEADER = ['Chain', 'Time (sum of node executionTime)', 'Per node', 'Peak RSS of n8n execute', 'n8n execute wall time', 'Items out'];

/** A row under CHAIN_HEADER; with several runs, every run's time follows the median. */
export function chainRow(chain: string, measured: MeasuredChain, items: string): string[] {
	const spread = measured.times.length > 1 ? ` (${measured.times.map((t) => fmtMs(t)).join(', ')})` : '';
	return [chain, `${fmtMs(measured.timeMs)}${spread}`, perNode(measured.nodeTimesMs), fmtMb(measured.peakRssKb), fmtMs(measured.wallMs), items];
}

/** The two targets of the comparisons: our time ≤ 0.5× theirs, our peak memory ≤ theirs. */
export function timeAndMemoryTargets(report: ReportBuilder, ours: MeasuredChain | undefined, theirs: MeasuredChain | undefined, qualifier = ''): void {
	if (!ours || !theirs) return;
	const timeRatio = ours.timeMs / theirs.timeMs;
	report.target(`our time ≤ 0.5× theirs${qualifier}`, `${fmtRatio(timeRatio)} (${fmtMs(ours.timeMs)} vs ${fmtMs(theirs.timeMs)})`, timeRatio <= 0.5);
	if (ours.peakRssKb === undefined || theirs.peakRssKb === undefined) {
		report.target(`our peak memory ≤ theirs${qualifier}`, 'no /proc here: not measured', null);
		return;
	}
	const memoryRatio = ours.peakRssKb / theirs.peakRssKb;
	report.target(`our peak memory ≤ theirs${qualifier}`, `${fmtRatio(memoryRatio)} (${fmtMb(ours.peakRssKb)} vs ${fmtMb(theirs.peakRssKb)})`, memoryRatio <= 1);
}
