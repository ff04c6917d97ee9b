/**
 * `fn` over every value, at most `limit` calls at a time, the results in the values' order. The first
 * failure stops new calls and is thrown once the calls under way have ended, so none runs on behind it.
 */
export async function mapConcurrently<T, R>(values: readonly T[], limit: number, fn: (value: T, index: number) => Promise<R>): Promise<R[]> {
	const results = new Array<R>(values.length);
	let next = 0;
	let failure: { error: unknown } | undefined;
	const worker = async () => {
		while (failure === undefined && next < values.length) {
			const index = next++;
			try {
				results[index] = await fn(values[index], index);
			} catch (error) {
				failure ??= { error };
			}
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, values.length)) }, worker));
	if (failure) throw failure.error;
	return results;
}
