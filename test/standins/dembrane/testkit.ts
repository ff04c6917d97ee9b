/**
 * Helpers for tests of (and with) the dembrane stand-in: a webhook receiver on loopback with
 * scripted answers, a strict reader of zip structure (local headers, central directory, ZIP64), and
 * a bounded runner for `python3` (to check bytes against real Python).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// ----- python3 -----

/** Runs `python3 -c script` with `input` on stdin; rejects on a non-zero exit or after `timeoutMs`. */
export function runPython(script: string, input: string, timeoutMs = 20_000): Promise<string> {
	return new Promise((resolve, reject) => {
		const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
		const out: Buffer[] = [];
		const err: Buffer[] = [];
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`python3 timed out after ${timeoutMs} ms`));
		}, timeoutMs);
		child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
		child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
		child.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.on('close', (code) => {
			clearTimeout(timer);
			if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
			else reject(new Error(`python3 exited with ${code}: ${Buffer.concat(err).toString('utf8')}`));
		});
		child.stdin.end(input, 'utf8');
	});
}

// ----- webhook receiver -----

export type ReceiverAnswer = number | 'hang' | 'reset';

export interface ReceivedDelivery {
	method: string;
	path: string;
	headers: IncomingHttpHeaders;
	/** Header names as sent, with their case. */
	rawHeaderNames: string[];
	body: Buffer;
	answeredWith: ReceiverAnswer;
}

export interface WebhookReceiver {
	url: string;
	received: ReceivedDelivery[];
	/** Answers for the next requests, in order; afterwards `fallback`. */
	script(answers: ReceiverAnswer[], fallback?: ReceiverAnswer): void;
	/** Resolves when `count` requests have arrived (rejects after `timeoutMs`). */
	waitFor(count: number, timeoutMs?: number): Promise<ReceivedDelivery[]>;
	reset(): void;
	close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
	const received: ReceivedDelivery[] = [];
	let answers: ReceiverAnswer[] = [];
	let fallback: ReceiverAnswer = 200;
	const waiters: Array<() => void> = [];
	const sockets = new Set<Socket>();
	const hanging = new Set<ServerResponse>();
	const server: Server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			const answer = answers.length > 0 ? answers.shift()! : fallback;
			received.push({
				method: request.method ?? '',
				path: request.url ?? '',
				headers: request.headers,
				rawHeaderNames: request.rawHeaders.filter((_, index) => index % 2 === 0),
				body: Buffer.concat(chunks),
				answeredWith: answer,
			});
			for (const wake of waiters.splice(0)) wake();
			if (answer === 'hang') {
				hanging.add(response);
				return;
			}
			if (answer === 'reset') {
				request.socket.destroy();
				return;
			}
			response.writeHead(answer, { 'content-type': 'text/plain' });
			response.end(answer >= 400 ? `error ${answer}` : 'ok');
		});
	});
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
	return {
		url,
		received,
		script(next, otherwise = 200) {
			answers = [...next];
			fallback = otherwise;
		},
		waitFor(count, timeoutMs = 5000) {
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error(`receiver got ${received.length} of ${count} requests in ${timeoutMs} ms`)), timeoutMs);
				const check = () => {
					if (received.length >= count) {
						clearTimeout(timer);
						resolve(received.slice(0, count));
					} else waiters.push(check);
				};
				check();
			});
		},
		reset() {
			received.length = 0;
			answers = [];
			fallback = 200;
		},
		async close() {
			for (const response of hanging) response.destroy();
			for (const socket of sockets) socket.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}

// ----- zip structure -----

export interface ZipCentralEntry {
	name: string;
	versionMadeBy: number;
	versionNeeded: number;
	flags: number;
	method: number;
	crc: number;
	compressedSize: number;
	size: number;
	externalAttributes: number;
	localOffset: number;
	/** From the local header. */
	local: { flags: number; crc: number; compressedSize: number; size: number; versionNeeded: number; dataOffset: number };
}

export interface ZipStructure {
	entries: ZipCentralEntry[];
	zip64: boolean;
	/** Count fields of the classic end record (0xFFFF when ZIP64 holds the real count). */
	endRecordCount: number;
}

