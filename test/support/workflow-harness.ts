/**
 * Layer 2 test harness: runs workflow JSON (as exported from the n8n editor) on n8n-core's real
 * execution engine (`WorkflowExecute` over a real n8n-workflow `Workflow`), in-process, with our
 * node and credential classes loaded from their TypeScript sources. HTTP is real: point the
 * credentials at loopback stand-in servers. Nothing of n8n's node-facing API is mocked.
 *
 * What is ours and what is n8n's:
 * - Node and credential classes are loaded by n8n-core's own `PackageDirectoryLoader` from the
 *   `n8n` section of package.json, so they get the same post-processing and validation as when
 *   n8n loads the published package. We only redirect `dist/**.js` to the `.ts` sources.
 *   Node types are registered under `<package name>.<node name>`, the type n8n gives a
 *   community package, e.g. `n8n-nodes-conversation-export.decagon`.
 * - `n8n-nodes-base` is not installed; `n8n-nodes-base.manualTrigger` is provided by a tiny
 *   trigger class below, so editor exports that start with "When clicking 'Execute workflow'" run.
 * - Credentials: ./fake-credentials-helper.ts, our implementation of n8n's ICredentialsHelper
 *   (defaults, expression resolution, `authenticate`, expirable `preAuthentication`) over an
 *   in-memory store instead of n8n's encrypted database.
 * - Binary data: n8n-core's BinaryDataService from the `@n8n/di` Container, initialised once per
 *   process like n8n does at startup. Default mode is `filesystem` (n8n 2.x's default) in a
 *   temporary N8N_USER_FOLDER; `N8N_DEFAULT_BINARY_DATA_MODE=default` selects in-memory storage.
 *
 * Expression engine (the isolated-vm question), checked on this machine with n8n-workflow 2.41.0:
 * - n8n 2.x's server starts the `vm` engine by default (@n8n/config `N8N_EXPRESSION_ENGINE`,
 *   default 'vm'), which runs expressions in isolated-vm. isolated-vm 7.0.1 ships prebuilt
 *   binaries only for Node ABI 137/147 (Node 24/25); on Node 20 (ABI 115) `require('isolated-vm')`
 *   fails with "No native build was found ... abi=115" and the engine fails to start ("IsolatePool
 *   failed to create any bridges"). Under Node 24 the prebuilt binary loads, no native build needed.
 * - n8n-workflow on its own (no server startup) uses the `legacy` evaluator (tournament + plain JS,
 *   the n8n 1.x engine, still selectable in 2.x with N8N_EXPRESSION_ENGINE=legacy). That works on
 *   any Node version.
 * - `Expression.initExpressionEngine()` loads the sandboxed engines with a dynamic `import()`.
 *   Jest can only serve that with `--experimental-vm-modules`; without it Jest throws "A dynamic
 *   import callback was invoked without --experimental-vm-modules".
 * So this harness starts the engine the way n8n's server does, from the same config (and the same
 * N8N_EXPRESSION_ENGINE* variables): if N8N_EXPRESSION_ENGINE is set, exactly that engine or fail;
 * otherwise the most production-like one that can start here: `vm` (Node >= 24 and
 * NODE_OPTIONS=--experimental-vm-modules), then `quickjs` (WASM sandbox, any Node, needs the flag),
 * then `legacy`. Plain `npx jest --selectProjects workflow` on Node 20 therefore runs on `legacy`;
 *   NODE_OPTIONS=--experimental-vm-modules <node24>/bin/node node_modules/jest/bin/jest.js --selectProjects workflow
 * runs the same tests on `vm`, as n8n 2.x does in production. Each result says which engine ran.
 */
