/**
 * `npm run screenshots`: the pictures in docs/screenshots/, taken the way a new user sees our nodes.
 *
 * Builds the package, starts the same setup as `npm run demo` (both API stand-ins, the pinned n8n
 * 2.41.1 with the packed package installed in a fresh user folder, one credential per service), then
 * drives Debian's Chromium headless (playwright-core, never a downloaded browser) through the editor:
 * log in as the owner, add each node from the node panel, open each credential and press its test
 * button, pick a project from the resource-locator list, run the exports, open the dembrane trigger's
 * webhook URLs, and look at the canvas in light and dark mode.
 *
 * Every step has its own time limit. On failure it prints which step failed, saves what the browser
 * showed to .tmp/screenshots/failure.png, and exits 1.
 *
 * Environment: CHROMIUM (default /usr/bin/chromium; `apt-get install chromium` on Debian).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';

import type { BrowserContext, Locator, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

import type { N8nInstance, N8nServer } from '../test/support/n8n-instance';
import { createN8nInstance, freePort, REPO_ROOT } from '../test/support/n8n-instance';
import { demoCredentials, startStandins, stopStandins } from './demo';

const WORK_DIR = path.join(REPO_ROOT, '.tmp', 'screenshots');
const OUT_DIR = path.join(REPO_ROOT, 'docs', 'screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const VIEWPORT = { width: 1440, height: 900 };
/** Default for each wait inside a step (an element to appear, a click to land). */
const ACTION_TIMEOUT_MS = 20_000;
/** The stand-in project whose transcripts are exported. */
const PROJECT = 'Pilot interviews';

let n8n: N8nInstance | undefined;
let server: N8nServer | undefined;
let context: BrowserContext | undefined;
let currentStep = 'setup';
const saved: string[] = [];

