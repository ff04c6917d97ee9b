/**
 * Webhook benchmark: signed dembrane deliveries into a running n8n, our trigger (which verifies the
 * signature the way production computes it and drops redeliveries) vs n8n's Webhook node followed by the
 * Crypto and If nodes a user would add to check the signature and Remove Duplicates for redeliveries.
 * 20 concurrent senders for a fixed time per side; every answered delivery must become one successful
 * execution (nothing lost).
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';

import { PyFloat, pythonBody } from '../test/standins/dembrane';
import { startDembraneStandin } from '../test/standins/dembrane';
import { deliveryHeaders, nowMicros, pythonIsoFormat } from '../test/standins/dembrane/webhooks';
import type { CredentialFixture, N8nServer, WorkflowFixture } from '../test/support/n8n-instance';
import { createN8nInstance } from '../test/support/n8n-instance';
import type { Benchmark } from './measure';
import { median } from './measure';
import { fmtInt, fmtMb, fmtMs, fmtRatio } from './report';
import { PACKAGE } from './workflows';

const SENDERS = 20;
const SECRET = 'bench-webhook-secret-7f3a';
const EVENT = 'conversation.summarized';
const OURS_ID = 'benchHookOurs001';
const THEIRS_ID = 'benchHookTheirs1';
const OURS_WEBHOOK_ID = '0b3e5f1a-7c2d-4e8f-9a6b-1c2d3e4f5a6b';
const THEIRS_WEBHOOK_ID = '5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f';
const THEIRS_PATH = 'bench-dembrane-deliveries';

interface Delivery {
	body: string;
	headers: Record<string, string>;
}

/**
 * Deliveries as production sends them: Python's json.dumps body (insertion order, ensure_ascii, a float
 * duration such as 245.0), signed over the sort_keys compact form.
 */
function makeDeliveries(count: number, projectId: string): Delivery[] {
	const deliveries: Delivery[] = [];
	const started = nowMicros();
	for (let i = 0; i < count; i++) {
		const id = randomUUID();
		const payload = {
			event: EVENT,
			timestamp: pythonIsoFormat(started + i),
			conversation: {
				id,
				created_at: '2026-11-20T09:15:00.123456+00:00',
				updated_at: '2026-11-20T09:45:12.654321+00:00',
				participant_name: `Zoë Müller ${i}`,
				duration: new PyFloat(245 + (i % 7)),
				source: 'PORTAL_AUDIO',
				is_finished: true,
				is_all_chunks_transcribed: true,
				tags: ['Wohnen', 'Café'],
				emails_csv: '',
				transcript: 'Wir haben über den Stadtteil gesprochen. '.repeat(40),
				summary: 'Eine kurze Zusammenfassung des Gesprächs über Verkehr und Grünflächen.',
			},
			project: { id: projectId, name: 'Stadtgespräch', language: 'de' },
			dashboardUrl: `https://dashboard.dembrane.com/de-DE/w/ws/projects/${projectId}/conversations/${id}/overview`,
		};
		const body = pythonBody(payload);
		deliveries.push({ body, headers: deliveryHeaders(EVENT, payload, body, SECRET, 'production') });
	}
	return deliveries;
}

interface Phase {
	accepted: number;
	refused: number;
	errors: number;
	seconds: number;
	latenciesMs: number[];
	statuses: Map<string, number>;
}

/** `senders` loops, each posting one delivery after the other until `durationMs` is over. */
async function sendFor(url: string, nextDelivery: () => Delivery, durationMs: number, senders = SENDERS): Promise<Phase> {
	const agent = new Agent({ keepAlive: true, maxSockets: senders });
	const phase: Phase = { accepted: 0, refused: 0, errors: 0, seconds: 0, latenciesMs: [], statuses: new Map() };
	const target = new URL(url);
	const started = performance.now();
	const end = started + durationMs;
	const post = (delivery: Delivery) =>
		new Promise<number | string>((resolve) => {
			const req = request(
				{ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: delivery.headers, timeout: 30_000 },
				(res) => {
					res.resume();
					res.on('end', () => resolve(res.statusCode ?? 0));
					res.on('error', () => resolve('response error'));
				},
			);
			req.on('timeout', () => req.destroy(new Error('timeout')));
			req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
			req.end(delivery.body);
		});
	await Promise.all(
		Array.from({ length: senders }, async () => {
			while (performance.now() < end) {
				const delivery = nextDelivery();
				const sent = performance.now();
				const status = await post(delivery);
				phase.latenciesMs.push(performance.now() - sent);
				phase.statuses.set(String(status), (phase.statuses.get(String(status)) ?? 0) + 1);
				if (typeof status === 'number' && status >= 200 && status < 300) phase.accepted++;
				else if (typeof status === 'number') phase.refused++;
				else phase.errors++;
			}
		}),
	);
	phase.seconds = (performance.now() - started) / 1000;
	agent.destroy();
	return phase;
}

