/**
 * Decagon benchmarks: export overhead (and duplicates), pacing at the rate limit, JSON Lines memory, and
 * the floor a bare Node loop sets. Each starts its own stand-in(s) and one n8n instance.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import * as path from 'node:path';

import type { DecagonStandin, DecagonStandinOptions } from '../test/standins/decagon';
import { startDecagonStandin } from '../test/standins/decagon';
import type { N8nInstance, WorkflowFixture } from '../test/support/n8n-instance';
import { createN8nInstance } from '../test/support/n8n-instance';
import type { Benchmark, BenchContext, ChainRun, ChainSpec } from './measure';
import { CHAIN_HEADER, chainRow, measureChains, median, RunFailed, runChain, timeAndMemoryTargets } from './measure';
import { triggerWorkflow } from '../test/e2e/decagon-workflows';
import type { ReportBuilder } from './report';
import { fmtInt, fmtMb, fmtMs, fmtRatio } from './report';
import {
	bearerCredential,
	chainWorkflow,
	decagonCredential,
	decagonExportNode,
	httpCursorPaginationNode,
	noOpNode,
	removeDuplicatesNode,
	splitOutNode,
} from './workflows';

const API_KEY = 'test-decagon-key';
const EXPORT_PATH = '/conversation/export';

async function standin(context: BenchContext, options: Partial<DecagonStandinOptions>): Promise<DecagonStandin> {
	// The docs' cursor field, which the built-in chain follows as the docs describe it.
	const started = await startDecagonStandin({ apiKey: API_KEY, pageSize: 100, cursorField: 'next_page_cursor', nullPageCursorBeside: false, ...options });
	context.defer(() => started.close());
	return started;
}

async function instance(context: BenchContext, options: Parameters<typeof createN8nInstance>[0]): Promise<N8nInstance> {
	const started = Date.now();
	const n8n = await createN8nInstance({ ...options, packageTarball: context.tarball });
	context.defer(() => n8n.dispose());
	context.log(`n8n instance ready in ${fmtMs(Date.now() - started)} (${n8n.userFolder})`);
	return n8n;
}

/** Generates the stand-in's data again (same seed, same clock): undoes updateDuringExport's changes. */
function resetData(decagon: DecagonStandin): void {
	const { seed } = decagon.options();
	decagon.configure({ seed: seed + 1 });
	decagon.configure({ seed });
	decagon.resetStats();
}

function idsOf(items: Array<Record<string, unknown>>): string[] {
	return items.map((item) => String(item.conversation_id));
}

/** Item count right, every id once, and exactly the stand-in's ids. */
function checkConversations(report: ReportBuilder, what: string, items: Array<Record<string, unknown>>, expected: Set<string>): boolean {
	if (!report.expectCount(what, items.length, expected.size)) return false;
	const ids = new Set(idsOf(items));
	const foreign = [...ids].filter((id) => !expected.has(id)).length;
	if (ids.size !== expected.size || foreign > 0) {
		report.fail(`${what}: ${fmtInt(ids.size)} distinct ids (${fmtInt(foreign)} unknown), expected the stand-in's ${fmtInt(expected.size)}`);
		return false;
	}
	return true;
}

/** How many output conversations are not the newest version the stand-in has now. */
function staleCopies(items: Array<Record<string, unknown>>, decagon: DecagonStandin): number {
	const current = new Map(decagon.conversations().map((conversation) => [conversation.conversation_id, conversation]));
	let stale = 0;
	for (const item of items) {
		const now = current.get(String(item.conversation_id));
		const messages = Array.isArray(item.messages) ? item.messages.length : -1;
		if (!now || item.updated_at !== now.updated_at || messages !== now.messages.length) stale++;
	}
	return stale;
}

// ---------------------------------------------------------------------------------------------
// 1. Export overhead