import { GlobalConfig } from '@n8n/config';
import { Container } from '@n8n/di';
import {
	BinaryDataService,
	ExecutionLifecycleHooks,
	ExternalSecretsProxy,
	PackageDirectoryLoader,
	PollContext,
	WorkflowExecute,
} from 'n8n-core';
import {
	createRunExecutionData,
	Expression,
	NodeConnectionTypes,
	NodeHelpers,
	UnexpectedError,
	Workflow,
} from 'n8n-workflow';
import type {
	ExecutionError,
	ExecutionStatus,
	IBinaryData,
	ICredentialDataDecryptedObject,
	ICredentialType,
	IConnections,
	IDataObject,
	INode,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	INodeTypes,
	IRun,
	IRunData,
	ITriggerFunctions,
	ITriggerResponse,
	IVersionedNodeType,
	IWorkflowBase,
	IWorkflowExecuteAdditionalData,
	IWorkflowSettings,
	WorkflowExecuteMode,
} from 'n8n-workflow';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { FakeCredentialsHelper } from './fake-credentials-helper';
import type { CredentialUpdate, PreAuthenticationCall } from './fake-credentials-helper';

export type ExpressionEngineName = 'legacy' | 'vm' | 'quickjs';

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

// n8n-core keeps its settings, encryption key and filesystem binary data under N8N_USER_FOLDER.
// Give each test process its own folder so nothing lands in the real home directory.
let ownedUserFolder: string | undefined;
if (process.env.N8N_USER_FOLDER === undefined) {
	ownedUserFolder = mkdtempSync(path.join(tmpdir(), 'n8n-workflow-harness-'));
	process.env.N8N_USER_FOLDER = ownedUserFolder;
}
// n8n's own logger writes straight to stdout; quiet unless asked (N8N_LOG_LEVEL=debug to trace a run).
process.env.N8N_LOG_LEVEL ??= 'silent';
process.env.N8N_DIAGNOSTICS_ENABLED ??= 'false';

// ---------------------------------------------------------------------------------------------
// Node and credential types
// ---------------------------------------------------------------------------------------------

export const PACKAGE_NAME = (
	JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { name: string }
).name;

/** Full type of one of our nodes, as n8n names it: `<package name>.<node name>`. */
export function packageNodeType(nodeName: string): string {
	return `${PACKAGE_NAME}.${nodeName}`;
}

export const MANUAL_TRIGGER_TYPE = 'n8n-nodes-base.manualTrigger';

/** The Manual Trigger as the editor exports it ("When clicking 'Execute workflow'"), at the canvas origin. */
export function manualTriggerNode(id: string): INode {
	return { id, name: "When clicking 'Execute workflow'", type: MANUAL_TRIGGER_TYPE, typeVersion: 1, position: [0, 0], parameters: {} };
}

/** Minimal stand-in for n8n-nodes-base's Manual Trigger: emits one empty item when run manually. */
class HarnessManualTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Manual Trigger (workflow harness)',
		name: 'manualTrigger',
		group: ['trigger'],
		version: 1,
		description: 'Starts the workflow when it is run from the harness',
		maxNodes: 1,
		defaults: { name: "When clicking 'Execute workflow'" },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	};

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const manualTriggerFunction = async () => {
			this.emit([this.helpers.returnJsonArray([{}])]);
		};
		return { manualTriggerFunction };
	}
}

/**
 * n8n-core's package loader, reading our package.json, with compiled `dist/<x>.js` entries
 * mapped back to `<x>.ts`. n8n-core loads each class with a plain `require` when NODE_ENV is
 * 'test' (Jest sets it), so ts-jest compiles the sources. A class that fails to load is
 * remembered and reported when a workflow uses it, so one broken file does not stop the others.
 */
class SourcePackageLoader extends PackageDirectoryLoader {
	readonly loadErrors = new Map<string, Error>();

	override resolvePath(file: string): string {
		const match = /^(?:\.\/)?dist\/(.+)\.js$/.exec(file);
		if (match) return super.resolvePath(`${match[1]}.ts`);
		// A node's codex (`Decagon.node.json` beside `Decagon.node.js`): the build copies it from the sources.
		const codex = /^(?:\.\/)?dist\/(.+\.node\.json)$/.exec(file);
		return super.resolvePath(codex ? codex[1] : file);
	}

