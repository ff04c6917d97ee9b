/**
 * The dembrane ECHO Trigger's webhook phase: what dembrane gets back for a delivery, and whether an
 * execution starts. dembrane never retries a 4xx and retries a 5xx, so each status matters: a wrong 401
 * loses the event for good, a missing one lets anyone start the workflow. Also dembrane's `webhook.test`
 * (its "Test" button): the published workflow starts on it only with Start on Test Events; the editor
 * listening for a test event always does. (Redeliveries and the fetches run in the execution:
 * test/workflow/dembrane-trigger.workflow.test.ts, and in a real n8n: test/e2e/dembrane-trigger.test.ts.)
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { IDataObject, IWebhookFunctions, IWebhookResponseData, WorkflowExecuteMode } from 'n8n-workflow';

import { DembraneEchoTrigger } from '../../nodes/DembraneEcho/DembraneEchoTrigger.node';

const SECRET = 'manual-secret';

/** Bodies and signatures written by dembrane's own Python code (test/fixtures/make-signature-vectors.py). */
const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/dembrane-signature-vectors.json'), 'utf8')) as {
	secret: string;
	vectors: Array<{ about: string; body: string; signature: string }>;
};
const summarized = fixture.vectors.find((vector) => vector.about.startsWith('conversation.summarized'))!;

const rawSignature = (secret: string, raw: Buffer) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

interface Delivery {
	mode?: WorkflowExecuteMode;
	registration?: 'manual' | 'automatic';
	/** Manual: the node's Secret parameter. */
	secret?: string;
	/** Automatic: what the node keeps in the workflow's static data. */
	stored?: IDataObject;
	events?: string[];
	options?: IDataObject;
	body: string;
	headers: Record<string, string>;
}

async function deliver(delivery: Delivery): Promise<{ result: IWebhookResponseData; status?: number; message?: string }> {
	const raw = Buffer.from(delivery.body, 'utf8');
	const parameters: IDataObject = {
		registration: delivery.registration ?? 'manual',
		secret: delivery.secret ?? SECRET,
		events: delivery.events ?? ['conversation.summarized'],
		options: delivery.options ?? {},
	};
	let status: number | undefined;
	let message: string | undefined;
	const context = {
		getNode: () => ({ id: '1', name: 'ECHO Trigger', type: 'dembraneEchoTrigger', typeVersion: 1.1, position: [0, 0], parameters }),
		getMode: () => delivery.mode ?? 'webhook',
		getNodeParameter: (name: string, fallback?: unknown) => parameters[name] ?? fallback,
		getRequestObject: () => ({ rawBody: raw }),
		getResponseObject: () => ({
			status: (code: number) => ((status = code), { json: (body: { message: string }) => void (message = body.message) }),
		}),
		getHeaderData: () => delivery.headers,
		getWorkflowStaticData: () => delivery.stored ?? {},
		logger: { warn: () => undefined, debug: () => undefined },
		helpers: { returnJsonArray: (items: IDataObject[]) => items.map((json) => ({ json })) },
	} as unknown as IWebhookFunctions;
	const result = await new DembraneEchoTrigger().webhook.call(context);
	return { result, status, message };
}

/** A delivery exactly as production sends it: its body bytes, signed over Python's canonical JSON. */
const production = (secret?: string, extra: Partial<Delivery> = {}): Delivery => ({
	secret,
	body: summarized.body,
	headers: { 'x-webhook-event': 'conversation.summarized', 'x-webhook-signature': summarized.signature },
	...extra,
});

const started = (answer: { result: IWebhookResponseData; status?: number }) => answer.status === undefined && answer.result.workflowData !== undefined;

async function deliverTest(mode: WorkflowExecuteMode, options: IDataObject) {
	const raw = Buffer.from(JSON.stringify({ event: 'webhook.test', timestamp: '2026-11-30T10:00:00.000000', webhook_id: 'w1' }), 'utf8');
	return await deliver({
		mode,
		options,
		body: raw.toString('utf8'),
		headers: { 'x-webhook-signature': rawSignature(SECRET, raw), 'x-webhook-event': 'webhook.test' },
	});
}

