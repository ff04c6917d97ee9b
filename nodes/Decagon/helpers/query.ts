import type { IDataObject } from 'n8n-workflow';

/**
 * Decagon's `user_filters` query parameter: stringified JSON, of which only
 * `{"metadata_filter": {"key": "value"}}` is supported. Returns undefined when there is no filter;
 * throws a plain Error naming the problem for an empty key or a key given twice (one would be dropped).
 */
export function metadataUserFilters(metadata: IDataObject | undefined): string | undefined {
	const pairs = (metadata?.filter as IDataObject[] | undefined) ?? [];
	if (pairs.length === 0) return undefined;
	const metadataFilter: Record<string, string> = {};
	for (const pair of pairs) {
		const key = String(pair.key ?? '').trim();
		if (key === '') throw new Error('A metadata filter has an empty key');
		if (key in metadataFilter) throw new Error(`The metadata filter key "${key}" is given twice; Decagon matches one value per key`);
		metadataFilter[key] = String(pair.value ?? '');
	}
	return JSON.stringify({ metadata_filter: metadataFilter });
}
