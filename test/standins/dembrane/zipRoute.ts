/**
 * `GET /api/projects/{id}/transcripts` after auth and project access: production's selection (the
 * project's conversations listed once with `limit: 1000` in Directus' default order, by id; their chunks
 * a nested list Directus cuts at 100 rows), its two 404s, its Content-Disposition (Latin-1 or a 500),
 * then the archive streamed entry by entry with the configured quirk.
 */
import { performance } from 'node:perf_hooks';

import type { ConversationRecord, DembraneStore } from './data';
import { isLatin1, transcriptEntryName, zipDownloadName } from './fileNames';
import type { AnswerContext } from './http';
import { HttpProblem, sendInternalError } from './http';
import type { DembraneStandinOptions, Project } from './types';
import { prepareEntry, ZipWriter, zipBombEntry } from './zip';

export interface ZipRouteDeps {
	store: DembraneStore;
	options: DembraneStandinOptions;
	closed: () => boolean;
	/** Called when an archive was sent to its end. */
	served: () => void;
}

function hasZipTranscript(store: DembraneStore, record: ConversationRecord, chunkLimit: number): boolean {
	if (chunkLimit === 0 || store.chunkCount(record) <= chunkLimit) return store.hasTranscript(record);
	return store
		.chunksOf(record)
		.slice(0, chunkLimit)
		.some((chunk) => Boolean(chunk.transcript));
}

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

async function addQuirkEntries(writer: ZipWriter, o: DembraneStandinOptions, when: 'after-first' | 'end'): Promise<void> {
	if (when === 'after-first' && o.zipQuirk === 'zip-slip') {
		await writer.add('../../evil.md', 'This file tries to escape the extraction folder.\n');
		await writer.add('/abs.md', 'This file has an absolute path.\n');
	}
	if (when === 'after-first' && o.zipQuirk === 'bomb') {
		await writer.addPrepared('20250101_000000_Bomb_b0b0b0b0-transcript.md', zipBombEntry(o.zipBombBytes), {
			declaredSize: o.zipBombDeclaredBytes ?? undefined,
		});
	}
	if (when === 'end' && o.zipQuirk === 'many-entries') {
		const entry = prepareEntry('Extra entry.\n');
		for (let i = 0; i < o.manyEntriesCount; i++) {
			const number = String(i).padStart(6, '0');
			await writer.addPrepared(`20250101_000000_Extra_${number}_${(0xe0000000 + i).toString(16)}-transcript.md`, entry);
			if (i % 2048 === 2047) await yieldToLoop();
		}
	}
}

export async function sendTranscriptZip(context: AnswerContext, project: Project, deps: ZipRouteDeps): Promise<void> {
	const { store, options: o } = deps;
	let records = [...store.conversationsOf(project.id)].sort((a, b) => (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0));
	if (o.zipConversationLimit > 0) records = records.slice(0, o.zipConversationLimit);
	if (records.length === 0) throw new HttpProblem(404, 'No conversations found for this project');
	const withTranscripts = records.filter((record) => hasZipTranscript(store, record, o.zipChunkLimit));
	if (withTranscripts.length === 0) throw new HttpProblem(404, 'No transcripts available for this project');

	let fileName = zipDownloadName(project.name ?? project.id);
	if (!isLatin1(fileName)) {
		// Starlette encodes header values as Latin-1: production fails here with a plain-text 500.
		if (o.nonLatin1FileName === 'error-500') return sendInternalError(context);
		fileName = Buffer.from(fileName, 'utf8').toString('latin1');
	}
	const { response } = context;
	response.writeHead(200, {
		'content-type': 'application/zip',
		'content-disposition': `attachment; filename="${fileName}"`,
		'x-process-time': String((performance.now() - context.startedAt) / 1000),
	});
	if (context.request.method === 'HEAD') {
		response.end();
		return;
	}
	// Waits for the socket to drain, so the archive is never held whole in memory.
	const sink = (chunk: Buffer) =>
		new Promise<void>((resolve, reject) => {
			if (response.destroyed || deps.closed()) return reject(new Error('response closed'));
			if (response.write(chunk)) return resolve();
			const onDrain = () => {
				response.off('close', onClose);
				resolve();
			};
			const onClose = () => {
				response.off('drain', onDrain);
				reject(new Error('response closed'));
			};
			response.once('drain', onDrain);
			response.once('close', onClose);
		});
	const writer = new ZipWriter(sink, o.zipLayout, new Date());
	const quirk = o.zipQuirk;
	const stopAfter = context.reset || quirk === 'truncated' ? Math.max(1, Math.ceil(withTranscripts.length / 2)) : Infinity;
	let written = 0;
	for (const record of withTranscripts) {
		const body = store.zipBody(record, o.zipChunkLimit);
		if (body === null) continue;
		await writer.addPrepared(transcriptEntryName(record.row), prepareEntry(body), { corruptData: quirk === 'corrupt' && written === 0 });
		written++;
		if (written === 1) await addQuirkEntries(writer, o, 'after-first');
		if (written >= stopAfter) break;
		if (written % 64 === 0) await yieldToLoop();
	}
	if (context.reset) {
		response.socket?.destroy();
		return;
	}
	if (quirk === 'truncated') {
		response.end();
		return;
	}
	await addQuirkEntries(writer, o, 'end');
	await writer.finish();
	response.end();
	deps.served();
}
