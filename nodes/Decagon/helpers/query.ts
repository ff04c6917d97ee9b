import type { IDataObject, INode } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

/**
 * Decagon's `user_filters` query parameter: stringified JSON, of which only
 * `{"metadata_filter": {"key": "value"}}` is supported. Returns undefined when there is no filter;
 * an empty key or a key given twice (one would be dropped) is an error naming the problem.
 */
export function metadataUserFilters(node: INode, metadata: IDataObject | undefined, itemIndex?: number): string | undefined {
	const fail = (message: string) => new NodeOperationError(node, message, { itemIndex, description: 'Fill in every key, each once, or remove the filter.' });
	const pairs = (metadata?.filter as IDataObject[] | undefined) ?? [];
	if (pairs.length === 0) return undefined;
	// A Map: keys such as "constructor" or "__proto__" are keys like any other.
	const metadataFilter = new Map<string, unknown>();
	for (const pair of pairs) {
		const key = String(pair.key ?? '').trim();
		if (key === '') throw fail('A metadata filter has an empty key');
		if (metadataFilter.has(key)) throw fail(`The metadata filter key "${key}" is given twice; Decagon matches one value per key`);
		metadataFilter.set(key, metadataValue(pair.value, pair.valueType, key, fail));
	}
	return JSON.stringify({ metadata_filter: Object.fromEntries(metadataFilter) });
}

/** A metadata value as its Value Type says: text (the default, as Decagon documents it), a number, or true/false. */
function metadataValue(value: unknown, valueType: unknown, key: string, fail: (message: string) => Error): unknown {
	const text = value === undefined || value === null ? '' : String(value).trim();
	if (valueType === 'number') {
		const number = text === '' ? NaN : Number(text);
		if (!Number.isFinite(number)) throw fail(`The metadata filter "${key}" is to be a number, not "${text}"`);
		return number;
	}
	if (valueType === 'boolean') {
		if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
		throw fail(`The metadata filter "${key}" is to be true or false, not "${text}"`);
	}
	return value === undefined || value === null ? '' : String(value);
}