	override loadNodeFromFile(filePath: string, packageVersion?: string) {
		try {
			super.loadNodeFromFile(filePath, packageVersion);
		} catch (error) {
			this.loadErrors.set(filePath, error as Error);
		}
	}

	override loadCredentialFromFile(filePath: string) {
		try {
			super.loadCredentialFromFile(filePath);
		} catch (error) {
			this.loadErrors.set(filePath, error as Error);
		}
	}

	describeLoadErrors(): string {
		if (this.loadErrors.size === 0) return '';
		const lines = [...this.loadErrors].map(([file, error]) => `  ${file}: ${error.message}`);
		return `\nThese package files failed to load:\n${lines.join('\n')}`;
	}
}

export interface PackageTypes {
	packageName: string;
	loader: SourcePackageLoader;
}

let packageTypesLoading: Promise<PackageTypes> | undefined;

/** Loads our package's nodes and credentials once per test file (Jest module registry). */
export async function loadPackageTypes(): Promise<PackageTypes> {
	packageTypesLoading ??= (async () => {
		const loader = new SourcePackageLoader(PACKAGE_ROOT);
		await loader.loadAll();
		return { packageName: loader.packageName, loader };
	})();
	return await packageTypesLoading;
}

type AnyNodeType = INodeType | IVersionedNodeType;

class HarnessNodeTypes implements INodeTypes {
	constructor(
		private readonly pkg: PackageTypes,
		private readonly extra: Record<string, AnyNodeType>,
	) {}

	getByName(nodeType: string): AnyNodeType {
		if (nodeType in this.extra) return this.extra[nodeType];
		if (nodeType === MANUAL_TRIGGER_TYPE) return manualTrigger;
		const prefix = `${this.pkg.packageName}.`;
		if (nodeType.startsWith(prefix)) {
			const shortName = nodeType.slice(prefix.length);
			try {
				return this.pkg.loader.getNode(shortName).type;
			} catch (error) {
				(error as Error).message += this.pkg.loader.describeLoadErrors();
				throw error;
			}
		}
		throw new UnexpectedError(
			`Unknown node type "${nodeType}". Known: ${MANUAL_TRIGGER_TYPE}, ${prefix}<node>, ${Object.keys(this.extra).join(', ')}${this.pkg.loader.describeLoadErrors()}`,
		);
	}

	getByNameAndVersion(nodeType: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(nodeType), version);
	}

	getKnownTypes(): IDataObject {
		return {};
	}
}

const manualTrigger = new HarnessManualTrigger();

class HarnessCredentialTypes {
	constructor(
		private readonly pkg: PackageTypes,
		private readonly extra: Record<string, ICredentialType>,
		private readonly extraNodeTypes: Record<string, AnyNodeType>,
	) {}

	getByName(name: string): ICredentialType {
		if (name in this.extra) return this.extra[name];
		try {
			return this.pkg.loader.getCredential(name).type;
		} catch (error) {
			(error as Error).message += this.pkg.loader.describeLoadErrors();
			throw error;
		}
	}

	getSupportedNodes(name: string): string[] {
		const fromPackage = (this.pkg.loader.known.credentials[name]?.supportedNodes ?? []).map(
			(node) => `${this.pkg.packageName}.${node}`,
		);
		const fromExtra = Object.entries(this.extraNodeTypes)
			.filter(([, type]) => {
				const descriptions =
					'nodeVersions' in type
						? Object.values(type.nodeVersions).map((v) => v.description)
						: [type.description];
				return descriptions.some((d) => d.credentials?.some((c) => c.name === name));
			})
			.map(([typeName]) => typeName);
		return [...fromPackage, ...fromExtra];
	}
}

// ---------------------------------------------------------------------------------------------
// Process-wide runtime: expression engine and binary data, started once like n8n does at startup
// ---------------------------------------------------------------------------------------------

