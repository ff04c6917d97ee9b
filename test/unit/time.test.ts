import { DateTime } from 'luxon';
import { dateParameterToEpochMs, parseApiTimestamp, toIsoUtc } from '../../nodes/shared/time';

describe('parseApiTimestamp', () => {
	it('reads an offset of hours only, with a T or a space', () => {
		const expected = Date.parse('2024-01-02T00:42:10.309Z');
		expect(parseApiTimestamp('2024-01-01T21:42:10.309970-03')).toBe(expected);
		expect(parseApiTimestamp('2024-01-01 21:42:10.309970-03')).toBe(expected);
		expect(parseApiTimestamp('2024-01-01T21:42:10.309970-0300')).toBe(expected);
	});
	it('reads Decagon naive timestamps as UTC, with microseconds', () => {
		expect(parseApiTimestamp('2024-01-01 21:42:10.309970')).toBe(Date.UTC(2024, 0, 1, 21, 42, 10, 309));
	});
	it('reads ISO 8601 with Z and offsets', () => {
		expect(parseApiTimestamp('2024-05-06T14:11:26.799976Z')).toBe(Date.UTC(2024, 4, 6, 14, 11, 26, 799));
		expect(parseApiTimestamp('2024-05-06T16:11:26+02:00')).toBe(Date.UTC(2024, 4, 6, 14, 11, 26));
		expect(parseApiTimestamp('2024-05-06T14:11:26.799976')).toBe(Date.UTC(2024, 4, 6, 14, 11, 26, 799));
	});
	it('gives NaN for junk', () => {
		expect(parseApiTimestamp('yesterday')).toBeNaN();
		expect(parseApiTimestamp(null)).toBeNaN();
	});
	it('normalises to ISO', () => {
		expect(toIsoUtc('2024-01-01 21:42:10.309970')).toBe('2024-01-01T21:42:10.309Z');
		expect(toIsoUtc('n/a')).toBe('n/a');
		expect(toIsoUtc(undefined)).toBeNull();
	});
});