/** Executions of a workflow with a status, counted through the public API's cursor pages. */
async function countExecutions(server: N8nServer, workflowId: string, status: string): Promise<number> {
	let count = 0;
	let cursor: string | undefined;
	for (let page = 0; page < 10_000; page++) {
		const params = new URLSearchParams({ workflowId, status, limit: '250' });
		if (cursor) params.set('cursor', cursor);
		const body = await server.api<{ data: unknown[]; nextCursor?: string | null }>(`/executions?${params.toString()}`);
		count += body.data.length;
		if (!body.nextCursor) return count;
		cursor = body.nextCursor;
	}
	throw new Error('more than 2.5 million executions?');
}

/** Waits until the workflow has `expected` finished executions (success + error) or nothing moves for 60 s. */
async function drain(server: N8nServer, workflowId: string, expected: number): Promise<{ success: number; error: number; waitedMs: number }> {
	const started = Date.now();
	let last = -1;
	let lastChange = Date.now();
	for (;;) {
		const success = await countExecutions(server, workflowId, 'success');
		const error = await countExecutions(server, workflowId, 'error');
		if (success + error >= expected) return { success, error, waitedMs: Date.now() - started };
		if (success + error !== last) {
			last = success + error;
			lastChange = Date.now();
		} else if (Date.now() - lastChange > 60_000 || Date.now() - started > 15 * 60_000) {
			return { success, error, waitedMs: Date.now() - started };
		}
		await new Promise((resolve) => setTimeout(resolve, 1_000));
	}
}

function oursWorkflow(credential: CredentialFixture): WorkflowFixture {
	return {
		id: OURS_ID,
		name: 'Bench: dembrane deliveries (ours)',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: `${OURS_ID}-node-0`,
				name: 'Dembrane ECHO Trigger',
				type: `${PACKAGE}.dembraneEchoTrigger`,
				typeVersion: 1.1, // what the node panel adds (defaultVersion)
				position: [0, 0],
				webhookId: OURS_WEBHOOK_ID,
				parameters: { registration: 'manual', events: [EVENT], secret: SECRET, options: {} },
				credentials: { [credential.type]: { id: credential.id, name: credential.name } },
			},
			{ id: `${OURS_ID}-node-1`, name: 'Handle delivery', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [220, 0], parameters: {} },
		],
		connections: { 'Dembrane ECHO Trigger': { main: [[{ node: 'Handle delivery', type: 'main', index: 0 }]] } },
	};
}

/**
 * Webhook 2.1 (POST, answer at once) → Crypto 2 (HMAC-SHA256 hex of the body as JSON; the secret in a Crypto
 * credential) → If 2.3 ("sha256=" + that equals the X-Webhook-Signature header) → true: Remove Duplicates 2
 * (items processed in previous executions, keyed on event, conversation id and timestamp, as our trigger's
 * Ignore Redeliveries) → No Operation. What a user builds without our node.
 */
