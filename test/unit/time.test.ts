import { dateParameterToEpochMs, parseApiTimestamp, toIsoUtc } from '../../nodes/shared/time';

describe('parseApiTimestamp', () => {
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
	});
});
