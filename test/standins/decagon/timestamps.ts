/**
 * Timestamps are kept as integer epoch microseconds (Decagon's strings carry 6 fractional digits, and
 * 1.7e15 is well inside Number's exact range) and turned into text only when served.
 */
import { hash32 } from './random';
import type { TimestampFormat } from './types';

export const US_PER_SECOND = 1_000_000;

/** The concrete spellings Decagon uses. */
export type TimestampStyle = 'z' | 'offset' | 'naive' | 'naive-t';

export function formatTimestamp(us: number, style: TimestampStyle): string {
	const wholeMs = Math.floor(us / 1000);
	const base = new Date(wholeMs).toISOString().slice(0, 19); // 2024-01-01T21:42:10
	const fraction = String(((us % US_PER_SECOND) + US_PER_SECOND) % US_PER_SECOND).padStart(6, '0');
	switch (style) {
		case 'z':
			return `${base}.${fraction}Z`;
		case 'offset':
			return `${base}.${fraction}+00:00`;
		case 'naive':
			return `${base.replace('T', ' ')}.${fraction}`;
		case 'naive-t':
			return `${base}.${fraction}`;
	}
}

const MIXED_STYLES: readonly TimestampStyle[] = ['z', 'offset', 'naive'];

/**
 * The style of one timestamp: `slot` tells apart the timestamps of one conversation. Chosen by hash,
 * not by the content random stream, so switching formats never changes the content.
 */
export function styleFor(format: TimestampFormat, conversationIndex: number, slot: number, isAuditLog = false): TimestampStyle {
	if (format === 'iso') return 'z';
	if (format === 'naive') return 'naive';
	if (isAuditLog) return 'naive-t';
	return MIXED_STYLES[hash32(conversationIndex, slot, 7) % MIXED_STYLES.length];
}

const TIMESTAMP_TEXT =
	/^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6})\d*)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses any served spelling (zone-less = UTC) to epoch microseconds; NaN when unreadable. */
export function parseTimestampUs(text: string): number {
	const match = TIMESTAMP_TEXT.exec(text.trim());
	if (!match) return NaN;
	const [, y, mo, d, h, mi, s, fraction, zone] = match;
	const seconds = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000;
	let offsetMinutes = 0;
	if (zone && zone.toUpperCase() !== 'Z') {
		const digits = zone.slice(1).replace(':', '');
		offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
	}
	return (seconds - offsetMinutes * 60) * US_PER_SECOND + Number((fraction ?? '').padEnd(6, '0'));
}