function theirsWorkflow(crypto: CredentialFixture): WorkflowFixture {
	const node = (index: number, name: string, type: string, typeVersion: number, parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
		id: `${THEIRS_ID}-node-${index}`,
		name,
		type,
		typeVersion,
		position: [index * 220, 0],
		parameters,
		...extra,
	});
	return {
		id: THEIRS_ID,
		name: 'Bench: dembrane deliveries (built-ins)',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			node(0, 'Webhook', 'n8n-nodes-base.webhook', 2.1, { httpMethod: 'POST', path: THEIRS_PATH, responseMode: 'onReceived', options: {} }, { webhookId: THEIRS_WEBHOOK_ID }),
			node(
				1,
				'Crypto',
				'n8n-nodes-base.crypto',
				2,
				{ action: 'hmac', type: 'SHA256', value: '={{ JSON.stringify($json.body) }}', dataPropertyName: 'signature', encoding: 'hex' },
				{ credentials: { crypto: { id: crypto.id, name: crypto.name } } },
			),
			node(2, 'Signature matches?', 'n8n-nodes-base.if', 2.3, {
				conditions: {
					options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 3 },
					conditions: [
						{
							id: '3f9c2a1e-5b7d-4c8e-9f0a-1b2c3d4e5f60',
							leftValue: "={{ 'sha256=' + $json.signature }}",
							rightValue: "={{ $json.headers['x-webhook-signature'] }}",
							operator: { type: 'string', operation: 'equals' },
						},
					],
					combinator: 'and',
				},
				options: {},
			}),
			node(3, 'Once per delivery', 'n8n-nodes-base.removeDuplicates', 2, {
				operation: 'removeItemsSeenInPreviousExecutions',
				logic: 'removeItemsWithAlreadySeenKeyValues',
				dedupeValue: '={{ $json.body.event }}|{{ $json.body.conversation.id }}|{{ $json.body.timestamp }}',
				options: {},
			}),
			node(4, 'Handle delivery', 'n8n-nodes-base.noOp', 1, {}),
		],
		connections: {
			Webhook: { main: [[{ node: 'Crypto', type: 'main', index: 0 }]] },
			Crypto: { main: [[{ node: 'Signature matches?', type: 'main', index: 0 }]] },
			'Signature matches?': { main: [[{ node: 'Once per delivery', type: 'main', index: 0 }], []] },
			'Once per delivery': { main: [[{ node: 'Handle delivery', type: 'main', index: 0 }]] },
		},
	};
}

interface SideResult {
	phases: Phase[];
	executions: { success: number; error: number; waitedMs: number }[];
}

interface Side {
	label: 'ours' | 'theirs';
	workflowId: string;
	url: string;
}

function sidesOf(server: N8nServer): Side[] {
	return [
		{ label: 'ours', workflowId: OURS_ID, url: `${server.baseUrl}/webhook/${OURS_WEBHOOK_ID}/webhook` },
		{ label: 'theirs', workflowId: THEIRS_ID, url: `${server.baseUrl}/webhook/${THEIRS_PATH}` },
	];
}

/**
 * One measurement on a running n8n: both webhooks answering, an unmeasured warm-up round, then `runs`
 * rounds of one phase per side, the order alternating so the machine's other work weighs on both alike.
 * Executions are counted from the workflow's totals at the start, so a restarted n8n can be measured again.
 */
async function measureSides(
	server: N8nServer,
	nextDelivery: () => Delivery,
	options: { durationMs: number; runs: number; tag: string; log: (line: string) => void; fail: (message: string) => void },
): Promise<Map<string, SideResult>> {
	const sides = sidesOf(server);
	const finished = new Map<string, { success: number; error: number }>();
	for (const side of sides) {
		finished.set(side.label, { success: await countExecutions(server, side.workflowId, 'success'), error: await countExecutions(server, side.workflowId, 'error') });
	}
	// Every answered delivery so far, per side: what its executions must add up to.
	const answered = new Map<string, number>(sides.map((side) => [side.label, 0]));
	// Both webhooks are live once n8n has activated the published workflows: one delivery each.
	const warmDeadline = Date.now() + 90_000;
	for (const side of sides) {
		for (;;) {
			const phase = await sendFor(side.url, nextDelivery, 1, 1);
			answered.set(side.label, answered.get(side.label)! + phase.accepted);
			if (phase.accepted > 0) break;
			if (Date.now() > warmDeadline) throw new Error(`${side.label}: the webhook never answered 2xx (${[...phase.statuses.keys()].join(', ')})`);
			await new Promise((resolve) => setTimeout(resolve, 1_000));
		}
	}
	// A short unmeasured round per side warms both up (JIT, database, connections).
	for (const side of sides) {
		const phase = await sendFor(side.url, nextDelivery, Math.min(3_000, options.durationMs / 2));
		answered.set(side.label, answered.get(side.label)! + phase.accepted);
	}
	for (const side of sides) {
		const before = finished.get(side.label)!;
		const expected = before.success + before.error + answered.get(side.label)!;
		const settled = await drain(server, side.workflowId, expected);
		finished.set(side.label, settled);
		if (settled.success + settled.error !== expected) {
			options.fail(`${options.tag}${side.label} warm-up: ${settled.success + settled.error - before.success - before.error} executions for ${answered.get(side.label)} answered deliveries`);
		}
	}

	const results = new Map<string, SideResult>(sides.map((side) => [side.label, { phases: [], executions: [] }]));
	for (let round = 0; round < options.runs; round++) {
		for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
			const before = finished.get(side.label)!;
			const phase = await sendFor(side.url, nextDelivery, options.durationMs);
			const drained = await drain(server, side.workflowId, before.success + before.error + phase.accepted);
			const executions = { success: drained.success - before.success, error: drained.error - before.error, waitedMs: drained.waitedMs };
			results.get(side.label)!.phases.push(phase);
			results.get(side.label)!.executions.push(executions);
			finished.set(side.label, drained);
			options.log(
				`${options.tag}${side.label} run ${round + 1}: ${fmtInt(phase.accepted)} answered 2xx in ${phase.seconds.toFixed(1)} s (${(phase.accepted / phase.seconds).toFixed(1)}/s), ${fmtInt(executions.success)} successful and ${fmtInt(executions.error)} failed executions, drained in ${fmtMs(drained.waitedMs)}`,
			);
		}
	}
	return results;
}