export const decagonExportOverhead: Benchmark = {
	name: 'decagon-export-overhead',
	title: 'Decagon export, our node vs HTTP Request (cursor pagination) → Split Out → Remove Duplicates',
	async run(context, report) {
		const count = context.size === 'full' ? 20_000 : 2_000;
		const pages = Math.ceil(count / 100);
		report.sizes = `${fmtInt(count)} conversations, ${fmtInt(pages)} pages of 100`;
		const nowEpoch = Math.floor(Date.now() / 1000);
		const base: Partial<DecagonStandinOptions> = { count, rateLimitPerSecond: 0, latencyMs: 0, nowEpoch };
		const main = await standin(context, base);
		const duplicates = await standin(context, {
			...base,
			duplicatesAcrossPages: 5,
			updateDuringExport: { afterPage: 3, count: 50 },
		});

		const ourCredential = decagonCredential('benchDecagonMain', main.url, API_KEY, 1000);
		const theirCredential = bearerCredential('benchBearerMain1', API_KEY);
		const ourDupCredential = decagonCredential('benchDecagonDup1', duplicates.url, API_KEY, 1000);
		const ours = chainWorkflow('benchDecOurs0001', 'Bench: Decagon export (ours)', [decagonExportNode(ourCredential, 'conversation')]);
		const theirs = chainWorkflow('benchDecTheirs01', 'Bench: Decagon export (built-ins)', [
			httpCursorPaginationNode(theirCredential, `${main.url}${EXPORT_PATH}`),
			splitOutNode('conversations'),
			removeDuplicatesNode('conversation_id'),
		]);
		const oursDup = chainWorkflow('benchDecOursDup1', 'Bench: Decagon export with duplicates (ours)', [
			decagonExportNode(ourDupCredential, 'conversation'),
		]);
		const theirsDup = chainWorkflow('benchDecTheirsD1', 'Bench: Decagon export with duplicates (built-ins)', [
			httpCursorPaginationNode(theirCredential, `${duplicates.url}${EXPORT_PATH}`),
			splitOutNode('conversations'),
			removeDuplicatesNode('conversation_id'),
		]);
		const n8n = await instance(context, {
			credentials: [ourCredential, theirCredential, ourDupCredential],
			workflows: [ours, theirs, oursDup, theirsDup],
		});

		// Plain export: time, memory, items.
		const expected = new Set(main.conversations().map((c) => c.conversation_id));
		const [oursRun, theirsRun] = await measureChains(context, report, n8n, [
			{ workflow: ours, label: 'ours', check: (run) => checkConversations(report, 'ours', run.result.outputOf('Decagon'), expected) },
			{
				workflow: theirs,
				label: 'theirs',
				check: (run) => {
					const pagesOut = run.result.outputOf('HTTP Request').length;
					if (pagesOut !== pages) report.fail(`theirs: HTTP Request returned ${fmtInt(pagesOut)} page items, expected ${fmtInt(pages)}`);
					const split = report.expectCount('theirs, Split Out', run.result.outputOf('Split Out').length, count);
					return checkConversations(report, 'theirs', run.result.outputOf('Remove Duplicates'), expected) && split && pagesOut === pages;
				},
			},
		]);
		const rows: string[][] = [];
		if (oursRun) rows.push(chainRow('ours: Manual → Decagon (Export, Return All)', oursRun, fmtInt(count)));
		if (theirsRun) rows.push(chainRow('theirs: Manual → HTTP Request (paginated) → Split Out → Remove Duplicates', theirsRun, fmtInt(count)));
		report.table(CHAIN_HEADER, rows);
		timeAndMemoryTargets(report, oursRun, theirsRun);

		// Duplicates: overlapping pages, and 50 conversations changed while the export runs.
		const dupExpected = new Set(duplicates.conversations().map((c) => c.conversation_id));
		const dupRows: string[][] = [];
		const duplicatesChain = (label: string, rowLabel: string, workflow: WorkflowFixture, node: string): ChainSpec => ({
			workflow,
			label,
			before: () => resetData(duplicates),
			check: (run) => {
				const items = run.result.outputOf(node);
				const ok = checkConversations(report, label, items, dupExpected);
				const stale = staleCopies(items, duplicates);
				const stats = duplicates.stats();
				dupRows.push([
					rowLabel,
					fmtMs(run.timeMs),
					fmtInt(stats.conversationsServed),
					fmtInt(items.length),
					stale === 0 ? 'yes, all' : `no: ${fmtInt(stale)} of ${fmtInt(stats.updatedDuringExport.length)} changed ones are the old copy`,
				]);
				report.target(`${label}: newest copy of every conversation`, stale === 0 ? 'all newest' : `${fmtInt(stale)} stale`, stale === 0);
				return ok;
			},
		});
		// Once each: this variant is about which copy comes out, not about time.
		await measureChains({ ...context, runs: 1 }, report, n8n, [
			duplicatesChain('ours (duplicates)', 'ours: Decagon (Deduplicate on)', oursDup, 'Decagon'),
			duplicatesChain('theirs (duplicates)', 'theirs: … → Remove Duplicates on conversation_id', theirsDup, 'Remove Duplicates'),
		]);
		report.table(
			['Duplicates variant', 'Time', 'Conversations served (repeats included)', 'Items out', 'Newest copy of every conversation?'],
			dupRows,
			'Duplicates variant: each page repeats the last 5 of the previous one, and after page 3 the first 50 conversations of that page get a new message, so the export (on `timestamp_filter=updated_at`) meets them again later.',
		);
		report.note(
			'Remove Duplicates keeps the first item of each conversation_id, which for conversations changed during the export is the older copy; our node keeps the newest version.',
		);
	},
};