async function main(): Promise<void> {
	if (!existsSync(CHROMIUM)) {
		throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium) or set CHROMIUM`);
	}
	rmSync(WORK_DIR, { recursive: true, force: true });
	mkdirSync(WORK_DIR, { recursive: true });
	mkdirSync(OUT_DIR, { recursive: true });

	await step('build the package', 300_000, async () => {
		const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 280_000 });
		if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stderr || build.stdout}`);
	});

	const info = await step('start the API stand-ins', 90_000, () => startStandins(WORK_DIR));
	const credentials = demoCredentials(info);
	if (!credentials.some((c) => c.type === 'dembraneEchoApi')) throw new Error('the dembrane stand-in announced no login');

	// First run: installs n8n and Node 24 into ~/.cache (minutes), like the demo.
	await step('install the packed package into a fresh n8n', 45 * 60_000, async () => {
		n8n = await createN8nInstance({
			userFolder: path.join(WORK_DIR, 'n8n'),
			credentials,
			env: { N8N_SECURE_COOKIE: 'false' }, // plain http on loopback
		});
	});
	server = await step('start n8n', 240_000, async () => n8n!.start({ port: await freePort() }));
	const baseUrl = server.baseUrl;
	const owner = server.owner!;
	console.log(`   n8n at ${baseUrl}, log: ${path.relative(REPO_ROOT, server.logFile)}`);

	context = await step('launch Chromium', 60_000, () =>
		chromium.launchPersistentContext(path.join(WORK_DIR, 'chromium-profile'), {
			executablePath: CHROMIUM,
			headless: true,
			viewport: VIEWPORT,
			timeout: 60_000,
			// The machine has no internet: without these Chromium waits on connections that never come.
			args: [
				'--headless',
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
			],
		}),
	);
	const page = context.pages()[0] ?? (await context.newPage());
	page.setDefaultTimeout(ACTION_TIMEOUT_MS);
	const byTestId = (id: string) => page.locator(`[data-test-id="${id}"]`);

	await step('log in as the owner', 60_000, async () => {
		await page.goto(`${baseUrl}/signin`);
		await byTestId('emailOrLdapLoginId').locator('input').fill(owner.email);
		await byTestId('password').locator('input').fill(owner.password);
		await byTestId('form-submit-button').click();
		await page.waitForURL((url) => !url.pathname.includes('signin'));
	});

	await step('new workflow with a manual trigger', 60_000, async () => {
		await page.goto(`${baseUrl}/workflow/new`);
		await byTestId('canvas-plus-button').click();
		await searchNodePanel(page, 'manual');
		await page.keyboard.press('Enter');
		await byTestId('canvas-node').first().waitFor();
	});

	// ---- dembrane ECHO
	await step('node panel: search "dembrane"', 60_000, async () => {
		await byTestId('canvas-handle-plus').first().click();
		await searchNodePanel(page, 'dembrane');
		await nodePanelItem(page, 'Dembrane ECHO').click();
		await settled(actionItem(page, 'Export transcripts of a project')); // the panel slides in
		await shoot(page, 'node-panel-dembrane');
	});

	await step('add "Export transcripts of a project"', 60_000, async () => {
		await actionItem(page, 'Export transcripts of a project').click();
		await byTestId('ndv').waitFor();
		await expectValue(byTestId('node-credentials-select'), 'dembrane ECHO (local stand-in)');
	});

	await step('test the dembrane ECHO credential', 90_000, async () => {
		await testCredential(page);
		await shoot(page, 'credential-dembrane');
		await closeCredential(page);
	});

	await step('pick a project from the list', 60_000, async () => {
		await byTestId('ndv').locator('[data-test-id="rlc-input"]').click();
		await page.locator('[data-test-id="rlc-item"]', { hasText: PROJECT }).waitFor();
		await shoot(page, 'dembrane-project-list');
		await page.locator('[data-test-id="rlc-item"]', { hasText: PROJECT }).click();
		await expectValue(byTestId('ndv').locator('[data-test-id="resource-locator-project"]'), PROJECT);
	});

	await step('run the transcript export', 120_000, async () => {
		const count = await executeStep(page);
		if (count < 1) throw new Error(`the export returned ${count} items`);
		await byTestId('output-panel').locator('[data-test-id="radio-button-schema"]').click();
		const restore = await widenOutput(page);
		await shoot(page, 'dembrane-export-output');
		await restore();
		await byTestId('ndv-close-button').click();
		await byTestId('ndv').waitFor({ state: 'hidden' });
	});

	// ---- Decagon, on its own branch from the manual trigger
	await step('node panel: search "Decagon"', 60_000, async () => {
		await byTestId('canvas-node').first().click();
		await byTestId('node-creator-plus-button').click();
		await searchNodePanel(page, 'Decagon');
		await nodePanelItem(page, 'Decagon').click();
		await actionItem(page, 'Export conversations').waitFor();
		// Show the trigger too (n8n collapses the second section).
		if (!(await actionItem(page, 'On new Decagon event').isVisible())) {
			await byTestId('node-creator').getByText(/^Triggers/).first().click();
		}
		await settled(actionItem(page, 'On new Decagon event'));
		await shoot(page, 'node-panel-decagon');
	});

	await step('add "Export conversations"', 60_000, async () => {
		await actionItem(page, 'Export conversations').click();
		await byTestId('ndv').waitFor();
		await expectValue(byTestId('node-credentials-select'), 'Decagon (local stand-in)');
	});

	await step('test the Decagon credential', 90_000, async () => {
		await testCredential(page);
		await shoot(page, 'credential-decagon');
		await closeCredential(page);
	});

	await step('run a Decagon export (one item per message, simplified)', 120_000, async () => {
		await selectOption(page, 'output', 'One Item per Message');
		await byTestId('parameter-input-simplify').locator('.el-switch').click();
		await byTestId('parameter-input-limit').locator('input').fill('5');
		const count = await executeStep(page);
		if (count < 5) throw new Error(`the export returned ${count} items, expected one per message of 5 conversations`);
		await byTestId('output-panel').locator('[data-test-id="radio-button-table"]').click();
		const restore = await widenOutput(page);
		await shoot(page, 'decagon-export-table');
		await restore();
		await byTestId('ndv-close-button').click();
		await byTestId('ndv').waitFor({ state: 'hidden' });
	});

	// ---- the triggers
	await step('add the Dembrane ECHO Trigger', 60_000, async () => {
		await byTestId('node-creator-plus-button').click();
		await searchNodePanel(page, 'dembrane');
		await nodePanelItem(page, 'Dembrane ECHO').click();
		const trigger = actionItem(page, 'On conversation summarized');
		if (!(await trigger.isVisible())) await byTestId('node-creator').getByText(/^Triggers/).first().click();
		await trigger.click();
		await byTestId('ndv').waitFor();
	});

	await step('the trigger’s webhook URL', 60_000, async () => {
		// Manual registration explains where that URL goes (checked, not pictured).
		await selectOption(page, 'registration', 'Manual');
		await byTestId('ndv').getByText('Production URL (under Webhook URLs above)').waitFor();
		await page.screenshot({ path: path.join(WORK_DIR, 'dembrane-trigger-manual.png') });
		await selectOption(page, 'registration', 'Automatic');
		await byTestId('ndv').locator('[data-test-id="rlc-input"]').click();
		await page.locator('[data-test-id="rlc-item"]', { hasText: PROJECT }).click();
		await byTestId('ndv').getByText('Webhook URLs').click();
		await byTestId('radio-button-production').click();
		await byTestId('ndv').getByText(`${baseUrl}/webhook/`).waitFor();
		await shoot(page, 'dembrane-trigger-webhook');
		await byTestId('ndv-close-button').click();
		await byTestId('ndv').waitFor({ state: 'hidden' });
	});

	await step('add the Decagon Trigger', 60_000, async () => {
		await byTestId('node-creator-plus-button').click();
		await searchNodePanel(page, 'Decagon');
		await nodePanelItem(page, 'Decagon').click();
		const trigger = actionItem(page, 'On new Decagon event');
		if (!(await trigger.isVisible())) await byTestId('node-creator').getByText(/^Triggers/).first().click();
		await trigger.click();
		await byTestId('ndv').waitFor();
		await byTestId('ndv-close-button').click();
		await byTestId('ndv').waitFor({ state: 'hidden' });
	});

	await step('the canvas in light and dark mode', 90_000, async () => {
		await byTestId('tidy-up-button').click();
		await page.keyboard.press('Control+s');
		await page.waitForURL((url) => /\/workflow\/[^/]+$/.test(url.pathname) && !url.pathname.endsWith('/new'));
		await page.waitForTimeout(1_000); // the save lands
		const workflowUrl = page.url().split('?')[0];
		for (const theme of ['light', 'dark'] as const) {
			// n8n takes ?theme= over the stored preference.
			await page.goto(`${workflowUrl}?theme=${theme}`);
			await byTestId('canvas-node').nth(4).waitFor();
			await byTestId('zoom-to-fit').click();
			await byTestId('zoom-out-button').click(); // room for the "Execute workflow" button below the nodes
			await page.waitForTimeout(800);
			await shoot(page, `canvas-${theme}`);
		}
	});

	console.log(`\n== ${saved.length} screenshots in ${path.relative(REPO_ROOT, OUT_DIR)}/:`);
	for (const file of saved) console.log(`   ${file}  ${Math.round(statSync(path.join(OUT_DIR, file)).size / 1024)} KB`);
}

