/**
 * `npm run demo` (scripts/demo.sh builds and installs n8n first, then runs this with ts-node):
 * a real n8n 2.41.1 with the packed package installed as users install it, talking to local stand-ins
 * of Decagon and dembrane ECHO. Runs one export with `n8n execute`, prints a summary, then starts the
 * editor with an owner account and keeps running until Ctrl-C. DEMO_EXIT=1 stops after the export.
 *
 * Environment: DEMO_EXIT=1 (exit after the export), DEMO_PORT (editor port, default 5678 when free).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

import type { CredentialFixture, N8nInstance, N8nServer, WorkflowFixture } from '../test/support/n8n-instance';
import { createN8nInstance, freePort, REPO_ROOT } from '../test/support/n8n-instance';

const DEMO_DIR = path.join(REPO_ROOT, '.tmp', 'demo');
const WORKFLOW_DIR = path.join(REPO_ROOT, 'scripts', 'demo');
const EXPORT_WORKFLOW = 'demoDecagon30day';
const MESSAGE_WORKFLOW = 'demoDecagonMsgRw';
const TRIGGER_WORKFLOW = 'demoDecagonTrigg';
const DEMBRANE_WORKFLOW = 'demoDembranePrj1';

/** What the stand-ins announce on their first stdout line (a combined CLI prints all keys in one). */
export interface StandinInfo {
	decagon?: string;
	apiKey?: string;
	decagonApiKey?: string;
	dembrane?: string;
	directus?: string;
	email?: string;
	password?: string;
	[key: string]: unknown;
}

const children: ChildProcess[] = [];
let n8n: N8nInstance | undefined;
let server: N8nServer | undefined;
let stopping = false;

async function main(): Promise<void> {
	rmSync(DEMO_DIR, { recursive: true, force: true });
	mkdirSync(DEMO_DIR, { recursive: true });

	step('starting the API stand-ins');
	const info = await startStandins();
	if (!info.decagon) throw new Error(`the stand-ins announced no Decagon URL: ${JSON.stringify(info)}`);
	console.log(`   Decagon stand-in:        ${info.decagon}`);
	if (info.dembrane) console.log(`   dembrane ECHO stand-in:  ${info.dembrane}`);

	const credentials = demoCredentials(info);
	const workflows = readDemoWorkflows(new Set(credentials.map((c) => c.type)));

	step('installing the packed package into a fresh n8n user folder (.tmp/demo/n8n)');
	const started = Date.now();
	n8n = await createN8nInstance({
		userFolder: path.join(DEMO_DIR, 'n8n'),
		credentials,
		workflows,
		env: { N8N_SECURE_COOKIE: 'false' }, // the editor is served over plain http on loopback
	});
	console.log(`   ${credentials.length} credentials and ${workflows.length} workflows imported in ${seconds(Date.now() - started)}:`);
	for (const workflow of workflows) console.log(`   - ${workflow.name}`);

	step(`n8n execute "${workflows.find((w) => w.id === EXPORT_WORKFLOW)?.name}"`);
	const exported = await n8n.execute(EXPORT_WORKFLOW);
	if (exported.status !== 'success') {
		const error = exported.errorOf('Decagon') ?? exported.error;
		throw new Error(`the export failed: ${error?.message ?? exported.status}\n${error?.description ?? ''}`);
	}
	const rows = exported.outputOf('Decagon');
	const ids = new Set(rows.map((row) => row.conversation_id));
	const nodeMs = exported.run.data.resultData.runData.Decagon?.[0]?.executionTime;
	console.log(
		`   ${rows.length} conversations (${ids.size} distinct ids) in ${seconds(Number(nodeMs))} inside the Decagon node, ` +
			`${seconds(exported.durationMs)} for the whole \`n8n execute\` (paced at 1 request/s, as Decagon allows)`,
	);
	console.log('   first rows (Simplify on):');
	printTable(
		rows.slice(0, 5).map((row) => ({
			conversation_id: String(row.conversation_id).slice(0, 8) + '…',
			created_at: row.created_at,
			messages: row.message_count,
			tags: row.tags,
			transcript: oneLine(row.transcript, 60),
		})),
	);

	step(`n8n execute "${workflows.find((w) => w.id === MESSAGE_WORKFLOW)?.name}"`);
	const messages = await n8n.execute(MESSAGE_WORKFLOW);
	if (messages.status === 'success') {
		const messageRows = messages.outputOf('Decagon');
		console.log(`   ${messageRows.length} message rows from 10 conversations; the first ones:`);
		printTable(
			messageRows.slice(0, 4).map((row) => {
				const picked: Record<string, unknown> = {};
				for (const [key, value] of Object.entries(row)) {
					if (Object.keys(picked).length < 5 && typeof value !== 'object') picked[key] = oneLine(value, 40);
				}
				return picked;
			}),
		);
	} else {
		console.log(`   failed: ${messages.errorOf('Decagon')?.message ?? messages.status}`);
	}

	if (workflows.some((w) => w.id === DEMBRANE_WORKFLOW)) {
		step('n8n execute "dembrane ECHO: list projects"');
		const projects = await n8n.execute(DEMBRANE_WORKFLOW);
		if (projects.status === 'success') {
			const list = projects.outputOf('Dembrane ECHO');
			console.log(`   ${list.length} projects: ${list.slice(0, 5).map((p) => String(p.name ?? p.id)).join(', ')}`);
		} else {
			console.log(`   failed: ${projects.errorOf('Dembrane ECHO')?.message ?? projects.status}`);
		}
	}

	if (process.env.DEMO_EXIT === '1') {
		step('DEMO_EXIT=1: done');
		return;
	}

	step('starting the n8n editor (n8n start; about 10-40 s)');
	const port = await demoPort();
	const publish = workflows.some((w) => w.id === TRIGGER_WORKFLOW) ? [TRIGGER_WORKFLOW] : [];
	server = await n8n.start({ port, publish });
	const owner = server.owner!;
	console.log(`
   n8n editor:  ${server.baseUrl.replace('127.0.0.1', 'localhost')}
   log in as:   ${owner.email}
   password:    ${owner.password}
   n8n log:     ${path.relative(REPO_ROOT, server.logFile)}

   "Decagon Trigger: new conversations" is published and polls the stand-in every minute. Give it
   something new:
     curl -s -X POST ${info.decagon}/__standin/add-conversation -H 'content-type: application/json' -d '{}'
   and its execution shows up under Executions within a minute.

   Ctrl-C stops n8n and the stand-ins.`);
	await new Promise<void>(() => undefined); // until a signal
}

