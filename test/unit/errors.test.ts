/** What an API's error body says, as our errors show it. */
import { serverMessage } from '../../nodes/shared/errors';

test('the message of the common error bodies', () => {
	expect(serverMessage({ detail: 'Conversation not found' })).toBe('Conversation not found');
	expect(serverMessage({ message: 'Invalid API key' })).toBe('Invalid API key');
	expect(serverMessage({ errors: [{ message: 'Invalid user credentials.', extensions: { code: 'INVALID_CREDENTIALS' } }] })).toBe('Invalid user credentials.');
	expect(serverMessage(Buffer.from('Internal Server Error'))).toBe('Internal Server Error');
	expect(serverMessage('')).toBeUndefined();
});

test("FastAPI's validation errors (422): the first message, with the parameter it is about", () => {
	const body = { detail: [{ loc: ['query', 'min_timestamp'], msg: 'value is not a valid integer', type: 'type_error.integer' }] };
	expect(serverMessage(body)).toBe('min_timestamp: value is not a valid integer');
	expect(serverMessage(JSON.stringify(body))).toBe('min_timestamp: value is not a valid integer');
	// An empty nested value falls through to the next field.
	expect(serverMessage({ detail: [], message: 'Bad request' })).toBe('Bad request');
});

test("a proxy's HTML error page gives its title, not its markup", () => {
	expect(serverMessage('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>')).toBe('502 Bad Gateway');
	expect(serverMessage('<html><head><title>Error 403 &ndash; Forbidden &amp; blocked</title></head></html>')).toBe('Error 403 – Forbidden & blocked');
	// No title: the page's text.
	expect(serverMessage(Buffer.from('<!DOCTYPE html><html><body><h1>Service  Unavailable</h1></body></html>'))).toBe('Service Unavailable');
	expect(serverMessage('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>')).toBe('AccessDenied Access Denied');
	expect(serverMessage('<html></html>')).toBeUndefined();
});
