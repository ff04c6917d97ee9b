/**
 * dembrane benchmark: a project's transcript zip as one item per transcript, our node vs the chain of
 * n8n built-ins that gets there (HTTP Request as file → Compression → Split Out → Extract From File).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

import type { DembraneStandin } from '../test/standins/dembrane';
import { createN8nInstance } from '../test/support/n8n-instance';
import type { Benchmark, BenchContext } from './measure';
import { CHAIN_HEADER, chainRow, measureChains, SkipBenchmark, timeAndMemoryTargets } from './measure';
import type { ReportBuilder } from './report';
import { fmtInt, fmtMs, fmtRatio } from './report';
import {
	bearerCredential,
	chainWorkflow,
	decompressNode,
	dembraneExportNode,
	dembranePasswordCredential,
	extractTextNode,
	httpFileNode,
	splitOutNode,
} from './workflows';

/** dembrane's zip route lists at most this many conversations (production, and the stand-in's default). */
const ZIP_CONVERSATION_LIMIT = 1000;

/**
 * Sets the (one) project's size so that its zip holds exactly `files` transcripts: conversations without
 * a transcribed chunk are left out of the zip, as production does. Conversation i's data depends on i
 * only, so the first conversations stay the same as the project grows.
 */
function sizeProject(dembrane: DembraneStandin, files: number): { conversations: number; files: number } {
	dembrane.configure({ conversationsPerProject: Math.ceil(files * 1.4) + 20 });
	const projectId = dembrane.ids().unicodeProjectId;
	let withTranscript = 0;
	let conversations = 0;
	for (const conversation of dembrane.conversations(projectId)) {
		conversations++;
		if (dembrane.zipFileBody(conversation.id) !== null) withTranscript++;
		if (withTranscript === files) break;
	}
	dembrane.configure({ conversationsPerProject: conversations });
	const actual = dembrane.conversations(projectId).filter((c) => dembrane.zipFileBody(c.id) !== null).length;
	return { conversations, files: actual };
}

/** How many texts are not exactly one of the zip's transcripts (as a multiset). */
function unmatchedTexts(texts: unknown[], bodies: string[]): number {
	const left = new Map<string, number>();
	for (const body of bodies) left.set(body, (left.get(body) ?? 0) + 1);
	let unmatched = 0;
	for (const text of texts) {
		const n = typeof text === 'string' ? (left.get(text) ?? 0) : 0;
		if (n === 0) unmatched++;
		else left.set(text as string, n - 1);
	}
	return unmatched;
}