/** The measured deliveries per second of a side: the median of its phases. */
function medianRate(result: SideResult): number {
	return median(result.phases.map((phase) => phase.accepted / phase.seconds));
}

export const webhookDeliveries: Benchmark = {
	name: 'webhook-deliveries',
	title: 'Signed dembrane webhook deliveries: our trigger vs Webhook → Crypto → If → Remove Duplicates',
	async run(context, report) {
		const durationMs = context.size === 'full' ? 20_000 : 4_000;
		report.sizes = `${SENDERS} concurrent senders, ${fmtMs(durationMs)} per side and run`;
		const dembrane = await startDembraneStandin({ projects: 1 });
		context.defer(() => dembrane.close());
		const credential: CredentialFixture = {
			id: 'benchDembraneHook',
			name: 'dembrane bench token',
			type: 'dembraneEchoApi',
			data: { baseUrl: dembrane.url, authMethod: 'accessToken', accessToken: dembrane.staticToken },
		};
		const crypto: CredentialFixture = { id: 'benchCryptoHmac1', name: 'Webhook secret', type: 'crypto', data: { hmacSecret: SECRET } };
		const instanceStarted = Date.now();
		const n8n = await createN8nInstance({ packageTarball: context.tarball, credentials: [credential, crypto], workflows: [oursWorkflow(credential), theirsWorkflow(crypto)] });
		context.defer(() => n8n.dispose());
		let server = await n8n.start({ publish: [OURS_ID, THEIRS_ID] });
		context.defer(async () => {
			await server.stop();
		});
		context.log(`n8n server ready in ${fmtMs(Date.now() - instanceStarted)} at ${server.baseUrl}`);

		const projectId = dembrane.listProjects()[0].id;
		// Each delivery is sent once (both sides check for redeliveries): one cursor over all phases.
		const deliveries = makeDeliveries(context.size === 'full' ? 12_000 : 1_500, projectId);
		let cursor = 0;
		const nextDelivery = () => deliveries[cursor++ % deliveries.length];
		const measureOptions = { durationMs, runs: context.runs, log: context.log, fail: (message: string) => report.fail(message) };

		// n8n as installed: the measurement the target is about.
		const results = await measureSides(server, nextDelivery, { ...measureOptions, tag: '' });
		const peakRssKb = server.peakRssKb();

		// What the newest execution of each side did with its (fresh) delivery: the built-in chain's If branch,
		// and whether ours reached "Handle delivery" (its redelivery check let it pass).
		type RunData = Record<string, Array<{ data?: { main?: unknown[][] } }>>;
		const newestRun = async (workflowId: string): Promise<RunData | undefined> => {
			const [sample] = await server.executions({ workflowId, includeData: true, limit: 1 });
			return (sample as unknown as { data?: { resultData?: { runData?: RunData } } })?.data?.resultData?.runData;
		};
		const handledIn = (run: RunData | undefined) => (run?.['Handle delivery']?.[0]?.data?.main?.[0]?.length ?? 0) > 0;
		const theirsRun = await newestRun(THEIRS_ID);
		const oursRun = await newestRun(OURS_ID);
		const matched = (theirsRun?.['Signature matches?']?.[0]?.data?.main?.[0]?.length ?? 0) > 0;

		// The same n8n restarted with the expression sandbox acquired only when an expression is evaluated
		// (N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE, off by default): what the per-delivery isolates cost each side.
		await server.stop();
		server = await n8n.start({ env: { N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' } });
		const lazyResults = await measureSides(server, nextDelivery, { ...measureOptions, tag: 'lazy acquire, ' });

		const rows: string[][] = [];
		const chainName = {
			ours: 'ours: dembrane ECHO Trigger (Manual registration, secret) → No Operation',
			theirs: 'theirs: Webhook → Crypto (HMAC) → If → Remove Duplicates → No Operation',
		};
		for (const [setting, measured] of [
			['', results],
			[', N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true', lazyResults],
		] as const) {
			for (const label of ['ours', 'theirs'] as const) {
				const result = measured.get(label)!;
				const rates = result.phases.map((phase) => phase.accepted / phase.seconds);
				const answered = result.phases.reduce((sum, phase) => sum + phase.accepted, 0);
				const succeeded = result.executions.reduce((sum, executions) => sum + executions.success, 0);
				const other = result.phases.flatMap((phase) => [...phase.statuses].filter(([status]) => !/^2\d\d$/.test(status)).map(([status, n]) => `${status} × ${n}`));
				const latencies = result.phases.flatMap((phase) => phase.latenciesMs);
				rows.push([
					`${chainName[label]}${setting}`,
					`${median(rates).toFixed(1)} (${rates.map((r) => r.toFixed(1)).join(', ')})`,
					fmtMs(median(latencies)),
					fmtInt(answered),
					other.join(', ') || 'none',
					fmtInt(succeeded),
					fmtMs(median(result.executions.map((executions) => executions.waitedMs))),
				]);
				report.target(
					`${label}${setting}: every answered delivery is one successful execution`,
					`${fmtInt(succeeded)} of ${fmtInt(answered)}`,
					succeeded === answered && result.executions.every((executions) => executions.error === 0),
				);
			}
		}
		report.table(
			['Chain', 'Deliveries answered 2xx per second (median; runs)', 'Median answer time', 'Answered', 'Other answers', 'Successful executions', 'Drain after sending (median)'],
			rows,
		);
		const ours = medianRate(results.get('ours')!);
		const theirs = medianRate(results.get('theirs')!);
		report.target('our deliveries per second ≥ 0.9× theirs, zero lost', `${fmtRatio(ours / theirs)} (${ours.toFixed(1)}/s vs ${theirs.toFixed(1)}/s)`, ours / theirs >= 0.9);
		const oursLazy = medianRate(lazyResults.get('ours')!);
		const theirsLazy = medianRate(lazyResults.get('theirs')!);
		report.finding(
			'ours / theirs with N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true',
			`${fmtRatio(oursLazy / theirsLazy)} (${oursLazy.toFixed(1)}/s vs ${theirsLazy.toFixed(1)}/s)`,
		);
		report.target(
			'theirs: the signature check accepts production deliveries',
			matched ? 'accepted (sampled execution)' : 'rejected: the If node sent the sampled production delivery to false',
			matched,
		);
		report.target(
			'ours: a fresh delivery reaches "Handle delivery" (newest execution; Ignore Redeliveries lets it pass)',
			handledIn(oursRun) ? 'yes' : 'no',
			handledIn(oursRun),
		);
		report.note(
			`Both workflows are published in one \`n8n start\` (peak RSS ${fmtMb(peakRssKb)} over the first measurement) and answer at once ("respond immediately"); the executions run after the answer. The senders post production-like \`${EVENT}\` deliveries (Python json.dumps body, signature over the sort_keys compact form) with keep-alive connections from this process.`,
		);
		report.note(
			"The built-in chain hashes `JSON.stringify($json.body)`, which is not the text dembrane signs (Python sorts the keys, escapes non-ASCII and writes 245.0 where JavaScript writes 245): matching production needs a Code node that re-implements Python's json.dumps, as our trigger does. So its If sends production deliveries to false and its Remove Duplicates never runs: the built-in side does less work per delivery than a working chain would.",
		);
		report.note(
			"Why ours is slower with n8n's defaults: n8n 2.41.1 acquires a fresh expression isolate for the webhook phase of every trigger except its own Webhook node (`LiveWebhooks.webhookPhaseNeedsIsolate`), and one for every execution, so each of our deliveries pays two isolates and each of the chain's one. The second measurement restarts the same n8n with `N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true`, which acquires an isolate only when an expression is evaluated: our trigger → No Operation evaluates none, the chain's Crypto, If and Remove Duplicates do.",
		);
	},
};
