/**
 * No key, password or token in anything a real n8n writes down: its log file at debug level,
 * and every `n8n execute` run's output (run data and error included), for runs that succeed and runs
 * that fail on a wrong key or password. The in-process fault matrix checks the same for errors and run
 * data; this is the real process with n8n's own logger.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import type { DecagonStandin } from '../standins/decagon';
import { startDecagonStandin } from '../standins/decagon';
import type { DembraneStandin } from '../standins/dembrane';
import { passwordCredentialData, startDembraneStandin } from '../standins/dembrane';
import type { CredentialFixture, N8nInstance, WorkflowFixture } from '../support/n8n-instance';
import { createN8nInstance } from '../support/n8n-instance';
import { decagonCredential, exportWorkflow } from './decagon-workflows';
import { echoActionWorkflow } from './dembrane-workflows';

jest.setTimeout(300_000);

const GOOD_KEY = 'sk-e2e-log-GOOD-4f8a2c91d7e3';
const WRONG_KEY = 'sk-e2e-log-WRONG-b6d0e4a8c2f1';
const WRONG_PASSWORD = 'wrong-password-e2e-7c3f9a1b';
/** A JSON Web Token (dembrane's access tokens are JWTs). */
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;

let decagon: DecagonStandin;
let dembrane: DembraneStandin;
let n8n: N8nInstance;
let accessToken: string;
let projectId: string;
const written: string[] = [];

function echoWorkflow(id: string, credential: CredentialFixture): WorkflowFixture {
	return echoActionWorkflow(id, credential, { resource: 'conversation', operation: 'getMany', project: { __rl: true, mode: 'id', value: projectId }, returnAll: true });
}

function echoCredential(id: string, data: Record<string, unknown>): CredentialFixture {
	return { id, name: `dembrane ${id}`, type: 'dembraneEchoApi', data };
}

beforeAll(async () => {
	decagon = await startDecagonStandin({ apiKey: GOOD_KEY, count: 120, pageSize: 100, rateLimitPerSecond: 0 });
	dembrane = await startDembraneStandin({ conversationsPerProject: 3 });
	projectId = dembrane.listProjects().find((project) => dembrane.conversations(project.id).length > 0)!.id;
	accessToken = dembrane.issueAccessToken({ ttlSeconds: 3600 });
	const decagonGood = decagonCredential('logDecagonGood01', 'Decagon good', decagon.url, GOOD_KEY, 1000);
	const decagonWrong = decagonCredential('logDecagonWrong1', 'Decagon wrong', decagon.url, WRONG_KEY, 1000);
	const echoPassword = echoCredential('logEchoPassword1', passwordCredentialData(dembrane));
	const echoWrong = echoCredential('logEchoWrongPw01', passwordCredentialData(dembrane, { password: WRONG_PASSWORD }));
	const echoToken = echoCredential('logEchoToken0001', { baseUrl: dembrane.url, authMethod: 'accessToken', accessToken });
	n8n = await createN8nInstance({
		credentials: [decagonGood, decagonWrong, echoPassword, echoWrong, echoToken],
		workflows: [
			exportWorkflow('wfLogDecagonOk01', 'Decagon: good key', decagonGood, { returnAll: true }),
			exportWorkflow('wfLogDecagonBad1', 'Decagon: wrong key', decagonWrong, { returnAll: true }),
			echoWorkflow('wfLogEchoPasswd1', echoPassword),
			echoWorkflow('wfLogEchoWrongPw', echoWrong),
			echoWorkflow('wfLogEchoToken01', echoToken),
		],
	});
}, 300_000);

afterAll(async () => {
	await n8n?.dispose();
	await decagon?.close();
	await dembrane?.close();
});

// With the log in a file, `n8n execute` prints its run through the logger too, so the run is judged by
// the exit code and the file holds the run data.
test.each([
	['wfLogDecagonOk01', 0],
	['wfLogDecagonBad1', 1],
	['wfLogEchoPasswd1', 0],
	['wfLogEchoWrongPw', 1],
	['wfLogEchoToken01', 0],
])('%s exits with %d at debug log level', async (workflowId, exitCode) => {
	const result = await n8n.cli(['execute', `--id=${workflowId}`, '--rawOutput'], {
		allowFailure: true,
		timeoutMs: 120_000,
		env: { N8N_LOG_LEVEL: 'debug', N8N_LOG_OUTPUT: 'file' },
	});
	expect({ timedOut: result.timedOut, code: result.code }).toEqual({ timedOut: false, code: exitCode });
	written.push(result.stdout, result.stderr);
});

test("n8n's debug log and the runs' output hold no key, password or token", () => {
	const logDir = path.join(n8n.userFolder, '.n8n', 'logs');
	const logFiles = existsSync(logDir) ? readdirSync(logDir).map((name) => path.join(logDir, name)) : [];
	const logs = logFiles.map((file) => readFileSync(file, 'utf8'));
	// A real debug log was written and scanned, with our nodes' traffic in it.
	expect(logs.join('').length).toBeGreaterThan(1000);
	const everything = [...logs, ...written].join('\n');
	expect(everything).toContain('Decagon answered HTTP 401');
	expect(everything).toMatch(/dembrane|Dembrane/);
	for (const secret of [GOOD_KEY, WRONG_KEY, dembrane.password, WRONG_PASSWORD, accessToken, dembrane.staticToken]) {
		expect({ secret, found: everything.includes(secret) }).toEqual({ secret, found: false });
	}
	expect(everything).not.toMatch(JWT);
});
