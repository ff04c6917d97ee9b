/**
 * The Decagon Trigger's promise, tried at random: across hundreds of polls, every version of every
 * conversation changed after the start is emitted exactly once, in version order, whatever Decagon does.
 * The sync runs through the real paginator over a simulated export route that:
 * - pages 100 at a time in updated_at order, with a keyset cursor, or never a cursor (as a production
 *   client saw it), or drops the cursor on some full pages;
 * - repeats the last 3, or 60 (more than half a page), conversations of the page before (duplicates across pages);
 * - fails 5% of requests, and sees changes land while a poll reads (late writes in the lookback too);
 * with every Max Conversations per Poll, Start From, Lookback and Settle Time shape, and n8n's poll budget
 * running out at random.
 */
import type { IDataObject } from 'n8n-workflow';

import { conversationVersion } from '../../nodes/Decagon/helpers/conversation';
import type { SyncSettings } from '../../nodes/Decagon/helpers/incrementalSync';
import { pollOnce, readSyncState } from '../../nodes/Decagon/helpers/incrementalSync';
import { routeWindowReader } from '../support/decagon-route';
import { seededRandom } from '../support/seeded-random';

interface Stored {
	id: string;
	createdMs: number;
	updatedMs: number;
	messages: number;
}

type Cursors = 'never' | 'keyset' | 'sometimes';
interface Shape {
	cursors: Cursors;
	/** How many conversations of the page before a page after a cursor repeats. */
	repeats: number;
}

class RequestFailed extends Error {}

function served(record: Stored): IDataObject {
	return {
		conversation_id: record.id,
		created_at: new Date(record.createdMs).toISOString(),
		updated_at: new Date(record.updatedMs).toISOString(),
		messages: Array.from({ length: record.messages }, (_, i) => ({
			text: 't',
			role: 'USER',
			created_at: new Date(i === record.messages - 1 ? record.updatedMs : record.createdMs).toISOString(),
		})),
	};
}

/** The export route over `store`; `beforeRequest` runs first (changes landing while a poll reads). */
function exportRoute(store: Map<string, Stored>, shape: Shape, random: () => number, hooks: { failRate: number; beforeRequest?: () => void }) {
	return (qs: IDataObject): IDataObject => {
		hooks.beforeRequest?.();
		if (random() < hooks.failRate) throw new RequestFailed('HTTP 503');
		const min = qs.min_timestamp === undefined ? -Infinity : Number(qs.min_timestamp) * 1000;
		const max = qs.max_timestamp === undefined ? Infinity : Number(qs.max_timestamp) * 1000;
		const inWindow = [...store.values()]
			.filter((record) => record.updatedMs >= min && record.updatedMs <= max)
			.sort((a, b) => a.updatedMs - b.updatedMs || (a.id < b.id ? -1 : 1));
		let start = 0;
		if (qs.cursor !== undefined) {
			const [updated, id] = String(qs.cursor).split('|');
			start = inWindow.findIndex((record) => record.updatedMs > Number(updated) || (record.updatedMs === Number(updated) && record.id > id));
			if (start < 0) start = inWindow.length;
		}
		const from = shape.repeats > 0 && qs.cursor !== undefined ? Math.max(0, start - shape.repeats) : start;
		const end = from + 100;
		const page = inWindow.slice(from, end);
		const last = page[page.length - 1];
		let next: string | null = end < inWindow.length && last ? `${last.updatedMs}|${last.id}` : null;
		if (shape.cursors === 'never' || (shape.cursors === 'sometimes' && page.length === 100 && random() < 0.5)) next = null;
		return { conversations: page.map(served), next_page_cursor: next };
	};
}

