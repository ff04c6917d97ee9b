import type { DecagonStandinOptions, FaultKind } from './types';
import { CURSOR_FIELDS, END_MARKERS, FAULT_KINDS, TIMESTAMP_FORMATS } from './types';
import { mergeKnownOptions, optionsChanged } from '../common';

/** Decagon never serves more than 100 conversations a page. */
export const MAX_PAGE_SIZE = 100;

export function defaultOptions(): DecagonStandinOptions {
	return {
		port: 0,
		apiKey: 'test-decagon-key',
		forbiddenApiKeys: [],
		seed: 1,
		count: 250,
		messagesPerConversation: 6,
		textBytes: 80,
		spanDays: 30,
		nowEpoch: Math.floor(Date.now() / 1000),
		timestampFormat: 'mixed',
		bareTagIds: false,
		pageSize: 100,
		// As production: no usable next_page_cursor (null), the cursor in the docs' example response's field.
		cursorField: 'next_page_updated_after',
		endMarker: 'null',
		rateLimitPerSecond: 1,
		rateLimitToleranceMs: 0,
		retryAfterHeader: true,
		retryAfterFormat: 'seconds',
		latencyMs: 0,
		duplicatesAcrossPages: 0,
		updateDuringExport: null,
		faults: [],
		faultRate: 0,
		faultKinds: FAULT_KINDS.filter((kind) => kind !== 'hang' && kind !== '401'),
		repeatCursor: 0,
		emptyPageWithCursor: 0,
		echoCursorAtEnd: false,
		fullPageWithoutCursor: false,
		nullPageCursorBeside: true,
		integerCursorSeconds: false,
	};
}

/** Options whose change means the conversations must be generated again. */
export const DATA_OPTION_KEYS = ['seed', 'count', 'messagesPerConversation', 'textBytes', 'spanDays', 'nowEpoch'] as const;
export type DataOptions = Pick<DecagonStandinOptions, (typeof DATA_OPTION_KEYS)[number]>;

export function dataOptionsOf(options: DecagonStandinOptions): DataOptions {
	const { seed, count, messagesPerConversation, textBytes, spanDays, nowEpoch } = options;
	return { seed, count, messagesPerConversation, textBytes, spanDays, nowEpoch };
}

export function dataOptionsChanged(before: DecagonStandinOptions, after: DecagonStandinOptions): boolean {
	return optionsChanged<DecagonStandinOptions>(DATA_OPTION_KEYS, before, after);
}

/**
 * Merges `partial` over `current` and checks the result, throwing an Error that names the bad option
 * (the control route turns it into a 400). Keys set to undefined are left unchanged.
 */
export function mergeOptions(current: DecagonStandinOptions, partial: Partial<DecagonStandinOptions>): DecagonStandinOptions {
	const options = mergeKnownOptions(current, partial);
	validate(options);
	return { ...options, pageSize: Math.min(options.pageSize, MAX_PAGE_SIZE) };
}

function validate(o: DecagonStandinOptions): void {
	const integer = (name: string, value: unknown, min: number) => {
		if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
			throw new Error(`option "${name}" must be an integer >= ${min}`);
		}
	};
	const number = (name: string, value: unknown, min: number, max = Infinity) => {
		if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
			throw new Error(`option "${name}" must be a number in [${min}, ${max}]`);
		}
	};
	const oneOf = (name: string, value: unknown, allowed: readonly string[]) => {
		if (typeof value !== 'string' || !allowed.includes(value)) {
			throw new Error(`option "${name}" must be one of ${allowed.join(', ')}`);
		}
	};
	const boolean = (name: string, value: unknown) => {
		if (typeof value !== 'boolean') throw new Error(`option "${name}" must be true or false`);
	};

	integer('port', o.port, 0);
	if (typeof o.apiKey !== 'string' || o.apiKey === '') throw new Error('option "apiKey" must be a non-empty string');
	if (!Array.isArray(o.forbiddenApiKeys) || o.forbiddenApiKeys.some((k) => typeof k !== 'string')) {
		throw new Error('option "forbiddenApiKeys" must be a list of strings');
	}
	number('seed', o.seed, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
	integer('count', o.count, 0);
	const range = Array.isArray(o.messagesPerConversation) ? o.messagesPerConversation : [o.messagesPerConversation, o.messagesPerConversation];
	if (range.length !== 2) throw new Error('option "messagesPerConversation" must be a number or [min, max]');
	integer('messagesPerConversation', range[0], 0);
	integer('messagesPerConversation', range[1], range[0]);
	integer('textBytes', o.textBytes, 1);
	number('spanDays', o.spanDays, 0);
	integer('nowEpoch', o.nowEpoch, 0);
	oneOf('timestampFormat', o.timestampFormat, TIMESTAMP_FORMATS);
	boolean('bareTagIds', o.bareTagIds);
	integer('pageSize', o.pageSize, 1);
	oneOf('cursorField', o.cursorField, CURSOR_FIELDS);
	oneOf('endMarker', o.endMarker, END_MARKERS);
	number('rateLimitPerSecond', o.rateLimitPerSecond, 0);
	number('rateLimitToleranceMs', o.rateLimitToleranceMs, 0);
	boolean('retryAfterHeader', o.retryAfterHeader);
	oneOf('retryAfterFormat', o.retryAfterFormat, ['seconds', 'http-date']);
	number('latencyMs', o.latencyMs, 0);
	integer('duplicatesAcrossPages', o.duplicatesAcrossPages, 0);
	if (o.updateDuringExport !== null) {
		if (typeof o.updateDuringExport !== 'object') throw new Error('option "updateDuringExport" must be {afterPage, count} or null');
		integer('updateDuringExport.afterPage', o.updateDuringExport.afterPage, 1);
		integer('updateDuringExport.count', o.updateDuringExport.count, 0);
	}
	if (!Array.isArray(o.faults)) throw new Error('option "faults" must be a list of {request, kind}');
	for (const fault of o.faults) {
		integer('faults[].request', fault?.request, 1);
		oneOf('faults[].kind', fault?.kind, FAULT_KINDS);
	}
	number('faultRate', o.faultRate, 0, 1);
	if (!Array.isArray(o.faultKinds) || o.faultKinds.length === 0) throw new Error('option "faultKinds" must be a non-empty list');
	for (const kind of o.faultKinds as FaultKind[]) oneOf('faultKinds[]', kind, FAULT_KINDS);
	integer('repeatCursor', o.repeatCursor, 0);
	integer('emptyPageWithCursor', o.emptyPageWithCursor, 0);
	boolean('echoCursorAtEnd', o.echoCursorAtEnd);
	if (typeof o.fullPageWithoutCursor !== 'boolean') integer('fullPageWithoutCursor', o.fullPageWithoutCursor, 1);
	boolean('nullPageCursorBeside', o.nullPageCursorBeside);
	boolean('integerCursorSeconds', o.integerCursorSeconds);
}
