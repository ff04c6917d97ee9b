/**
 * The dembrane ECHO Trigger's webhook phase for dembrane's `webhook.test` (its "Test" button): the
 * published workflow starts on it only with Start on Test Events; the editor listening for a test event
 * always does. (Signature, event choice and redeliveries run in a real n8n: test/e2e/dembrane-trigger.test.ts.)
 */
import { createHmac } from 'node:crypto';

import type { IDataObject, IWebhookFunctions, IWebhookResponseData, WorkflowExecuteMode } from 'n8n-workflow';

import { DembraneEchoTrigger } from '../../nodes/DembraneEcho/DembraneEchoTrigger.node';

const SECRET = 'manual-secret';

async function deliverTest(mode: WorkflowExecuteMode, options: IDataObject): Promise<{ result: IWebhookResponseData; status?: number }> {
	const raw = Buffer.from(JSON.stringify({ event: 'webhook.test', timestamp: '2026-11-30T10:00:00.000000', webhook_id: 'w1' }), 'utf8');
	const signature = `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;
	const parameters: IDataObject = { registration: 'manual', secret: SECRET, events: ['conversation.summarized'], options };
	let status: number | undefined;
	const context = {
		getNode: () => ({ id: '1', name: 'ECHO Trigger', type: 'dembraneEchoTrigger', typeVersion: 1.1, position: [0, 0], parameters }),
		getMode: () => mode,
		getNodeParameter: (name: string, fallback?: unknown) => parameters[name] ?? fallback,
		getRequestObject: () => ({ rawBody: raw, body: JSON.parse(raw.toString('utf8')) }),
		getResponseObject: () => ({ status: (code: number) => ((status = code), { json: () => undefined }) }),
		getHeaderData: () => ({ 'x-webhook-signature': signature, 'x-webhook-event': 'webhook.test' }),
		getWorkflowStaticData: () => ({}),
		logger: { warn: () => undefined, debug: () => undefined },
		helpers: { returnJsonArray: (items: IDataObject[]) => items.map((json) => ({ json })) },
	} as unknown as IWebhookFunctions;
	const result = await new DembraneEchoTrigger().webhook.call(context);
	return { result, status };
}

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