interface Runtime {
	expressionEngine: ExpressionEngineName;
	/** Why more production-like engines were skipped (empty when N8N_EXPRESSION_ENGINE chose). */
	expressionEngineNotes: string[];
	binaryDataMode: string;
}

let runtime: Promise<Runtime> | undefined;

function isolatedVmLoadError(): string | undefined {
	try {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		require('isolated-vm');
		return undefined;
	} catch (error) {
		return (error as Error).message.split('\n')[0];
	}
}

async function startExpressionEngine(): Promise<Pick<Runtime, 'expressionEngine' | 'expressionEngineNotes'>> {
	const config = Container.get(GlobalConfig).expressionEngine;
	const explicit = process.env.N8N_EXPRESSION_ENGINE !== undefined;
	const candidates: ExpressionEngineName[] = explicit ? [config.engine] : ['vm', 'quickjs', 'legacy'];
	const notes: string[] = [];
	for (const engine of candidates) {
		if (engine === 'legacy') {
			Expression.setExpressionEngine('legacy');
			return { expressionEngine: 'legacy', expressionEngineNotes: notes };
		}
		const ivmError = engine === 'vm' ? isolatedVmLoadError() : undefined;
		try {
			if (ivmError) throw new Error(`isolated-vm cannot load: ${ivmError}`);
			await Expression.initExpressionEngine({
				engine,
				poolSize: config.poolSize,
				maxCodeCacheSize: config.maxCodeCacheSize,
				bridgeTimeout: config.bridgeTimeout,
				bridgeMemoryLimit: config.bridgeMemoryLimit,
				idleTimeoutMs: config.idleTimeout === undefined ? undefined : config.idleTimeout * 1000,
				lazyAcquire: config.lazyAcquire,
				compileCache: config.compileCache,
			});
			return { expressionEngine: engine, expressionEngineNotes: notes };
		} catch (error) {
			// initExpressionEngine records the engine before it tries to start it; undo that.
			Expression.setExpressionEngine('legacy');
			const message = `${engine}: ${(error as Error).message}`;
			if (explicit) {
				throw new UnexpectedError(
					`N8N_EXPRESSION_ENGINE=${engine} could not start in this test process (${message}). ` +
						'The vm engine needs Node >= 24; vm and quickjs need NODE_OPTIONS=--experimental-vm-modules under Jest.',
				);
			}
			notes.push(message);
		}
	}
	throw new UnexpectedError(`No expression engine could start: ${notes.join('; ')}`);
}

async function startRuntime(): Promise<Runtime> {
	const engine = await startExpressionEngine();
	const binaryDataService = Container.get(BinaryDataService);
	await binaryDataService.init();
	const { mode } = binaryDataService as unknown as { mode: string };
	return { ...engine, binaryDataMode: mode };
}

/** Starts (once per test file) and describes the process-wide engine setup. */
export async function getHarnessRuntime(): Promise<Runtime> {
	runtime ??= startRuntime();
	return await runtime;
}

/** Stops the expression engine and removes the temporary N8N_USER_FOLDER. Registered as afterAll. */
export async function disposeWorkflowHarness(): Promise<void> {
	if (runtime) {
		await runtime.catch(() => undefined);
		await Expression.disposeExpressionEngine();
		runtime = undefined;
	}
	if (ownedUserFolder) {
		// The environment is shared by the test files a Jest worker runs one after another.
		rmSync(ownedUserFolder, { recursive: true, force: true });
		if (process.env.N8N_USER_FOLDER === ownedUserFolder) delete process.env.N8N_USER_FOLDER;
		ownedUserFolder = undefined;
	}
}

if (typeof afterAll === 'function') afterAll(disposeWorkflowHarness);

// ---------------------------------------------------------------------------------------------
// Running a workflow
// ---------------------------------------------------------------------------------------------