// ---------------------------------------------------------------------------------------------
// 2. Pacing

interface Pace {
	/** Gaps between the arrivals of consecutive export requests, 429s included. */
	gapsMs: number[];
	pages: number;
	perSecond: number;
	fraction: number;
	minGapMs: number;
	rateLimited: number;
	/** First to last arrival of a served page. */
	spanMs: number;
}

/** The pace of the export requests the stand-in has seen (the first `firstPages` served pages only, when given). */
function paceOf(decagon: DecagonStandin, limit: number, firstPages = Infinity): Pace {
	const stats = decagon.stats();
	const requests = stats.requests.filter((request) => request.path === EXPORT_PATH);
	let servedCount = 0;
	const upTo = requests.findIndex((request) => request.status === 200 && ++servedCount >= firstPages);
	const considered = upTo < 0 ? requests : requests.slice(0, upTo + 1);
	const served = considered.filter((request) => request.status === 200);
	const arrivals = served.map((request) => request.at);
	const spanMs = arrivals.length > 1 ? arrivals[arrivals.length - 1] - arrivals[0] : NaN;
	const all = considered.map((request) => request.at);
	const gaps = all.slice(1).map((at, i) => at - all[i]);
	const perSecond = (served.length - 1) / (spanMs / 1000);
	const rateLimited = considered.filter((request) => request.status === 429).length;
	return { gapsMs: gaps, pages: served.length, perSecond, fraction: perSecond / limit, minGapMs: gaps.length ? Math.min(...gaps) : NaN, rateLimited, spanMs };
}

