/**
 * dembrane names each file of a project's transcript zip
 * `{created_at:%Y%m%d_%H%M%S}_{participant_name}_{email_local_part}_{conversation_id[:8]}-transcript.md`,
 * with name and e-mail parts left out when empty and every non-alphanumeric character turned into `_`.
 * Name and e-mail both may contain `_`, so the part between time and id cannot be split reliably; the
 * conversation listing (Match Conversation Details) gives the exact values.
 */

export interface TranscriptFileName {
	fileName: string;
	/** ISO 8601 UTC, from the name's `YYYYMMDD_HHMMSS`. */
	recordedAt: string | null;
	/** The sanitised participant name and e-mail part, joined by `_` (empty when both were empty). */
	participantPart: string;
	/** First 8 characters of the conversation id. */
	conversationIdPrefix: string | null;
}

const NAME_PATTERN = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})(?:_(.*?))?_([0-9a-zA-Z-]{8})-transcript\.md$/u;

export function parseTranscriptFileName(fileName: string): TranscriptFileName {
	const base = fileName.split('/').pop() ?? fileName;
	const match = NAME_PATTERN.exec(base);
	if (!match) return { fileName, recordedAt: null, participantPart: '', conversationIdPrefix: null };
	const [, year, month, day, hour, minute, second, middle, prefix] = match;
	return {
		fileName,
		recordedAt: `${year}-${month}-${day}T${hour}:${minute}:${second}Z`,
		participantPart: middle ?? '',
		conversationIdPrefix: prefix,
	};
}

/** The `created_at` of a conversation as it appears in its file name (UTC). */
export function fileNameTime(createdAt: string | null | undefined): string | null {
	if (!createdAt) return null;
	const time = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(createdAt) ? createdAt : `${createdAt}Z`);
	if (Number.isNaN(time)) return null;
	return new Date(Math.floor(time / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