describe('dateParameterToEpochMs', () => {
	it('reads zone-less date-times in the workflow time zone, across DST', () => {
		expect(dateParameterToEpochMs('2025-01-15T09:00:00', 'Europe/Berlin')).toBe(Date.UTC(2025, 0, 15, 8));
		expect(dateParameterToEpochMs('2025-07-15T09:00:00', 'Europe/Berlin')).toBe(Date.UTC(2025, 6, 15, 7));
		expect(dateParameterToEpochMs('2025-07-15T09:00:00', 'America/New_York')).toBe(Date.UTC(2025, 6, 15, 13));
		expect(dateParameterToEpochMs('2025-07-15', 'UTC')).toBe(Date.UTC(2025, 6, 15));
	});
	it('honours explicit offsets and epoch numbers', () => {
		expect(dateParameterToEpochMs('2025-07-15T09:00:00Z', 'Europe/Berlin')).toBe(Date.UTC(2025, 6, 15, 9));
		expect(dateParameterToEpochMs(1_700_000_000, 'UTC')).toBe(1_700_000_000_000);
		expect(dateParameterToEpochMs('1700000000000', 'UTC')).toBe(1_700_000_000_000);
		expect(dateParameterToEpochMs(new Date(5000), 'UTC')).toBe(5000);
		expect(dateParameterToEpochMs({ toMillis: () => 42 }, 'UTC')).toBe(42);
	});
	it('rejects junk with a readable message', () => {
		expect(() => dateParameterToEpochMs('next tuesday', 'UTC')).toThrow('"next tuesday" is not a date and time');
		// The message alone says what would do (an AI agent sees only it).
		expect(() => dateParameterToEpochMs('next tuesday', 'UTC')).toThrow(/give ISO 8601, such as 2025-01-31T09:00:00/);
		// An expression like {{ DateTime.fromISO($vars.SYNC_START) }} with the variable unset: an invalid Luxon DateTime.
		expect(() => dateParameterToEpochMs(DateTime.fromISO(''), 'UTC')).toThrow('The date and time is invalid (the input "" can\'t be parsed as ISO 8601)');
	});
	it('never guesses: impossible dates, bare years and zone-less free text are errors, not another window', () => {
		for (const impossible of ['2025-02-30T00:00:00', '2025-13-45', '2025-01-01T25:99:00', '2025-04-31', '2025-01-01T23:59:60']) {
			expect(() => dateParameterToEpochMs(impossible, 'Europe/Berlin')).toThrow('is not a valid date and time');
		}
		expect(dateParameterToEpochMs('2024-02-29', 'UTC')).toBe(Date.UTC(2024, 1, 29));
		for (const notEpoch of ['2025', '20250105', '12345678901']) {
			expect(() => dateParameterToEpochMs(notEpoch, 'UTC')).toThrow('is neither a date and time nor epoch seconds or milliseconds');
		}
		// Date.parse would read these in the server's zone (or invent a year): not the workflow's.
		for (const vague of ['Mar 7', 'Jan 5 2025', '2025/01/05 00:00', '2025-1-5']) {
			expect(() => dateParameterToEpochMs(vague, 'Europe/Berlin')).toThrow('is not a date and time');
		}
		expect(() => dateParameterToEpochMs(Number.NaN, 'UTC')).toThrow('is not a date and time');
		expect(() => dateParameterToEpochMs(-5, 'UTC')).toThrow('is not a date and time');
		expect(() => dateParameterToEpochMs(new Date(Number.NaN), 'UTC')).toThrow('is not a date and time');
		// Free text that names its zone is unambiguous.
		expect(dateParameterToEpochMs('Mon, 05 Jan 2025 10:00:00 GMT', 'Europe/Berlin')).toBe(Date.UTC(2025, 0, 5, 10));
		expect(dateParameterToEpochMs('Sun Jan 05 2025 11:00:00 GMT+0100 (Central European Standard Time)', 'UTC')).toBe(Date.UTC(2025, 0, 5, 10));
		expect(dateParameterToEpochMs('Jan 5, 2025 10:00 -0500', 'Europe/Berlin')).toBe(Date.UTC(2025, 0, 5, 15));
		// The "-2025" of a date is no zone offset: without a zone these would be read in the server's zone.
		for (const vague of ['Jan-05-2025 10:00', 'Sunday 5 Jan -2025']) {
			expect(() => dateParameterToEpochMs(vague, 'Europe/Berlin')).toThrow('is not a date and time');
		}
		// Day and month as bare numbers: 05-06-2025 is 5 June to some, 6 May to others (and to Date.parse).
		for (const ambiguous of ['05-06-2025', '05-06-2025 10:00', '1.2.2025 10:00 UTC']) {
			expect(() => dateParameterToEpochMs(ambiguous, 'America/New_York')).toThrow('does not say which number is the day and which the month');
		}
		// Either way round it is one date; without a zone still refused, never read in the server's zone.
		expect(dateParameterToEpochMs('1/31/2025 10:00 UTC', 'Europe/Berlin')).toBe(Date.UTC(2025, 0, 31, 10));
		// Day and month the same number: either way round it is one date.
		expect(dateParameterToEpochMs('05-05-2025 10:00 UTC', 'America/New_York')).toBe(Date.UTC(2025, 4, 5, 10));
		expect(() => dateParameterToEpochMs('01-31-2025 10:00', 'America/New_York')).toThrow('is not a date and time');
		// A day the month does not have is refused, not rolled over into the next month.
		for (const impossible of ['2/30/2025 10:00 UTC', '02/29/2025 10:00 UTC', '4/31/2025 10:00 PM +0100', '6-31-2025 10:00 UTC', '31/13/2025 10:00 UTC']) {
			expect(() => dateParameterToEpochMs(impossible, 'UTC')).toThrow('is not a valid date and time');
		}
		expect(dateParameterToEpochMs('2/29/2024 10:00 UTC', 'UTC')).toBe(Date.UTC(2024, 1, 29, 10));
		// In every form Date.parse reads, not only bare numbers.
		for (const impossible of [
			'February 30, 2025 10:00 UTC',
			'Feb 29 2025 10:00 UTC',
			'31 Apr 2025 10:00 UTC',
			'Sun, 30 Feb 2025 10:00:00 GMT',
			'2025/02/30 10:00 UTC',
			'2025.02.30 10:00 UTC',
			'Sat 2/30/2025 10:00 UTC',
		]) {
			expect(() => dateParameterToEpochMs(impossible, 'UTC')).toThrow('is not a valid date and time');
		}
		// A real date is read in the zone it names, even where that is another day in UTC.
		expect(dateParameterToEpochMs('Feb 1, 2025 00:30 +0100', 'UTC')).toBe(Date.UTC(2025, 0, 31, 23, 30));
		expect(dateParameterToEpochMs('Mon, 31 Mar 2025 23:30:00 -0500', 'UTC')).toBe(Date.UTC(2025, 3, 1, 4, 30));
		// A 12-hour clock before the offset still names the zone.
		expect(dateParameterToEpochMs('January 31, 2025 10:00 PM +0100', 'UTC')).toBe(Date.UTC(2025, 0, 31, 21));
	});
});