export const decagonPacing: Benchmark = {
	name: 'decagon-pacing',
	title: 'Decagon at 1 request/s with 300 ms latency: our export and trigger pacing vs HTTP Request "Interval Between Requests" 1000 ms',
	async run(context, report) {
		const count = context.size === 'full' ? 3_000 : 800;
		const pages = Math.ceil(count / 100);
		const limit = 1;
		report.sizes = `${fmtInt(count)} conversations, ${pages} pages of 100 (the trigger: ${fmtInt(Math.min(count, 2_000))}, ${Math.ceil(Math.min(count, 2_000) / 100)} pages), limit ${limit} request/s, latency 300 ms`;
		// The data ends 10 minutes ago, so the trigger's settle time (2 minutes) leaves all of it in its first window.
		const decagon = await standin(context, { count, rateLimitPerSecond: limit, latencyMs: 300, nowEpoch: Math.floor(Date.now() / 1000) - 600 });
		const ourCredential = decagonCredential('benchDecagonPace', decagon.url, API_KEY, limit);
		const theirCredential = bearerCredential('benchBearerPace1', API_KEY);
		const ours = chainWorkflow('benchPaceOurs001', 'Bench: paced export (ours)', [decagonExportNode(ourCredential, 'conversation')]);
		const theirs = chainWorkflow('benchPaceTheirs1', 'Bench: paced export (built-ins)', [
			httpCursorPaginationNode(theirCredential, `${decagon.url}${EXPORT_PATH}`, 1000),
			splitOutNode('conversations'),
		]);
		// The trigger's first poll reads a backlog of its own: a poll asks for pages for at most 25 s (half of
		// its 50 s limit, which keeps a poll from running into the next), so at most 20 pages here.
		const triggerCount = Math.min(count, 2_000);
		const triggerPages = Math.ceil(triggerCount / 100);
		const triggerDecagon = await standin(context, { count: triggerCount, rateLimitPerSecond: limit, latencyMs: 300, nowEpoch: Math.floor(Date.now() / 1000) - 600 });
		const triggerCredential = decagonCredential('benchDecagonPaceT', triggerDecagon.url, API_KEY, limit);
		// One trigger workflow per run, so that every run starts with an empty sync state.
		const triggers = Array.from({ length: context.runs }, (_, round) =>
			triggerWorkflow(`benchPaceTrig${String(round).padStart(3, '0')}`, `Bench: paced first poll (our trigger), run ${round + 1}`, triggerCredential, {
				startFrom: 'beginning',
				output: 'conversation',
				options: { maxPerPoll: triggerCount },
			}),
		);
		const n8n = await instance(context, { credentials: [ourCredential, theirCredential, triggerCredential], workflows: [ours, theirs, ...triggers] });
		const expectedOfTrigger = new Set(triggerDecagon.conversations().map((c) => c.conversation_id));
		const expected = new Set(decagon.conversations().map((c) => c.conversation_id));

		const rows: string[][] = [];
		const paces = new Map<string, Array<Pace | undefined>>();
		const measure = async (label: string, chain: string, workflow: WorkflowFixture, node: string, mustSucceed: boolean, round: number) => {
			decagon.resetStats();
			const runLabel = context.runs > 1 ? `${label} (run ${round + 1}/${context.runs})` : label;
			let run: ChainRun | undefined;
			try {
				run = await runChain(context, n8n, workflow, runLabel);
			} catch (error) {
				if (mustSucceed || !(error instanceof RunFailed)) throw error;
				// A 429 that stops the built-in chain is a finding about it, not a broken benchmark.
				report.note(`${runLabel} failed: ${error.message}`);
			}
			const pace = paceOf(decagon, limit);
			paces.set(label, [...(paces.get(label) ?? []), run ? pace : undefined]);
			report.note(`${runLabel}: gaps between arrivals ${pace.gapsMs.map((gap) => Math.round(gap)).join(', ')} ms.`);
			if (run) checkConversations(report, runLabel, run.result.outputOf(node), expected);
			rows.push([
				context.runs > 1 ? `${chain}, run ${round + 1}` : chain,
				run ? fmtMs(run.timeMs) : 'failed',
				`${fmtInt(pace.pages)}`,
				pace.perSecond.toFixed(3),
				pace.fraction.toFixed(3),
				fmtMs(pace.minGapMs),
				fmtInt(pace.rateLimited),
			]);
		};
		const chains = [
			['ours', 'ours: Decagon (credential 1 request/s)', ours, 'Decagon', true],
			['theirs', 'theirs: HTTP Request, Interval Between Requests 1000 ms → Split Out', theirs, 'Split Out', false],
		] as const;
		const broken = new Set<string>();
		for (let round = 0; round < context.runs; round++) {
			for (const [label, chain, workflow, node, mustSucceed] of chains) {
				if (broken.has(label)) continue;
				try {
					await measure(label, chain, workflow, node, mustSucceed, round);
				} catch (error) {
					report.fail((error as Error).message);
					broken.add(label);
				}
			}
		}
		// The trigger: published in a running n8n, whose first poll (at activation or on the next minute)
		// reads the whole backlog, one paced page after the other. Once per run, each with a fresh n8n state.
		for (let round = 0; round < context.runs && !broken.has('trigger'); round++) {
			const label = context.runs > 1 ? `trigger (run ${round + 1}/${context.runs})` : 'trigger';
			try {
				const trigger = triggers[round];
				if (round > 0) await n8n.cli(['unpublish:workflow', `--id=${triggers[round - 1].id}`]);
				triggerDecagon.resetStats();
				const server = await n8n.start({ publish: [trigger.id] });
				const deadline = Date.now() + 150_000 + triggerPages * 2_000;
				const served = () => triggerDecagon.stats().requests.filter((request) => request.path === EXPORT_PATH && request.status === 200).length;
				while (served() < triggerPages && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1_000));
				// A finished one: n8n lists the poll's execution while it still runs, without its items yet.
				const execution = await server
					.waitForExecution({ workflowId: trigger.id, timeoutMs: 120_000, predicate: (found) => found.stoppedAt !== null })
					.catch((error: Error) => error);
				await server.stop();
				if (execution instanceof Error) throw new Error(`${label}: no execution of the first poll: ${execution.message}`);
				const pace = paceOf(triggerDecagon, limit, triggerPages);
				paces.set('trigger', [...(paces.get('trigger') ?? []), pace]);
				report.note(`${label}: gaps between arrivals ${pace.gapsMs.map((gap) => Math.round(gap)).join(', ')} ms.`);
				checkConversations(report, label, execution.outputOf('Decagon Trigger'), expectedOfTrigger);
				rows.push([
					context.runs > 1 ? `ours: Decagon Trigger, first poll from the beginning, run ${round + 1}` : 'ours: Decagon Trigger, first poll from the beginning',
					fmtMs(pace.spanMs),
					`${fmtInt(pace.pages)}`,
					pace.perSecond.toFixed(3),
					pace.fraction.toFixed(3),
					fmtMs(pace.minGapMs),
					fmtInt(pace.rateLimited),
				]);
			} catch (error) {
				report.fail((error as Error).message);
				broken.add('trigger');
			}
		}
		// Met only when every run met it.
		for (const label of ['ours', 'theirs', 'trigger']) {
			const runs = paces.get(label) ?? [];
			if (runs.length === 0) continue;
			const ran = runs.filter((pace): pace is Pace => pace !== undefined);
			const fractions = ran.map((pace) => pace.fraction.toFixed(3)).join(', ');
			const limited = ran.reduce((sum, pace) => sum + pace.rateLimited, 0);
			const shortest = Math.min(...ran.map((pace) => pace.minGapMs));
			report.target(
				`${label}: pages/s ≥ 0.95 of the limit and never above it, zero 429s`,
				`${fractions || 'failed'} of the limit, shortest gap ${fmtMs(shortest)}, ${limited} × 429${runs.length > 1 ? ` over ${runs.length} runs` : ''}`,
				ran.length === runs.length && ran.every((pace) => pace.fraction >= 0.95 && pace.fraction <= 1 && pace.rateLimited === 0),
			);
		}
		report.table(['Chain', 'Time', 'Pages served', 'Pages/s at the stand-in', 'Fraction of the limit', 'Shortest gap between arrivals', '429s'], rows);
		report.note(
			'Pages per second = (pages − 1) / (last arrival − first arrival) of the pages served, measured at the stand-in, as Decagon measures. The HTTP Request node waits its interval after each response, so its requests are the interval plus the response time apart.',
		);
	},
};

