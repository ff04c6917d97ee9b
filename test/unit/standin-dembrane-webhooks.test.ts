/**
 * Webhooks of the dembrane stand-in: management routes exactly as production answers them, and
 * deliveries byte-for-byte as production's Python sends them. Bodies and signatures are checked
 * against real python3: `json.dumps(json.loads(body)) == body` (Python round-trips its own output
 * exactly, float literals included) and the signature is HMAC-SHA256 over
 * `json.dumps(json.loads(body), separators=(",", ":"), sort_keys=True)`.
 */
import { createHmac } from 'node:crypto';

import type { DembraneStandin, DeliveryResult } from '../standins/dembrane';
import { PyFloat, pythonBody, pythonCanonical, pythonFloatRepr, startDembraneStandin } from '../standins/dembrane';
import { Rng } from '../standins/decagon/random';
import type { WebhookReceiver } from '../standins/dembrane/testkit';
import { runPython, startWebhookReceiver } from '../standins/dembrane/testkit';

jest.setTimeout(30_000);

const SECRET = 'wh-sëcret-🔑-"quoted"';
let standin: DembraneStandin;
let receiver: WebhookReceiver;
let token: string;

beforeAll(async () => {
	[standin, receiver] = await Promise.all([startDembraneStandin({ webhookRetryDelaysMs: [20, 40, 80], webhookTimeoutMs: 2000 }), startWebhookReceiver()]);
	token = standin.issueAccessToken();
});
afterAll(async () => {
	await standin.close();
	await receiver.close();
});
beforeEach(async () => {
	await standin.idle();
	standin.configure({ webhooksAllowed: 'yes', signatureStyle: 'production', durationLiterals: 'float', webhookRetryDelaysMs: [20, 40, 80], webhookTimeoutMs: 2000 });
	for (const webhook of standin.webhooks(project())) {
		if (webhook.deleted_at === null) await call(`/api/projects/${project()}/webhooks/${webhook.id}`, { method: 'DELETE' });
	}
	standin.resetStats();
	receiver.reset();
});

const project = () => standin.ids().unicodeProjectId;