/** Reads the end records, the central directory and each local header; throws when any is missing. */
export function readZipStructure(zip: Buffer): ZipStructure {
	const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
	if (eocd < 0 || eocd + 22 > zip.length) throw new Error('no end of central directory record');
	let count = zip.readUInt16LE(eocd + 10);
	const endRecordCount = count;
	let cdOffset = zip.readUInt32LE(eocd + 16);
	let zip64 = false;
	if (eocd >= 20 && zip.readUInt32LE(eocd - 20) === 0x07064b50) {
		zip64 = true;
		const recordOffset = Number(zip.readBigUInt64LE(eocd - 20 + 8));
		if (zip.readUInt32LE(recordOffset) !== 0x06064b50) throw new Error('bad ZIP64 end record');
		count = Number(zip.readBigUInt64LE(recordOffset + 32));
		cdOffset = Number(zip.readBigUInt64LE(recordOffset + 48));
	}
	const entries: ZipCentralEntry[] = [];
	let position = cdOffset;
	for (let i = 0; i < count; i++) {
		if (zip.readUInt32LE(position) !== 0x02014b50) throw new Error(`bad central header ${i}`);
		const nameLength = zip.readUInt16LE(position + 28);
		const extraLength = zip.readUInt16LE(position + 30);
		const commentLength = zip.readUInt16LE(position + 32);
		let localOffset = zip.readUInt32LE(position + 42);
		if (localOffset === 0xffff_ffff && extraLength >= 12) localOffset = Number(zip.readBigUInt64LE(position + 46 + nameLength + 4));
		const flags = zip.readUInt16LE(position + 8);
		const nameBytes = zip.subarray(position + 46, position + 46 + nameLength);
		if (zip.readUInt32LE(localOffset) !== 0x04034b50) throw new Error(`bad local header ${i}`);
		const localNameLength = zip.readUInt16LE(localOffset + 26);
		const localExtraLength = zip.readUInt16LE(localOffset + 28);
		entries.push({
			name: nameBytes.toString(flags & 0x800 ? 'utf8' : 'latin1'),
			versionMadeBy: zip.readUInt16LE(position + 4),
			versionNeeded: zip.readUInt16LE(position + 6),
			flags,
			method: zip.readUInt16LE(position + 10),
			crc: zip.readUInt32LE(position + 16),
			compressedSize: zip.readUInt32LE(position + 20),
			size: zip.readUInt32LE(position + 24),
			externalAttributes: zip.readUInt32LE(position + 38),
			localOffset,
			local: {
				versionNeeded: zip.readUInt16LE(localOffset + 4),
				flags: zip.readUInt16LE(localOffset + 6),
				crc: zip.readUInt32LE(localOffset + 14),
				compressedSize: zip.readUInt32LE(localOffset + 18),
				size: zip.readUInt32LE(localOffset + 22),
				dataOffset: localOffset + 30 + localNameLength + localExtraLength,
			},
		});
		position += 46 + nameLength + extraLength + commentLength;
	}
	return { entries, zip64, endRecordCount };
}

/** Local headers found by walking from the start (works on a truncated archive). */
export function walkLocalHeaders(zip: Buffer): Array<{ name: string; offset: number }> {
	const found: Array<{ name: string; offset: number }> = [];
	let position = 0;
	while (position + 30 <= zip.length && zip.readUInt32LE(position) === 0x04034b50) {
		const flags = zip.readUInt16LE(position + 6);
		const compressedSize = zip.readUInt32LE(position + 18);
		const nameLength = zip.readUInt16LE(position + 26);
		const extraLength = zip.readUInt16LE(position + 28);
		if (flags & 0x08) throw new Error('walkLocalHeaders cannot skip entries with data descriptors');
		const name = zip.subarray(position + 30, position + 30 + nameLength).toString(flags & 0x800 ? 'utf8' : 'latin1');
		const end = position + 30 + nameLength + extraLength + compressedSize;
		if (end > zip.length) break;
		found.push({ name, offset: position });
		position = end;
	}
	return found;
}
