/**
 * Timestamps as the APIs and n8n hand them to us.
 * - Decagon sends ISO 8601 or "2024-01-01 21:42:10.309970" without a zone; the latter is UTC.
 * - n8n date-time fields give "2025-01-05T00:00:00" (meant in the workflow's time zone), an ISO string
 *   with an offset, a Luxon DateTime or a JS Date from an expression, or epoch numbers.
 */

const NAIVE_OR_ISO =
	/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

interface DateParts {
	year: number;
	month: number;
	day: number;
	hour: number;
	minute: number;
	second: number;
	millisecond: number;
	offset?: string;
}

function splitDate(text: string): DateParts | undefined {
	const match = NAIVE_OR_ISO.exec(text.trim());
	if (!match) return undefined;
	const [, y, mo, d, h, mi, s, frac, offset] = match;
	return {
		year: Number(y),
		month: Number(mo),
		day: Number(d),
		hour: Number(h ?? 0),
		minute: Number(mi ?? 0),
		second: Number(s ?? 0),
		millisecond: frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0,
		offset,
	};
}

function offsetToMinutes(offset: string): number {
	if (offset.toUpperCase() === 'Z') return 0;
	const sign = offset.startsWith('-') ? -1 : 1;
	const digits = offset.slice(1).replace(':', '');
	return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
}

/**
 * Date.UTC (fields past their range roll over, 24:00 into the next day), but the years 0–99 are those
 * years: Date.UTC reads them as 1900–1999. They are computed 2000 years on, where the calendar is the
 * same (it repeats every 400 years), and moved back.
 */
function utcFromFields(year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0): number {
	if (year < 0 || year >= 100) return Date.UTC(year, monthIndex, day, hour, minute, second, millisecond);
	const later = new Date(Date.UTC(year + 2000, monthIndex, day, hour, minute, second, millisecond));
	return later.setUTCFullYear(later.getUTCFullYear() - 2000);
}

function partsAsUtc(p: DateParts): number {
	return utcFromFields(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.millisecond);
}

/** Parses an API timestamp to epoch milliseconds; zone-less values are UTC. NaN when unreadable. */
export function parseApiTimestamp(value: unknown): number {
	if (typeof value === 'number') return secondsOrMsToMs(value);
	if (typeof value !== 'string' || value.trim() === '') return NaN;
	const parts = splitDate(value);
	if (!parts) return Date.parse(value);
	const utc = partsAsUtc(parts);
	return parts.offset ? utc - offsetToMinutes(parts.offset) * 60_000 : utc;
}

/** ISO 8601 in UTC; text that cannot be read comes back unchanged, anything else as null. */
export function toIsoUtc(value: unknown): string | null {
	const ms = parseApiTimestamp(value);
	if (!Number.isNaN(ms)) return new Date(ms).toISOString();
	return typeof value === 'string' ? value : null;
}

/** How far `timeZone` is ahead of UTC at the instant `utcMs`, in minutes. */
function zoneOffsetMinutes(utcMs: number, timeZone: string): number {
	const format = new Intl.DateTimeFormat('en-US', {
		timeZone,
		hourCycle: 'h23',
		year: 'numeric',
		month: '2-digit',
		day: '2-digit',
		hour: '2-digit',
		minute: '2-digit',
		second: '2-digit',
		era: 'short',
	});
	const fields: Record<string, number> = {};
	let beforeChrist = false;
	for (const part of format.formatToParts(new Date(utcMs))) {
		if (part.type === 'era') beforeChrist = part.value === 'BC';
		else if (part.type !== 'literal') fields[part.type] = Number(part.value);
	}
	// Intl counts years by era: the year 0 is "1 BC", the year -1 "2 BC".
	const year = beforeChrist ? 1 - fields.year : fields.year;
	const asUtc = utcFromFields(year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second);
	return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

/** Whether the fields name a real wall-clock time (Date.UTC would roll 2025-02-30 over to March). */
function partsInRange(p: DateParts): boolean {
	const daysInMonth = new Date(utcFromFields(p.year, p.month, 0)).getUTCDate();
	return p.month >= 1 && p.month <= 12 && p.day >= 1 && p.day <= daysInMonth && p.hour <= 23 && p.minute <= 59 && p.second <= 59;
}

/** Said with every refusal, so whoever reads only the message (an AI agent calling the node as a tool) can fix it. */
const ACCEPTED_FORMS = 'give ISO 8601, such as 2025-01-31T09:00:00 or 2025-01-31T09:00:00Z, or epoch seconds';

/** A zone offset after the clock time (a 12-hour clock's AM/PM, or GMT/UTC, between), not the "-2025" of a date. */
const OFFSET_AFTER_CLOCK = /\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm]\s*)?(?:GMT|UTC)?\s*([+-]\d{2}:?\d{2})\b/;