async function call(path: string, init: { method?: string; body?: unknown; auth?: string } = {}) {
	const response = await fetch(new URL(path, standin.url), {
		method: init.method ?? 'GET',
		headers: { authorization: `Bearer ${init.auth ?? token}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
		body: init.body === undefined ? undefined : JSON.stringify(init.body),
		signal: AbortSignal.timeout(10_000),
	});
	const text = await response.text();
	return { status: response.status, text, json: () => JSON.parse(text) };
}

async function createWebhook(body: Record<string, unknown> = {}) {
	const answer = await call(`/api/projects/${project()}/webhooks`, {
		method: 'POST',
		body: { name: 'n8n', url: receiver.url, secret: SECRET, events: ['conversation.started', 'conversation.transcribed', 'conversation.summarized', 'report.generated'], ...body },
	});
	expect(answer.status).toBe(201);
	return answer.json() as { id: string; name: string; url: string; events: string[]; status: string; date_created: string; date_updated: string | null };
}

/** Asks python3, for each delivery, whether the body is its own json.dumps and what it signs. */
async function pythonCheck(items: Array<{ body: string; secret: string }>): Promise<Array<{ roundTrip: boolean; signature: string }>> {
	const script = [
		'import hashlib, hmac, json, sys',
		'out = []',
		'for item in json.load(sys.stdin):',
		'    payload = json.loads(item["body"])',
		'    canonical = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")',
		'    signature = "sha256=" + hmac.new(item["secret"].encode("utf-8"), canonical, hashlib.sha256).hexdigest()',
		'    out.append({"roundTrip": json.dumps(payload) == item["body"], "signature": signature})',
		'print(json.dumps(out))',
	].join('\n');
	return JSON.parse(await runPython(script, JSON.stringify(items)));
}

describe('webhook management', () => {
	test('create (201, secret never returned), list, patch, delete (soft), 404s', async () => {
		const created = await createWebhook({ events: ['conversation.summarized'] });
		expect(created).toEqual({ id: expect.any(String), name: 'n8n', url: receiver.url, events: ['conversation.summarized'], status: 'published', date_created: expect.stringMatching(/Z$/), date_updated: null });
		const listed = await call(`/api/projects/${project()}/webhooks`);
		expect(listed.json()).toEqual([created]);
		expect(listed.text).not.toContain('secret');

		const patched = (await call(`/api/projects/${project()}/webhooks/${created.id}`, { method: 'PATCH', body: { status: 'draft', events: ['report.generated'] } })).json();
		expect(patched).toEqual({ ...created, status: 'draft', events: ['report.generated'], date_updated: expect.any(String) });

		const deleted = await call(`/api/projects/${project()}/webhooks/${created.id}`, { method: 'DELETE' });
		expect([deleted.status, deleted.text]).toEqual([204, '']);
		expect((await call(`/api/projects/${project()}/webhooks`)).json()).toEqual([]);
		// Production looks webhooks up by id and project only: a soft-deleted one is still found.
		expect((await call(`/api/projects/${project()}/webhooks/${created.id}`, { method: 'PATCH', body: {} })).status).toBe(200);

		const missing = await call(`/api/projects/${project()}/webhooks/nope`, { method: 'PATCH', body: { name: 'x' } });
		expect([missing.status, missing.json()]).toEqual([404, { detail: 'Webhook not found' }]);
		const otherProject = standin.ids().projectIds[1];
		expect((await call(`/api/projects/${otherProject}/webhooks/${created.id}`, { method: 'DELETE' })).json()).toEqual({ detail: 'Webhook not found' });
		expect((await call(`/api/projects/${otherProject}/webhooks/${created.id}/test`, { method: 'POST' })).status).toBe(404);
	});

	test('400 on an unknown event or a non-http(s) URL; 422 on a malformed body', async () => {
		const post = (body: unknown) => call(`/api/projects/${project()}/webhooks`, { method: 'POST', body });
		const badEvent = await post({ name: 'x', url: receiver.url, events: ['conversation.started', 'webhook.test'] });
		expect([badEvent.status, badEvent.json()]).toEqual([
			400,
			{ detail: "Invalid event type: webhook.test. Valid types: ['conversation.started', 'conversation.transcribed', 'conversation.summarized', 'report.generated']" },
		]);
		const badUrl = await post({ name: 'x', url: 'ftp://example.com/hook', events: [] });
		expect([badUrl.status, badUrl.json()]).toEqual([400, { detail: 'URL must start with http:// or https://' }]);
		const badStatus = await call(`/api/projects/${project()}/webhooks/${(await createWebhook()).id}`, { method: 'PATCH', body: { status: 'paused' } });
		expect(badStatus.json()).toEqual({ detail: 'Status must be one of: published, draft, archived' });
		const missing = await post({ url: receiver.url, events: 'conversation.started' });
		expect(missing.status).toBe(422);
		expect(missing.json().detail.map((e: { type: string; loc: string[] }) => [e.type, e.loc.join('.')])).toEqual([
			['missing', 'body.name'],
			['list_type', 'body.events'],
		]);
	});

	test('403 without workspace:webhooks (Not allowed, or the tier message); staff pass', async () => {
		standin.configure({ webhooksAllowed: 'not-allowed' });
		const refused = await call(`/api/projects/${project()}/webhooks`);
		expect([refused.status, refused.json()]).toEqual([403, { detail: 'Not allowed' }]);
		standin.configure({ webhooksAllowed: 'tier' });
		expect((await call(`/api/projects/${project()}/webhooks`, { method: 'POST', body: { name: 'x', url: receiver.url, events: [] } })).json()).toEqual({
			detail: 'This action requires the changemaker tier (currently free).',
		});
		expect((await call(`/api/projects/${project()}/webhooks`, { auth: standin.issueAccessToken({ admin: true }) })).status).toBe(200);
		expect((await call('/api/projects/unknown/webhooks')).json()).toEqual({ detail: 'Project not found' });
	});

	test('the test route sends webhook.test once and reports the answer', async () => {
		const webhook = await createWebhook();
		receiver.script([200, 500]);
		const ok = (await call(`/api/projects/${project()}/webhooks/${webhook.id}/test`, { method: 'POST' })).json();
		expect(ok).toEqual({ success: true, status_code: 200, message: 'Webhook responded successfully with status 200' });
		const failed = (await call(`/api/projects/${project()}/webhooks/${webhook.id}/test`, { method: 'POST' })).json();
		expect(failed).toEqual({ success: false, status_code: 500, message: 'Webhook returned error status 500: error 500' });
		const [first] = receiver.received;
		expect(first.headers['x-webhook-event']).toBe('webhook.test');
		const payload = JSON.parse(first.body.toString('utf8'));
		expect(payload.event).toBe('webhook.test');
		expect(payload.conversation).toEqual(expect.objectContaining({ id: 'test-conversation-id', duration: 120, emails_csv: 'test@example.com,another@example.com' }));
		expect(first.body.toString()).toContain('"duration": 120,'); // a Python int in the mock conversation
		const [python] = await pythonCheck([{ body: first.body.toString('utf8'), secret: SECRET }]);
		expect(python).toEqual({ roundTrip: true, signature: first.headers['x-webhook-signature'] });

		await call(`/api/projects/${project()}/webhooks/${webhook.id}`, { method: 'PATCH', body: { url: 'http://127.0.0.1:9/refused' } });
		const refused = (await call(`/api/projects/${project()}/webhooks/${webhook.id}/test`, { method: 'POST' })).json();
		expect(refused).toEqual({ success: false, status_code: null, message: expect.stringMatching(/^Failed to connect to webhook: /) });
	});
});

describe('deliveries', () => {
	test('every event: headers, payload shape, body = python json.dumps, signature = python HMAC over sort_keys compact', async () => {
		await createWebhook();
		const zoe = standin.conversations(project())[0];
		const added = standin.addConversation(project(), { participant_name: '山田 "Taro" \\ 🎤', participant_email: 'taro@example.jp', duration: 12.5 });
		standin.addChunk(added.id, '  Line one — “quoted” \\ back\tslash\u0007 bell 🎉 / slash\n');
		standin.summarize(zoe.id, 'Zoë said: "Straße" 😊\nnew line');
		const report = standin.generateReport(project());
		await standin.idle();
		const results = await standin.emit('conversation.transcribed', { projectId: project(), conversationId: zoe.id });
		expect(results).toHaveLength(1);
		const received = await receiver.waitFor(5);
		expect(received.map((r) => r.headers['x-webhook-event'])).toEqual(
			expect.arrayContaining(['conversation.started', 'conversation.transcribed', 'conversation.summarized', 'report.generated']),
		);

		for (const delivery of received) {
			expect(delivery.method).toBe('POST');
			expect(delivery.path).toBe('/hook');
			expect(delivery.headers['content-type']).toBe('application/json');
			expect(delivery.headers['user-agent']).toBe('Dembrane-Webhook/1.0');
			expect(delivery.headers['x-webhook-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
			expect(delivery.headers['x-dembrane-signature']).toBeUndefined();
			expect(delivery.rawHeaderNames).toEqual(expect.arrayContaining(['Content-Type', 'User-Agent', 'X-Webhook-Event', 'X-Webhook-Signature']));
			expect(Number(delivery.headers['content-length'])).toBe(delivery.body.length);
			expect(/^[\x20-\x7e]*$/.test(delivery.body.toString('latin1'))).toBe(true); // ensure_ascii
			const payload = JSON.parse(delivery.body.toString('utf8'));
			expect(payload.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
			expect(Object.keys(payload)).toEqual(['event', 'timestamp', payload.event === 'report.generated' ? 'report' : 'conversation', 'project', 'dashboardUrl']);
			expect(payload.project).toEqual({ id: project(), name: "Stadtgespräch / Zoë's Café 2025", language: 'de' });
			if (payload.event === 'report.generated') {
				expect(payload.report).toEqual({ id: report.id, status: 'published', language: 'de', date_created: report.date_created });
				expect(payload.dashboardUrl).toBe(`https://dashboard.dembrane.com/de-DE/w/${standin.ids().workspaceIds[0]}/projects/${project()}/report`);
				continue;
			}
			const keys = ['id', 'created_at', 'updated_at', 'participant_name', 'duration', 'source', 'is_finished', 'is_all_chunks_transcribed', 'tags', 'emails_csv'];
			if (payload.event !== 'conversation.started') keys.push('transcript');
			if (payload.event === 'conversation.summarized') keys.push('summary');
			expect(Object.keys(payload.conversation)).toEqual(keys);
			expect(payload.dashboardUrl).toBe(`https://dashboard.dembrane.com/de-DE/w/${standin.ids().workspaceIds[0]}/projects/${project()}/conversations/${payload.conversation.id}/overview`);
		}

		const byEvent = (event: string) => received.find((r) => r.headers['x-webhook-event'] === event && JSON.parse(r.body.toString()).conversation?.id !== added.id) ?? received.find((r) => r.headers['x-webhook-event'] === event)!;
		const summarized = byEvent('conversation.summarized').body.toString('utf8');
		expect(summarized).toContain('"duration": 245.0, '); // a Python float on the wire
		expect(summarized).toContain('"participant_name": "Zo\\u00eb M\\u00fcller-\\u0141ukasz"');
		expect(summarized).toContain('"summary": "Zo\\u00eb said: \\"Stra\\u00dfe\\" \\ud83d\\ude0a\\nnew line"');
		const transcribedAdded = received.find((r) => r.headers['x-webhook-event'] === 'conversation.transcribed' && JSON.parse(r.body.toString()).conversation.id === added.id)!;
		// Webhook transcripts are stripped; control characters as \u00XX; "/" not escaped.
		expect(transcribedAdded.body.toString()).toContain('"transcript": "Line one \\u2014 \\u201cquoted\\u201d \\\\ back\\tslash\\u0007 bell \\ud83c\\udf89 / slash"');

		const python = await pythonCheck(received.map((r) => ({ body: r.body.toString('utf8'), secret: SECRET })));
		python.forEach((check, index) => {
			expect(check.roundTrip).toBe(true);
			expect(check.signature).toBe(received[index].headers['x-webhook-signature']);
		});
		// The signature is not over the wire bytes (that is the docs' claim).
		const overBody = `sha256=${createHmac('sha256', SECRET).update(received[0].body).digest('hex')}`;
		expect(received[0].headers['x-webhook-signature']).not.toBe(overBody);
		expect(standin.stats().deliveries.every((attempt) => attempt.attempt === 1 && attempt.status === 200)).toBe(true);
	});

	test('durationLiterals "directus": whole durations as ints', async () => {
		await createWebhook();
		standin.configure({ durationLiterals: 'directus' });
		const [result] = await standin.emit('conversation.started', { projectId: project(), conversationId: standin.conversations(project())[0].id });
		expect(result.body).toContain('"duration": 245, ');
		const second = standin.conversations(project())[1];
		const [other] = await standin.emit('conversation.started', { projectId: project(), conversationId: second.id });
		expect(other.body).toContain('"duration": 312.48, ');
	});

	test('docs signature style: X-Dembrane-Signature over the raw body, no X-Webhook-Signature; no secret, no signature', async () => {
		const webhook = await createWebhook();
		standin.configure({ signatureStyle: 'docs' });
		const cid = standin.conversations(project())[0].id;
		await standin.emit('conversation.started', { projectId: project(), conversationId: cid });
		const [docs] = await receiver.waitFor(1);
		expect(docs.headers['x-webhook-signature']).toBeUndefined();
		expect(docs.headers['x-dembrane-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(docs.body).digest('hex')}`);
		await call(`/api/projects/${project()}/webhooks/${webhook.id}`, { method: 'PATCH', body: { secret: '' } });
		await standin.emit('conversation.started', { projectId: project(), conversationId: cid });
		const [, unsigned] = await receiver.waitFor(2);
		expect(unsigned.headers['x-webhook-signature']).toBeUndefined();
		expect(unsigned.headers['x-dembrane-signature']).toBeUndefined();
	});

	test('only published, subscribed, not deleted webhooks of the project receive an event', async () => {
		await createWebhook({ events: ['conversation.started'] });
		const draft = await createWebhook();
		await call(`/api/projects/${project()}/webhooks/${draft.id}`, { method: 'PATCH', body: { status: 'draft' } });
		const deleted = await createWebhook();
		await call(`/api/projects/${project()}/webhooks/${deleted.id}`, { method: 'DELETE' });
		const cid = standin.conversations(project())[0].id;
		expect(await standin.emit('conversation.summarized', { projectId: project(), conversationId: cid })).toEqual([]);
		expect(await standin.emit('conversation.started', { projectId: project(), conversationId: cid })).toHaveLength(1);
	});
});