export interface RunWorkflowOptions {
	/** Workflow JSON as exported from the n8n editor. Node credentials need an `id`, as in n8n. */
	nodes: INode[];
	connections: IConnections;
	settings?: IWorkflowSettings;
	/** Decrypted credential data per credential type (the "database" of this run). */
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	/** Workflow static data at the start of the run (what triggers persist between runs). */
	staticData?: IDataObject;
	/** Bound for the whole run; on expiry the run is cancelled and runWorkflow rejects. Default 30 s. */
	timeoutMs?: number;
	/** Execution mode. Default 'manual', as when a user clicks "Execute workflow". */
	mode?: WorkflowExecuteMode;
	/** Node to start from. Default: n8n's choice (the trigger/start node). */
	startNodeName?: string;
	/**
	 * What a webhook returned (its `workflowData`): the run then starts at `startNodeName` with these
	 * items on its stack, as n8n starts the execution of a webhook (webhook-helpers' prepareExecutionData).
	 */
	webhookData?: INodeExecutionData[][];
	/** Test-only node classes, by full type name (e.g. `test.probe`). */
	extraNodeTypes?: Record<string, AnyNodeType>;
	/** Test-only credential classes (keyed by their `name` automatically). */
	extraCredentialTypes?: ICredentialType[];
	workflowId?: string;
}

export interface WorkflowRunResult {
	/** The full run, as n8n's engine returns it (and would store it). */
	run: IRun;
	status: ExecutionStatus;
	runData: IRunData;
	/** Items a node emitted on one output in one run (default: output 0, first run). */
	outputOf(nodeName: string, outputIndex?: number, runIndex?: number): INodeExecutionData[];
	/** The execution's error: set when a node failed without Continue On Fail. */
	error?: ExecutionError;
	/** The error a node's run ended with, if any. */
	errorOf(nodeName: string, runIndex?: number): ExecutionError | undefined;
	/** Workflow static data after the run (plain copy). */
	staticData: IDataObject;
	nodeExecutionOrder: string[];
	credentials: {
		updates: CredentialUpdate[];
		preAuthenticationCalls: PreAuthenticationCall[];
		stored(type: string): ICredentialDataDecryptedObject | undefined;
	};
	expressionEngine: ExpressionEngineName;
}

let executionCounter = 0;

/** How long a run that timed out is given to stop after n8n cancels it. */
const CANCEL_GRACE_MS = 3_000;

