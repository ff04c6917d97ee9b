/**
 * Bodies and answers of the webhook management routes: pydantic's 422s for malformed bodies, then
 * production's own 400s (unknown event, non-http(s) URL, unknown status), and the answer shape
 * `{id, name, url, events, status, date_created, date_updated}` (the secret is never returned).
 */
import { HttpProblem, parseJsonBody, validationError } from './http';
import type { Webhook, WebhookEvent } from './types';
import { WEBHOOK_EVENTS } from './types';

/** Python's repr of the event list, as production puts it in its 400 message. */
const WEBHOOK_EVENTS_REPR = `[${WEBHOOK_EVENTS.map((event) => `'${event}'`).join(', ')}]`;

export function webhookView(webhook: Webhook): Record<string, unknown> {
	return {
		id: webhook.id,
		name: webhook.name,
		url: webhook.url,
		events: [...webhook.events],
		status: webhook.status,
		date_created: webhook.date_created,
		date_updated: webhook.date_updated,
	};
}

/** Parses and type-checks a create/update body; `required` names the fields that must be present. */
export function parseWebhookBody(bytes: Buffer, required: string[]): Record<string, unknown> {
	const body = parseJsonBody(bytes);
	if (!body || typeof body !== 'object' || Array.isArray(body)) {
		throw new HttpProblem(422, [validationError('model_attributes_type', ['body'], 'Input should be a valid dictionary or object to extract fields from', body)]);
	}
	const fields = body as Record<string, unknown>;
	const errors = [];
	for (const name of ['name', 'url', 'secret', 'status']) {
		const value = fields[name];
		if (value === undefined || value === null) {
			if (required.includes(name)) errors.push(validationError('missing', ['body', name], 'Field required', body));
		} else if (typeof value !== 'string') {
			errors.push(validationError('string_type', ['body', name], 'Input should be a valid string', value));
		}
	}
	const events = fields.events;
	if (events === undefined || events === null) {
		if (required.includes('events')) errors.push(validationError('missing', ['body', 'events'], 'Field required', body));
	} else if (!Array.isArray(events)) {
		errors.push(validationError('list_type', ['body', 'events'], 'Input should be a valid list', events));
	} else {
		events.forEach((event, index) => {
			if (typeof event !== 'string') errors.push(validationError('string_type', ['body', 'events', index], 'Input should be a valid string', event));
		});
	}
	if (errors.length > 0) throw new HttpProblem(422, errors);
	return fields;
}

/** Production's checks, in its order: events, URL, status. */
export function checkWebhookFields(fields: Record<string, unknown>): void {
	if (Array.isArray(fields.events)) {
		for (const event of fields.events as string[]) {
			if (!WEBHOOK_EVENTS.includes(event as WebhookEvent)) throw new HttpProblem(400, `Invalid event type: ${event}. Valid types: ${WEBHOOK_EVENTS_REPR}`);
		}
	}
	if (typeof fields.url === 'string' && !fields.url.startsWith('http://') && !fields.url.startsWith('https://')) {
		throw new HttpProblem(400, 'URL must start with http:// or https://');
	}
	if (typeof fields.status === 'string' && !['published', 'draft', 'archived'].includes(fields.status)) {
		throw new HttpProblem(400, 'Status must be one of: published, draft, archived');
	}
}