// ---------------------------------------------------------------------------------------------
// 3. JSON Lines memory

/** Lines of the JSON Lines file n8n stored for the binary `id` (filesystem mode), or undefined when it is gone. */
async function linesOfStoredFile(userFolder: string, binaryId: string): Promise<number | undefined> {
	const match = /^filesystem(?:-v2)?:(.+)$/.exec(binaryId);
	if (!match) return undefined;
	const relative = match[1];
	const candidates = [path.join(userFolder, '.n8n', 'storage', relative), path.join(userFolder, '.n8n', 'binaryData', relative)];
	const file = candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
	if (!file) return undefined;
	let lines = 0;
	let last = 0x0a;
	for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
		for (const byte of chunk) if (byte === 0x0a) lines++;
		last = chunk[chunk.length - 1] ?? last;
	}
	return last === 0x0a ? lines : lines + 1;
}

/** Every file under the user folder's binary storage, for the note when the file cannot be found. */
function storedFiles(userFolder: string): string[] {
	const found: string[] = [];
	const walk = (dir: string) => {
		if (!existsSync(dir)) return;
		for (const entry of readdirSync(dir, { withFileTypes: true })) {
			const full = path.join(dir, entry.name);
			if (entry.isDirectory()) walk(full);
			else found.push(path.relative(userFolder, full));
		}
	};
	walk(path.join(userFolder, '.n8n', 'storage'));
	walk(path.join(userFolder, '.n8n', 'binaryData'));
	return found;
}