test('a delivery signed as production signs it is answered 200 and starts the workflow with its event', async () => {
	const answer = await deliver(production(fixture.secret));
	expect(answer.status).toBeUndefined();
	expect(answer.result.workflowData?.[0]).toHaveLength(1);
	expect(answer.result.workflowData?.[0]?.[0]?.json).toEqual(
		expect.objectContaining({ event: 'conversation.summarized', conversationId: '3f2a9c1e-7d4b-4c3e-9a51-0b8e2f6d1c7a' }),
	);
});

test('a delivery without a signature is refused with 401 and starts nothing', async () => {
	const answer = await deliver(production(fixture.secret, { headers: { 'x-webhook-event': 'conversation.summarized' } }));
	expect(answer).toEqual({ result: { noWebhookResponse: true }, status: 401, message: 'Signature missing' });
});

test('a delivery signed with another secret is refused with 401 and starts nothing', async () => {
	const answer = await deliver(production('another-secret'));
	expect(answer).toEqual({ result: { noWebhookResponse: true }, status: 401, message: 'Signature invalid' });
});

test('Manual with an empty Secret verifies nothing (as the README warns): an unsigned delivery starts the workflow', async () => {
	expect(started(await deliver(production('', { headers: { 'x-webhook-event': 'conversation.summarized' } })))).toBe(true);
});

test('a Manual secret pasted with a trailing line break still verifies (dembrane never retries the 401 it would get)', async () => {
	expect(started(await deliver(production(`${fixture.secret}\n`)))).toBe(true);
	expect(started(await deliver(production(` ${fixture.secret} `)))).toBe(true);
});

test('Automatic before n8n has stored the registered secret: 503, so dembrane retries it, instead of running it unchecked', async () => {
	const early = await deliver(production(undefined, { registration: 'automatic', stored: {} }));
	expect(early).toEqual({ result: { noWebhookResponse: true }, status: 503, message: expect.stringContaining('still being registered') });
	// Once the secret is stored, the same delivery runs, and one signed otherwise is refused.
	expect(started(await deliver(production(undefined, { registration: 'automatic', stored: { secret: fixture.secret } })))).toBe(true);
	expect((await deliver(production(undefined, { registration: 'automatic', stored: { secret: 'other' } }))).status).toBe(401);
});

test('a correctly signed body that is not a dembrane event is refused with 400 (a 4xx dembrane does not retry)', async () => {
	for (const body of ['not json', '[{"event": "conversation.summarized"}]', '{"conversation": {"id": "c1"}}']) {
		const answer = await deliver({ body, headers: { 'x-webhook-signature': rawSignature(SECRET, Buffer.from(body)) } });
		expect(answer.status).toBe(400);
		expect(answer.result.workflowData).toBeUndefined();
	}
});

test('an event the node does not listen for is answered 200 and starts nothing', async () => {
	const answer = await deliver(production(fixture.secret, { events: ['conversation.started', 'report.generated'] }));
	expect(answer.status).toBeUndefined();
	expect(answer.result.workflowData).toBeUndefined();
	expect(answer.result.webhookResponse).toEqual(expect.objectContaining({ received: true, started: false }));
});

test('the docs form, a raw-body signature in X-Dembrane-Signature, starts the workflow', async () => {
	const body = '{"event": "conversation.summarized", "timestamp": "2025-03-04T10:20:01+00:00", "conversation": {"id": "c1", "duration": 245.0}}';
	const answer = await deliver({ body, headers: { 'x-dembrane-signature': rawSignature(SECRET, Buffer.from(body)) } });
	expect(started(answer)).toBe(true);
	expect(answer.result.workflowData?.[0]?.[0]?.json).toEqual(expect.objectContaining({ conversationId: 'c1' }));
});

test('the published workflow: webhook.test starts nothing unless Start on Test Events is on', async () => {
	const off = await deliverTest('webhook', {});
	expect(off.status).toBeUndefined();
	expect(off.result.workflowData).toBeUndefined();
	expect(off.result.webhookResponse).toEqual(expect.objectContaining({ started: false }));
	const on = await deliverTest('webhook', { includeTestEvents: true });
	expect(on.result.workflowData?.[0]).toHaveLength(1);
});

test('the editor listening for a test event: dembrane\'s Test button starts it, the option off', async () => {
	const listening = await deliverTest('manual', {});
	expect(listening.result.workflowData?.[0]?.[0]?.json).toEqual(expect.objectContaining({ event: 'webhook.test' }));
});
