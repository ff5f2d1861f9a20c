import { createHash, randomBytes } from 'node:crypto';
import type { CookieMode } from '../cookies.js';
import { readCookie } from '../cookies.js';
import type { PreAuth, SsoProvider, SsoRepository, StateProblem, WecomLoginMode } from './sso.repository.js';

/** How long a started sign-in may take at the provider. */
export const PREAUTH_TTL_SECONDS = 600;

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** The pre-auth cookie that binds a started sign-in to the browser that started it. */
export interface PreAuthCookie {
  name: string;
  secure: boolean;
}

export function preAuthCookie(session: CookieMode): PreAuthCookie {
  return session.secure ? { name: '__Host-vigil_sso', secure: true } : { name: 'vigil_sso', secure: false };
}

/**
 * Set-Cookie for the pre-auth secret. SameSite=Lax, not Strict: the provider's redirect back is
 * a cross-site top-level navigation, which carries Lax cookies only.
 */
export function preAuthSetCookie(
  c: PreAuthCookie,
  value: string,
  maxAgeSeconds = PREAUTH_TTL_SECONDS,
): string {
  return [
    `${c.name}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${maxAgeSeconds}`,
    ...(c.secure ? ['Secure'] : []),
  ].join('; ');
}

export const preAuthClearCookie = (c: PreAuthCookie): string => preAuthSetCookie(c, '', 0);

export const readPreAuthCookie = (c: PreAuthCookie, header: string | undefined): string | undefined =>
  readCookie(header, c.name);

/** A started sign-in could not be finished: why, for the audit log. */
export class PreAuthProblem extends Error {
  constructor(readonly reason: StateProblem | 'state_missing') {
    super(reason);
    this.name = 'PreAuthProblem';
  }
}

/**
 * Server-side records of started sign-ins: the state sent to the provider (stored hashed),
 * bound to a browser secret in a cookie, single use, expiring after 10 minutes.
 */
export class PreAuthStore {
  constructor(private readonly repo: SsoRepository) {}

  /** Records a started sign-in; returns the browser secret to set as the pre-auth cookie. */
  async begin(
    provider: SsoProvider,
    state: string,
    fields: { nonce?: string; codeVerifier?: string; corpId?: number; mode?: WecomLoginMode },
  ): Promise<string> {
    const browserSecret = randomBytes(32).toString('base64url');
    await this.repo.insertPreAuth({
      provider,
      stateHash: sha256(state),
      browserHash: sha256(browserSecret),
      ...fields,
      ttlSeconds: PREAUTH_TTL_SECONDS,
    });
    return browserSecret;
  }

  /** Consumes the record of `state` for this browser, or throws a PreAuthProblem. */
  async consume(
    provider: SsoProvider,
    state: string | undefined,
    browserSecret: string | undefined,
  ): Promise<PreAuth> {
    if (!state || state.length > 512) throw new PreAuthProblem('state_missing');
    // Without the cookie nothing can match; the hash of '' stands in so the reason is still found.
    const browserHash = sha256(browserSecret ?? '');
    const found = browserSecret
      ? await this.repo.consumePreAuth(provider, sha256(state), browserHash)
      : undefined;
    if (found) return found;
    throw new PreAuthProblem(await this.repo.stateProblem(provider, sha256(state), browserHash));
  }
}
