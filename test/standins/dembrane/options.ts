import type { DembraneStandinOptions } from './types';
import {
	DURATION_LITERALS,
	FAULT_KINDS,
	NON_LATIN1_FILE_NAMES,
	SIGNATURE_STYLES,
	TRANSCRIPT_MEDIA_TYPES,
	WEBHOOKS_ALLOWED,
	ZIP_LAYOUTS,
	WORKSPACE_ACCESS,
	ZIP_QUIRKS,
} from './types';
import { mergeKnownOptions, optionsChanged } from '../common';

/** 2025-03-04T10:15:30Z, the time in api-notes' example file name. */
export const DEFAULT_DATA_EPOCH = 1_741_083_330;

/** Largest `zipBombBytes`: Python would switch the entry to ZIP64 above about 4.09e9. */
export const MAX_ZIP_BOMB_BYTES = 4_000_000_000;

export function defaultOptions(): DembraneStandinOptions {
	return {
		port: 0,
		latencyMs: 0,
		gzip: true,
		faults: [],
		email: 'demo@example.com',
		password: 'demo-password',
		displayName: 'Demo Host',
		jwtSecret: 'dembrane-standin-directus-secret',
		staticToken: 'Qm9ndXMtc3RhdGljLXRva2VuLTAxMjM0NTY3',
		accessTokenTtlSeconds: 900,
		refreshTokenTtlSeconds: 7 * 24 * 3600,
		seed: 1,
		workspaces: 1,
		projects: 2,
		projectNames: [],
		conversationsPerProject: 25,
		chunksPerConversation: 4,
		chunksPerTimestamp: 1,
		chunkTextBytes: 200,
		dataEpoch: DEFAULT_DATA_EPOCH,
		transcriptMediaType: 'json-string',
		durationLiterals: 'float',
		nonLatin1FileName: 'error-500',
		chunkListing: true,
		lockedConversationIds: [],
		overCapActive: false,
		transcriptFlagsFail: false,
		workspaceAccess: [],
		dashboardBaseUrl: 'https://dashboard.dembrane.com',
		zipQuirk: null,
		zipLayout: 'python',
		zipConversationLimit: 1000,
		zipChunkLimit: 100,
		zipBombBytes: 512 * 1024 * 1024,
		zipBombDeclaredBytes: null,
		manyEntriesCount: 70_000,
		webhooksAllowed: 'yes',
		signatureStyle: 'production',
		webhookRetryDelaysMs: [5000, 10_000, 20_000],
		webhookTimeoutMs: 30_000,
		webhookConnectTimeoutMs: 10_000,
	};
}

/** Options whose change means all data (projects, conversations, reports, webhooks) is generated again. */
export const DATA_OPTION_KEYS = [
	'seed',
	'workspaces',
	'projects',
	'projectNames',
	'conversationsPerProject',
	'chunksPerConversation',
	'chunksPerTimestamp',
	'chunkTextBytes',
	'dataEpoch',
] as const;
export type DataOptions = Pick<DembraneStandinOptions, (typeof DATA_OPTION_KEYS)[number]>;

export function dataOptionsOf(options: DembraneStandinOptions): DataOptions {
	const picked: Record<string, unknown> = {};
	for (const key of DATA_OPTION_KEYS) picked[key] = structuredClone(options[key]);
	return picked as DataOptions;
}

export function dataOptionsChanged(before: DembraneStandinOptions, after: DembraneStandinOptions): boolean {
	return optionsChanged<DembraneStandinOptions>(DATA_OPTION_KEYS, before, after);
}

/**
 * Merges `partial` over `current` and checks the result, throwing an Error that names the bad option
 * (the control route turns it into a 400). Keys set to undefined are left unchanged.
 */
export function mergeOptions(current: DembraneStandinOptions, partial: Partial<DembraneStandinOptions>): DembraneStandinOptions {
	const options = mergeKnownOptions(current, partial);
	validate(options);
	return structuredClone(options);
}