export const decagonJsonlMemory: Benchmark = {
	name: 'decagon-jsonl-memory',
	title: 'Decagon export to a JSON Lines file: memory growth over a trivial workflow',
	async run(context, report) {
		const count = context.size === 'full' ? 100_000 : 10_000;
		report.sizes = `${fmtInt(count)} conversations, ${fmtInt(Math.ceil(count / 100))} pages`;
		const decagon = await standin(context, { count, rateLimitPerSecond: 0, latencyMs: 0 });
		const credential = decagonCredential('benchDecagonJsonl', decagon.url, API_KEY, 1000);
		const jsonl = chainWorkflow('benchJsonlOurs01', 'Bench: export to JSON Lines (ours)', [decagonExportNode(credential, 'jsonl')]);
		const trivial = chainWorkflow('benchTrivialNoOp', 'Bench: Manual → No Operation', [noOpNode()]);
		const n8n = await instance(context, {
			credentials: [credential],
			workflows: [jsonl, trivial],
			env: { N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem' },
		});

		const fileNotes: string[] = [];
		const checkJsonl = async (run: ChainRun): Promise<boolean> => {
			const [item] = run.result.outputOf('Decagon');
			let ok = report.expectCount('ours: json.conversations', Number(item?.conversations ?? NaN), count);
			// The file itself: n8n keeps the binary data of a saved execution under <user folder>/.n8n/storage.
			const task = run.result.run.data.resultData.runData.Decagon?.[0];
			const binary = task?.data?.main?.[0]?.[0]?.binary?.data as { id?: string; fileSize?: string | number } | undefined;
			const lines = binary?.id ? await linesOfStoredFile(n8n.userFolder, binary.id) : undefined;
			if (lines === undefined) {
				const files = storedFiles(n8n.userFolder).slice(0, 5).join(', ') || 'none';
				report.note(`Could not read the stored file (binary id ${binary?.id ?? 'missing'}; stored files: ${files}); checked json.conversations only.`);
			} else {
				ok = report.expectCount('ours: lines of the JSON Lines file', lines, count) && ok;
				fileNotes.push(`${fmtInt(lines)} lines, ${String(binary?.fileSize ?? '?')}`);
			}
			return ok;
		};
		const [baseline, ours] = await measureChains(context, report, n8n, [
			{ workflow: trivial, label: 'trivial (Manual → NoOp)', check: () => true },
			{ workflow: jsonl, label: 'ours (JSON Lines)', check: checkJsonl },
		]);
		if (fileNotes.length > 0) report.note(`The JSON Lines file n8n stored (filesystem binary data mode), per run: ${fileNotes.join('; ')}.`);
		const rows: string[][] = [];
		if (baseline) rows.push(chainRow('trivial: Manual → No Operation', baseline, '1'));
		if (ours) rows.push(chainRow('ours: Manual → Decagon (Output: JSON Lines File)', ours, `1 file, ${fmtInt(count)} lines`));
		report.table(CHAIN_HEADER, rows);
		if (baseline?.peakRssKb !== undefined && ours?.peakRssKb !== undefined) {
			const growthKb = ours.peakRssKb - baseline.peakRssKb;
			report.target('memory growth (peak RSS − trivial workflow\'s) < 200 MB', `${(growthKb / 1024).toFixed(1)} MB (${fmtMb(ours.peakRssKb)} − ${fmtMb(baseline.peakRssKb)})`, growthKb < 200 * 1024);
		} else if (baseline && ours) {
			report.target('memory growth < 200 MB', 'no /proc: not measured', null);
		}
	},
};

// ---------------------------------------------------------------------------------------------
// 5. Floor

/** The whole export with fetch in this process: pages until the cursor is null, unique ids collected. */
async function bareExport(baseUrl: string): Promise<{ ms: number; ids: Set<string>; pages: number }> {
	const started = performance.now();
	const ids = new Set<string>();
	let cursor: string | null = null;
	let pages = 0;
	do {
		const url = new URL(`${baseUrl}${EXPORT_PATH}`);
		url.searchParams.set('timestamp_filter', 'updated_at');
		if (cursor) url.searchParams.set('cursor', cursor);
		const response = await fetch(url, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(60_000) });
		if (!response.ok) throw new Error(`bare export: ${url.pathname} answered ${response.status}`);
		const body = (await response.json()) as { conversations: Array<{ conversation_id: string }>; next_page_cursor: string | null };
		for (const conversation of body.conversations) ids.add(conversation.conversation_id);
		cursor = body.next_page_cursor;
		pages++;
	} while (cursor);
	return { ms: performance.now() - started, ids, pages };
}

