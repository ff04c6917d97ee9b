import type { IBinaryData, IExecuteFunctions } from 'n8n-workflow';

/** A file this large held in memory is worth a word. */
const LARGE_IN_MEMORY_BYTES = 50 * 1024 * 1024;

/** The file's size, without decoding it where n8n holds it in memory as base64. */
export function binaryBytes(binary: IBinaryData): number | undefined {
	if (typeof binary.bytes === 'number') return binary.bytes;
	return typeof binary.data === 'string' && binary.data !== '' && !binary.id ? Buffer.byteLength(binary.data, 'base64') : undefined;
}

/**
 * n8n 1.x keeps binary data in memory by default (N8N_DEFAULT_BINARY_DATA_MODE=default; 2.x writes it to
 * disk): a streamed export then sits whole in the execution's data as base64, about 1.8 GB of n8n's memory
 * for a 150 MB JSON Lines file. Says so, with the setting, when the file is large.
 */
export function warnIfHeldInMemory(this: IExecuteFunctions, binary: IBinaryData, what: string): void {
	if (binary.id) return;
	const bytes = binaryBytes(binary);
	if (bytes === undefined || bytes < LARGE_IN_MEMORY_BYTES) return;
	this.addExecutionHints({
		message: `${what} (${Math.round(bytes / 1024 / 1024)} MB) is held in n8n's memory, as this n8n keeps binary data there. For large exports set N8N_DEFAULT_BINARY_DATA_MODE=filesystem (n8n 2.x does by default).`,
		type: 'warning',
		location: 'outputPane',
	});
}
