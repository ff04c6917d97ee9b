/**
 * Queue mode end to end: n8n 2.41.1 with Postgres and Redis, a main process, two workers and one
 * webhook processor, each with its own user folder and the packed package installed in it.
 *
 * - dembrane: 500 signed deliveries plus 50 redeliveries (10%) of the same bytes reach the webhook
 *   processor; workers run "dembrane ECHO Trigger → Claim delivery (Postgres) → Handle delivery". All
 *   550 executions succeed, every delivery is handled exactly once, and both workers did part of the
 *   work. The trigger drops redeliveries itself (Ignore Redeliveries, n8n's deduplication store), but
 *   that store is not atomic under concurrent executions (see dembraneWorkflow): the test asserts it
 *   dropped most of them and only redeliveries, and prints how many it let through to the claim.
 * - Decagon export: a production webhook starts an export; a worker runs it (its log names the
 *   execution, the webhook processor's log only enqueued it) and it returns every conversation.
 * - Decagon Trigger: published, polling every minute. In n8n 2.41.1 the poll itself runs on main (the
 *   durable scheduler is enabled on main instances only); what it emits becomes a queued execution that
 *   a worker runs. Conversations and messages are added between polls, three rounds; when all their
 *   executions ran on one worker, that worker is stopped and a fourth round must run on the other.
 *   Every conversation version comes out exactly once.
 *   With a one-minute lookback each poll re-reads the previous round's changes, so a state lost or
 *   overwritten by a worker (workers save static data they changed) would show as a repeat.
 *
 * Needs redis-server and Postgres (Debian packages redis-server and postgresql, which .ci/run installs).
 * Without them the suite is skipped with the reason printed; with CI=true it fails instead.
 * The Decagon Trigger rounds run in the background while the dembrane deliveries run, to keep the file
 * at about 4-6 minutes on a 2-core machine (4:01 to 6:17 measured here while other jobs ran).
 */
import type { DecagonStandin } from '../standins/decagon';
import { startDecagonStandin } from '../standins/decagon';
import type { DeliveryResult, DembraneStandin } from '../standins/dembrane';
import { passwordCredentialData, startDembraneStandin } from '../standins/dembrane';
import { decagonCredential, DECAGON, triggerWorkflow } from '../e2e/decagon-workflows';
import type { CredentialFixture, N8nExecution, WorkflowFixture } from '../support/n8n-instance';
import { viewRun } from '../support/n8n-instance';
import type { N8nRun } from '../support/n8n-instance';
import type { QueueCluster } from '../support/n8n-queue';
import type { QueueServices } from '../support/n8n-queue';
import { queueServicesMissing, startQueueCluster, startQueueServices } from '../support/n8n-queue';

const DEMBRANE_WF = 'wfQueueEchoTrig1';
const DEMBRANE_WEBHOOK_ID = '7d2e4f80-3c5b-4f6a-8d4e-1b2c3d4e5f60';
const EXPORT_WF = 'wfQueueDecExport';
const EXPORT_WEBHOOK_ID = '8e3f5091-4d6c-4a7b-9e5f-2c3d4e5f6071';
const EXPORT_PATH = 'queue-decagon-export';
const TRIGGER_WF = 'wfQueueDecTrigg1';
const ECHO_NODE = 'Dembrane ECHO Trigger';
const CLAIM_NODE = 'Claim delivery';
const HANDLE_NODE = 'Handle delivery';
const CLAIMS_TABLE = 'queue_test_delivery_claims';

const DISTINCT_DELIVERIES = 500;
const REDELIVERIES = 50;
const SENDERS = 8; // deliveries in flight at once
const EXPORT_CONVERSATIONS = 150;
const TRIGGER_ROUNDS = 3;
// A poll a minute, the stand-in's pacing and a busy machine, three times over: one CI run on a loaded
// 2-core machine waited more than 150 s for a round that takes about 60 s otherwise.
const ROUND_WAIT_MS = 240_000;

const missing = queueServicesMissing();
const inCi = process.env.CI === 'true';
if (missing.length > 0) {
	console.warn(`queue-mode e2e ${inCi ? 'FAILS (CI=true)' : 'skipped'}: missing ${missing.join('; ')}. Install them with: apt-get install redis-server postgresql`);
}

