/**
 * n8n 2.41.1 in queue mode on one machine, for the queue e2e test: Postgres and Redis from
 * scripts/queue-services.sh, a main process (`n8n start`), workers (`n8n worker`) and a webhook
 * processor (`n8n webhook`), each with its own user folder and this package installed in it the way
 * n8n's docs describe for queue mode (createN8nInstance installs it into `<folder>/.n8n/nodes`).
 *
 *   const missing = queueServicesMissing();               // [] when redis-server and postgres exist
 *   const cluster = await startQueueCluster({ credentials, workflows, publish: ['wfId'] });  // or { services, ... }
 *   cluster.main.api(...); cluster.webhookUrl;            // production webhooks go to the webhook processor
 *   await cluster.allExecutions({ workflowId, includeData: true });
 *   cluster.workerOf(executionId);                        // which worker logged "Worker started execution <id>"
 *   await cluster.stop();
 *
 * Facts this relies on, checked against n8n 2.41.1:
 * - Every process gets EXECUTIONS_MODE=queue, DB_TYPE=postgresdb with DB_POSTGRESDB_*, QUEUE_BULL_REDIS_*
 *   and the same N8N_ENCRYPTION_KEY (createN8nInstance's fixed key).
 * - Main: N8N_WEBHOOK_URL is the webhook processor's address, so webhooks registered on activation (our
 *   dembrane trigger's) point there; N8N_DISABLE_PRODUCTION_MAIN_PROCESS=true keeps main from serving
 *   production webhooks itself. Main is the only instance that runs poll triggers (its durable scheduler
 *   is enabled for instanceType 'main' only); what a poll emits becomes a queued execution.
 * - Workers: `n8n worker` logs "Worker started execution <id> (job <n>)" and "Worker finished execution
 *   <id> ..."; QUEUE_HEALTH_CHECK_ACTIVE/QUEUE_HEALTH_CHECK_PORT/N8N_WORKER_SERVER_ADDRESS give it a
 *   /healthz on its own loopback port. The webhook processor logs "Enqueued execution <id> (job <n>)".
 * - Every process starts a task broker: each gets its own N8N_RUNNERS_BROKER_PORT.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import * as path from 'node:path';

import type { CredentialFixture, N8nExecution, N8nInstance, N8nRuntime, N8nServer, WorkflowFixture } from './n8n-instance';
import { createN8nInstance, freePort, packPackage, REPO_ROOT, resolveN8nRuntime } from './n8n-instance';

const SERVICES_SCRIPT = path.join(REPO_ROOT, 'scripts', 'queue-services.sh');
const START_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Postgres and Redis

/** What is missing to run Postgres and Redis here (`queue-services.sh check`); [] when nothing. */
export function queueServicesMissing(): string[] {
	const result = spawnSync('bash', [SERVICES_SCRIPT, 'check'], { encoding: 'utf8', timeout: 30_000 });
	if (result.status === 0) return [];
	const lines = `${result.stdout ?? ''}`.split('\n').filter(Boolean);
	return lines.length > 0 ? lines : [`queue-services.sh check failed (${result.status ?? result.signal}): ${result.stderr ?? ''}`];
}

export interface QueueServices {
	dir: string;
	/** DB_TYPE, DB_POSTGRESDB_*, QUEUE_BULL_REDIS_* for n8n. */
	env: Record<string, string>;
	/** Runs SQL as the n8n role and returns psql's unaligned, tuples-only output. */
	sql(query: string): string;
	stop(): void;
}

export function startQueueServices(): QueueServices {
	const result = spawnSync('bash', [SERVICES_SCRIPT, 'start'], {
		encoding: 'utf8',
		timeout: 180_000,
		env: { ...process.env, QUEUE_SERVICES_OWNER_PID: String(process.pid) },
	});
	if (result.status !== 0) {
		throw new Error(`queue-services.sh start failed (${result.status ?? result.signal}):\n${result.stderr}\n${result.stdout}`);
	}
	const values: Record<string, string> = {};
	for (const line of result.stdout.split('\n')) {
		const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
		if (match) values[match[1]] = match[2];
	}
	const dir = values.QUEUE_SERVICES_DIR;
	if (!dir || !values.DB_POSTGRESDB_PORT || !values.QUEUE_BULL_REDIS_PORT) throw new Error(`queue-services.sh start printed:\n${result.stdout}`);
	const { QUEUE_SERVICES_DIR: _dir, ...env } = values;
	let stopped = false;
	return {
		dir,
		env,
		sql(query) {
			const psql = spawnSync('psql', ['-h', '127.0.0.1', '-p', env.DB_POSTGRESDB_PORT, '-U', env.DB_POSTGRESDB_USER, '-d', env.DB_POSTGRESDB_DATABASE, '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', query], {
				encoding: 'utf8',
				timeout: 60_000,
				env: { ...process.env, PGPASSWORD: env.DB_POSTGRESDB_PASSWORD },
			});
			if (psql.status !== 0) throw new Error(`psql failed (${psql.status ?? psql.signal}): ${psql.stderr}`);
			return psql.stdout.trim();
		},
		stop() {
			if (stopped) return;
			stopped = true;
			const stop = spawnSync('bash', [SERVICES_SCRIPT, 'stop', dir], { encoding: 'utf8', timeout: 120_000 });
			if (stop.status !== 0) console.warn(`queue-services.sh stop ${dir}: ${stop.status ?? stop.signal} ${stop.stderr}`);
		},
	};
}