describe('dateParameterToEpochMs next to a daylight-saving change, and in the years 0–99', () => {
	test.each([
		// A time the clock jumps over is moved forward by the jump, in every zone alike.
		['America/New_York', '2025-03-09T02:30:00', '2025-03-09T07:30:00Z'],
		['Europe/Berlin', '2025-03-30T02:30:00', '2025-03-30T01:30:00Z'],
		// Lord Howe Island's change is half an hour: 02:15 does not exist and is 02:45 (+11:00).
		['Australia/Lord_Howe', '2025-10-05T02:15:00', '2025-10-04T15:45:00Z'],
		// A time that comes twice is its first instant (still on summer time).
		['America/New_York', '2025-11-02T01:30:00', '2025-11-02T05:30:00Z'],
		['Europe/Berlin', '2025-10-26T02:30:00', '2025-10-26T00:30:00Z'],
		// Away from a change.
		['Europe/Berlin', '2025-06-01T12:00:00', '2025-06-01T10:00:00Z'],
		['America/New_York', '2025-01-15T08:00:00', '2025-01-15T13:00:00Z'],
	])('%s %s is %s', (zone, wallClock, instant) => {
		expect(new Date(dateParameterToEpochMs(wallClock, zone)).toISOString()).toBe(new Date(instant).toISOString());
	});

	test('the years 0–99 are those years, not 1900–1999', () => {
		expect(new Date(dateParameterToEpochMs('0050-01-01T00:00:00Z', 'UTC')).toISOString()).toBe('0050-01-01T00:00:00.000Z');
		expect(new Date(dateParameterToEpochMs('0001-03-01T12:00:00', 'UTC')).toISOString()).toBe('0001-03-01T12:00:00.000Z');
		expect(new Date(parseApiTimestamp('0099-12-31 23:59:59.000000')).toISOString()).toBe('0099-12-31T23:59:59.000Z');
		// The year 0 is a leap year (1900 is not).
		expect(new Date(dateParameterToEpochMs('0000-02-29T00:00:00Z', 'UTC')).toISOString()).toBe('0000-02-29T00:00:00.000Z');
		// Fields past their range roll over, in those years as in others.
		expect(new Date(parseApiTimestamp('0050-12-31T24:00:00Z')).toISOString()).toBe('0051-01-01T00:00:00.000Z');
		expect(new Date(parseApiTimestamp('2024-01-01T24:00:00Z')).toISOString()).toBe('2024-01-02T00:00:00.000Z');
		expect(new Date(parseApiTimestamp('2024-12-31T23:59:60Z')).toISOString()).toBe('2025-01-01T00:00:00.000Z');
	});

	test('a zone-less date-time in the year 0 is read in the workflow time zone, not a year and a day off (Intl calls that year "1 BC")', () => {
		expect(new Date(dateParameterToEpochMs('0000-06-01T00:00:00', 'UTC')).toISOString()).toBe('0000-06-01T00:00:00.000Z');
		expect(new Date(dateParameterToEpochMs('0000-01-01T00:00:00', 'UTC')).toISOString()).toBe('0000-01-01T00:00:00.000Z');
		// Etc/GMT+5 is five hours behind UTC, with no local mean time in those years.
		expect(new Date(dateParameterToEpochMs('0000-06-01T00:00:00', 'Etc/GMT+5')).toISOString()).toBe('0000-06-01T05:00:00.000Z');
		expect(new Date(dateParameterToEpochMs('0001-01-01T02:00:00', 'Etc/GMT-5')).toISOString()).toBe('0000-12-31T21:00:00.000Z');
	});
});

test("a Luxon DateTime as n8n's expression sandbox hands it over (a marker with its ISO text) is that instant", () => {
	expect(dateParameterToEpochMs({ __n8nType: 'DateTime', __isoString: '2025-03-09T02:30:00.000-05:00', __zone: 'America/New_York' }, 'UTC')).toBe(Date.parse('2025-03-09T07:30:00Z'));
	expect(() => dateParameterToEpochMs({ __n8nType: 'DateTime', __invalidReason: 'unparsable' }, 'UTC')).toThrow('The date and time is invalid');
});

test('epoch numbers from before 2001 (9 digits of seconds, 12 of milliseconds) are read, in parameters and in API answers', () => {
	expect(dateParameterToEpochMs('999999999', 'UTC')).toBe(999_999_999_000);
	expect(dateParameterToEpochMs('999999999000', 'UTC')).toBe(999_999_999_000);
	expect(parseApiTimestamp(1_700_000_000)).toBe(1_700_000_000_000);
	expect(parseApiTimestamp(1_700_000_000_123)).toBe(1_700_000_000_123);
});