jest.setTimeout(600_000);

if (missing.length > 0 && inCi) {
	test('redis-server and Postgres are installed (CI=true)', () => {
		throw new Error(`missing: ${missing.join('; ')}`);
	});
}

const describeQueue = missing.length > 0 ? describe.skip : describe;

describeQueue('n8n queue mode: main, 2 workers, webhook processor, Postgres, Redis', () => {
	let dembrane: DembraneStandin;
	let decagonExport: DecagonStandin;
	let decagonTrigger: DecagonStandin;
	let services: QueueServices;
	let cluster: QueueCluster;
	let projectId: string;
	let triggerRounds: TriggerRounds;
	let triggerOutcome: Promise<TriggerOutcome>;
	const started = Date.now();

	beforeAll(async () => {
		dembrane = await startDembraneStandin({ conversationsPerProject: 25, webhookRetryDelaysMs: [] });
		projectId = dembrane.listProjects().find((project) => dembrane.conversations(project.id).length > 0)!.id;
		decagonExport = await startDecagonStandin({ count: EXPORT_CONVERSATIONS, pageSize: 100, seed: 7 });
		decagonTrigger = await startDecagonStandin({ count: 20, seed: 8 });

		const echoCredential: CredentialFixture = {
			id: 'dembraneQueueCr1',
			name: 'dembrane stand-in',
			type: 'dembraneEchoApi',
			data: passwordCredentialData(dembrane),
		};
		// The claims table: one row per delivery, claimed atomically by the workflow (see dembraneWorkflow).
		services = startQueueServices();
		services.sql(`CREATE TABLE ${CLAIMS_TABLE} (delivery_id text PRIMARY KEY, claimed_at timestamptz NOT NULL DEFAULT now())`);
		const claimsCredential: CredentialFixture = {
			id: 'postgresQueueCr1',
			name: 'Postgres (claims)',
			type: 'postgres',
			data: {
				host: '127.0.0.1',
				port: Number(services.env.DB_POSTGRESDB_PORT),
				database: services.env.DB_POSTGRESDB_DATABASE,
				user: services.env.DB_POSTGRESDB_USER,
				password: services.env.DB_POSTGRESDB_PASSWORD,
				ssl: 'disable',
			},
		};
		const exportCredential = decagonCredential('decagonQueueExp1', 'Decagon export stand-in', decagonExport.url, 'test-decagon-key');
		const triggerCredential = decagonCredential('decagonQueueTrg1', 'Decagon trigger stand-in', decagonTrigger.url, 'test-decagon-key');
		const triggerFixture = triggerWorkflow(TRIGGER_WF, 'Decagon Trigger in queue mode', triggerCredential, {
			// Only what changes from now on; the 20 generated conversations are older. Every minute (on a
			// second n8n derives from the workflow and node ids).
			startFrom: 'date',
			startDate: new Date().toISOString(),
			output: 'conversation',
			options: { settleSeconds: 0, lookbackMinutes: 1 },
		});
		// Round 1's changes exist before main starts: the poll on activation emits them (its execution
		// waits in Redis until a worker is up), which saves a poll interval of wall time.
		triggerRounds = new TriggerRounds(decagonTrigger);
		triggerRounds.change(1);
		cluster = await startQueueCluster({
			services,
			credentials: [echoCredential, claimsCredential, exportCredential, triggerCredential],
			workflows: [
				dembraneWorkflow(echoCredential, claimsCredential, projectId),
				exportWorkflow(exportCredential),
				triggerFixture,
			],
			publish: [DEMBRANE_WF, EXPORT_WF, TRIGGER_WF],
		});
		console.log(`queue cluster up after ${Date.now() - started} ms: ${JSON.stringify(cluster.timings)}`);
		await waitFor('the dembrane webhook registration', () => liveHooks().length > 0, 60_000);
		// The trigger rounds take minutes of wall time (a poll a minute): they run while the deliveries run.
		triggerOutcome = triggerRounds.run(cluster).catch((error: unknown) => ({ error: error as Error, rounds: [] }));
	}, 480_000);

	afterAll(async () => {
		await cluster?.stop();
		services?.stop();
		await Promise.all([dembrane?.close(), decagonExport?.close(), decagonTrigger?.close()]);
		console.log(`queue-mode file took ${Date.now() - started} ms`);
	}, 180_000);

	const liveHooks = () => dembrane.webhooks(projectId).filter((hook) => !hook.deleted_at);

	test('the dembrane webhook registered on activation points at the webhook processor', () => {
		const hooks = liveHooks();
		expect(hooks).toHaveLength(1);
		expect(hooks[0].url).toBe(`${cluster.webhookUrl}/webhook/${DEMBRANE_WEBHOOK_ID}/webhook`);
	});

	test('500 signed deliveries plus 50 redeliveries: 550 successful executions on both workers, each delivery handled once', async () => {
		const conversations = dembrane.conversations(projectId);
		const emitOne = async (index: number): Promise<DeliveryResult> => {
			const conversationId = conversations[index % conversations.length].id;
			const [delivery] = await dembrane.emit('conversation.summarized', { projectId, conversationId });
			return delivery;
		};
		const firstHalf = DISTINCT_DELIVERIES / 2;
		const t0 = Date.now();

		// First half: distinct deliveries only.
		const first = await pool(Array.from({ length: firstHalf }, (_, i) => () => emitOne(i)), SENDERS);
		await waitForFinished(cluster, DEMBRANE_WF, firstHalf, 240_000);
		const t1 = Date.now();

		// Second half: distinct deliveries with the redeliveries of every 5th first-half delivery in
		// between. dembrane resends the identical bytes (same timestamp, same signature) after a delay
		// (5 s or more) when it did not see our answer. Each redelivery goes out after the first
		// delivery's execution finished, so whatever Remove Duplicates lets through is not two identical
		// deliveries racing but keys it lost.
		const redelivered = first.filter((_, i) => i % 5 === 0).slice(0, REDELIVERIES);
		const resend = (delivery: DeliveryResult) => async (): Promise<Resent> => {
			const response = await fetch(delivery.url, { method: 'POST', body: delivery.body, headers: delivery.headers, signal: AbortSignal.timeout(30_000) });
			return { resent: true, status: response.status, body: await response.text() };
		};
		const jobs: Array<() => Promise<DeliveryResult | Resent>> = [];
		for (let i = 0; i < DISTINCT_DELIVERIES - firstHalf; i++) {
			jobs.push(() => emitOne(firstHalf + i));
			if (i % 5 === 4 && redelivered[(i - 4) / 5]) jobs.push(resend(redelivered[(i - 4) / 5]));
		}
		const second = await pool(jobs, SENDERS);
		const secondDeliveries = second.filter((result): result is DeliveryResult => !('resent' in result));
		const resends = second.filter((result): result is Resent => 'resent' in result);
		expect(resends).toHaveLength(REDELIVERIES);
		expect(resends.filter((r) => r.status !== 200)).toEqual([]);
		const deliveries = [...first, ...secondDeliveries];
		expect(deliveries).toHaveLength(DISTINCT_DELIVERIES);
		expect(deliveries.filter((d) => !d.delivered || d.status !== 200 || d.attempts !== 1)).toEqual([]);
		const sent = Date.now();

		await waitForFinished(cluster, DEMBRANE_WF, DISTINCT_DELIVERIES + REDELIVERIES, 300_000);
		const done = Date.now();
		const executions = await cluster.allExecutions({ workflowId: DEMBRANE_WF, includeData: true });
		console.log(
			`dembrane: first ${firstHalf} deliveries and their executions ${t1 - t0} ms; second half sent in ${sent - t1} ms, ` +
				`all ${executions.length} executions finished ${done - t0} ms after the first delivery`,
		);

		expect(executions).toHaveLength(DISTINCT_DELIVERIES + REDELIVERIES);
		const failures = executions
			.filter((e) => e.status !== 'success')
			.map((e) => ({ id: e.id, status: e.status, node: e.data?.resultData.lastNodeExecuted, error: e.data?.resultData.error?.message }));
		expect(failures).toEqual([]);
		expect(countBy(executions.map((e) => `${e.status}/${e.mode}`))).toEqual({ 'success/webhook': DISTINCT_DELIVERIES + REDELIVERIES });

		const expectedIds = deliveries.map((d) => deliveryIdOf(d.payload));
		expect(new Set(expectedIds).size).toBe(DISTINCT_DELIVERIES);
		const resentIds = new Set(redelivered.map((d) => deliveryIdOf(d.payload)));

		// The trigger: every delivery came out, a repeat only for a redelivered one (and at most once more),
		// and the executions in which it emitted nothing are exactly the redeliveries it dropped.
		const emitted = countBy(executions.flatMap((e) => outputOf(e, ECHO_NODE).map((item) => String(item.deliveryId))));
		expect(Object.keys(emitted).sort()).toEqual([...expectedIds].sort());
		const repeated = Object.entries(emitted).filter(([, count]) => count > 1);
		expect(repeated.filter(([id, count]) => !resentIds.has(id) || count > 2)).toEqual([]);
		const dropped = executions.filter((e) => outputOf(e, ECHO_NODE).length === 0).length;
		expect(dropped).toBe(REDELIVERIES - repeated.length);
		// n8n's store lost 60-80 of the 500 keys per run when Remove Duplicates used it in this test.
		expect(dropped).toBeGreaterThanOrEqual(REDELIVERIES / 2);

		// The claim makes it exactly once: what the trigger let through again, the claim stopped.
		const claimed = executions.filter((e) => outputOf(e, CLAIM_NODE).length > 0);
		expect(claimed).toHaveLength(DISTINCT_DELIVERIES);
		const handled = executions.flatMap((e) => outputOf(e, HANDLE_NODE).map((item) => String(item.delivery_id)));
		expect(handled).toHaveLength(DISTINCT_DELIVERIES);
		expect(new Set(handled)).toEqual(new Set(expectedIds));
		expect(Number(cluster.services.sql(`SELECT count(*) FROM ${CLAIMS_TABLE}`))).toBe(DISTINCT_DELIVERIES);

		const storeFailures = cluster.workers
			.map((daemon) => (daemon.log().match(/could not check for redeliveries/g) ?? []).length)
			.reduce((sum, n) => sum + n, 0);
		console.log(
			`Ignore Redeliveries: dropped ${dropped} of ${REDELIVERIES} redeliveries, let ${repeated.length} through to the claim; ` +
				`n8n's deduplication store failed (delivery passed on) ${storeFailures} times`,
		);

		// Where they ran: every execution started on exactly one worker, both workers took part.
		const byWorker = cluster.executionsByWorker();
		const ran = new Map<string, string[]>();
		for (const [worker, ids] of byWorker) for (const id of ids) ran.set(id, [...(ran.get(id) ?? []), worker]);
		const placement = countBy(executions.map((e) => (ran.get(e.id) ?? ['none']).join('+')));
		console.log(`dembrane executions per worker: ${JSON.stringify(placement)}`);
		expect(Object.keys(placement).sort()).toEqual(['worker-1', 'worker-2']);
		expect(cluster.webhook.log()).toMatch(/Enqueued execution \d+ \(job/);
		expect(cluster.main.logTail()).not.toMatch(/Worker started execution/);
	});

	test('a Decagon export started by a production webhook runs on a worker and returns every conversation', async () => {
		const t0 = Date.now();
		const response = await fetch(`${cluster.webhookUrl}/webhook/${EXPORT_PATH}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ reason: 'queue e2e' }),
			signal: AbortSignal.timeout(60_000),
		});
		expect(response.status).toBe(200);
		await response.text();
		const execution = await cluster.main.waitForExecution({
			workflowId: EXPORT_WF,
			timeoutMs: 180_000,
			intervalMs: 1_000,
			predicate: (e) => e.status !== 'new' && e.status !== 'running',
		});
		console.log(`Decagon export execution ${execution.id}: ${execution.status} after ${Date.now() - t0} ms on ${cluster.workerOf(execution.id) ?? '?'}`);
		expect(execution.status).toBe('success');
		expect(execution.mode).toBe('webhook');
		const items = execution.outputOf('Decagon');
		expect(items).toHaveLength(EXPORT_CONVERSATIONS);
		expect(new Set(items.map((item) => item.conversation_id))).toEqual(new Set(decagonExport.conversations().map((c) => c.conversation_id)));
		expect(decagonExport.stats().rateLimited).toBe(0);

		// It ran on a worker: exactly one worker logged starting and finishing it; the webhook processor
		// (which received the request) only enqueued it.
		const logs = cluster.workers.map((worker) => worker.log());
		const starters = cluster.workers.filter((_, i) => logs[i].includes(`Worker started execution ${execution.id} (job`));
		expect(starters).toHaveLength(1);
		expect(logs[cluster.workers.indexOf(starters[0])]).toContain(`Worker finished execution ${execution.id} (job`);
		expect(cluster.webhook.log()).toContain(`Enqueued execution ${execution.id} (job`);
		expect(cluster.webhook.log()).not.toContain(`Worker started execution ${execution.id} `);
	});

	test('Decagon Trigger: polls whose executions land on both workers emit every conversation version exactly once', async () => {
		const outcome = await triggerOutcome;
		if (outcome.error) throw outcome.error;
		const rounds = triggerRounds.rounds;
		expect(rounds.length).toBe(TRIGGER_ROUNDS);
		// Which worker takes a job is up to Bull and Redis; all rounds' executions can land on one (seen
		// on a loaded machine). Then that worker stops (nothing else runs now) and one more round must
		// land on the other.
		const used = [...triggerRounds.workersUsed];
		if (used.length === 1) {
			const busy = cluster.workers.find((worker) => worker.name === used[0]);
			expect(busy).toBeDefined();
			await busy!.stop();
			const extra = await triggerRounds.next(cluster);
			expect(extra.executions.map((e) => e.worker)).not.toContain(busy!.name);
		}
		console.log(`Decagon Trigger rounds: ${JSON.stringify(rounds)}`);

		// One more poll after the last round changes nothing: with the one-minute lookback it re-reads the
		// last round's conversations, and must not emit them again.
		const before = (await cluster.allExecutions({ workflowId: TRIGGER_WF })).length;
		const lastChange = performance.timeOrigin + performance.now();
		await waitFor('the next poll after the last round', () => decagonTrigger.stats().requests.some((r) => r.at > lastChange && r.status !== 0), 90_000);
		await sleep(5_000);
		const executions = await cluster.allExecutions({ workflowId: TRIGGER_WF, includeData: true });
		expect(executions.length).toBe(before);

		expect(countBy(executions.map((e) => `${e.status}/${e.mode}`))).toEqual({ 'success/trigger': executions.length });
		const versions = executions.flatMap(versionsOf);
		const expected = rounds.flatMap((round) => round.expected);
		expect(versions.sort()).toEqual([...expected].sort());
		const workers = new Set(executions.map((e) => cluster.workerOf(e.id) ?? 'none'));
		expect([...workers].sort()).toEqual(['worker-1', 'worker-2']);
		expect(decagonTrigger.stats().rateLimited).toBe(0);

		// The state the next poll starts from lives in the workflow's static data in Postgres.
		const staticData = cluster.services.sql(`SELECT "staticData"::text FROM workflow_entity WHERE id = '${TRIGGER_WF}'`);
		expect(staticData).toContain('"sync"');
	});
});

/** The answer to a redelivery sent by the test. */
interface Resent {
	resent: true;
	status: number;
	body: string;
}

// ---------------------------------------------------------------------------------------------
// Decagon Trigger rounds

interface TriggerRound {
	round: number;
	/** `<conversation id>#<message count>#<change type>` of the versions this round made. */
	expected: string[];
	executions: Array<{ id: string; worker: string }>;
	waitedMs: number;
}
interface TriggerOutcome {
	rounds: TriggerRound[];
	error?: Error;
}

const versionsOf = (execution: N8nExecution): string[] =>
	outputOf(execution, 'Decagon Trigger').map((item) => `${String(item.conversation_id)}#${(item.messages as unknown[]).length}#${String(item.change_type)}`);

/**
 * Changes the stand-in's data, waits until the poll after the change emitted it (an execution that a
 * worker ran), and repeats. change(1) may run before n8n starts.
 */
class TriggerRounds {
	private readonly ids: string[] = [];
	private readonly expectedByRound = new Map<number, string[]>();

	constructor(private readonly standin: DecagonStandin) {}

	/** Round 1: two new conversations; then a new message in an earlier one, and every other round a new conversation too. */
	change(round: number): void {
		const expected: string[] = [];
		const addConversation = (text: string) => {
			const now = new Date().toISOString();
			const added = this.standin.addConversation({ created_at: now, messages: [{ text, role: 'USER', created_at: now }] });
			this.ids.push(added.conversation_id);
			expected.push(`${added.conversation_id}#1#new`);
		};
		if (round === 1) {
			addConversation('round 1: first');
			addConversation('round 1: second');
		} else {
			const changed = this.standin.addMessage(this.ids[(round - 2) % this.ids.length], `round ${round}: a new message`);
			expected.push(`${changed.conversation_id}#${changed.messages.length}#updated`);
			if (round % 2 === 0) addConversation(`round ${round}: another conversation`);
		}
		this.expectedByRound.set(round, expected);
	}

	readonly rounds: TriggerRound[] = [];
	private readonly seen = new Map<string, N8nExecution>();
	/** Workers that ran trigger executions so far. */
	readonly workersUsed = new Set<string>();

	/** The first TRIGGER_ROUNDS rounds. */
	async run(cluster: QueueCluster): Promise<TriggerOutcome> {
		while (this.rounds.length < TRIGGER_ROUNDS) await this.next(cluster);
		return { rounds: this.rounds };
	}

	/** One round: changes (unless made already), then waits until every changed version was emitted. */
	async next(cluster: QueueCluster): Promise<TriggerRound> {
		const round = this.rounds.length + 1;
		if (!this.expectedByRound.has(round)) this.change(round);
		const expected = this.expectedByRound.get(round)!;
		const t0 = Date.now();
		const executions: TriggerRound['executions'] = [];
		for (;;) {
			for (const execution of await cluster.allExecutions({ workflowId: TRIGGER_WF, includeData: true })) {
				if (this.seen.has(execution.id) || execution.status === 'new' || execution.status === 'running') continue;
				this.seen.set(execution.id, execution);
				const worker = cluster.workerOf(execution.id) ?? 'none';
				this.workersUsed.add(worker);
				executions.push({ id: execution.id, worker });
			}
			const emitted = new Set([...this.seen.values()].flatMap(versionsOf));
			if (expected.every((version) => emitted.has(version))) break;
			if (Date.now() - t0 > ROUND_WAIT_MS) {
				// What main (where the polls run) logged about them, to tell a slow poll from a failing one.
				const mainLog = cluster.main
					.logTail()
					.split('\n')
					.filter((line) => /poll|Decagon|error/i.test(line))
					.slice(-20)
					.join('\n');
				throw new Error(
					`round ${round}: ${JSON.stringify(expected)} not emitted within ${ROUND_WAIT_MS} ms (executions so far: ${[...this.seen.keys()].join(', ')}); main's log:\n${mainLog}`,
				);
			}
			await sleep(3_000);
		}
		const result = { round, expected, executions, waitedMs: Date.now() - t0 };
		this.rounds.push(result);
		return result;
	}
}

// ---------------------------------------------------------------------------------------------
// Workflows

/**
 * dembrane ECHO Trigger (Ignore Redeliveries on, the default) → Claim delivery (Postgres: insert the
 * deliveryId into a table with a primary key, ON CONFLICT DO NOTHING; a redelivery returns no row and
 * so no item) → Handle delivery.
 * Why the claim: the trigger's check uses n8n's deduplication store (what Remove Duplicates uses too).
 * n8n 2.41.1 keeps a node's seen keys in ONE processed_data row that it
 * reads, changes and writes back without a lock or transaction (DeduplicationHelper.checkProcessedAndRecord),
 * so executions running at the same time on two workers (or in one process) overwrite each other's keys
 * and a later redelivery of a lost key passes (runs with Remove Duplicates lost 60-80 of the 500 keys);
 * and two first executions that both find no row both insert one, so one fails on the primary key (the
 * trigger then lets its delivery through and logs a warning). The claim is atomic in Postgres.
 */
function dembraneWorkflow(credential: CredentialFixture, claims: CredentialFixture, projectId: string): WorkflowFixture {
	return {
		id: DEMBRANE_WF,
		name: 'dembrane: summarized conversations, once per delivery (queue mode)',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: 'e5000000-0000-4000-8000-000000000001',
				name: ECHO_NODE,
				type: 'n8n-nodes-conversation-export.dembraneEchoTrigger',
				typeVersion: 1,
				position: [0, 0],
				webhookId: DEMBRANE_WEBHOOK_ID,
				parameters: {
					registration: 'automatic',
					project: { __rl: true, mode: 'id', value: projectId },
					events: ['conversation.summarized'],
					options: {},
				},
				credentials: { dembraneEchoApi: { id: credential.id, name: credential.name } },
			},
			{
				id: 'e5000000-0000-4000-8000-000000000003',
				name: CLAIM_NODE,
				type: 'n8n-nodes-base.postgres',
				typeVersion: 2.6,
				position: [220, 0],
				parameters: {
					operation: 'executeQuery',
					// A data-modifying CTE under a SELECT: no row (no item) when the delivery was claimed before.
					query: `WITH claimed AS (INSERT INTO ${CLAIMS_TABLE} (delivery_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING delivery_id) SELECT delivery_id FROM claimed`,
					options: { queryReplacement: '={{ [$json.deliveryId] }}' },
				},
				credentials: { postgres: { id: claims.id, name: claims.name } },
			},
			{
				id: 'e5000000-0000-4000-8000-000000000004',
				name: HANDLE_NODE,
				type: 'n8n-nodes-base.noOp',
				typeVersion: 1,
				position: [440, 0],
				parameters: {},
			},
		],
		connections: {
			[ECHO_NODE]: { main: [[{ node: CLAIM_NODE, type: 'main', index: 0 }]] },
			[CLAIM_NODE]: { main: [[{ node: HANDLE_NODE, type: 'main', index: 0 }]] },
		},
	};
}

/** Webhook (production URL on the webhook processor) → Decagon Conversation → Export, everything. */
function exportWorkflow(credential: CredentialFixture): WorkflowFixture {
	return {
		id: EXPORT_WF,
		name: 'Decagon export started by a webhook (queue mode)',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: 'e6000000-0000-4000-8000-000000000001',
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: EXPORT_WEBHOOK_ID,
				parameters: { httpMethod: 'POST', path: EXPORT_PATH, responseMode: 'onReceived', options: {} },
			},
			{
				id: 'e6000000-0000-4000-8000-000000000002',
				name: 'Decagon',
				type: DECAGON,
				typeVersion: 1,
				position: [220, 0],
				parameters: { resource: 'conversation', operation: 'export', returnAll: true },
				credentials: { decagonApi: { id: credential.id, name: credential.name } },
			},
		],
		connections: { Webhook: { main: [[{ node: 'Decagon', type: 'main', index: 0 }]] } },
	};
}

// ---------------------------------------------------------------------------------------------
// Helpers

function deliveryIdOf(payload: Record<string, unknown>): string {
	const subject = (payload.conversation as { id?: string } | undefined)?.id ?? String((payload.report as { id?: number } | undefined)?.id ?? '');
	return `${String(payload.event)}|${subject}|${String(payload.timestamp)}`;
}

function outputOf(execution: N8nExecution, node: string): Array<Record<string, unknown>> {
	return viewRun(execution as unknown as N8nRun).outputOf(node);
}

function countBy(values: string[]): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
	return counts;
}

/** Runs the jobs with at most `width` at a time; results in job order. */
async function pool<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
	const results: T[] = new Array<T>(jobs.length);
	let next = 0;
	await Promise.all(
		Array.from({ length: Math.min(width, jobs.length) }, async () => {
			while (next < jobs.length) {
				const index = next++;
				results[index] = await jobs[index]();
			}
		}),
	);
	return results;
}

/** Until the workflow has `count` executions and none is still new or running (bounded). */
async function waitForFinished(cluster: QueueCluster, workflowId: string, count: number, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	for (;;) {
		const executions = await cluster.allExecutions({ workflowId });
		const statuses = countBy(executions.map((e) => e.status));
		last = JSON.stringify(statuses);
		const pending = (statuses.new ?? 0) + (statuses.running ?? 0);
		if (executions.length >= count && pending === 0) return;
		if (Date.now() > deadline) throw new Error(`${workflowId}: ${count} finished executions expected within ${timeoutMs} ms, have ${last}`);
		await sleep(2_000);
	}
}

async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs: number): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = check();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await sleep(250);
	}
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
