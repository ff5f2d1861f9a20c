import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { cookieMode, sessionCookie } from '../../src/access/cookies.js';
import { PasswordHasher, passwordProblem } from '../../src/access/passwords.js';
import { testPool } from '../support/db.js';
import {
  PASSWORD,
  clientFor,
  cookieFrom,
  harness,
  makeUser,
  signIn,
  totpCode,
  type Harness,
} from './harness.js';

let h: Harness;
const pool = () => testPool();

beforeAll(async () => {
  h = await harness();
});

const events = async (actor: string) =>
  (
    await pool().query<{ action: string; result: string; details: Record<string, unknown> }>(
      'SELECT action, result, details FROM audit_events WHERE actor = $1 ORDER BY seq',
      [actor],
    )
  ).rows;

const attempt = (username: string, password: string, ip: string, cookie?: string) =>
  h.app.inject({
    method: 'POST',
    url: '/api/v1/auth/sign-in',
    payload: { username, password },
    remoteAddress: ip,
    headers: cookie ? { cookie } : {},
  });

describe('sign-in and sessions', () => {
  it('signs in with a password, sets a strict HttpOnly cookie and records the event', async () => {
    const user = await makeUser(h, [{ role: 'employee', corpId: null }]);
    const ip = h.ip();
    const response = await attempt(user.username, PASSWORD, ip);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ stage: 'full' });
    const setCookie = String(response.headers['set-cookie']);
    // Plain-HTTP dev mode: no __Host- prefix and no Secure flag (see cookies.ts).
    expect(setCookie).toMatch(
      /^vigil_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43\d{3}$/,
    );
    const client = clientFor(h, cookieFrom(response.headers['set-cookie']), response.json().csrfToken, ip);
    const me = await client.request({ url: '/api/v1/auth/me' });
    expect(me.json()).toMatchObject({
      user: { username: user.username },
      stage: 'full',
      permissions: ['content.read', 'content.read.own', 'review.own'],
    });
    expect(me.json().csrfToken).toBe(client.csrf);
    expect(await events(`user:${user.id}`)).toEqual([
      expect.objectContaining({ action: 'auth.sign_in', result: 'allowed' }),
    ]);
    const changes = await pool().query(
      "SELECT actor, action FROM audit_events WHERE resource_type = 'user' AND $1 = ANY (resource_ids) ORDER BY seq",
      [user.id],
    );
    expect(changes.rows).toEqual([
      { actor: 'system', action: 'user.create' },
      { actor: 'system', action: 'role.assign' },
    ]);
  });

  it('uses the __Host- cookie with Secure under TLS', () => {
    const mode = cookieMode(true);
    expect(sessionCookie(mode, 'abc', 60)).toBe(
      '__Host-vigil_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure',
    );
  });

  it('answers a wrong password and an unknown user alike, and records both', async () => {
    const user = await makeUser(h, []);
    const ip = h.ip();
    const wrong = await attempt(user.username, 'not the password at all', ip);
    const unknown = await attempt(`nobody-${randomBytes(4).toString('hex')}`, 'whatever password', ip);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe(unknown.json().error.code);
    expect(await events(`user:${user.id}`)).toContainEqual(
      expect.objectContaining({
        action: 'auth.sign_in',
        result: 'failed',
        details: { username: user.username, reason: 'bad_password' },
      }),
    );
    const anonymous = (
      await pool().query("SELECT details FROM audit_events WHERE actor = 'anonymous' AND actor_ip = $1", [ip])
    ).rows;
    expect(anonymous).toEqual([{ details: { reason: 'bad_password' } }]);
  });

  it('locks an account after repeated failures, with a growing delay', async () => {
    const user = await makeUser(h, []);
    const ip = h.ip();
    for (let i = 0; i < 5; i++)
      expect((await attempt(user.username, `wrong password ${i}`, ip)).statusCode).toBe(401);
    // Locked: even the right password is refused without being checked.
    const locked = await attempt(user.username, PASSWORD, ip);
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.code).toBe('too_many_attempts');
    const first = (await h.repo.findUser(user.id))!.lockedUntil!.getTime() - Date.now();
    expect(first).toBeGreaterThan(50_000);
    expect(first).toBeLessThanOrEqual(60_000);
    // The lock expires; another failure locks for twice as long.
    await pool().query("UPDATE users SET locked_until = now() - interval '1 second' WHERE id = $1", [
      user.id,
    ]);
    expect((await attempt(user.username, 'wrong again, sixth', ip)).statusCode).toBe(401);
    const second = (await h.repo.findUser(user.id))!.lockedUntil!.getTime() - Date.now();
    expect(second).toBeGreaterThan(110_000);
    await pool().query("UPDATE users SET locked_until = now() - interval '1 second' WHERE id = $1", [
      user.id,
    ]);
    expect((await attempt(user.username, PASSWORD, ip)).statusCode).toBe(200);
    expect((await h.repo.findUser(user.id))!.failedAttempts).toBe(0);
  });

  it('rate-limits failures per IP and account, also for unknown accounts', async () => {
    const limited = await harness({ rateLimit: { perAccountAndIp: 3, perIp: 5 } });
    const ip = limited.ip();
    const name = `ghost-${randomBytes(4).toString('hex')}`;
    const codes = [];
    for (let i = 0; i < 4; i++)
      codes.push(
        (
          await limited.app.inject({
            method: 'POST',
            url: '/api/v1/auth/sign-in',
            payload: { username: name, password: 'some wrong password' },
            remoteAddress: ip,
          })
        ).statusCode,
      );
    expect(codes).toEqual([401, 401, 401, 429]);
    // Another account from the same address still has attempts, up to the per-IP limit.
    const other = await limited.app.inject({
      method: 'POST',
      url: '/api/v1/auth/sign-in',
      payload: { username: `${name}-2`, password: 'some wrong password' },
      remoteAddress: ip,
    });
    expect(other.statusCode).toBe(401);
  });

  it('never adopts a session presented at sign-in (fixation)', async () => {
    const attacker = await makeUser(h, []);
    const victim = await makeUser(h, []);
    const planted = await signIn(h, attacker);
    const response = await attempt(victim.username, PASSWORD, h.ip(), planted.cookie);
    const fresh = cookieFrom(response.headers['set-cookie']);
    expect(fresh).not.toBe(planted.cookie);
    // The planted token is ended, and it does not carry the victim's identity.
    expect((await planted.request({ url: '/api/v1/auth/me' })).statusCode).toBe(401);
    const me = await clientFor(h, fresh, response.json().csrfToken, h.ip()).request({
      url: '/api/v1/auth/me',
    });
    expect(me.json().user.username).toBe(victim.username);
    // A made-up token is ignored, not adopted.
    const made = `vigil_session=${randomBytes(32).toString('base64url')}`;
    const second = await attempt(victim.username, PASSWORD, h.ip(), made);
    expect(cookieFrom(second.headers['set-cookie'])).not.toBe(made);
  });

  it('requires the CSRF token and a same-site origin on state-changing requests', async () => {
    const user = await makeUser(h, []);
    const client = await signIn(h, user);
    const missing = await client.request({ method: 'POST', url: '/api/v1/auth/sign-out', csrf: false });
    expect(missing.statusCode).toBe(403);
    expect(missing.json().error.code).toBe('csrf_failed');
    const wrong = await client.request({
      method: 'POST',
      url: '/api/v1/auth/sign-out',
      csrf: false,
      headers: { 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(wrong.statusCode).toBe(403);
    const crossOrigin = await client.request({
      method: 'POST',
      url: '/api/v1/auth/sign-out',
      headers: { origin: 'https://evil.example' },
    });
    expect(crossOrigin.statusCode).toBe(403);
    // Safe methods need no token.
    expect((await client.request({ url: '/api/v1/auth/me', csrf: false })).statusCode).toBe(200);
    const ok = await client.request({
      method: 'POST',
      url: '/api/v1/auth/sign-out',
      headers: { origin: 'http://localhost:80' },
    });
    expect(ok.statusCode).toBe(204);
    expect((await client.request({ url: '/api/v1/auth/me' })).statusCode).toBe(401);
    const denials = (await events(`user:${user.id}`)).filter((e) => e.action === 'access.denied');
    expect(denials.map((d) => d.details.reason)).toEqual(['csrf', 'csrf', 'cross_origin']);
    expect((await events(`user:${user.id}`)).at(-1)).toMatchObject({ action: 'auth.sign_out' });
    // Login CSRF: a cross-site sign-in is refused.
    const crossSignIn = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/sign-in',
      payload: { username: user.username, password: PASSWORD },
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSignIn.statusCode).toBe(403);
  });

  it('ends sessions after 30 idle minutes and after 12 hours in all', async () => {
    const user = await makeUser(h, []);
    const idle = await signIn(h, user);
    await pool().query(
      "UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE user_id = $1 AND ended_at IS NULL",
      [user.id],
    );
    expect((await idle.request({ url: '/api/v1/auth/me' })).statusCode).toBe(401);
    const absolute = await signIn(h, user);
    expect((await absolute.request({ url: '/api/v1/auth/me' })).statusCode).toBe(200);
    await pool().query(
      "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND ended_at IS NULL",
      [user.id],
    );
    expect((await absolute.request({ url: '/api/v1/auth/me' })).statusCode).toBe(401);
    const reasons = (
      await pool().query('SELECT end_reason FROM sessions WHERE user_id = $1 ORDER BY id', [user.id])
    ).rows;
    expect(reasons.map((r) => r.end_reason)).toEqual(['idle', 'expired']);
    // 29 minutes idle is still fine.
    const active = await signIn(h, user);
    await pool().query(
      "UPDATE sessions SET last_seen_at = now() - interval '29 minutes' WHERE user_id = $1 AND ended_at IS NULL",
      [user.id],
    );
    expect((await active.request({ url: '/api/v1/auth/me' })).statusCode).toBe(200);
  });

  it('signs out everywhere', async () => {
    const user = await makeUser(h, []);
    const a = await signIn(h, user);
    const b = await signIn(h, user);
    const response = await a.request({ method: 'POST', url: '/api/v1/auth/sign-out-everywhere' });
    expect(response.json()).toEqual({ sessionsEnded: 2 });
    expect((await b.request({ url: '/api/v1/auth/me' })).statusCode).toBe(401);
  });

  it('ends sessions and tokens when an account is disabled', async () => {
    const admin = await makeUser(h, [{ role: 'system_admin', corpId: null }], { totp: true });
    const auditor = await makeUser(h, [{ role: 'auditor', corpId: null }], { totp: true });
    const adminClient = await signIn(h, admin);
    const auditorClient = await signIn(h, auditor);
    const created = await auditorClient.request({
      method: 'POST',
      url: '/api/v1/auth/tokens',
      payload: { name: 'siem', permissions: ['audit.read'] },
    });
    expect(created.statusCode).toBe(201);
    const bearer = { authorization: `Bearer ${created.json().token}` };
    expect((await h.app.inject({ url: '/api/v1/audit/events?limit=1', headers: bearer })).statusCode).toBe(
      200,
    );
    const disabled = await adminClient.request({
      method: 'POST',
      url: `/api/v1/users/${auditor.id}/disable`,
    });
    expect(disabled.statusCode).toBe(204);
    expect((await auditorClient.request({ url: '/api/v1/auth/me' })).statusCode).toBe(401);
    expect((await h.app.inject({ url: '/api/v1/audit/events?limit=1', headers: bearer })).statusCode).toBe(
      401,
    );
    expect((await attempt(auditor.username, PASSWORD, h.ip())).statusCode).toBe(401);
    expect(await events(`user:${admin.id}`)).toContainEqual(
      expect.objectContaining({ action: 'user.disable', details: { sessionsEnded: 1 } }),
    );
  });
});

