/**
 * Parameters as expressions can hand them to a node: n8n checks a number field's minimum only in the
 * editor. Each wrong value is an error naming the field, never a silent "no limit" or "nothing".
 */
import type { IExecuteFunctions, INode } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { Decagon } from '../../nodes/Decagon/Decagon.node';
import { metadataUserFilters } from '../../nodes/Decagon/helpers/query';
import { DembraneEcho } from '../../nodes/DembraneEcho/DembraneEcho.node';
import { numberParameter, outputBinaryField, resultLimit } from '../../nodes/shared/parameters';

const node: INode = { id: 'n1', name: 'Node', type: 'x', typeVersion: 1, position: [0, 0], parameters: {} };

function listContext(parameters: Record<string, unknown>): IExecuteFunctions {
	return { getNode: () => node, getNodeParameter: (name: string) => parameters[name] } as unknown as IExecuteFunctions;
}

test('numberParameter: whole numbers from the minimum on; numeric text as typed in an expression', () => {
	expect(numberParameter(node, 0, 'Max Pages', { min: 0 })).toBe(0);
	expect(numberParameter(node, '25', 'Max Pages', { min: 0 })).toBe(25);
	expect(numberParameter(node, 2.5, 'Lookback (Minutes)', { min: 0, whole: false })).toBe(2.5);
	for (const wrong of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 'x', '', '  ', null, undefined, true, {}]) {
		expect(() => numberParameter(node, wrong, 'Max Pages', { min: 0, itemIndex: 2 })).toThrow(NodeOperationError);
	}
	expect(() => numberParameter(node, '2 min', 'Settle Time (Seconds)', { min: 0, whole: false })).toThrow(
		/^Settle Time \(Seconds\) must be a number of at least 0, not "2 min"$/,
	);
});

test('resultLimit: Return All is no limit; a Limit below 1 or not a number is an error, not 0 items or everything', () => {
	expect(resultLimit.call(listContext({ returnAll: true, limit: -1 }), 0)).toBe(Infinity);
	expect(resultLimit.call(listContext({ returnAll: false, limit: 7 }), 0)).toBe(7);
	for (const limit of [0, -1, 'abc', 2.5, Number.NaN]) {
		expect(() => resultLimit.call(listContext({ returnAll: false, limit }), 0)).toThrow(/^Limit must be a whole number of at least 1/);
	}
});

test('every Limit a user sees (dembrane Get Many conversations, projects and reports; Decagon Export) starts at 50, n8n\'s usual, and cannot be set below 1', () => {
	const limits = [...new DembraneEcho().description.properties, ...new Decagon().description.properties].filter((property) => property.name === 'limit');
	const shownFor = limits.map((property) => `${property.displayOptions?.show?.resource}.${property.displayOptions?.show?.operation}`);
	expect(shownFor.sort()).toEqual(['conversation.export', 'conversation.getMany', 'project.getMany', 'report.getMany']);
	for (const limit of limits) {
		expect(limit).toMatchObject({ displayName: 'Limit', type: 'number', default: 50, typeOptions: { minValue: 1 } });
		expect(limit.displayOptions?.show?.returnAll).toEqual([false]);
	}
});

test('outputBinaryField: trimmed; a number from an expression is that name; empty is an error', () => {
	expect(outputBinaryField.call(listContext({ binaryPropertyName: ' data ' }), 0)).toBe('data');
	expect(outputBinaryField.call(listContext({ binaryPropertyName: 42 }), 0)).toBe('42');
	expect(() => outputBinaryField.call(listContext({ binaryPropertyName: '   ' }), 0)).toThrow('Put Output File in Field is empty');
	expect(() => outputBinaryField.call(listContext({ binaryPropertyName: null }), 0)).toThrow('Put Output File in Field is empty');
});

test('Decagon metadata filter: a key given twice (after trimming) is an error, not a silently dropped filter', () => {
	expect(metadataUserFilters(node, { filter: [{ key: ' plan ', value: 'pro' }, { key: 'region', value: 'eu' }] })).toBe(
		JSON.stringify({ metadata_filter: { plan: 'pro', region: 'eu' } }),
	);
	expect(() => metadataUserFilters(node, { filter: [{ key: 'a', value: '1' }, { key: 'a ', value: '2' }] })).toThrow('The metadata filter key "a" is given twice');
	// Text by default, whatever an expression gives; a number or true/false only when Value Type says so.
	expect(
		metadataUserFilters(node, {
			filter: [
				{ key: 'store_id', value: ' 42 ', valueType: 'number' },
				{ key: 'vip', value: 'True', valueType: 'boolean' },
				{ key: 'code', value: 42 },
				{ key: 'zip', value: '042', valueType: 'string' },
			],
		}),
	).toBe('{"metadata_filter":{"store_id":42,"vip":true,"code":"42","zip":"042"}}');
	expect(() => metadataUserFilters(node, { filter: [{ key: 'n', value: 'forty', valueType: 'number' }] })).toThrow('The metadata filter "n" is to be a number, not "forty"');
	expect(() => metadataUserFilters(node, { filter: [{ key: 'b', value: 'yes', valueType: 'boolean' }] })).toThrow('The metadata filter "b" is to be true or false, not "yes"');
});

test('Decagon metadata filter: keys that name members of a plain object ("constructor", "__proto__") are keys like any other', () => {
	expect(metadataUserFilters(node, { filter: [{ key: 'constructor', value: 'a' }, { key: '__proto__', value: 'b' }, { key: 'toString', value: 'c' }] })).toBe(
		'{"metadata_filter":{"constructor":"a","__proto__":"b","toString":"c"}}',
	);
});

test('Decagon metadata filter: no filter sends no user_filters; an empty key is an error, not a filter on ""', () => {
	expect(metadataUserFilters(node, undefined)).toBeUndefined();
	expect(metadataUserFilters(node, { filter: [] })).toBeUndefined();
	expect(() => metadataUserFilters(node, { filter: [{ key: ' ', value: 'eu' }] })).toThrow('A metadata filter has an empty key');
});
