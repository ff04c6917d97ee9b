/**
 * The packed package installed into a real n8n 2.41.1 the way users install it, Decagon exports run
 * with `n8n execute` against the Decagon stand-in over loopback, paced at Decagon's 1 request/s.
 * Needs `npm run build` first (scripts/test.sh does it).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import type { DecagonStandin, DecagonStandinStats } from '../standins/decagon';
import { startDecagonStandin } from '../standins/decagon';
import type { N8nInstance } from '../support/n8n-instance';
import { createN8nInstance } from '../support/n8n-instance';
import { decagonCredential, exportWorkflow, PACKAGE } from './decagon-workflows';

jest.setTimeout(300_000);

const WRONG_KEY = 'sk-e2e-WRONG-key-5d1c9a7e';

let standin: DecagonStandin;
let n8n: N8nInstance;
let exportStats: DecagonStandinStats | undefined;

beforeAll(async () => {
	standin = await startDecagonStandin({ count: 250, pageSize: 100 }); // 1 request/s, as Decagon
	const good = decagonCredential('decagonE2eGood01', 'Decagon stand-in', standin.url, 'test-decagon-key');
	const wrong = decagonCredential('decagonE2eWrong1', 'Decagon wrong key', standin.url, WRONG_KEY);
	n8n = await createN8nInstance({
		credentials: [good, wrong],
		workflows: [
			exportWorkflow('wfE2eExportFive1', 'Decagon: five conversations', good, { returnAll: false, limit: 5 }),
			exportWorkflow('wfE2eExportAll01', 'Decagon: export everything', good, { returnAll: true }),
			exportWorkflow('wfE2eWrongKey001', 'Decagon: wrong key', wrong, { returnAll: true }),
			exportWorkflow('wfE2eWrongKeyEo1', 'Decagon: wrong key, error output', wrong, { returnAll: true }, { onError: 'continueErrorOutput' }),
			// After and Before as Luxon DateTimes from expressions, as n8n's sandbox hands them to a node.
			exportWorkflow('wfE2eNowRange001', 'Decagon: a range from $now', good, {
				returnAll: true,
				filters: { after: '={{ $now.minus({ years: 10 }) }}', before: '={{ $now.plus({ days: 1 }) }}' },
			}),
		],
	});
}, 300_000);

afterAll(async () => {
	await n8n?.dispose();
	await standin?.close();
});

beforeEach(() => standin.resetStats());

test('the package installs into ~/.n8n/nodes and n8n runs its node', async () => {
	const installed = path.join(n8n.userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE, 'package.json');
	expect(existsSync(installed)).toBe(true);
	expect(JSON.parse(readFileSync(installed, 'utf8')).name).toBe(PACKAGE);

	const result = await n8n.execute('wfE2eExportFive1');
	expect({ status: result.status, exitCode: result.exitCode, error: result.error?.message }).toEqual({
		status: 'success',
		exitCode: 0,
		error: undefined,
	});
	const items = result.outputOf('Decagon');
	expect(items).toHaveLength(5);
	expect(items.every((item) => typeof item.conversation_id === 'string')).toBe(true);
});

test('Return All exports all 250 conversations, once each, within the rate limit', async () => {
	const result = await n8n.execute('wfE2eExportAll01');
	expect(result.status).toBe('success');
	const items = result.outputOf('Decagon');
	const ids = new Set(items.map((item) => item.conversation_id));
	expect(items).toHaveLength(250);
	expect(ids.size).toBe(250);
	expect(ids).toEqual(new Set(standin.conversations().map((c) => c.conversation_id)));

	exportStats = standin.stats();
	expect(exportStats.pagesServed).toBe(3);
	console.log(
		`n8n execute, 250 conversations in 3 pages: ${result.durationMs} ms wall, Decagon node ${String(
			result.run.data.resultData.runData.Decagon[0].executionTime,
		)} ms, peak RSS ${result.peakRssKb ?? '?'} kB (with task runner ${result.peakRssKbWithChildren ?? '?'} kB)`,
	);
});

test('that export reached Decagon at most once per second (no 429 from the stand-in)', () => {
	expect(exportStats).toBeDefined();
	const arrivals = exportStats!.requests.map((r) => Math.round(r.at));
	const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]);
	// Measured at arrival, as Decagon's limiter measures. The first request of a fresh process arrives
	// late (cold connection); the pacer waits that out, so the 2nd does not arrive early.
	expect({ rateLimited: exportStats!.rateLimited, gaps }).toEqual({
		rateLimited: 0,
		gaps: gaps.map((gap) => (gap >= 1000 ? gap : `${gap} < 1000 ms`)),
	});
});

test('After and Before given as Luxon DateTimes ({{ $now.minus(...) }}) are read as those instants', async () => {
	const result = await n8n.execute('wfE2eNowRange001');
	expect(result.status).toBe('success');
	expect(result.outputOf('Decagon')).toHaveLength(250);
	const query = standin.stats().requests[0].query;
	const now = Date.now() / 1000;
	expect(Number(query.min_timestamp)).toBeGreaterThan(now - 11 * 366 * 86_400);
	expect(Number(query.min_timestamp)).toBeLessThan(now - 9 * 365 * 86_400);
	expect(Number(query.max_timestamp)).toBeGreaterThan(now);
});

test('a wrong API key fails the run with a message about the key, and the key is not printed', async () => {
	const result = await n8n.execute('wfE2eWrongKey001');
	expect(result.status).toBe('error');
	expect(result.exitCode).not.toBe(0);
	const error = result.errorOf('Decagon');
	expect(error).toBeDefined();
	expect(`${error?.message} ${error?.description}`).toMatch(/API key/i);
	expect(error?.description).toMatch(/check the API key/i);
	expect(standin.stats().unauthorized).toBeGreaterThanOrEqual(1);

	const everything = [result.log, result.stderr, JSON.stringify(result.run)].join('\n');
	expect(everything).not.toContain(WRONG_KEY);
	expect(everything).not.toContain(WRONG_KEY.slice(7)); // nor a recognisable part of it
});

test('On Error → Continue (using error output): the failure goes to the error branch with what to do, nothing to the success branch', async () => {
	const result = await n8n.execute('wfE2eWrongKeyEo1');
	expect(result.status).toBe('success');
	expect(result.outputOf('Decagon', { outputIndex: 0 })).toEqual([]);
	expect(result.outputOf('Decagon', { outputIndex: 1 })).toEqual([{ error: expect.stringMatching(/401/), message: expect.stringMatching(/check the API key/i) }]);
	expect([result.log, result.stderr, JSON.stringify(result.run)].join('\n')).not.toContain(WRONG_KEY.slice(7));
});