// ---------------------------------------------------------------------------------------------
// Steps and editor helpers

async function step<T>(name: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
	currentStep = name;
	const started = Date.now();
	process.stdout.write(`== ${name} … `);
	let timer: NodeJS.Timeout | undefined;
	try {
		const result = await Promise.race([
			run(),
			new Promise<never>((_, reject) => {
				timer = setTimeout(() => reject(new Error(`took longer than ${timeoutMs / 1000} s`)), timeoutMs);
			}),
		]);
		console.log(`${((Date.now() - started) / 1000).toFixed(1)} s`);
		return result;
	} finally {
		clearTimeout(timer);
	}
}

async function shoot(page: Page, name: string): Promise<void> {
	// n8n's toasts ("Node executed successfully") would cover the bottom right corner.
	const toasts = page.locator('.el-notification__closeBtn:visible');
	while ((await toasts.count()) > 0) await toasts.first().click().catch(() => undefined);
	await page.locator('.el-notification').first().waitFor({ state: 'hidden' }).catch(() => undefined);
	await page.mouse.move(VIEWPORT.width / 2, VIEWPORT.height - 10); // no hover effects on what was clicked last
	await page.waitForTimeout(400);
	const file = `${name}.png`;
	await page.screenshot({ path: path.join(OUT_DIR, file) });
	saved.push(file);
}