/** The workflow, credentials and additional data of one run, built the way n8n builds them. */
async function prepareRun(opts: RunWorkflowOptions) {
	const { expressionEngine } = await getHarnessRuntime();
	const pkg = await loadPackageTypes();

	const extraNodeTypes = opts.extraNodeTypes ?? {};
	const extraCredentialTypes = Object.fromEntries(
		(opts.extraCredentialTypes ?? []).map((type) => [type.name, type]),
	);
	const nodeTypes = new HarnessNodeTypes(pkg, extraNodeTypes);
	const credentialsHelper = new FakeCredentialsHelper(
		new HarnessCredentialTypes(pkg, extraCredentialTypes, extraNodeTypes),
		opts.credentials,
	);

	const mode = opts.mode ?? 'manual';
	const executionId = `harness-${process.pid}-${++executionCounter}`;
	const workflowId = opts.workflowId ?? 'harness-workflow';
	const settings: IWorkflowSettings = { executionOrder: 'v1', ...opts.settings };
	const nodes = structuredClone(opts.nodes);
	const connections = structuredClone(opts.connections);

	const workflow = new Workflow({
		id: workflowId,
		name: 'Workflow harness run',
		nodes,
		connections,
		active: false,
		nodeTypes,
		staticData: structuredClone(opts.staticData ?? {}),
		settings,
	});

	const workflowData: IWorkflowBase = {
		id: workflowId,
		name: 'Workflow harness run',
		active: false,
		isArchived: false,
		activeVersionId: null,
		nodes,
		connections,
		settings,
		createdAt: new Date(),
		updatedAt: new Date(),
	};
	const hooks = new ExecutionLifecycleHooks(mode, executionId, workflowData);
	const nodeExecutionOrder: string[] = [];
	hooks.addHandler('nodeExecuteAfter', (nodeName) => {
		nodeExecutionOrder.push(nodeName);
	});

	const loopback = 'http://127.0.0.1:5678/';
	const additionalData: IWorkflowExecuteAdditionalData = {
		hooks,
		credentialsHelper,
		executionId,
		workflowId,
		currentNodeExecutionIndex: 0,
		restApiUrl: `${loopback}rest`,
		instanceBaseUrl: loopback,
		formBaseUrl: `${loopback}form`,
		formWaitingBaseUrl: `${loopback}form-waiting`,
		formTestBaseUrl: `${loopback}form-test`,
		webhookBaseUrl: `${loopback}webhook`,
		webhookWaitingBaseUrl: `${loopback}webhook-waiting`,
		webhookTestBaseUrl: `${loopback}webhook-test`,
		mcpBaseUrl: `${loopback}mcp`,
		mcpTestBaseUrl: `${loopback}mcp-test`,
		variables: {},
		workflowSettings: settings,
		externalSecretsProxy: Container.get(ExternalSecretsProxy),
		executeWorkflow: async () => {
			throw new UnexpectedError('Sub-workflows are not supported by the workflow harness');
		},
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		logAiEvent: () => {},
		startRunnerTask: async () => {
			throw new UnexpectedError('Task runners (Code node) are not supported by the workflow harness');
		},
	};
	return { expressionEngine, nodeTypes, credentialsHelper, mode, workflow, additionalData, nodeExecutionOrder };
}

export async function runWorkflow(opts: RunWorkflowOptions): Promise<WorkflowRunResult> {
	const { expressionEngine, credentialsHelper, mode, workflow, additionalData, nodeExecutionOrder } = await prepareRun(opts);
	const startNode = opts.startNodeName ? workflow.getNode(opts.startNodeName) ?? undefined : undefined;
	if (opts.webhookData && !startNode) throw new Error('webhookData needs startNodeName');
	const execution = opts.webhookData
		? new WorkflowExecute(
				additionalData,
				mode,
				createRunExecutionData({ executionData: { nodeExecutionStack: [{ node: startNode!, data: { main: opts.webhookData }, source: null }] } }),
			).processRunExecutionData(workflow)
		: new WorkflowExecute(additionalData, mode).run({ workflow, startNode });

	const timeoutMs = opts.timeoutMs ?? 30_000;
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			execution.cancel();
			reject(new Error(`Workflow run did not finish within ${timeoutMs} ms`));
		}, timeoutMs);
	});
	let run: IRun;
	try {
		run = await Promise.race([execution, timeout]);
	} catch (error) {
		// Let a cancelled run wind down (bounded) so it cannot spill into the next test.
		let grace: NodeJS.Timeout | undefined;
		const ended = await Promise.race([
			execution.then(
				() => true,
				() => true,
			),
			new Promise<boolean>((resolve) => (grace = setTimeout(() => resolve(false), CANCEL_GRACE_MS))),
		]);
		clearTimeout(grace);
		// A node that ignores n8n's cancel (an uninterruptible wait, say) shows here.
		if (!ended && error instanceof Error) error.message += `; it was still running ${CANCEL_GRACE_MS} ms after being cancelled`;
		throw error;
	} finally {
		clearTimeout(timer);
	}

	const runData = run.data.resultData.runData;
	const describeErrors = () =>
		Object.entries(runData)
			.flatMap(([name, tasks]) => tasks.map((task) => (task.error ? `${name}: ${task.error.message}` : '')))
			.filter(Boolean)
			.join('; ');

	return {
		run,
		status: run.status,
		runData,
		outputOf(nodeName, outputIndex = 0, runIndex = 0) {
			const task = runData[nodeName]?.[runIndex];
			if (!task) {
				const errors = describeErrors();
				throw new Error(
					`Node "${nodeName}" has no run ${runIndex} (ran: ${Object.keys(runData).join(', ') || 'none'})${errors ? `; errors: ${errors}` : ''}`,
				);
			}
			if (task.error && !task.data) {
				throw new Error(`Node "${nodeName}" failed: ${task.error.message}`);
			}
			return task.data?.[NodeConnectionTypes.Main]?.[outputIndex] ?? [];
		},
		error: run.data.resultData.error,
		errorOf(nodeName, runIndex = 0) {
			return runData[nodeName]?.[runIndex]?.error;
		},
		staticData: JSON.parse(JSON.stringify(workflow.staticData ?? {})) as IDataObject,
		nodeExecutionOrder,
		credentials: {
			updates: credentialsHelper.updates,
			preAuthenticationCalls: credentialsHelper.preAuthenticationCalls,
			stored: (type) => credentialsHelper.stored(type),
		},
		expressionEngine,
	};
}