describe('TOTP', () => {
  it('gives a role that needs TOTP an enrol-only session until it enrols', async () => {
    const { rows } = await pool().query<{ id: number }>(
      "INSERT INTO corps (slug, name) VALUES ($1, 'TOTP corp') RETURNING id",
      [`totp-${randomBytes(4).toString('hex')}`],
    );
    const user = await makeUser(h, [{ role: 'compliance_officer', corpId: rows[0]!.id }]);
    const client = await signIn(h, user);
    expect(client.stage).toBe('enrol');
    const denied = await client.request({ url: '/api/v1/audit/events' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('totp_enrolment_required');
    expect(
      (
        await client.request({
          method: 'POST',
          url: '/api/v1/auth/tokens',
          payload: { name: 'x', permissions: ['org.read'] },
        })
      ).statusCode,
    ).toBe(403);

    const enrol = await client.request({ method: 'POST', url: '/api/v1/auth/totp/enroll' });
    expect(enrol.statusCode).toBe(200);
    const { secret, uri } = enrol.json() as { secret: string; uri: string };
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    const stored = (await h.repo.findUser(user.id))!;
    expect(stored.totpPending!.includes(Buffer.from(secret))).toBe(false); // sealed at rest
    const bad = await client.request({
      method: 'POST',
      url: '/api/v1/auth/totp/confirm',
      payload: { code: '000000' },
    });
    expect(bad.statusCode).toBe(401);
    const confirm = await client.request({
      method: 'POST',
      url: '/api/v1/auth/totp/confirm',
      payload: { code: await totpCode(secret) },
    });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.json().session.stage).toBe('full');
    // A new token replaces the enrol-only one.
    expect((await client.request({ url: '/api/v1/auth/me' })).statusCode).toBe(401);
    const full = clientFor(
      h,
      cookieFrom(confirm.headers['set-cookie']),
      confirm.json().session.csrfToken,
      client.ip,
    );
    expect((await full.request({ url: '/api/v1/auth/me' })).json()).toMatchObject({
      stage: 'full',
      totpEnrolled: true,
    });
  });

  it('requires the code after the password and rejects a replayed code', async () => {
    const user = await makeUser(h, [{ role: 'auditor', corpId: null }], { totp: true });
    const ip = h.ip();
    const first = await attempt(user.username, PASSWORD, ip);
    expect(first.json().stage).toBe('totp');
    const pending = clientFor(h, cookieFrom(first.headers['set-cookie']), first.json().csrfToken, ip, 'totp');
    const early = await pending.request({ url: '/api/v1/audit/events' });
    expect(early.statusCode).toBe(401);
    expect(early.json().error.code).toBe('totp_required');
    expect((await pending.request({ url: '/api/v1/auth/me' })).json().stage).toBe('totp');

    const code = await totpCode(user.totpSecret!);
    const ok = await pending.request({ method: 'POST', url: '/api/v1/auth/totp', payload: { code } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().stage).toBe('full');
    const full = clientFor(h, cookieFrom(ok.headers['set-cookie']), ok.json().csrfToken, ip);
    expect((await full.request({ url: '/api/v1/audit/events?limit=1' })).statusCode).toBe(200);
    // The pending session's token was replaced.
    expect((await pending.request({ url: '/api/v1/auth/me' })).statusCode).toBe(401);

    // Same code again in a new sign-in: refused as a replay, and logged.
    const again = await attempt(user.username, PASSWORD, ip);
    const pending2 = clientFor(
      h,
      cookieFrom(again.headers['set-cookie']),
      again.json().csrfToken,
      ip,
      'totp',
    );
    const replay = await pending2.request({ method: 'POST', url: '/api/v1/auth/totp', payload: { code } });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.message).toMatch(/already used/);
    expect(await events(`user:${user.id}`)).toContainEqual(
      expect.objectContaining({
        action: 'auth.totp',
        result: 'failed',
        details: expect.objectContaining({ reason: 'totp_replay' }),
      }),
    );
    // The next time step's code works.
    const next = await pending2.request({
      method: 'POST',
      url: '/api/v1/auth/totp',
      payload: { code: await totpCode(user.totpSecret!, 1) },
    });
    expect(next.statusCode).toBe(200);
  });
});

describe('passwords', () => {
  it('hashes with argon2id at or above m=19456, t=2, p=1 and enforces length', async () => {
    const hasher = new PasswordHasher({ memoryKiB: 19456, iterations: 2, concurrency: 2 });
    const hash = await hasher.hash(PASSWORD);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(hash, PASSWORD)).toBe(true);
    expect(await hasher.verify(hash, 'wrong')).toBe(false);
    expect(await hasher.verify(null, PASSWORD)).toBe(false);
    expect(() => new PasswordHasher({ memoryKiB: 4096, iterations: 2, concurrency: 1 })).toThrow();
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem('password1234')).toMatch(/common/);
    expect(passwordProblem('alice-is-my-name', 'alice')).toMatch(/username/);
    expect(passwordProblem('长城长城长城长城长城长城')).toBeUndefined();
  });
});

describe('audit log after the access suite', () => {
  it('still verifies', async () => {
    const report = await verifyAuditLog(testPool());
    expect(report.firstProblem).toBeUndefined();
    expect(report.ok).toBe(true);
  });
});