/** Waits until an element stops moving (panels slide in). */
async function settled(locator: Locator): Promise<void> {
	await locator.waitFor();
	let last = '';
	for (let i = 0; i < 50; i++) {
		const box = JSON.stringify(await locator.boundingBox());
		if (box === last) return;
		last = box;
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}

/**
 * Drags the node view's middle panel to the left so that the output pane gets most of the width.
 * n8n remembers the position for the next node it opens: call the returned function to drag it back.
 */
async function widenOutput(page: Page): Promise<() => Promise<void>> {
	const output = page.locator('[data-test-id="output-panel"]');
	const before = await output.boundingBox();
	if (!before || before.width > 700) return async () => undefined;
	await dragMainPanel(page, -360);
	await settled(output);
	return async () => {
		await dragMainPanel(page, 360);
		await settled(output);
	};
}

async function dragMainPanel(page: Page, dx: number): Promise<void> {
	const handle = await page.locator('[data-test-id="panel-drag-button"]').boundingBox();
	if (!handle) throw new Error('the node view has no panel handle to drag');
	const x = handle.x + handle.width / 2;
	const y = handle.y + handle.height / 2;
	await page.mouse.move(x, y);
	await page.mouse.down();
	await page.mouse.move(x + dx, y, { steps: 12 });
	await page.mouse.up();
}

/** Types into the open node panel's search box. */
async function searchNodePanel(page: Page, text: string): Promise<void> {
	const panel = page.locator('[data-test-id="node-creator"]');
	await panel.waitFor();
	await panel.locator('input').first().fill(text);
	await panel.locator('[data-test-id="node-creator-item-name"]').first().waitFor();
}

function nodePanelItem(page: Page, name: string): Locator {
	return page.locator('[data-test-id="node-creator"] [data-test-id="node-creator-item-name"]', {
		hasText: new RegExp(`^\\s*${name}\\s*$`),
	});
}

function actionItem(page: Page, name: string): Locator {
	return page.locator('[data-test-id="node-creator"] [data-test-id="item-iterator-item"]', { hasText: name }).first();
}

/** Opens the node's credential, presses its test button, and waits for n8n's verdict. */
async function testCredential(page: Page): Promise<void> {
	await page.locator('[data-test-id="credential-edit-button"]').click();
	const modal = page.locator('[data-test-id="editCredential-modal"]');
	await modal.waitFor();
	// Opening an existing credential tests it once; the button then says "Retry".
	const retry = modal.locator('button[title="Retry credential test"]');
	await retry.waitFor();
	await page.waitForTimeout(1_500); // Decagon allows 1 request per second, and that first test was one
	const [response] = await Promise.all([
		page.waitForResponse((r) => r.url().includes('/rest/credentials/test'), { timeout: ACTION_TIMEOUT_MS }),
		retry.click(),
	]);
	const verdict = (await response.json().catch(() => ({}))) as { data?: { status?: string; message?: string } };
	if (verdict.data?.status !== 'OK') throw new Error(`the credential test failed: ${JSON.stringify(verdict)}`);
	await modal.locator('[data-test-id="credentials-config-container-test-success"]').waitFor();
	await modal.locator('button[title="Retry credential test"]', { hasText: 'Retry' }).waitFor(); // spinner gone
}

async function closeCredential(page: Page): Promise<void> {
	const modal = page.locator('[data-test-id="editCredential-modal"]');
	await modal.locator('.el-dialog__headerbtn').first().click();
	await modal.waitFor({ state: 'hidden' });
}

/** Presses "Execute step" in the open node and returns the output's item count. */
async function executeStep(page: Page): Promise<number> {
	const output = page.locator('[data-test-id="output-panel"]');
	await page.locator('[data-test-id="node-execute-button"]').click();
	const error = output.locator('[data-test-id="node-error-message"]');
	const count = output.locator('[data-test-id="ndv-items-count"]');
	await Promise.race([count.waitFor({ timeout: 90_000 }), error.waitFor({ timeout: 90_000 })]);
	if (await error.isVisible()) throw new Error(`the node failed: ${await error.innerText()}`);
	const text = await count.innerText();
	const match = /([\d,]+)\s+items?/.exec(text);
	if (!match) throw new Error(`unexpected item count "${text}"`);
	return Number(match[1].replace(/,/g, ''));
}

async function selectOption(page: Page, parameter: string, option: string): Promise<void> {
	await page.locator(`[data-test-id="parameter-input-${parameter}"]`).click();
	await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click();
	await expectValue(page.locator(`[data-test-id="parameter-input-${parameter}"]`), option);
}

/** Waits until one of the inputs inside `scope` shows `text` (n8n shows chosen values in inputs). */
async function expectValue(scope: Locator, text: string): Promise<void> {
	const deadline = Date.now() + ACTION_TIMEOUT_MS;
	let values: string[] = [];
	while (Date.now() < deadline) {
		const inputs = scope.locator('input');
		values = [];
		for (let i = 0; i < (await inputs.count()); i++) values.push(await inputs.nth(i).inputValue().catch(() => ''));
		if (values.some((value) => value.includes(text))) return;
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	throw new Error(`expected "${text}", the field shows ${JSON.stringify(values)}`);
}

// ---------------------------------------------------------------------------------------------

async function shutdown(code: number): Promise<void> {
	const failure = path.join(WORK_DIR, 'failure.png');
	if (code !== 0 && context) {
		await context.pages()[0]?.screenshot({ path: failure, timeout: 10_000 }).then(
			() => console.error(`   what the browser showed: ${path.relative(REPO_ROOT, failure)}`),
			() => undefined,
		);
	}
	await context?.close().catch(() => undefined);
	try {
		await server?.stop();
		await n8n?.dispose(); // .tmp/screenshots/n8n stays for inspection
	} catch (error) {
		console.error(error);
	}
	stopStandins();
	process.exit(code);
}

process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

main().then(
	() => shutdown(0),
	(error: Error) => {
		console.log('failed');
		console.error(`\n!! step "${currentStep}" failed: ${error.message}`);
		void shutdown(1);
	},
);
