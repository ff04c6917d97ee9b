import type { IDataObject } from 'n8n-workflow';

/** dembrane retries within about two minutes; a day covers that with room to spare. */
const REMEMBER_MS = 24 * 60 * 60 * 1000;
/** Bounds the workflow's static data however busy the project is. */
const MAX_REMEMBERED = 5000;

/**
 * Records a delivery in the workflow's static data (persisted by n8n, shared by every process in
 * queue mode) and says whether it is new. Old entries are pruned, oldest first.
 */
export function rememberDelivery(staticData: IDataObject, key: string, nowMs: number): boolean {
	const seen = ((staticData.deliveries as Record<string, number> | undefined) ?? {}) as Record<string, number>;
	if (seen[key] !== undefined && nowMs - seen[key] < REMEMBER_MS) return false;
	seen[key] = nowMs;
	staticData.deliveries = seen;
	// Pruned in batches, so a busy project does not sort thousands of keys on every delivery.
	if (Object.keys(seen).length > MAX_REMEMBERED * 1.1) {
		const entries = Object.entries(seen).filter(([, at]) => nowMs - at < REMEMBER_MS);
		entries.sort((a, b) => a[1] - b[1]);
		staticData.deliveries = Object.fromEntries(entries.slice(-MAX_REMEMBERED));
	}
	return true;
}
