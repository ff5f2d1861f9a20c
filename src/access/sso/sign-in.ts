import type { AuditLog } from '../../audit/audit-log.js';
import { AppError } from '../../platform/http/errors.js';
import type { AuthService, NewSession, RequestMeta, SignInMethod } from '../auth.service.js';
import type { User } from '../types.js';
import { PreAuthProblem } from './preauth.js';

/** One refused or failed single sign-on attempt, as the audit log records it. */
export interface Refusal {
  method: Exclude<SignInMethod, 'password'>;
  /** denied: the identity is known but may not sign in; failed: the proof did not hold. */
  result: 'denied' | 'failed';
  reason: string;
  /** The account concerned, when one was found. */
  userId?: string;
  corpId?: number | null;
  details?: Record<string, unknown>;
}

/** Records a refusal (in its own transaction, so it is kept) and throws `error`. */
export async function refuse(
  audit: AuditLog,
  meta: RequestMeta,
  r: Refusal,
  error: AppError,
): Promise<never> {
  await audit.recordStandalone({
    actor: r.userId ? `user:${r.userId}` : 'anonymous',
    actorIp: meta.ip,
    corpId: r.corpId ?? null,
    action: 'auth.sign_in',
    result: r.result,
    details: { ...r.details, method: r.method, reason: r.reason },
  });
  throw error;
}

/** The answer for a state that finishes no sign-in; the audit log keeps the precise reason. */
export async function refuseState(
  audit: AuditLog,
  meta: RequestMeta,
  method: Refusal['method'],
  err: unknown,
): Promise<never> {
  if (!(err instanceof PreAuthProblem)) throw err;
  return refuse(
    audit,
    meta,
    { method, result: 'failed', reason: err.reason },
    new AppError(
      400,
      'sso_state_invalid',
      'this sign-in link is unknown, expired or already used, or was started in another browser; start again',
    ),
  );
}

/**
 * Starts a session for the account an identity mapped to, unless the account is disabled or
 * locked (a lock after failed codes holds for every sign-in method).
 */
export async function signInMappedUser(
  deps: { auth: AuthService; audit: AuditLog },
  user: User,
  meta: RequestMeta,
  presentedSession: string | undefined,
  r: Pick<Refusal, 'method' | 'corpId' | 'details'>,
): Promise<NewSession> {
  if (user.disabledAt)
    return refuse(
      deps.audit,
      meta,
      { ...r, result: 'denied', reason: 'account_disabled', userId: user.id },
      new AppError(403, 'account_disabled', 'your Vigil account is disabled'),
    );
  if (user.lockedUntil && user.lockedUntil > new Date()) {
    const retryAfterSeconds = Math.ceil((user.lockedUntil.getTime() - Date.now()) / 1000);
    return refuse(
      deps.audit,
      meta,
      { ...r, result: 'denied', reason: 'locked', userId: user.id },
      new AppError(429, 'too_many_attempts', 'too many failed sign-ins; try again later', {
        retryAfterSeconds,
      }),
    );
  }
  return deps.auth.startVerifiedSession(user, r.method, meta, presentedSession, {
    corpId: r.corpId,
    details: r.details,
  });
}
