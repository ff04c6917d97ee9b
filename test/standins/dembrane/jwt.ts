/**
 * HS256 JWTs with node:crypto: what Directus issues and what the ECHO API checks (python-jose's
 * `jwt.decode(token, secret, algorithms=["HS256"])`: header alg, signature, `exp`/`nbf` against whole
 * seconds without leeway, no `aud` expected; then the `id` claim is required).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

import type { AuthKind } from './types';

export interface AccessClaims {
	id: string;
	role: string | null;
	app_access: boolean;
	admin_access: boolean;
	iat: number;
	exp: number;
	iss: string;
	[claim: string]: unknown;
}

function base64url(data: string | Buffer): string {
	return Buffer.from(data).toString('base64url');
}

export function signJwt(claims: Record<string, unknown>, secret: string, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
	const head = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
	const signature = createHmac('sha256', secret).update(head).digest('base64url');
	return `${head}.${signature}`;
}

/** A Directus-style access token for `userId`, valid `ttlSeconds` from now. */
export function issueAccessToken(secret: string, userId: string, ttlSeconds: number, admin = false): string {
	const now = Math.floor(Date.now() / 1000);
	const claims: AccessClaims = {
		id: userId,
		role: admin ? 'administrator-role' : 'app-user-role',
		app_access: true,
		admin_access: admin,
		session: randomUUID(),
		iat: now,
		exp: now + ttlSeconds,
		iss: 'directus',
	};
	return signJwt(claims, secret);
}

export type VerifyResult = { ok: true; claims: Record<string, unknown> } | { ok: false; kind: Exclude<AuthKind, 'none' | 'jwt' | 'missing'>; reason: string };

function decodeJson(part: string): Record<string, unknown> | undefined {
	try {
		const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
		return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
	} catch {
		return undefined;
	}
}

export function verifyJwt(token: string, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): VerifyResult {
	const parts = token.split('.');
	if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) {
		return { ok: false, kind: 'not-jwt', reason: 'Not enough segments' };
	}
	const header = decodeJson(parts[0]);
	const claims = decodeJson(parts[1]);
	if (!header || !claims) return { ok: false, kind: 'not-jwt', reason: 'Invalid header or payload padding' };
	if (header.alg !== 'HS256') return { ok: false, kind: 'bad-signature', reason: 'The specified alg value is not allowed' };
	const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
	const given = Buffer.from(parts[2], 'base64url');
	if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
		return { ok: false, kind: 'bad-signature', reason: 'Signature verification failed.' };
	}
	for (const claim of ['exp', 'nbf', 'iat'] as const) {
		if (claims[claim] !== undefined && (typeof claims[claim] !== 'number' || !Number.isFinite(claims[claim]))) {
			return { ok: false, kind: 'invalid-claims', reason: `${claim} must be a number` };
		}
	}
	if (typeof claims.exp === 'number' && claims.exp < nowSeconds) return { ok: false, kind: 'expired', reason: 'Signature has expired.' };
	if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds) return { ok: false, kind: 'invalid-claims', reason: 'The token is not yet valid (nbf)' };
	if (claims.aud !== undefined) return { ok: false, kind: 'invalid-claims', reason: 'Invalid audience' };
	if (claims.id === undefined || claims.id === null) return { ok: false, kind: 'invalid-claims', reason: "JWT missing required 'id' field" };
	return { ok: true, claims };
}