function validate(o: DembraneStandinOptions): void {
	const integer = (name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER) => {
		if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
			throw new Error(`option "${name}" must be an integer in [${min}, ${max}]`);
		}
	};
	const number = (name: string, value: unknown, min: number, max = Infinity) => {
		if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
			throw new Error(`option "${name}" must be a number in [${min}, ${max}]`);
		}
	};
	const oneOf = (name: string, value: unknown, allowed: readonly string[]) => {
		if (typeof value !== 'string' || !allowed.includes(value)) {
			throw new Error(`option "${name}" must be one of ${allowed.join(', ')}`);
		}
	};
	const boolean = (name: string, value: unknown) => {
		if (typeof value !== 'boolean') throw new Error(`option "${name}" must be true or false`);
	};
	const text = (name: string, value: unknown, allowEmpty = false) => {
		if (typeof value !== 'string' || (!allowEmpty && value === '')) throw new Error(`option "${name}" must be a ${allowEmpty ? '' : 'non-empty '}string`);
	};

	integer('port', o.port, 0, 65535);
	number('latencyMs', o.latencyMs, 0);
	boolean('gzip', o.gzip);
	if (!Array.isArray(o.faults)) throw new Error('option "faults" must be a list of {request, kind, path?}');
	for (const fault of o.faults) {
		integer('faults[].request', fault?.request, 1);
		oneOf('faults[].kind', fault?.kind, FAULT_KINDS);
		if (fault.path !== undefined) text('faults[].path', fault.path);
	}
	text('email', o.email);
	text('password', o.password);
	text('displayName', o.displayName, true);
	text('jwtSecret', o.jwtSecret);
	text('staticToken', o.staticToken);
	if (o.staticToken.split('.').length === 3) throw new Error('option "staticToken" must not look like a JWT');
	integer('accessTokenTtlSeconds', o.accessTokenTtlSeconds, 1);
	integer('refreshTokenTtlSeconds', o.refreshTokenTtlSeconds, 1);
	number('seed', o.seed, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
	integer('workspaces', o.workspaces, 1, 1000);
	integer('projects', o.projects, 1, 10_000);
	if (!Array.isArray(o.projectNames) || o.projectNames.some((name) => typeof name !== 'string')) {
		throw new Error('option "projectNames" must be a list of strings');
	}
	integer('conversationsPerProject', o.conversationsPerProject, 0, 1_000_000);
	integer('chunksPerConversation', o.chunksPerConversation, 0, 100_000);
	integer('chunksPerTimestamp', o.chunksPerTimestamp, 1, 100_000);
	integer('chunkTextBytes', o.chunkTextBytes, 1, 10_000_000);
	integer('dataEpoch', o.dataEpoch, 0);
	oneOf('transcriptMediaType', o.transcriptMediaType, TRANSCRIPT_MEDIA_TYPES);
	oneOf('durationLiterals', o.durationLiterals, DURATION_LITERALS);
	oneOf('nonLatin1FileName', o.nonLatin1FileName, NON_LATIN1_FILE_NAMES);
	if (typeof o.chunkListing !== 'boolean') throw new Error('option "chunkListing" must be true or false');
	if (!Array.isArray(o.lockedConversationIds) || o.lockedConversationIds.some((id) => typeof id !== 'string')) {
		throw new Error('option "lockedConversationIds" must be a list of strings');
	}
	if (typeof o.overCapActive !== 'boolean') throw new Error('option "overCapActive" must be true or false');
	if (typeof o.transcriptFlagsFail !== 'boolean') throw new Error('option "transcriptFlagsFail" must be true or false');
	if (!Array.isArray(o.workspaceAccess)) throw new Error('option "workspaceAccess" must be a list');
	for (const access of o.workspaceAccess) oneOf('workspaceAccess[]', access, WORKSPACE_ACCESS);
	text('dashboardBaseUrl', o.dashboardBaseUrl);
	if (o.zipQuirk !== null) oneOf('zipQuirk', o.zipQuirk, ZIP_QUIRKS);
	oneOf('zipLayout', o.zipLayout, ZIP_LAYOUTS);
	integer('zipConversationLimit', o.zipConversationLimit, 0);
	integer('zipChunkLimit', o.zipChunkLimit, 0);
	integer('zipBombBytes', o.zipBombBytes, 1, MAX_ZIP_BOMB_BYTES);
	if (o.zipBombDeclaredBytes !== null) integer('zipBombDeclaredBytes', o.zipBombDeclaredBytes, 0, 0xffff_ffff);
	integer('manyEntriesCount', o.manyEntriesCount, 0, 1_000_000);
	oneOf('webhooksAllowed', o.webhooksAllowed, WEBHOOKS_ALLOWED);
	oneOf('signatureStyle', o.signatureStyle, SIGNATURE_STYLES);
	if (!Array.isArray(o.webhookRetryDelaysMs) || o.webhookRetryDelaysMs.length > 10) {
		throw new Error('option "webhookRetryDelaysMs" must be a list of at most 10 delays (attempts = length + 1)');
	}
	for (const delay of o.webhookRetryDelaysMs) number('webhookRetryDelaysMs[]', delay, 0, 3_600_000);
	number('webhookTimeoutMs', o.webhookTimeoutMs, 1, 600_000);
	number('webhookConnectTimeoutMs', o.webhookConnectTimeoutMs, 1, 600_000);
}
