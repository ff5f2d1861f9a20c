import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessConfigSchema } from '../../src/access/config.js';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { testPool } from '../support/db.js';
import { clientFor, cookieFrom, harness, makeUser, signIn, totpCode, type Harness } from './harness.js';

const REDIRECT = 'http://vigil.test/api/v1/auth/oidc/callback';
const pool = () => testPool();
let idp: TestOidcProvider;
let h: Harness;

beforeAll(async () => {
  idp = await startOidcProvider({ redirectUris: [REDIRECT] });
  h = await harness({
    oidc: {
      name: 'Test IdP',
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      redirectUri: REDIRECT,
      allowInsecureHttp: true,
    },
  });
});
afterAll(async () => idp?.stop());

const stateHash = (state: string) => createHash('sha256').update(state).digest();
const newSubject = () => `sub-${randomBytes(6).toString('hex')}`;

interface Flow {
  ip: string;
  preAuthCookie: string;
  state: string;
  /** Where the provider sent the browser back (path and query on Vigil). */
  callback: string;
}

/** Starts a sign-in at Vigil and lets the provider approve it (as `idp.login`). */
async function startFlow(ip = h.ip()): Promise<Flow> {
  const start = await h.app.inject({ url: '/api/v1/auth/oidc/start', remoteAddress: ip });
  expect(start.statusCode).toBe(302);
  const authorize = new URL(String(start.headers.location));
  const state = authorize.searchParams.get('state')!;
  const answer = await fetch(authorize, { redirect: 'manual' });
  expect(answer.status).toBe(302);
  const back = new URL(answer.headers.get('location')!);
  expect(back.origin + back.pathname).toBe(REDIRECT);
  return {
    ip,
    preAuthCookie: cookieFrom(start.headers['set-cookie']),
    state,
    callback: back.pathname + back.search,
  };
}

function finish(flow: Flow, options: { cookie?: string; url?: string; json?: boolean } = {}) {
  return h.app.inject({
    url: options.url ?? flow.callback,
    remoteAddress: flow.ip,
    headers: {
      cookie: options.cookie ?? flow.preAuthCookie,
      ...(options.json === false ? {} : { accept: 'application/json' }),
    },
  });
}

const signInEvents = async (where: string, value: string) =>
  (
    await pool().query<{ actor: string; result: string; details: Record<string, unknown> }>(
      `SELECT actor, result, details FROM audit_events WHERE action = 'auth.sign_in' AND ${where} ORDER BY seq`,
      [value],
    )
  ).rows;

const linkOf = async (subject: string) =>
  (
    await pool().query<{ user_id: string }>(
      'SELECT user_id FROM user_identities WHERE provider = $1 AND subject = $2',
      [`oidc:${idp.issuer}`, subject],
    )
  ).rows[0]?.user_id;