describe('retries', () => {
	const emitStarted = async (): Promise<DeliveryResult> => {
		const results = await standin.emit('conversation.started', { projectId: project(), conversationId: standin.conversations(project())[0].id });
		expect(results).toHaveLength(1);
		return results[0];
	};

	test('5xx is retried with the same bytes until a success', async () => {
		await createWebhook();
		receiver.script([500, 502], 200);
		const result = await emitStarted();
		expect(result).toEqual(expect.objectContaining({ delivered: true, attempts: 3, status: 200 }));
		const received = await receiver.waitFor(3);
		expect(new Set(received.map((r) => r.body.toString('hex'))).size).toBe(1);
		expect(new Set(received.map((r) => r.headers['x-webhook-signature'])).size).toBe(1);
		expect(standin.stats().deliveries.map((d) => [d.attempt, d.status])).toEqual([
			[1, 500],
			[2, 502],
			[3, 200],
		]);
		expect(standin.stats().deliveries[0].bodyBytes).toBe(received[0].body.length);
	});

	test('4xx is final; four 5xx attempts are the most', async () => {
		await createWebhook();
		receiver.script([400]);
		expect(await emitStarted()).toEqual(expect.objectContaining({ delivered: false, attempts: 1, status: 400 }));
		receiver.reset();
		receiver.script([], 503);
		expect(await emitStarted()).toEqual(expect.objectContaining({ delivered: false, attempts: 4, status: 503 }));
		expect(receiver.received).toHaveLength(4);
	});

	test('a receiver that hangs is timed out and retried; a refused connection is retried', async () => {
		standin.configure({ webhookTimeoutMs: 150 });
		await createWebhook();
		receiver.script(['hang'], 200);
		const result = await emitStarted();
		expect(result).toEqual(expect.objectContaining({ delivered: true, attempts: 2, status: 200 }));
		expect(standin.stats().deliveries.map((d) => d.error ?? d.status)).toEqual(['read-timeout', 200]);

		const webhook = standin.webhooks(project()).find((w) => w.deleted_at === null)!;
		await call(`/api/projects/${project()}/webhooks/${webhook.id}`, { method: 'PATCH', body: { url: 'http://127.0.0.1:9/closed' } });
		standin.resetStats();
		const refused = await emitStarted();
		expect(refused).toEqual(expect.objectContaining({ delivered: false, attempts: 4, status: null, error: 'ECONNREFUSED' }));
	});

	test('unpublishing the webhook stops pending retries', async () => {
		standin.configure({ webhookRetryDelaysMs: [800] });
		const webhook = await createWebhook();
		receiver.script([500]);
		const pending = emitStarted();
		await receiver.waitFor(1);
		await call(`/api/projects/${project()}/webhooks/${webhook.id}`, { method: 'PATCH', body: { status: 'archived' } });
		expect(await pending).toEqual(expect.objectContaining({ delivered: false, attempts: 1, stopped: 'unpublished' }));
	});
});