/** The demo's credentials, pointing at the stand-ins (dembrane's only when its stand-in announced a login). */
export function demoCredentials(info: StandinInfo): CredentialFixture[] {
	const credentials: CredentialFixture[] = [
		{
			id: 'demoDecagonCred01',
			name: 'Decagon (local stand-in)',
			type: 'decagonApi',
			data: {
				region: 'custom',
				baseUrl: info.decagon,
				apiKey: info.decagonApiKey ?? info.apiKey ?? 'test-decagon-key',
				requestsPerSecond: 1,
			},
		},
	];
	if (info.dembrane && info.directus && info.email && info.password) {
		credentials.push({
			id: 'demoDembraneCred1',
			name: 'dembrane ECHO (local stand-in)',
			type: 'dembraneEchoApi',
			data: {
				baseUrl: info.dembrane,
				authMethod: 'password',
				directusUrl: info.directus,
				email: info.email,
				password: info.password,
			},
		});
	}
	return credentials;
}

function step(text: string): void {
	console.log(`\n== ${text}`);
}

function seconds(ms: number): string {
	return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '?';
}

function oneLine(value: unknown, max: number): string {
	const text = String(value ?? '').replace(/\s+/g, ' ');
	return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function printTable(rows: Array<Record<string, unknown>>): void {
	if (rows.length === 0) return;
	const columns = Object.keys(rows[0]);
	const cells = rows.map((row) => columns.map((column) => String(row[column] ?? '')));
	const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((cell) => cell[i].length)));
	const line = (values: string[]) => `   ${values.map((value, i) => value.padEnd(widths[i])).join('  ')}`;
	console.log(line(columns));
	for (const cell of cells) console.log(line(cell));
}