describe('OIDC sign-in', () => {
  it('signs in a linked user with PKCE, state and nonce; TOTP is still required', async () => {
    const user = await makeUser(h, [{ role: 'auditor', corpId: null }], { totp: true });
    const subject = newSubject();
    await pool().query('INSERT INTO user_identities (provider, subject, user_id) VALUES ($1, $2, $3)', [
      `oidc:${idp.issuer}`,
      subject,
      user.id,
    ]);
    // No username claim at all: the stored link alone identifies the account.
    idp.login = { sub: subject };
    const flow = await startFlow();

    const sent = idp.authorizeRequests.at(-1)!;
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sent.get('nonce')).toBeTruthy();
    expect(sent.get('scope')).toBe('openid profile email');
    expect(flow.preAuthCookie).toMatch(/^vigil_sso=[A-Za-z0-9_-]{43}$/);

    const response = await finish(flow);
    expect(response.statusCode).toBe(200);
    expect(response.json().stage).toBe('totp');
    const setCookies = [response.headers['set-cookie'] ?? []].flat();
    expect(setCookies[0]).toMatch(/^vigil_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict/);
    expect(setCookies[1]).toBe('vigil_sso=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
    expect(idp.tokenRequests.at(-1)).toEqual({ status: 200, clientAuth: 'basic' });

    const pending = clientFor(h, cookieFrom(setCookies), response.json().csrfToken, flow.ip, 'totp');
    expect((await pending.request({ url: '/api/v1/audit/events?limit=1' })).statusCode).toBe(401);
    const totp = await pending.request({
      method: 'POST',
      url: '/api/v1/auth/totp',
      payload: { code: await totpCode(user.totpSecret!) },
    });
    expect(totp.statusCode).toBe(200);
    expect(totp.json().stage).toBe('full');
    const full = clientFor(h, cookieFrom(totp.headers['set-cookie']), totp.json().csrfToken, flow.ip);
    expect((await full.request({ url: '/api/v1/auth/me' })).json().user.username).toBe(user.username);

    expect(await signInEvents('actor = $1', `user:${user.id}`)).toEqual([
      {
        actor: `user:${user.id}`,
        result: 'allowed',
        details: { method: 'oidc', issuer: idp.issuer, username: user.username, stage: 'totp' },
      },
    ]);
  });

  it('links an unlinked subject by the username claim, once, and never creates accounts', async () => {
    const user = await makeUser(h, [{ role: 'employee', corpId: null }]);
    const subject = newSubject();
    idp.login = { sub: subject, claims: { preferred_username: user.username.toUpperCase() } };
    const first = await finish(await startFlow());
    expect(first.statusCode).toBe(200);
    expect(first.json().stage).toBe('full');
    expect(await linkOf(subject)).toBe(user.id);
    const linked = await pool().query(
      "SELECT actor, details FROM audit_events WHERE action = 'user.identity_link' AND $1 = ANY (resource_ids)",
      [user.id],
    );
    expect(linked.rows).toEqual([
      { actor: `user:${user.id}`, details: { provider: `oidc:${idp.issuer}`, subject } },
    ]);

    // The link wins over a username claim that changed at the provider.
    idp.login = { sub: subject, claims: { preferred_username: 'someone-else' } };
    const second = await finish(await startFlow());
    expect(second.statusCode).toBe(200);
    const me = await clientFor(
      h,
      cookieFrom(second.headers['set-cookie']),
      second.json().csrfToken,
      h.ip(),
    ).request({ url: '/api/v1/auth/me' });
    expect(me.json().user.username).toBe(user.username);

    // Another subject claiming the same username cannot take over the account.
    idp.login = { sub: newSubject(), claims: { preferred_username: user.username } };
    const other = await finish(await startFlow());
    expect(other.statusCode).toBe(403);
    expect(other.json().error.code).toBe('sso_identity_conflict');
  });

  it('redirects a browser to the console with the session cookie, ending a presented session', async () => {
    const user = await makeUser(h, [{ role: 'employee', corpId: null }]);
    const planted = await signIn(h, await makeUser(h, [{ role: 'employee', corpId: null }]));
    idp.login = { sub: newSubject(), claims: { preferred_username: user.username } };
    const flow = await startFlow();
    const response = await finish(flow, { json: false, cookie: `${flow.preAuthCookie}; ${planted.cookie}` });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/');
    const fresh = cookieFrom(response.headers['set-cookie']);
    expect(fresh).not.toBe(planted.cookie);
    expect((await planted.request({ url: '/api/v1/auth/me' })).statusCode).toBe(401);
    const me = await h.app.inject({ url: '/api/v1/auth/me', headers: { cookie: fresh } });
    expect(me.json()).toMatchObject({ user: { username: user.username }, stage: 'full' });
  });

  it('gives a role that needs TOTP and has none an enrol-only session', async () => {
    const corp = await pool().query<{ id: number }>(
      "INSERT INTO corps (slug, name) VALUES ($1, 'OIDC corp') RETURNING id",
      [`oidc-${randomBytes(4).toString('hex')}`],
    );
    const user = await makeUser(h, [{ role: 'compliance_officer', corpId: corp.rows[0]!.id }]);
    idp.login = { sub: newSubject(), claims: { preferred_username: user.username } };
    const response = await finish(await startFlow());
    expect(response.json().stage).toBe('enrol');
  });

  it('denies an unknown identity and records it', async () => {
    const subject = newSubject();
    idp.login = { sub: subject, claims: { preferred_username: `ghost-${randomBytes(4).toString('hex')}` } };
    const flow = await startFlow();
    const response = await finish(flow);
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toMatchObject({ code: 'sso_no_account' });
    expect(await linkOf(subject)).toBeUndefined();
    expect(await signInEvents('actor_ip = $1', flow.ip)).toEqual([
      {
        actor: 'anonymous',
        result: 'denied',
        details: expect.objectContaining({ method: 'oidc', reason: 'no_account', subject }),
      },
    ]);
  });

  it('denies a disabled account, linked or not, without linking it', async () => {
    const user = await makeUser(h, [{ role: 'employee', corpId: null }]);
    await h.repo.setDisabled(user.id, true);
    const subject = newSubject();
    idp.login = { sub: subject, claims: { preferred_username: user.username } };
    const response = await finish(await startFlow());
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('account_disabled');
    expect(await linkOf(subject)).toBeUndefined();
    expect(await signInEvents('actor = $1', `user:${user.id}`)).toEqual([
      {
        actor: `user:${user.id}`,
        result: 'denied',
        details: { method: 'oidc', reason: 'account_disabled', issuer: idp.issuer },
      },
    ]);

    // Linked while enabled, then disabled.
    const linked = await makeUser(h, [{ role: 'employee', corpId: null }]);
    const linkedSubject = newSubject();
    idp.login = { sub: linkedSubject, claims: { preferred_username: linked.username } };
    expect((await finish(await startFlow())).statusCode).toBe(200);
    await h.repo.setDisabled(linked.id, true);
    const again = await finish(await startFlow());
    expect(again.statusCode).toBe(403);
    expect(again.json().error.code).toBe('account_disabled');
  });

  it('rejects a wrong state, a replayed one, another browser and an expired pre-auth record', async () => {
    const user = await makeUser(h, [{ role: 'employee', corpId: null }]);
    idp.login = { sub: newSubject(), claims: { preferred_username: user.username } };

    const wrong = await startFlow();
    const forged = wrong.callback.replace(/state=[^&]+/, `state=${'x'.repeat(43)}`);
    const forgedAnswer = await finish(wrong, { url: forged });
    expect(forgedAnswer.statusCode).toBe(400);
    expect(forgedAnswer.json().error.code).toBe('sso_state_invalid');

    const flow = await startFlow();
    expect((await finish(flow)).statusCode).toBe(200);
    const used = await pool().query('SELECT used_at FROM sso_preauth WHERE state_hash = $1', [
      stateHash(flow.state),
    ]);
    expect(used.rows[0].used_at).toBeInstanceOf(Date);
    const tokenCalls = idp.tokenRequests.length;
    const replay = await finish(flow);
    expect(replay.statusCode).toBe(400);
    expect(replay.json().error.code).toBe('sso_state_invalid');
    // Refused before the code reached the provider.
    expect(idp.tokenRequests.length).toBe(tokenCalls);

    const elsewhere = await startFlow();
    const stranger = await finish(elsewhere, {
      cookie: `vigil_sso=${randomBytes(32).toString('base64url')}`,
    });
    expect(stranger.statusCode).toBe(400);
    const noCookie = await finish(elsewhere, { cookie: '' });
    expect(noCookie.statusCode).toBe(400);
    // A failed attempt from another browser does not use up the owner's sign-in.
    expect((await finish(elsewhere)).statusCode).toBe(200);

    const late = await startFlow();
    await pool().query(
      "UPDATE sso_preauth SET expires_at = now() - interval '1 second' WHERE state_hash = $1",
      [stateHash(late.state)],
    );
    const expired = await finish(late);
    expect(expired.statusCode).toBe(400);

    const reasons = async (ip: string) =>
      (await signInEvents('actor_ip = $1', ip))
        .filter((e) => e.result !== 'allowed')
        .map((e) => e.details.reason);
    expect(await reasons(wrong.ip)).toEqual(['state_unknown']);
    expect(await reasons(flow.ip)).toEqual(['state_replayed']);
    expect(await reasons(elsewhere.ip)).toEqual(['state_other_browser', 'state_other_browser']);
    expect(await reasons(late.ip)).toEqual(['state_expired']);
  });

  it('rejects an ID token whose nonce belongs to another sign-in', async () => {
    const user = await makeUser(h, [{ role: 'employee', corpId: null }]);
    idp.login = { sub: newSubject(), claims: { preferred_username: user.username } };
    idp.nextIdTokenClaims = { nonce: 'a-nonce-from-another-flow' };
    const flow = await startFlow();
    const response = await finish(flow);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('sso_failed');
    expect(await signInEvents('actor_ip = $1', flow.ip)).toEqual([
      {
        actor: 'anonymous',
        result: 'failed',
        details: {
          method: 'oidc',
          reason: 'provider_answer_rejected',
          problem: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
        },
      },
    ]);
  });

  it('sends the pre-auth record’s PKCE verifier, which the provider checks', async () => {
    const user = await makeUser(h, [{ role: 'employee', corpId: null }]);
    idp.login = { sub: newSubject(), claims: { preferred_username: user.username } };
    const flow = await startFlow();
    // A verifier other than the one the challenge was made from.
    await pool().query('UPDATE sso_preauth SET code_verifier = $2 WHERE state_hash = $1', [
      stateHash(flow.state),
      randomBytes(32).toString('base64url'),
    ]);
    const response = await finish(flow);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('sso_failed');
    expect(idp.tokenRequests.at(-1)).toMatchObject({ status: 400, error: 'invalid_grant' });
    const events = await signInEvents('actor_ip = $1', flow.ip);
    expect(events.map((e) => e.details.problem)).toEqual(['token_endpoint:invalid_grant']);
  });

  it('answers a refusal at the provider and keeps codes and tokens out of the audit log', async () => {
    idp.denyNext = true;
    const flow = await startFlow();
    const response = await finish(flow);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('sso_refused');
    const { rows } = await pool().query<{ details: string }>(
      "SELECT details::text AS details FROM audit_events WHERE action LIKE 'auth.%' AND details->>'method' = 'oidc'",
    );
    const state = flow.state;
    for (const r of rows) {
      expect(r.details).not.toContain(state);
      expect(r.details).not.toMatch(/code_verifier|id_token|access_token/);
    }
  });

  it('lists the provider and refuses an http issuer unless allowed for tests', async () => {
    expect((await h.app.inject({ url: '/api/v1/auth/sso' })).json()).toEqual({
      oidc: { name: 'Test IdP' },
      wecom: false,
    });
    const base = { issuer: 'http://idp.example', clientId: 'x', clientSecret: 'y' };
    expect(accessConfigSchema.safeParse({ oidc: base }).success).toBe(false);
    expect(accessConfigSchema.safeParse({ oidc: { ...base, allowInsecureHttp: true } }).success).toBe(true);
    const parsed = accessConfigSchema.parse({
      oidc: { ...base, issuer: 'https://idp.example', scopes: 'openid email' },
    });
    expect(parsed.oidc).toMatchObject({
      scopes: ['openid', 'email'],
      usernameClaim: 'preferred_username',
      allowInsecureHttp: false,
    });
    const off = await harness();
    expect((await off.app.inject({ url: '/api/v1/auth/oidc/start' })).statusCode).toBe(404);
  });

  it('leaves a verifiable audit log', async () => {
    const report = await verifyAuditLog(testPool());
    expect(report.firstProblem).toBeUndefined();
    expect(report.ok).toBe(true);
  });
});