export const decagonFloor: Benchmark = {
	name: 'floor',
	title: 'How close our export gets to a bare Node fetch loop over the same pages',
	async run(context, report) {
		const count = context.size === 'full' ? 20_000 : 2_000;
		report.sizes = `${fmtInt(count)} conversations, ${fmtInt(Math.ceil(count / 100))} pages of 100`;
		const decagon = await standin(context, { count, rateLimitPerSecond: 0, latencyMs: 0 });
		const expected = new Set(decagon.conversations().map((c) => c.conversation_id));
		const credential = decagonCredential('benchDecagonFloor', decagon.url, API_KEY, 1000);
		const ours = chainWorkflow('benchFloorOurs01', 'Bench: Decagon export (ours, floor comparison)', [decagonExportNode(credential, 'conversation')]);
		const n8n = await instance(context, { credentials: [credential], workflows: [ours] });

		// The loop runs in this (warm) process: a few rounds, the median counts.
		const floorTimes: number[] = [];
		for (let round = 0; round < 5; round++) {
			const bare = await bareExport(decagon.url);
			if (round === 0) report.expectCount('bare loop: unique ids', bare.ids.size, expected.size);
			floorTimes.push(bare.ms);
		}
		const floorMs = median(floorTimes);
		context.log(`bare loop: ${fmtMs(floorMs)} (median of ${floorTimes.length})`);
		const [oursRun] = await measureChains(context, report, n8n, [
			{ workflow: ours, label: 'ours', check: (run) => checkConversations(report, 'ours', run.result.outputOf('Decagon'), expected) },
		]);
		const rows: string[][] = [['floor: fetch loop in Node (this process), ids into a Set', `${fmtMs(floorMs)} (${floorTimes.map((t) => fmtMs(t)).join(', ')})`, '–', fmtInt(expected.size)]];
		if (oursRun) rows.push(['ours: Manual → Decagon (sum of node executionTime)', fmtMs(oursRun.timeMs), fmtMb(oursRun.peakRssKb), fmtInt(count)]);
		report.table(['Export', 'Time', 'Peak RSS of n8n execute', 'Conversations'], rows);
		if (oursRun) {
			const ratio = oursRun.timeMs / floorMs;
			report.finding('our time / floor time', `${fmtRatio(ratio)} (${fmtMs(oursRun.timeMs)} vs ${fmtMs(floorMs)})`);
			report.note(
				'The floor parses each page and keeps only ids, in a warm process; our node also keeps every conversation, de-duplicates by newest version and hands n8n one item per conversation. The stand-in serves both from this process, so its work is in both times.',
			);
		}
	},
};
