/**
 * Names in the transcript zip and its download, as production makes them.
 *
 * Entry: `{created_at:%Y%m%d_%H%M%S}_{name}_{email local part}_{conversation_id[:8]}-transcript.md`.
 * Each part is sanitised, THEN cut (sanitise-then-truncate, the order production's code uses): every
 * character that is not a Unicode letter or number becomes `_` (Python's `str.isalnum`, which is
 * false for marks such as U+0301 and for emoji), the text is split on `_` and the non-empty pieces
 * joined with `_` (runs collapse, edges trimmed), and the result is cut to 50 (name) or 30 (e-mail)
 * code points. The cut comes last, so a part can end in `_` (`..._Vandenb_`), which then meets the
 * next `_` separator. Parts that end up empty are left out. The e-mail part is everything before the
 * first `@` (`"a@x, b@y"` → `a`; no `@` → the whole text).
 */

const NOT_ALPHANUMERIC = /[^\p{L}\p{N}]/gu;

/** One part of a file name: sanitise (Unicode-aware), collapse and trim `_`, then cut to `maxLength` code points. */
export function sanitizeForFileName(text: string | null | undefined, maxLength: number): string {
	if (!text) return '';
	const replaced = text.replace(NOT_ALPHANUMERIC, '_');
	const collapsed = replaced
		.split('_')
		.filter((piece) => piece !== '')
		.join('_');
	return Array.from(collapsed).slice(0, maxLength).join('');
}

/** `%Y%m%d_%H%M%S` of a Directus timestamp, in the timestamp's own offset (UTC for `Z`). */
export function fileNameTimestamp(createdAt: string): string {
	const match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})/.exec(createdAt);
	if (!match) throw new Error(`created_at "${createdAt}" is not an ISO timestamp`);
	const [, year, month, day, hour, minute, second] = match;
	return `${year}${month}${day}_${hour}${minute}${second}`;
}

export interface FileNameInput {
	id: string;
	created_at: string;
	participant_name: string | null;
	participant_email: string | null;
}

export function transcriptEntryName(conversation: FileNameInput): string {
	let name = fileNameTimestamp(conversation.created_at);
	const safeName = sanitizeForFileName(conversation.participant_name, 50);
	if (safeName) name += `_${safeName}`;
	if (conversation.participant_email) {
		const safeEmail = sanitizeForFileName(conversation.participant_email.split('@')[0], 30);
		if (safeEmail) name += `_${safeEmail}`;
	}
	name += `_${Array.from(conversation.id).slice(0, 8).join('')}`;
	return `${name}-transcript.md`;
}

/** `{project_name}_transcripts.zip` with `/`, `\` and spaces turned into `_` (nothing else changes). */
export function zipDownloadName(projectName: string): string {
	return `${projectName.replace(/[/\\ ]/g, '_')}_transcripts.zip`;
}

/** Whether a header value survives Starlette's Latin-1 encoding. */
export function isLatin1(text: string): boolean {
	return /^[\u0000-\u00ff]*$/.test(text);
}