/** Text other than ISO 8601 is read only when it names its zone: otherwise Date.parse uses the server's. */
function namesItsZone(text: string): boolean {
	return /\b(?:GMT|UTC)\b/.test(text) || OFFSET_AFTER_CLOCK.test(text);
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Whether free text read by Date.parse names the day and month it was read as, in the zone it names:
 * Date.parse rolls a day the month lacks over ("Feb 30" is 2 March), which the text then does not say.
 */
function saysTheDateItWasReadAs(text: string, parsedMs: number): boolean {
	const offset = OFFSET_AFTER_CLOCK.exec(text)?.[1];
	const wallClock = new Date(parsedMs + (offset ? offsetToMinutes(offset) : 0) * 60_000);
	const numbers = (text.match(/\d+/g) ?? []).map(Number);
	const month = wallClock.getUTCMonth();
	const monthSaid = numbers.includes(month + 1) || text.toLowerCase().includes(MONTH_NAMES[month]);
	return monthSaid && numbers.includes(wallClock.getUTCDate());
}

/** Day and month as bare numbers (01-02-2025): which is which is a guess when both could be a month. */
const NUMERIC_DAY_AND_MONTH = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})\b/;

/**
 * Refuses day and month as bare numbers where either could be the month, and a day the month does not
 * have (Date.parse would roll 2/30 over into March).
 */
function checkNumericDayAndMonth(text: string): void {
	const numbers = NUMERIC_DAY_AND_MONTH.exec(text);
	if (!numbers) return;
	const [first, second, year] = [Number(numbers[1]), Number(numbers[2]), Number(numbers[3])];
	if (first !== second && first <= 12 && second <= 12) {
		throw new Error(`"${text}" does not say which number is the day and which the month: write the date as year-month-day (2025-01-31)`);
	}
	const [month, day] = first <= 12 ? [first, second] : [second, first];
	const fullYear = year < 100 ? 2000 + year : year;
	if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(fullYear, month, 0)).getUTCDate()) {
		throw new Error(`"${text}" is not a valid date and time (${ACCEPTED_FORMS})`);
	}
}

/** Epoch numbers: seconds, or milliseconds from 1e11 on. */
function epochToMs(value: number, shown: unknown): number {
	if (!Number.isFinite(value) || value < 0) throw new Error(`"${String(shown)}" is not a date and time (${ACCEPTED_FORMS})`);
	return secondsOrMsToMs(value);
}

/** Epoch seconds or milliseconds: above 1e11 it can only be milliseconds (1e11 seconds is the year 5138). */
function secondsOrMsToMs(value: number): number {
	return value > 1e11 ? value : value * 1000;
}

/**
 * Reads a date-time node parameter to epoch milliseconds. Zone-less text is wall-clock time in
 * `timeZone` (the workflow's), as n8n's date picker means it. Throws a readable Error when unreadable,
 * never guesses: an impossible date, a bare year or a zone-less free-form text would give a wrong window.
 */