// ---------------------------------------------------------------------------------------------
// Worker and webhook processes

export interface N8nDaemon {
	/** `worker-1`, `worker-2`, `webhook`. */
	name: string;
	/** The port of its /healthz. */
	port: number;
	pid: number;
	logFile: string;
	/** Its whole log so far. */
	log(): string;
	alive(): boolean;
	stop(): Promise<void>;
}

const liveDaemons = new Set<() => void>();
process.once('exit', () => {
	for (const kill of liveDaemons) kill();
});

/** Pids below `pid` (the task runner), from /proc; [] where /proc is missing. */
function descendantsOf(pid: number): number[] {
	const found: number[] = [];
	const queue = [pid];
	while (queue.length > 0) {
		const current = queue.shift()!;
		let children: number[] = [];
		try {
			children = readFileSync(`/proc/${current}/task/${current}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
		} catch {
			// gone, or no /proc
		}
		found.push(...children);
		queue.push(...children);
	}
	return found;
}

function signal(pids: number[], sig: NodeJS.Signals): void {
	for (const pid of pids) {
		try {
			process.kill(pid, sig);
		} catch {
			// gone already
		}
	}
}

async function probeOk(url: string): Promise<boolean> {
	try {
		const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
		await response.text();
		return response.ok;
	} catch {
		return false;
	}
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts `n8n <command>` on an instance's user folder and waits (bounded) until `healthUrl` answers 2xx. */
async function startDaemon(
	runtime: N8nRuntime,
	instance: N8nInstance,
	name: string,
	args: string[],
	port: number,
	env: Record<string, string>,
): Promise<N8nDaemon> {
	const logFile = path.join(instance.userFolder, `n8n-${name}.log`);
	const log = createWriteStream(logFile, { flags: 'a' });
	const child: ChildProcess = spawn(runtime.nodeBin, [runtime.n8nMain, ...args], {
		cwd: instance.userFolder,
		env: { ...instance.env, N8N_RUNNERS_BROKER_PORT: String(await freePort()), ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	child.stdout?.pipe(log, { end: false });
	child.stderr?.pipe(log, { end: false });
	let exited: string | undefined;
	const exit = new Promise<void>((resolve) =>
		child.once('exit', (code, sig) => {
			exited = String(code ?? sig);
			resolve();
		}),
	);
	const pid = child.pid ?? -1;
	let known: number[] = [];
	const killAll = () => signal([...(exited ? [] : [pid]), ...known], 'SIGKILL');
	liveDaemons.add(killAll);
	let stopping: Promise<void> | undefined;
	const daemon: N8nDaemon = {
		name,
		port,
		pid,
		logFile,
		log: () => readFileSync(logFile, 'utf8'),
		alive: () => exited === undefined,
		stop() {
			stopping ??= (async () => {
				known = [...new Set([...known, ...descendantsOf(pid)])];
				if (!exited) {
					child.kill('SIGTERM');
					const timer = setTimeout(killAll, STOP_GRACE_MS);
					await exit;
					clearTimeout(timer);
				}
				signal(known, 'SIGKILL'); // a task runner left behind
				liveDaemons.delete(killAll);
				await new Promise<void>((resolve) => log.end(resolve));
			})();
			return stopping;
		},
	};
	const deadline = Date.now() + START_TIMEOUT_MS;
	const healthUrl = `http://127.0.0.1:${port}/healthz`;
	for (;;) {
		if (exited) {
			await daemon.stop();
			throw new Error(`n8n ${args.join(' ')} (${name}) exited with ${exited} before it was ready:\n${daemon.log().slice(-4000)}`);
		}
		if (await probeOk(healthUrl)) break;
		if (Date.now() > deadline) {
			await daemon.stop();
			throw new Error(`n8n ${args.join(' ')} (${name}) not healthy after ${START_TIMEOUT_MS} ms:\n${daemon.log().slice(-4000)}`);
		}
		known = [...new Set([...known, ...descendantsOf(pid)])];
		await delay(500);
	}
	return daemon;
}

// ---------------------------------------------------------------------------------------------
// The cluster

export interface QueueClusterOptions {
	credentials: CredentialFixture[];
	workflows: WorkflowFixture[];
	/** Workflows published before main starts. */
	publish: string[];
	/** Default 2. */
	workers?: number;
	/** Concurrent jobs per worker (`n8n worker --concurrency`), default 10 (n8n's default). */
	workerConcurrency?: number;
	/** Extra environment for every process. */
	env?: Record<string, string>;
	/** Postgres and Redis started by the caller (to put their address in a credential); stop() stops them. */
	services?: QueueServices;
}

export interface QueueCluster {
	services: QueueServices;
	mainInstance: N8nInstance;
	main: N8nServer;
	workers: N8nDaemon[];
	webhook: N8nDaemon;
	/** The webhook processor's base URL, e.g. http://127.0.0.1:41234 (production webhooks: `/webhook/...`). */
	webhookUrl: string;
	/** Every execution of the public API's listing, all pages, newest first. */
	allExecutions(query: { workflowId: string; includeData?: boolean }): Promise<N8nExecution[]>;
	/** The worker whose log says it started this execution; undefined when none does. */
	workerOf(executionId: string): string | undefined;
	/** Execution ids each worker started (from their logs). */
	executionsByWorker(): Map<string, string[]>;
	/** How long each step took, for the test's log. */
	timings: Record<string, number>;
	stop(): Promise<void>;
}

export async function startQueueCluster(options: QueueClusterOptions): Promise<QueueCluster> {
	const timings: Record<string, number> = {};
	let mark = Date.now();
	const lap = (what: string) => {
		timings[what] = Date.now() - mark;
		mark = Date.now();
	};
	const runtime = resolveN8nRuntime();
	const tarball = await packPackage();
	lap('pack');
	const services = options.services ?? startQueueServices();
	if (!options.services) lap('postgres+redis');
	const instances: N8nInstance[] = [];
	const daemons: N8nDaemon[] = [];
	let main: N8nServer | undefined;
	const stop = async () => {
		await Promise.all(daemons.map((daemon) => daemon.stop()));
		await main?.stop();
		services.stop();
		// The user folders go last: the logs in them are useful until then.
		await Promise.all(instances.map((instance) => instance.dispose()));
	};
	try {
		const webhookPort = await freePort();
		const webhookUrl = `http://127.0.0.1:${webhookPort}`;
		const common: Record<string, string> = {
			...services.env,
			EXECUTIONS_MODE: 'queue',
			N8N_LOG_LEVEL: 'info',
			N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '10',
			...options.env,
		};
		const workerCount = options.workers ?? 2;
		// Main's folder gets the credentials and workflows (imported into Postgres, which also runs the
		// migrations once); the others only get the package, as on separate machines.
		const created = await Promise.allSettled([
			createN8nInstance({
				packageTarball: tarball,
				credentials: options.credentials,
				workflows: options.workflows,
				env: { ...common, N8N_WEBHOOK_URL: `${webhookUrl}/`, N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true' },
			}),
			...Array.from({ length: workerCount + 1 }, async () => await createN8nInstance({ packageTarball: tarball, env: common })),
		]);
		for (const result of created) if (result.status === 'fulfilled') instances.push(result.value);
		const failed = created.find((result): result is PromiseRejectedResult => result.status === 'rejected');
		if (failed) throw failed.reason;
		const [mainInstance, ...others] = instances;
		lap('install package x' + String(instances.length) + ', import into Postgres');
		main = await mainInstance.start({ publish: options.publish });
		lap('main ready');
		const started = await Promise.all([
			...others.slice(0, workerCount).map(async (instance, index) => {
				const port = await freePort();
				return await startDaemon(runtime, instance, `worker-${index + 1}`, ['worker', `--concurrency=${options.workerConcurrency ?? 10}`], port, {
					QUEUE_HEALTH_CHECK_ACTIVE: 'true',
					QUEUE_HEALTH_CHECK_PORT: String(port),
					N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
				});
			}),
			startDaemon(runtime, others[workerCount], 'webhook', ['webhook'], webhookPort, {
				N8N_PORT: String(webhookPort),
				N8N_LISTEN_ADDRESS: '127.0.0.1',
				N8N_HOST: '127.0.0.1',
			}),
		]);
		daemons.push(...started);
		lap('workers and webhook processor ready');
		const workers = started.slice(0, workerCount);
		const webhook = started[workerCount];

		const executionsByWorker = () => {
			const byWorker = new Map<string, string[]>();
			for (const worker of workers) {
				byWorker.set(worker.name, [...worker.log().matchAll(/Worker started execution (\d+) \(job/g)].map((match) => match[1]));
			}
			return byWorker;
		};
		const server = main;
		return {
			services,
			mainInstance,
			main: server,
			workers,
			webhook,
			webhookUrl,
			timings,
			async allExecutions({ workflowId, includeData = false }) {
				const all: N8nExecution[] = [];
				let cursor: string | undefined;
				for (let page = 0; page < 1000; page++) {
					const params = new URLSearchParams({ workflowId, limit: includeData ? '100' : '250' });
					if (includeData) params.set('includeData', 'true');
					if (cursor) params.set('cursor', cursor);
					const body = await server.api<{ data: N8nExecution[]; nextCursor?: string | null }>(`/executions?${params.toString()}`);
					all.push(...body.data);
					if (!body.nextCursor || body.data.length === 0) return all;
					cursor = body.nextCursor;
				}
				throw new Error('more than 1000 pages of executions');
			},
			workerOf(executionId) {
				for (const [name, ids] of executionsByWorker()) if (ids.includes(executionId)) return name;
				return undefined;
			},
			executionsByWorker,
			stop,
		};
	} catch (error) {
		await stop();
		throw error;
	}
}