/** Demo workflows whose credentials exist (dembrane's only when its stand-in runs). */
export function readDemoWorkflows(credentialTypes: Set<string>): WorkflowFixture[] {
	const workflows: WorkflowFixture[] = [];
	for (const file of readdirSync(WORKFLOW_DIR).filter((name) => name.endsWith('.json')).sort()) {
		const workflow = JSON.parse(readFileSync(path.join(WORKFLOW_DIR, file), 'utf8')) as WorkflowFixture;
		const needs = (workflow.nodes as Array<{ credentials?: Record<string, unknown> }>).flatMap((node) =>
			Object.keys(node.credentials ?? {}),
		);
		if (needs.every((type) => credentialTypes.has(type))) workflows.push(workflow);
	}
	return workflows;
}

/**
 * The combined stand-in CLI (test/standins/cli.ts) when it exists, else every test/standins/<api>/cli.ts
 * there is. Each prints one JSON line first; the keys are merged.
 */
export async function startStandins(logDir = DEMO_DIR): Promise<StandinInfo> {
	const combined = path.join(REPO_ROOT, 'test', 'standins', 'cli.ts');
	const clis = existsSync(combined)
		? [combined]
		: readdirSync(path.join(REPO_ROOT, 'test', 'standins'))
				.map((name) => path.join(REPO_ROOT, 'test', 'standins', name, 'cli.ts'))
				.filter((file) => existsSync(file));
	if (clis.length === 0) throw new Error('no stand-in CLI found under test/standins');
	const infos = await Promise.all(clis.map((cli) => startStandinCli(cli, logDir)));
	return Object.assign({}, ...infos) as StandinInfo;
}

function startStandinCli(cli: string, logDir: string): Promise<StandinInfo> {
	const log = createWriteStream(path.join(logDir, `standin-${path.basename(path.dirname(cli))}.log`));
	const tsNode = path.join(REPO_ROOT, 'node_modules', 'ts-node', 'dist', 'bin.js');
	const child = spawn(process.execPath, [tsNode, '--transpile-only', cli], {
		cwd: REPO_ROOT,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	children.push(child);
	child.stderr?.pipe(log);
	return new Promise((resolve, reject) => {
		let buffered = '';
		let announced = false;
		const timer = setTimeout(() => reject(new Error(`${path.relative(REPO_ROOT, cli)} printed no JSON line within 60 s`)), 60_000);
		child.stdout?.on('data', (chunk: Buffer) => {
			log.write(chunk);
			if (announced) return;
			buffered += chunk.toString('utf8');
			for (const line of buffered.split('\n').slice(0, -1)) {
				try {
					const info = JSON.parse(line) as StandinInfo;
					announced = true;
					clearTimeout(timer);
					resolve(info);
					return;
				} catch {
					// a log line: keep reading
				}
			}
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			if (!announced) {
				reject(new Error(`${path.relative(REPO_ROOT, cli)} exited with ${code ?? signal}; see ${path.relative(REPO_ROOT, log.path.toString())}`));
			} else if (!stopping) {
				console.error(`\n!! ${path.relative(REPO_ROOT, cli)} stopped (${code ?? signal})`);
			}
		});
	});
}

/** DEMO_PORT, else 5678 when it is free, else any free port. */
export async function demoPort(): Promise<number> {
	if (process.env.DEMO_PORT) return Number(process.env.DEMO_PORT);
	const free = await new Promise<boolean>((resolve) => {
		const probe = createServer();
		probe.once('error', () => resolve(false));
		probe.listen(5678, '127.0.0.1', () => probe.close(() => resolve(true)));
	});
	return free ? 5678 : freePort();
}

/** Stops the stand-ins started by startStandins() (for scripts that import this module). */
export function stopStandins(): void {
	stopping = true;
	for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

async function shutdown(code: number): Promise<never> {
	if (!stopping) {
		stopping = true;
		try {
			if (server) {
				console.log('\n== stopping n8n');
				await server.stop();
			}
			await n8n?.dispose(); // the user folder in .tmp/demo stays for inspection
		} catch (error) {
			console.error(error);
		}
		for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
	}
	process.exit(code);
}

// Run as a script (npm run demo); scripts/screenshots.ts imports the functions above instead.
if (require.main === module) {
	process.on('SIGINT', () => void shutdown(0));
	process.on('SIGTERM', () => void shutdown(0));

	main().then(
		() => shutdown(0),
		(error: Error) => {
			console.error(`\n!! ${error.message}`);
			void shutdown(1);
		},
	);
}