export function dateParameterToEpochMs(value: unknown, timeZone: string): number {
	if (value instanceof Date) {
		if (Number.isNaN(value.getTime())) throw new Error(`"${String(value)}" is not a date and time (${ACCEPTED_FORMS})`);
		return value.getTime();
	}
	if (typeof value === 'number') return epochToMs(value, value);
	// n8n 2.x's expression sandbox hands a Luxon DateTime over as a marker, which n8n turns back into a
	// DateTime; should one reach a node as it is, its ISO text says the same instant.
	if (value && typeof value === 'object' && (value as { __n8nType?: unknown }).__n8nType === 'DateTime') {
		const iso = (value as { __isoString?: unknown }).__isoString;
		const ms = typeof iso === 'string' ? Date.parse(iso) : NaN;
		if (Number.isNaN(ms)) throw new Error(`The date and time is invalid (${ACCEPTED_FORMS})`);
		return ms;
	}
	if (value && typeof value === 'object' && typeof (value as { toMillis?: unknown }).toMillis === 'function') {
		// An invalid Luxon DateTime (DateTime.fromISO('') from an unset variable, say) gives NaN.
		const ms = (value as { toMillis: () => number }).toMillis();
		if (!Number.isFinite(ms)) {
			const reason = (value as { invalidExplanation?: unknown }).invalidExplanation;
			throw new Error(`The date and time is invalid${typeof reason === 'string' && reason ? ` (${reason})` : ''}; ${ACCEPTED_FORMS}`);
		}
		return ms;
	}
	const text = typeof value === 'string' ? value.trim() : '';
	if (/^\d+$/.test(text)) {
		// 9–10 digits are epoch seconds, 12–13 milliseconds; "2025" or "20250105" are not.
		if (!/^(?:\d{9,10}|\d{12,13})$/.test(text)) throw new Error(`"${text}" is neither a date and time nor epoch seconds or milliseconds (${ACCEPTED_FORMS})`);
		return epochToMs(Number(text), text);
	}
	const parts = splitDate(text);
	if (!parts) {
		checkNumericDayAndMonth(text);
		const parsed = namesItsZone(text) ? Date.parse(text) : NaN;
		if (Number.isNaN(parsed)) throw new Error(`"${String(value)}" is not a date and time (${ACCEPTED_FORMS})`);
		if (!saysTheDateItWasReadAs(text, parsed)) throw new Error(`"${text}" is not a valid date and time (${ACCEPTED_FORMS})`);
		return parsed;
	}
	if (!partsInRange(parts)) throw new Error(`"${text}" is not a valid date and time (${ACCEPTED_FORMS})`);
	const wallClockAsUtc = partsAsUtc(parts);
	if (parts.offset) return wallClockAsUtc - offsetToMinutes(parts.offset) * 60_000;
	return wallClockInZone(wallClockAsUtc, timeZone);
}

/**
 * The instant a wall-clock time (given as if it were UTC) stands for in `timeZone`. Next to a daylight-saving
 * change, as JavaScript's Temporal does by default ("compatible"): a time that comes twice is its first
 * instant; a time that does not exist (the clock jumps over it) is moved forward by the jump, as the clock
 * shows it an instant later (02:30 where 02:00 becomes 03:00 is 03:30).
 */
function wallClockInZone(wallClockAsUtc: number, timeZone: string): number {
	const DAY_MS = 86_400_000;
	// The offsets a day before and a day after: changes are further apart than that.
	const offsetBefore = zoneOffsetMinutes(wallClockAsUtc - DAY_MS, timeZone);
	const offsetAfter = zoneOffsetMinutes(wallClockAsUtc + DAY_MS, timeZone);
	const instants = [offsetBefore, offsetAfter]
		.map((offset) => wallClockAsUtc - offset * 60_000)
		.filter((instant, index) => zoneOffsetMinutes(instant, timeZone) === [offsetBefore, offsetAfter][index]);
	if (instants.length > 0) return Math.min(...instants);
	return wallClockAsUtc - offsetBefore * 60_000;
}