export interface PollResult {
	/** What poll() returned: null when it had nothing to emit. */
	items: INodeExecutionData[][] | null;
	error?: Error;
	/** Static data after the poll: changed when the poll succeeded, as before it when it threw. */
	staticData: IDataObject;
}

/**
 * One poll of a polling trigger, as n8n's active workflow runs it: n8n-core's PollContext in `trigger`
 * mode. Like n8n 2.41's poll staging, static data changes are kept only when poll() succeeds.
 * `pollBudgetMs` is the time budget n8n 2.x's durable poll scheduler hands the node (n8n-core's own
 * default otherwise).
 */
export async function runPoll(opts: RunWorkflowOptions & { nodeName: string; manual?: boolean; pollBudgetMs?: number }): Promise<PollResult> {
	const { nodeTypes, workflow, additionalData } = await prepareRun({ ...opts, mode: opts.manual ? 'manual' : 'trigger' });
	const node = workflow.getNode(opts.nodeName);
	if (!node) throw new Error(`No node ${opts.nodeName}`);
	const nodeType = nodeTypes.getByNameAndVersion(node.type, node.typeVersion);
	if (!nodeType.poll) throw new Error(`${node.type} is not a polling trigger`);
	const before = JSON.parse(JSON.stringify(workflow.staticData ?? {})) as IDataObject;
	const mode = opts.manual ? 'manual' : 'trigger';
	const budget = opts.pollBudgetMs;
	const context =
		budget === undefined
			? new PollContext(workflow, node, additionalData, mode, opts.manual ? 'manual' : 'activate')
			: new PollContext(workflow, node, additionalData, mode, 'activate', undefined, undefined, undefined, undefined, undefined, () => budget);
	let timer: NodeJS.Timeout | undefined;
	const timeoutMs = opts.timeoutMs ?? 30_000;
	// As n8n's PollTriggerExecutor does: expressions (credentials included) need the workflow's isolate.
	await workflow.expression.acquireIsolate();
	try {
		const items = await Promise.race([
			nodeType.poll.call(context),
			new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Poll did not finish within ${timeoutMs} ms`)), timeoutMs))),
		]);
		return { items, staticData: JSON.parse(JSON.stringify(workflow.staticData ?? {})) as IDataObject };
	} catch (error) {
		return { items: null, error: error as Error, staticData: JSON.parse(JSON.stringify(before)) as IDataObject };
	} finally {
		clearTimeout(timer);
		await workflow.expression.releaseIsolate();
	}
}

/** The bytes of a binary property, wherever n8n stored them (filesystem or inline base64). */
export async function readBinary(binary: IBinaryData): Promise<Buffer> {
	return await Container.get(BinaryDataService).getAsBuffer(binary);
}

/** A node credential reference as the editor writes it into workflow JSON. */
export function credentialRef(type: string, id = `${type}-1`): Record<string, { id: string; name: string }> {
	return { [type]: { id, name: `${type} (harness)` } };
}
