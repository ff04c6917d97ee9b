/**
 * Directus' login in front of the API (`/directus/auth/login`, `/refresh`, `/logout`), as far as
 * integrations use it: JSON mode, `{data: {access_token, expires (ms), refresh_token}}`, refresh tokens
 * that rotate (the old one stops working), and Directus-style errors (`{"errors": [{message, extensions: {code}}]}`).
 */
import { randomBytes } from 'node:crypto';

import type { AnswerContext } from './http';
import { HttpProblem, readBody, sendNodeJson, sendNoContent } from './http';
import { issueAccessToken } from './jwt';
import type { DembraneStandinOptions, DembraneStandinStats } from './types';

export function directusError(status: number, message: string, code: string): HttpProblem {
	return new HttpProblem(status, { errors: [{ message, extensions: { code } }] });
}

export class DirectusAuth {
	private readonly refreshTokens = new Map<string, { userId: string; expiresAt: number }>();

	constructor(
		private readonly options: () => DembraneStandinOptions,
		private readonly userId: () => string,
		private readonly stats: () => DembraneStandinStats,
	) {}

	private issuePair(userId: string): { access_token: string; expires: number; refresh_token: string } {
		const o = this.options();
		const refreshToken = randomBytes(48).toString('base64url');
		this.refreshTokens.set(refreshToken, { userId, expiresAt: Date.now() + o.refreshTokenTtlSeconds * 1000 });
		return {
			access_token: issueAccessToken(o.jwtSecret, userId, o.accessTokenTtlSeconds),
			expires: o.accessTokenTtlSeconds * 1000,
			refresh_token: refreshToken,
		};
	}

	private async body(context: AnswerContext): Promise<Record<string, unknown>> {
		const text = (await readBody(context.request)).toString('utf8');
		if (text.trim() === '') return {};
		try {
			const body = JSON.parse(text) as unknown;
			if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
		} catch {
			// answered below
		}
		throw directusError(400, 'Invalid payload. Unexpected token in JSON.', 'INVALID_PAYLOAD');
	}

	async login(context: AnswerContext): Promise<void> {
		const body = await this.body(context);
		const o = this.options();
		for (const field of ['email', 'password']) {
			if (typeof body[field] !== 'string' || body[field] === '') {
				this.stats().loginFailures++;
				throw directusError(400, `Invalid payload. "${field}" is required.`, 'INVALID_PAYLOAD');
			}
		}
		if (String(body.email).toLowerCase() !== o.email.toLowerCase() || body.password !== o.password) {
			this.stats().loginFailures++;
			throw directusError(401, 'Invalid user credentials.', 'INVALID_CREDENTIALS');
		}
		this.stats().logins++;
		sendNodeJson(context, 200, { data: this.issuePair(this.userId()) });
	}

	async refresh(context: AnswerContext): Promise<void> {
		const body = await this.body(context);
		const token = body.refresh_token;
		if (typeof token !== 'string' || token === '') {
			this.stats().refreshFailures++;
			throw directusError(400, 'Invalid payload. The refresh token is required in either the payload or cookie.', 'INVALID_PAYLOAD');
		}
		const session = this.refreshTokens.get(token);
		if (!session || session.expiresAt < Date.now()) {
			this.refreshTokens.delete(token);
			this.stats().refreshFailures++;
			throw directusError(401, 'Invalid user credentials.', 'INVALID_CREDENTIALS');
		}
		// Directus rotates: the old refresh token stops working.
		this.refreshTokens.delete(token);
		this.stats().refreshes++;
		sendNodeJson(context, 200, { data: this.issuePair(session.userId) });
	}

	async logout(context: AnswerContext): Promise<void> {
		const body = await this.body(context);
		if (typeof body.refresh_token === 'string') this.refreshTokens.delete(body.refresh_token);
		sendNoContent(context);
	}
}