describe('Python JSON, property-tested against python3', () => {
	const ALPHABET = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u001f', '\u007f', 'é', 'ß', 'Ł', '中', '\u2028', '\ufeff', '😀', '🎉', '𝔐', '\ud800', '\udfff'];

	function randomString(rng: Rng, max = 12): string {
		let text = '';
		const length = rng.int(0, max);
		for (let i = 0; i < length; i++) text += rng.chance(0.3) ? String.fromCharCode(rng.int(0x20, 0x7e)) : rng.pick(ALPHABET);
		return text;
	}

	function randomFloat(rng: Rng): number {
		switch (rng.int(0, 6)) {
			case 0:
				return rng.int(-10_000, 10_000);
			case 1:
				return (rng.float() - 0.5) * 10 ** rng.int(-30, 30);
			case 2:
				return rng.pick([0, -0, 0.1, 1e16, 1e15, 1e-4, 1e-5, 5e-324, 1.7976931348623157e308, 9007199254740993, 123456789.125, 2.5e-7]);
			case 3: {
				const bits = Buffer.alloc(8);
				bits.writeUInt32LE(rng.uint32(), 0);
				bits.writeUInt32LE(rng.uint32() & 0x7fefffff, 4); // finite
				return bits.readDoubleLE(0);
			}
			default:
				return Math.round(rng.float() * 100_000) / 100;
		}
	}

	function randomValue(rng: Rng, depth: number): unknown {
		const kind = rng.int(0, depth > 2 ? 5 : 7);
		switch (kind) {
			case 0:
				return randomString(rng, 20);
			case 1:
				return rng.int(-1_000_000, 1_000_000);
			case 2:
				return rng.chance(0.5) ? BigInt(rng.uint32()) * 10n ** 12n * (rng.chance(0.5) ? -1n : 1n) : Number.MAX_SAFE_INTEGER;
			case 3:
				return new PyFloat(randomFloat(rng));
			case 4:
				return rng.pick([true, false, null]);
			case 5:
				return randomFloat(rng);
			case 6:
				return Array.from({ length: rng.int(0, 4) }, () => randomValue(rng, depth + 1));
			default: {
				const map = new Map<string, unknown>();
				const size = rng.int(0, 5);
				for (let i = 0; i < size; i++) map.set(rng.chance(0.2) ? String(rng.int(0, 99)) : randomString(rng), randomValue(rng, depth + 1));
				return map;
			}
		}
	}

	test('300 random payloads: json.dumps defaults and sort_keys/compact match python3 byte for byte', async () => {
		const rng = new Rng(20250304);
		const payloads = Array.from({ length: 300 }, () => {
			const map = new Map<string, unknown>([['event', 'conversation.summarized']]);
			for (let i = 0; i < 6; i++) map.set(randomString(rng), randomValue(rng, 0));
			return map;
		});
		const items = payloads.map((payload) => ({ body: pythonBody(payload), canonical: pythonCanonical(payload) }));
		const script = [
			'import json, sys',
			'bad = []',
			'for i, item in enumerate(json.load(sys.stdin)):',
			'    value = json.loads(item["body"])',
			'    if json.dumps(value) != item["body"]: bad.append([i, "body", json.dumps(value)])',
			'    if json.dumps(value, separators=(",", ":"), sort_keys=True) != item["canonical"]: bad.append([i, "canonical"])',
			'print(json.dumps(bad))',
		].join('\n');
		const bad = JSON.parse(await runPython(script, JSON.stringify(items))) as unknown[];
		expect(bad).toEqual([]);
	});

	test('float repr: 2,000 random doubles read from their bits match Python repr()', async () => {
		const rng = new Rng(7);
		const values = Array.from({ length: 2000 }, () => randomFloat(rng));
		const bits = values.map((value) => {
			const buffer = Buffer.alloc(8);
			buffer.writeDoubleLE(value, 0);
			return buffer.toString('hex');
		});
		const script = 'import json, struct, sys\nprint(json.dumps([repr(struct.unpack("<d", bytes.fromhex(h))[0]) for h in json.load(sys.stdin)]))';
		const python = JSON.parse(await runPython(script, JSON.stringify(bits))) as string[];
		expect(values.map((value) => pythonFloatRepr(value))).toEqual(python);
	});
});
