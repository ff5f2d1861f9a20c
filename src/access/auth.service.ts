import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import { withTransaction, type Pool } from '../platform/db/pool.js';
import { AppError, forbidden, unauthorized } from '../platform/http/errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import { AccessRepository } from './access.repository.js';
import type { AccessConfig } from './config.js';
import type { PasswordHasher } from './passwords.js';
import { TOTP_REQUIRED_ROLES, isKnownPermission, SELF_PERMISSIONS } from './permissions.js';
import { grantsFor } from './scope.js';
import type { SecretBox } from './secret-box.js';
import type { ApiToken, Principal, RoleAssignment, SessionStage, User } from './types.js';

export const TOKEN_PREFIX = 'vgl_';
const PENDING_TOTP_MINUTES = 5;
const TOTP_PERIOD = 30;
const ATTEMPT_WINDOW_MINUTES = 15;

/** SHA-256 of a bearer secret: tokens are looked up by hash and never stored. */
export const tokenHash = (raw: string): Buffer => createHash('sha256').update(raw, 'utf8').digest();
const newSecret = (): string => randomBytes(32).toString('base64url');

/** The CSRF synchronizer token of a session: derived from its secret, so nothing else is stored. */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('vigil-csrf-v1').digest('base64url');
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(sessionToken: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** How a user proved who they are before a session starts. */
export type SignInMethod = 'password' | 'oidc' | 'wecom';

export interface RequestMeta {
  ip: string;
  userAgent?: string;
}

export interface NewSession {
  token: string;
  stage: SessionStage;
  expiresAt: Date;
  csrfToken: string;
  userId: string;
}

export interface AuthServiceDeps {
  pool: Pool;
  audit: AuditLog;
  config: AccessConfig;
  passwords: PasswordHasher;
  secrets: SecretBox;
  /** Issuer shown in authenticator apps. */
  issuer?: string;
}

const requiresTotp = (roles: RoleAssignment[]) => roles.some((r) => TOTP_REQUIRED_ROLES.has(r.role));
const totpContext = (userId: string) => `access/totp/user:${userId}`;
const tooMany = (retryAfterSeconds: number) =>
  new AppError(429, 'too_many_attempts', 'too many failed sign-ins; try again later', { retryAfterSeconds });
const badCredentials = () => new AppError(401, 'invalid_credentials', 'username or password is wrong');

/** Sign-in (password, then TOTP), sessions, TOTP enrolment and API tokens. */
export class AuthService {
  private readonly repo: AccessRepository;

  constructor(private readonly deps: AuthServiceDeps) {
    this.repo = new AccessRepository(deps.pool);
  }

  /**
   * Checks a password. Success always creates a new session (any session presented with the
   * request is ended: no fixation); its stage says what is still needed (a TOTP code, or TOTP
   * enrolment for roles that require it). Failures count toward the lockout and rate limits.
   */
  async signIn(
    input: { username: string; password: string; presentedSession?: string },
    meta: RequestMeta,
  ): Promise<NewSession> {
    const { config, audit } = this.deps;
    const username = input.username.trim().toLowerCase();
    const recent = await this.repo.recentFailures(meta.ip, username, ATTEMPT_WINDOW_MINUTES);
    if (recent.account >= config.rateLimit.perAccountAndIp || recent.ip >= config.rateLimit.perIp) {
      await audit.recordStandalone({
        actor: 'anonymous',
        actorIp: meta.ip,
        action: 'auth.sign_in',
        result: 'denied',
        details: { reason: 'rate_limited' },
      });
      throw tooMany(ATTEMPT_WINDOW_MINUTES * 60);
    }
    const user = await this.repo.findUserByName(username);
    if (user?.lockedUntil && user.lockedUntil > new Date()) {
      await this.repo.recordAttempt(meta.ip, username, false);
      await audit.recordStandalone({
        actor: `user:${user.id}`,
        actorIp: meta.ip,
        action: 'auth.sign_in',
        result: 'denied',
        details: { username, reason: 'locked' },
      });
      throw tooMany(Math.ceil((user.lockedUntil.getTime() - Date.now()) / 1000));
    }
    const ok = await this.deps.passwords.verify(user?.passwordHash ?? null, input.password);
    if (!ok || !user || user.disabledAt) {
      await this.failed(user, username, meta, !ok ? 'bad_password' : 'disabled', 'auth.sign_in');
      throw badCredentials();
    }
    return this.startVerifiedSession(user, 'password', meta, input.presentedSession);
  }

  /**
   * Signs in a user whose identity was verified (password, or an identity provider that mapped
   * to this enabled account): always a new session, ending any session presented with the request
   * (no fixation). Its stage is `totp` when the user enrolled TOTP, `enrol` when a role requires
   * TOTP and none is enrolled, else `full`: single sign-on does not replace Vigil's TOTP.
   */
  async startVerifiedSession(
    user: User,
    method: SignInMethod,
    meta: RequestMeta,
    presentedSession?: string,
    context: { corpId?: number | null; details?: Record<string, unknown> } = {},
  ): Promise<NewSession> {
    const { config, audit } = this.deps;
    return withTransaction(this.deps.pool, async (client) => {
      const repo = new AccessRepository(client);
      await repo.resetFailures(user.id);
      // The attempts table meters password guessing; other methods have no password to guess.
      if (method === 'password') await repo.recordAttempt(meta.ip, user.username, true);
      if (presentedSession) {
        const old = await repo.findSession(tokenHash(presentedSession), config.session.idleMinutes);
        if (old) await repo.endSession(old.id, 'replaced');
      }
      const roles = await repo.rolesOf(user.id);
      const stage: SessionStage = user.totpEnabledAt ? 'totp' : requiresTotp(roles) ? 'enrol' : 'full';
      const session = await this.createSession(repo, user.id, stage, meta);
      await audit.record(client, {
        actor: `user:${user.id}`,
        actorIp: meta.ip,
        corpId: context.corpId ?? null,
        action: 'auth.sign_in',
        result: 'allowed',
        resourceType: 'session',
        resourceIds: [session.sessionId],
        details: { ...context.details, username: user.username, stage, method },
      });
      return session.value;
    });
  }

  private async createSession(
    repo: AccessRepository,
    userId: string,
    stage: SessionStage,
    meta: RequestMeta,
  ): Promise<{ sessionId: string; value: NewSession }> {
    const token = newSecret();
    const lifetimeMs =
      stage === 'totp' ? PENDING_TOTP_MINUTES * 60_000 : this.deps.config.session.absoluteHours * 3_600_000;
    const expiresAt = new Date(Date.now() + lifetimeMs);
    const session = await repo.insertSession({
      tokenHash: tokenHash(token),
      userId,
      stage,
      expiresAt,
      ip: meta.ip,
      userAgent: meta.userAgent?.slice(0, 512) ?? null,
    });
    return {
      sessionId: session.id,
      value: { token, stage, expiresAt, csrfToken: csrfTokenFor(token), userId },
    };
  }

  /** Counts a failed password or code: lockout with a doubling delay after `threshold` failures. */
  private async failed(
    user: User | undefined,
    username: string,
    meta: RequestMeta,
    reason: string,
    action: string,
  ): Promise<Date | null> {
    const { lockout } = this.deps.config;
    let lockedUntil: Date | null = null;
    await this.repo.recordAttempt(meta.ip, username, false);
    if (user) {
      const failures = user.failedAttempts + 1;
      if (failures >= lockout.threshold) {
        const delay = Math.min(
          lockout.baseDelaySeconds * 2 ** (failures - lockout.threshold),
          lockout.maxDelaySeconds,
        );
        lockedUntil = new Date(Date.now() + delay * 1000);
      }
      await this.repo.recordFailure(user.id, lockedUntil);
    }
    await this.deps.audit.recordStandalone({
      actor: user ? `user:${user.id}` : 'anonymous',
      actorIp: meta.ip,
      action,
      result: 'failed',
      // The typed name only when it is an account: a password typed into the field stays out.
      details: {
        ...(user ? { username } : {}),
        reason,
        ...(lockedUntil ? { lockedUntil: lockedUntil.toISOString() } : {}),
      },
    });
    return lockedUntil;
  }

  /** Second step: a TOTP code, single-use (its time step must be newer than the last accepted). */
  async completeTotp(principal: Principal, code: string, meta: RequestMeta): Promise<NewSession> {
    if (principal.stage !== 'totp' || !principal.sessionId) throw forbidden('no TOTP step pending');
    const user = await this.repo.findUser(principal.userId);
    if (!user?.totpSecret || user.disabledAt) throw unauthorized();
    if (user.lockedUntil && user.lockedUntil > new Date()) {
      await this.repo.endSession(principal.sessionId, 'locked');
      throw tooMany(Math.ceil((user.lockedUntil.getTime() - Date.now()) / 1000));
    }
    const secret = (await this.deps.secrets.decryptSecret(user.totpSecret, totpContext(user.id))).toString(
      'utf8',
    );
    const step = await this.checkCode(secret, code);
    const replay = step !== undefined && user.totpLastStep !== null && step <= user.totpLastStep;
    if (step === undefined || replay) {
      const lockedUntil = await this.failed(
        user,
        user.username,
        meta,
        replay ? 'totp_replay' : 'bad_totp',
        'auth.totp',
      );
      if (lockedUntil) await this.repo.endSession(principal.sessionId, 'locked');
      throw new AppError(
        401,
        'invalid_code',
        replay ? 'this code was already used; wait for the next one' : 'the code is wrong',
      );
    }
    return withTransaction(this.deps.pool, async (client) => {
      const repo = new AccessRepository(client);
      // Compare-and-set: two requests racing with one code cannot both win.
      if (!(await repo.useTotpStep(user.id, step)))
        throw new AppError(401, 'invalid_code', 'this code was already used; wait for the next one');
      await repo.resetFailures(user.id);
      await repo.endSession(principal.sessionId!, 'authenticated');
      const session = await this.createSession(repo, user.id, 'full', meta);
      await this.deps.audit.record(client, {
        actor: `user:${user.id}`,
        actorIp: meta.ip,
        action: 'auth.totp',
        result: 'allowed',
        resourceType: 'session',
        resourceIds: [session.sessionId],
      });
      return session.value;
    });
  }

  /** The time step a code belongs to (±1 step of drift), or undefined. */
  private async checkCode(secret: string, code: string): Promise<number | undefined> {
    if (!/^\d{6}$/.test(code)) return undefined;
    const result = await verifyTotp({
      secret,
      token: code,
      epochTolerance: TOTP_PERIOD,
      period: TOTP_PERIOD,
    });
    return result.valid ? (result as { timeStep: number }).timeStep : undefined;
  }

  /** Starts TOTP enrolment: a new secret, kept sealed until a code confirms it. */
  async startEnrolment(principal: Principal): Promise<{ secret: string; uri: string }> {
    const user = await this.repo.findUser(principal.userId);
    if (!user) throw unauthorized();
    if (user.totpEnabledAt)
      throw new AppError(409, 'totp_enrolled', 'TOTP is already enrolled; an administrator can reset it');
    const secret = generateSecret();
    await this.repo.setPendingTotp(
      user.id,
      await this.deps.secrets.encryptSecret(Buffer.from(secret), totpContext(user.id)),
    );
    const uri = generateURI({
      issuer: this.deps.issuer ?? 'Vigil',
      label: user.username,
      secret,
      period: TOTP_PERIOD,
    });
    return { secret, uri };
  }

  /** Confirms enrolment with a code; an enrol-only session becomes a full one (new token). */
  async confirmEnrolment(
    principal: Principal,
    code: string,
    meta: RequestMeta,
  ): Promise<NewSession | undefined> {
    const user = await this.repo.findUser(principal.userId);
    if (!user?.totpPending) throw new AppError(409, 'no_enrolment', 'start enrolment first');
    const secret = (await this.deps.secrets.decryptSecret(user.totpPending, totpContext(user.id))).toString(
      'utf8',
    );
    const step = await this.checkCode(secret, code);
    if (step === undefined) {
      await this.failed(user, user.username, meta, 'bad_totp', 'auth.totp_enrol');
      throw new AppError(401, 'invalid_code', 'the code is wrong');
    }
    return withTransaction(this.deps.pool, async (client) => {
      const repo = new AccessRepository(client);
      await repo.enableTotp(user.id, user.totpPending!, step);
      await this.deps.audit.record(client, {
        actor: principal.actor,
        actorIp: meta.ip,
        action: 'auth.totp_enrol',
        result: 'allowed',
        resourceType: 'user',
        resourceIds: [user.id],
      });
      if (principal.stage !== 'enrol' || !principal.sessionId) return undefined;
      await repo.endSession(principal.sessionId, 'authenticated');
      return (await this.createSession(repo, user.id, 'full', meta)).value;
    });
  }

  /** Ends the caller's session. */
  async signOut(principal: Principal, meta: RequestMeta): Promise<void> {
    if (!principal.sessionId) throw forbidden('API tokens have no session; revoke the token instead');
    await withTransaction(this.deps.pool, async (client) => {
      await new AccessRepository(client).endSession(principal.sessionId!, 'signed_out');
      await this.deps.audit.record(client, {
        actor: principal.actor,
        actorIp: meta.ip,
        action: 'auth.sign_out',
        result: 'allowed',
        resourceType: 'session',
        resourceIds: [principal.sessionId!],
      });
    });
  }

  /** Ends every session of the caller (ASVS 3.3.4). */
  async signOutEverywhere(principal: Principal, meta: RequestMeta): Promise<number> {
    return withTransaction(this.deps.pool, async (client) => {
      const ended = await new AccessRepository(client).endUserSessions(
        principal.userId,
        'signed_out_everywhere',
      );
      await this.deps.audit.record(client, {
        actor: principal.actor,
        actorIp: meta.ip,
        action: 'auth.sign_out_everywhere',
        result: 'allowed',
        resourceType: 'user',
        resourceIds: [principal.userId],
        details: { sessions: ended },
      });
      return ended;
    });
  }

  /** The principal of a session cookie, or undefined (ending the session when it timed out). */
  async sessionPrincipal(rawToken: string): Promise<Principal | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(rawToken)) return undefined;
    const session = await this.repo.findSession(tokenHash(rawToken), this.deps.config.session.idleMinutes);
    if (!session || session.endedAt) return undefined;
    if (session.absoluteExpired || session.idleExpired) {
      await this.repo.endSession(session.id, session.absoluteExpired ? 'expired' : 'idle');
      return undefined;
    }
    const user = await this.repo.findUser(session.userId);
    if (!user || user.disabledAt) {
      await this.repo.endSession(session.id, 'account_disabled');
      return undefined;
    }
    await this.repo.touchSession(session.id);
    return {
      userId: user.id,
      username: user.username,
      actor: `user:${user.id}`,
      via: 'session',
      sessionId: session.id,
      stage: session.stage,
      roles: await this.repo.rolesOf(user.id),
      totpEnrolled: Boolean(user.totpEnabledAt),
      csrfToken: csrfTokenFor(rawToken),
      sessionExpiresAt: session.expiresAt,
    };
  }

  /** The principal of an API token (`vgl_…`), or undefined when unknown, expired, revoked or disabled. */
  async tokenPrincipal(raw: string): Promise<{ principal?: Principal; problem?: string }> {
    if (!raw.startsWith(TOKEN_PREFIX) || raw.length > 100) return { problem: 'malformed' };
    const token = await this.repo.findToken(tokenHash(raw));
    if (!token) return { problem: 'unknown' };
    if (token.revokedAt) return { problem: 'revoked' };
    if (token.expired) return { problem: 'expired' };
    const user = await this.repo.findUser(token.userId);
    if (!user || user.disabledAt) return { problem: 'account_disabled' };
    await this.repo.touchToken(token.id);
    return {
      principal: {
        userId: user.id,
        username: user.username,
        actor: `token:${token.id}`,
        via: 'token',
        tokenId: token.id,
        stage: 'full',
        roles: await this.repo.rolesOf(user.id),
        tokenScope: { permissions: new Set(token.permissions), corpId: token.corpId },
        totpEnrolled: Boolean(user.totpEnabledAt),
      },
    };
  }

  /**
   * Creates an API token for the caller, limited to permissions the caller holds (in the token's
   * corp when given); its effective permissions stay the intersection with the owner's roles.
   */
  async createToken(
    principal: Principal,
    input: { name: string; permissions: string[]; corpId: number | null; expiresInDays: number },
    meta: RequestMeta,
  ): Promise<{ token: string; record: ApiToken }> {
    if (input.expiresInDays > this.deps.config.tokens.maxDays)
      throw new AppError(
        400,
        'validation_failed',
        `tokens expire within ${this.deps.config.tokens.maxDays} days`,
      );
    for (const p of input.permissions) {
      if (!isKnownPermission(p) || SELF_PERMISSIONS.has(p))
        throw new AppError(400, 'validation_failed', `unknown permission ${p}`);
      const held = grantsFor(principal, p).some(
        (g) => input.corpId === null || g.corpId === null || g.corpId === input.corpId,
      );
      if (!held) throw forbidden(`you do not hold ${p}${input.corpId === null ? '' : ' in that corp'}`);
    }
    const raw = TOKEN_PREFIX + newSecret();
    return withTransaction(this.deps.pool, async (client) => {
      const record = await new AccessRepository(client).insertToken({
        userId: principal.userId,
        name: input.name,
        tokenHash: tokenHash(raw),
        hint: raw.slice(0, 8) + '…',
        permissions: [...new Set(input.permissions)].sort(),
        corpId: input.corpId,
        expiresAt: new Date(Date.now() + input.expiresInDays * 86_400_000),
      });
      await this.deps.audit.record(client, {
        actor: principal.actor,
        actorIp: meta.ip,
        corpId: input.corpId,
        action: 'token.create',
        result: 'allowed',
        resourceType: 'api_token',
        resourceIds: [record.id],
        details: {
          name: input.name,
          permissions: record.permissions,
          expiresAt: record.expiresAt.toISOString(),
        },
      });
      return { token: raw, record };
    });
  }

  async listTokens(principal: Principal): Promise<ApiToken[]> {
    return this.repo.tokensOf(principal.userId);
  }

  /** Revokes one of the caller's tokens (any token with users.manage). */
  async revokeToken(principal: Principal, id: string, meta: RequestMeta): Promise<void> {
    const token = await this.repo.getToken(id);
    const mayManage = grantsFor(principal, 'users.manage').length > 0;
    if (!token || (token.userId !== principal.userId && !mayManage))
      throw new AppError(404, 'not_found', 'token not found');
    await withTransaction(this.deps.pool, async (client) => {
      await new AccessRepository(client).revokeToken(id);
      await this.deps.audit.record(client, {
        actor: principal.actor,
        actorIp: meta.ip,
        action: 'token.revoke',
        result: 'allowed',
        resourceType: 'api_token',
        resourceIds: [id],
      });
    });
  }

  /** Sessions ended or expired over a week ago and old sign-in attempts. */
  async prune(): Promise<{ sessions: number; attempts: number }> {
    return this.repo.prune(7);
  }
}