async function simulate(seed: number, shape: Shape) {
	const random = seededRandom(seed);
	const pick = <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)];
	const store = new Map<string, Stored>();
	let nowMs = 1_000_000_000;
	let nextId = 0;
	const change = (atMs: number) => {
		const existing = store.size > 0 && random() < 0.5 ? [...store.values()][Math.floor(random() * store.size)] : undefined;
		if (!existing) {
			const id = `c${nextId++}`;
			store.set(id, { id, createdMs: atMs, updatedMs: atMs, messages: 1 });
		} else if (atMs > existing.updatedMs) {
			existing.updatedMs = atMs;
			existing.messages++;
		}
	};
	// A backlog, and 90 changes within one second.
	for (let i = 0; i < 600; i++) change(nowMs - 5_000_000 + Math.floor(random() * 4_000_000));
	for (let i = 0; i < 90; i++) change(nowMs - 900_000 + Math.floor(random() * 1000));
	const settings: SyncSettings = {
		lookbackSeconds: pick([0, 60, 600]),
		settleSeconds: pick([1, 30, 120]),
		maxPerPoll: pick([1, 50, 100, 150, 1000]),
		startFrom: pick(['beginning', 'now', 'date'] as const),
		startDate: (nowMs - 2_000_000) / 1000,
	};
	const hooks: { failRate: number; beforeRequest?: () => void } = { failRate: 0.05 };
	const read = routeWindowReader(exportRoute(store, shape, random, hooks));
	const emitted = new Map<string, number[]>();
	let stored: IDataObject | undefined;
	let activationMs = 0;
	// 250 polls while changes come, then 150 quiet ones (no failures) to drain the backlog.
	for (let poll = 0; poll < 400; poll++) {
		const busy = poll < 250;
		if (busy) {
			const stepMs = 10_000 + Math.floor(random() * 300_000);
			for (let i = Math.floor(random() * 80); i > 0; i--) change(nowMs + Math.floor(random() * stepMs));
			if (settings.lookbackSeconds > 0 && random() < 0.3) change(nowMs + stepMs - Math.floor(random() * settings.lookbackSeconds * 500));
			nowMs += stepMs;
		} else {
			nowMs += 60_000;
		}
		if (poll === 0) activationMs = nowMs;
		const pollMs = nowMs;
		hooks.failRate = busy ? 0.05 : 0;
		hooks.beforeRequest = busy ? () => random() < 0.2 && change(pollMs + 100) : undefined;
		const outOfTime = busy && random() < 0.3 ? () => random() < 0.5 : undefined;
		try {
			const result = await pollOnce(readSyncState(stored), { ...settings, outOfTime }, nowMs / 1000, read);
			// Static data goes through JSON between polls.
			stored = JSON.parse(JSON.stringify(result.state)) as IDataObject;
			for (const { conversation } of result.emitted) {
				const id = String(conversation.conversation_id);
				emitted.set(id, [...(emitted.get(id) ?? []), conversationVersion(conversation)]);
			}
		} catch (error) {
			if (!(error instanceof RequestFailed) && !/HTTP 503/.test(String((error as Error).message))) throw error;
		}
	}

	const twice = [...emitted].filter(([, versions]) => new Set(versions).size !== versions.length).map(([id]) => id);
	const backwards = [...emitted].filter(([, versions]) => versions.some((version, i) => i > 0 && version < versions[i - 1])).map(([id]) => id);
	const startMs = settings.startFrom === 'now' ? activationMs : settings.startFrom === 'date' ? settings.startDate! * 1000 : -Infinity;
	const missed = [...store.values()]
		.filter((record) => record.updatedMs >= startMs)
		.filter((record) => !(emitted.get(record.id) ?? []).includes(conversationVersion(served(record))))
		.map((record) => record.id);
	return { twice, backwards, missed, settings };
}

const shapes: Array<[string, Shape]> = [
	['never a cursor', { cursors: 'never', repeats: 0 }],
	['keyset cursors', { cursors: 'keyset', repeats: 0 }],
	['cursors dropped on some full pages', { cursors: 'sometimes', repeats: 0 }],
	['keyset cursors, repeats across pages', { cursors: 'keyset', repeats: 3 }],
	['cursors dropped on some full pages, repeats across pages', { cursors: 'sometimes', repeats: 3 }],
	['keyset cursors, repeats of more than half a page', { cursors: 'keyset', repeats: 60 }],
];

describe.each(shapes)('exactly once over 400 polls: %s', (_name, shape) => {
	test.each([1, 2, 3])('seed %i', async (seed) => {
		const { twice, backwards, missed, settings } = await simulate(seed * 7919 + shape.cursors.length * 31 + (shape.repeats === 3 ? 1 : shape.repeats), shape);
		expect({ settings, twice, backwards, missed }).toEqual({ settings, twice: [], backwards: [], missed: [] });
	}, 60_000);
});