export const dembraneZip: Benchmark = {
	name: 'dembrane-zip',
	title: 'dembrane transcripts as one item per conversation: our node vs HTTP Request → Compression → Split Out → Extract From File',
	async run(context: BenchContext, report: ReportBuilder) {
		const target = context.size === 'full' ? 2_000 : 300;
		if (!existsSync(path.join(__dirname, '..', 'test', 'standins', 'dembrane', 'index.ts'))) {
			throw new SkipBenchmark('the dembrane stand-in (test/standins/dembrane/index.ts) is not there yet');
		}
		const { startDembraneStandin } = await import('../test/standins/dembrane');
		const dembrane = await startDembraneStandin({ projects: 1, zipConversationLimit: 0, latencyMs: 0 });
		context.defer(() => dembrane.close());
		const size = sizeProject(dembrane, target);
		const projectId = dembrane.ids().unicodeProjectId;
		const project = dembrane.listProjects().find((p) => p.id === projectId);
		report.sizes = `${fmtInt(size.files)} transcripts (a project of ${fmtInt(size.conversations)} conversations, the others have no transcribed chunk)`;
		if (size.files !== target) report.fail(`could not size the project to ${target} transcripts (got ${size.files})`);

		const expected = new Map<string, string>();
		for (const conversation of dembrane.conversations(projectId)) {
			const body = dembrane.zipFileBody(conversation.id);
			if (body !== null) expected.set(dembrane.zipEntryName(conversation.id), body);
		}
		const bodies = [...expected.values()];

		const ourCredential = dembranePasswordCredential('benchDembrane001', dembrane);
		const theirCredential = bearerCredential('benchBearerDemb1', dembrane.issueAccessToken({ ttlSeconds: 6 * 3600 }));
		const ours = chainWorkflow('benchDembOurs001', 'Bench: dembrane transcripts (ours)', [
			dembraneExportNode(ourCredential, projectId, 'conversations', { matchDetails: false }),
		]);
		const oursDetails = chainWorkflow('benchDembOursDet', 'Bench: dembrane transcripts with details (ours)', [
			dembraneExportNode(ourCredential, projectId, 'conversations', { matchDetails: true }),
		]);
		const theirs = chainWorkflow('benchDembTheirs1', 'Bench: dembrane transcripts (built-ins)', [
			httpFileNode(theirCredential, `${dembrane.url}/api/projects/${projectId}/transcripts`),
			decompressNode(),
			splitOutNode('$binary'),
			extractTextNode('={{ Object.keys($binary)[0] }}', 'transcript'),
		]);
		const started = Date.now();
		const n8n = await createN8nInstance({
			packageTarball: context.tarball,
			credentials: [ourCredential, theirCredential],
			workflows: [ours, oursDetails, theirs],
		});
		context.defer(() => n8n.dispose());
		context.log(`n8n instance ready in ${fmtMs(Date.now() - started)}`);

		// Per run: how long the stand-in took to send the zip (arrival to last byte; the client's reading
		// paces the writing), and how many single transcripts the run fetched.
		const serving = new Map<string, string[]>();
		const recordServing = (label: string) => {
			const requests = dembrane.stats().requests;
			const zip = requests.find((request) => request.path.endsWith('/transcripts'));
			const singles = requests.filter((request) => /\/conversations\/[^/]+\/(transcript|chunks)$/.test(request.path)).length;
			const text = `${zip?.durationMs === undefined ? '?' : fmtMs(zip.durationMs)}${singles ? ` + ${fmtInt(singles)} single transcript requests` : ''}`;
			serving.set(label, [...(serving.get(label) ?? []), text]);
		};
		const checkOurs = (label: string, items: Array<Record<string, unknown>>, details: boolean) => {
			recordServing(label);
			if (!report.expectCount(label, items.length, expected.size)) return false;
			const wrong = items.filter((item) => expected.get(String(item.fileName)) !== item.transcript).length;
			if (wrong > 0) {
				report.fail(`${label}: ${fmtInt(wrong)} items whose fileName/transcript is not the zip's`);
				return false;
			}
			if (details) {
				const unmatched = items.filter((item) => item.matched !== true).length;
				if (unmatched > 0) report.note(`${label}: ${fmtInt(unmatched)} of ${fmtInt(items.length)} files not matched to a conversation.`);
			}
			return true;
		};
		/** Theirs: `count` items, each text one of the transcripts. */
		const checkTheirs = (label: string, items: Array<Record<string, unknown>>, count: number) => {
			recordServing(label);
			if (!report.expectCount(label, items.length, count)) return false;
			const wrong = unmatchedTexts(
				items.map((item) => item.transcript),
				bodies,
			);
			if (wrong > 0) report.fail(`${label}: ${fmtInt(wrong)} texts that are not one of the project's transcripts`);
			return wrong === 0;
		};
		const reset = () => dembrane.resetStats();

		// A. The zip holds every conversation (as the brief has it): the same 2,000 files on both sides.
		const [oursRun, oursDetailsRun, theirsRun] = await measureChains(context, report, n8n, [
			{ workflow: ours, label: 'ours', before: reset, check: (run) => checkOurs('ours', run.result.outputOf('dembrane ECHO'), false) },
			{
				workflow: oursDetails,
				label: 'ours + details',
				before: reset,
				check: (run) => checkOurs('ours + details', run.result.outputOf('dembrane ECHO'), true),
			},
			{ workflow: theirs, label: 'theirs', before: reset, check: (run) => checkTheirs('theirs', run.result.outputOf('Extract from File'), expected.size) },
		]);
		const rows: string[][] = [];
		const files = fmtInt(expected.size);
		if (oursRun) rows.push(chainRow('ours: Manual → dembrane ECHO (Export Transcripts, Match Details off)', oursRun, files));
		if (oursDetailsRun) rows.push(chainRow('ours: … Match Conversation Details on (lists the conversations too)', oursDetailsRun, files));
		if (theirsRun) rows.push(chainRow('theirs: Manual → HTTP Request (file) → Compression (decompress) → Split Out ($binary) → Extract from File (text)', theirsRun, files));
		report.table(CHAIN_HEADER, rows, 'A. The stand-in zips every conversation of the project (no 1,000-conversation limit): both sides get the same files.');
		timeAndMemoryTargets(report, oursRun, theirsRun, ' (Match Details off)');
		if (oursDetailsRun && theirsRun) {
			report.finding('time with Match Details on / theirs', fmtRatio(oursDetailsRun.timeMs / theirsRun.timeMs));
		}

		// B. Production's zip: only the first 1,000 conversations by id. Only a project above that shows it.
		if (size.conversations > ZIP_CONVERSATION_LIMIT) {
			dembrane.configure({ zipConversationLimit: ZIP_CONVERSATION_LIMIT });
			const firstIds = dembrane
				.conversations(projectId)
				.map((c) => c.id)
				.sort()
				.slice(0, ZIP_CONVERSATION_LIMIT);
			const inLimitedZip = firstIds.filter((id) => dembrane.zipFileBody(id) !== null).length;
			const limitedRows: string[][] = [];
			const [oursLimited, theirsLimited] = await measureChains({ ...context, runs: 1 }, report, n8n, [
				{
					workflow: oursDetails,
					label: 'ours + details (zip limit)',
					before: reset,
					check: (run) => {
						recordServing('ours + details (zip limit)');
						const items = run.result.outputOf('dembrane ECHO');
						const complete = report.expectCount('ours + details (zip limit)', items.length, expected.size);
						const wrong = unmatchedTexts(items.map((item) => item.transcript), bodies);
						if (wrong > 0) report.fail(`ours + details (zip limit): ${fmtInt(wrong)} texts that are not one of the project's transcripts`);
						limitedRows.push(['ours: … Match Conversation Details on (fetches what the zip left out)', fmtMs(run.timeMs), `${fmtInt(items.length)} of ${files}`]);
						return complete && wrong === 0;
					},
				},
				{
					workflow: theirs,
					label: 'theirs (zip limit)',
					before: reset,
					check: (run) => {
						const items = run.result.outputOf('Extract from File');
						limitedRows.push(['theirs: HTTP Request → … → Extract from File', fmtMs(run.timeMs), `${fmtInt(items.length)} of ${files}`]);
						return checkTheirs('theirs (zip limit)', items, inLimitedZip);
					},
				},
			]);
			report.table(
				['Chain', 'Time', 'Transcripts out'],
				limitedRows,
				`B. As production: the zip holds the first ${fmtInt(ZIP_CONVERSATION_LIMIT)} conversations by id (${fmtInt(inLimitedZip)} transcripts). Once each.`,
			);
			const everyTranscript = `every transcript of a project above ${fmtInt(ZIP_CONVERSATION_LIMIT)} conversations`;
			if (oursLimited) report.target(`ours: ${everyTranscript}`, `${files} of ${files}`, true);
			if (theirsLimited) report.target(`theirs: ${everyTranscript}`, `${fmtInt(inLimitedZip)} of ${files}`, inLimitedZip === expected.size);
		} else {
			report.note(`B (production's ${fmtInt(ZIP_CONVERSATION_LIMIT)}-conversation zip limit) runs at the full size only: this project is below the limit.`);
		}

		if (serving.size > 0) {
			const served = [...serving].map(([label, runs]) => `${label}: ${runs.join('; ')}`);
			report.note(`The stand-in's time to send the zip, per run: ${served.join(' · ')}.`);
		}
		report.note(
			`Project "${project?.name ?? projectId}" (non-ASCII project and participant names; zip entry names are UTF-8). Our node logs in with e-mail and password (in its time); the HTTP Request uses a Bearer token issued beforehand.`,
		);
		report.note(
			'With Match Details on, our node lists the project\'s conversations with their chunk counts and fetches one by one only those the zip cut short (more than 100 chunks) or left out while they have a transcript (`has_transcript`): none in A; in B, those beyond the first 1,000 that have one.',
		);
		report.note(
			'The built-in chain ends with the transcript text only: the file name (conversation id prefix, time, participant) stays in binary metadata and needs one more node to become fields; our node returns it parsed, and with Match Details the full conversation details.',
		);
	},
};
