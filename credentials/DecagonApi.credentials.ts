import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

export class DecagonApi implements ICredentialType {
	name = 'decagonApi';

	displayName = 'Decagon API';

	icon = { light: 'file:decagon.svg', dark: 'file:decagon.dark.svg' } as const;

	documentationUrl = 'https://docs.decagon.ai/';

	properties: INodeProperties[] = [
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				{ name: 'US (api.decagon.ai)', value: 'us' },
				{ name: 'EU (eu.api.decagon.ai)', value: 'eu' },
				{ name: 'Custom URL', value: 'custom' },
			],
			default: 'us',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://api.decagon.ai',
			description: 'The API root, without a trailing path',
			displayOptions: { show: { region: ['custom'] } },
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Requests per Second',
			name: 'requestsPerSecond',
			type: 'number',
			typeOptions: { minValue: 0.1, maxValue: 1000, numberPrecision: 2 },
			default: 1,
			hint: 'Decagon bans IP addresses that go over the limit: keep 1 unless Decagon raised yours',
			description:
				'Decagon allows 1 request per second per account and bans IP addresses that exceed it. Raise this only if Decagon granted your account a higher limit. Retries count against it too.',
		},
	];

	// A function, not a generic `=Bearer {{$credentials.apiKey}}`: n8n would evaluate that expression for
	// every request (a thousand times in a 100,000-conversation export). A pasted key's stray spaces or
	// line break are dropped (a line break in a header fails the request).
	async authenticate(credentials: ICredentialDataDecryptedObject, requestOptions: IHttpRequestOptions): Promise<IHttpRequestOptions> {
		const apiKey = String(credentials.apiKey ?? '').trim();
		return { ...requestOptions, headers: { ...requestOptions.headers, Authorization: `Bearer ${apiKey}` } };
	}

	test: ICredentialTestRequest = {
		request: {
			baseURL:
				'={{$credentials.region === "custom" ? $credentials.baseUrl.trim().replace(/\\/+$/, "") : $credentials.region === "eu" ? "https://eu.api.decagon.ai" : "https://api.decagon.ai"}}',
			url: '/conversation/export',
			method: 'GET',
			qs: { min_timestamp: '={{Math.floor(Date.now() / 1000)}}' },
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message: 'Decagon rejected the API key (401). Copy the key again from Decagon and paste it here.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 403,
					message: 'Decagon refused this API key (403): it has no access to conversation export.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message: 'No Decagon export API at this URL (404). Give the API root only (https://api.decagon.ai), without a path.',
				},
			},
			{
				// n8n sends a request that drew a 401 again at once, for every credential: the second then meets
				// Decagon's limit of 1 request per second, and only its 429 reaches this test.
				type: 'responseCode',
				properties: {
					value: 429,
					message:
						'Decagon answered 429 Too Many Requests. n8n repeats a test that Decagon refused at once, so this usually means the API key was rejected: copy it again from Decagon. If the key is right, wait a few seconds and retry (Decagon allows 1 request per second).',
				},
			},
		],
	};
}
