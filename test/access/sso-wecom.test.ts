import { createHash, randomBytes } from 'node:crypto';
import { generateSecret } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Corp } from '../../src/org/types.js';
import { wecomSecretName } from '../../src/wecom/api/secrets.js';
import type { EmulatedCorp } from '../../src/wecom/emulator/corp-state.js';
import { createEmulator, type Emulator } from '../../src/wecom/emulator/index.js';
import { testArchive } from '../support/archive.js';
import { createTestCorp, testPool } from '../support/db.js';
import { PASSWORD, clientFor, cookieFrom, harness, totpCode, type Harness } from './harness.js';

const REDIRECT = 'http://vigil.test/api/v1/auth/wecom/callback';
const pool = () => testPool();
let emu: Emulator;
let h: Harness;
let corp: Corp;
let wecom: EmulatedCorp;

beforeAll(async () => {
  emu = await createEmulator();
  corp = await createTestCorp(pool(), 'sso');
  wecom = emu.addCorp({ corpId: `wwsso${randomBytes(5).toString('hex')}`, messageCount: 10 });
  const { keyring } = await testArchive(pool());
  await keyring.putSecret(wecomSecretName(corp.id, 'app'), Buffer.from(wecom.secrets.app));
  await pool().query(
    "INSERT INTO wecom_connectors (corp_id, wecom_corp_id, sdk_mode, api_base_url) VALUES ($1, $2, 'emulator', $3)",
    [corp.id, wecom.corpId, emu.baseUrl],
  );
  // Vigil's copy of the organisation (normally from the contacts sync).
  for (const e of wecom.gen.employees)
    await pool().query('INSERT INTO employees (corp_id, userid, name, status) VALUES ($1, $2, $3, 1)', [
      corp.id,
      e.userid,
      e.name,
    ]);
  h = await harness(
    {
      wecom: {
        agents: { [corp.slug]: wecom.agentId },
        redirectUri: REDIRECT,
        authorizeUrl: `${emu.baseUrl}/connect/oauth2/authorize`,
        qrLoginUrl: `${emu.baseUrl}/wwlogin/sso/login`,
      },
    },
    [],
    {},
    { keyring },
  );
});
afterAll(async () => emu?.stop());

let nextEmployee = 0;
/** An employee (active in WeCom and in Vigil) nobody else in this file uses. */
const freshEmployee = () => wecom.gen.employees.filter((e) => e.status === 1)[nextEmployee++]!.userid;

/** A Vigil account linked to the employee, optionally with TOTP enrolled. */
async function accountFor(userid: string, options: { totp?: boolean; role?: string } = {}) {
  const username = `w-${randomBytes(5).toString('hex')}`;
  const { user } = await h.mod.users.create(
    { actor: 'system' },
    {
      username,
      password: PASSWORD,
      corpId: corp.id,
      employeeUserid: userid,
      roles: [{ role: options.role ?? 'employee', corpId: corp.id }],
    },
  );
  if (!options.totp) return { id: user.id, username };
  const secret = generateSecret();
  await h.repo.enableTotp(
    user.id,
    await h.secrets.encryptSecret(Buffer.from(secret), `access/totp/user:${user.id}`),
    0,
  );
  return { id: user.id, username, totpSecret: secret };
}

interface Flow {
  ip: string;
  preAuthCookie: string;
  state: string;
  location: string;
  callback: string;
}

/** Starts a sign-in and lets the emulated WeCom sign in `userid` (or refuse). */
async function startFlow(
  mode: 'oauth' | 'qr',
  userid: string,
  options: { deny?: boolean } = {},
): Promise<Flow> {
  const ip = h.ip();
  const start = await h.app.inject({
    url: `/api/v1/auth/wecom/start?corp=${corp.slug}&mode=${mode}`,
    remoteAddress: ip,
  });
  expect(start.statusCode).toBe(302);
  const location = String(start.headers.location);
  const state = /[?&]state=([^&#]+)/.exec(location)![1]!;
  wecom.loginUser = userid;
  const url = new URL(location);
  if (options.deny) url.searchParams.set('deny', '1');
  const answer = await fetch(url, { redirect: 'manual' });
  expect(answer.status).toBe(302);
  const back = new URL(answer.headers.get('location')!);
  expect(back.origin + back.pathname).toBe(REDIRECT);
  return {
    ip,
    preAuthCookie: cookieFrom(start.headers['set-cookie']),
    state,
    location,
    callback: back.pathname + back.search,
  };
}

const finish = (flow: Flow, url = flow.callback) =>
  h.app.inject({
    url,
    remoteAddress: flow.ip,
    headers: { cookie: flow.preAuthCookie, accept: 'application/json' },
  });

const signInEvents = async (ip: string) =>
  (
    await pool().query<{ actor: string; result: string; corp_id: number; details: Record<string, unknown> }>(
      "SELECT actor, result, corp_id, details FROM audit_events WHERE action = 'auth.sign_in' AND actor_ip = $1 ORDER BY seq",
      [ip],
    )
  ).rows;

const codeOf = (flow: Flow) => new URL(flow.callback, 'http://x').searchParams.get('code')!;

describe('WeCom sign-in', () => {
  it('signs in an active employee through OAuth inside the WeCom client', async () => {
    const userid = freshEmployee();
    const user = await accountFor(userid);
    const flow = await startFlow('oauth', userid);
    expect(flow.state).toMatch(/^[a-zA-Z0-9]{1,128}$/);
    expect(flow.location).toBe(
      `${emu.baseUrl}/connect/oauth2/authorize?appid=${wecom.corpId}&redirect_uri=${encodeURIComponent(REDIRECT)}` +
        `&response_type=code&scope=snsapi_base&state=${flow.state}&agentid=${wecom.agentId}#wechat_redirect`,
    );
    const response = await finish(flow);
    expect(response.statusCode).toBe(200);
    expect(response.json().stage).toBe('full');
    const client = clientFor(
      h,
      cookieFrom(response.headers['set-cookie']),
      response.json().csrfToken,
      flow.ip,
    );
    expect((await client.request({ url: '/api/v1/auth/me' })).json().user.username).toBe(user.username);
    expect(await signInEvents(flow.ip)).toEqual([
      {
        actor: `user:${user.id}`,
        result: 'allowed',
        corp_id: corp.id,
        details: { method: 'wecom', mode: 'oauth', userid, username: user.username, stage: 'full' },
      },
    ]);
  });

  it('signs in through browser QR login, then still asks for TOTP', async () => {
    const userid = freshEmployee();
    const user = await accountFor(userid, { totp: true, role: 'compliance_officer' });
    const flow = await startFlow('qr', userid);
    expect(flow.location).toBe(
      `${emu.baseUrl}/wwlogin/sso/login?login_type=CorpApp&appid=${wecom.corpId}&agentid=${wecom.agentId}` +
        `&redirect_uri=${encodeURIComponent(REDIRECT)}&state=${flow.state}`,
    );
    const response = await finish(flow);
    expect(response.statusCode).toBe(200);
    expect(response.json().stage).toBe('totp');
    const pending = clientFor(
      h,
      cookieFrom(response.headers['set-cookie']),
      response.json().csrfToken,
      flow.ip,
      'totp',
    );
    const totp = await pending.request({
      method: 'POST',
      url: '/api/v1/auth/totp',
      payload: { code: await totpCode(user.totpSecret!) },
    });
    expect(totp.statusCode).toBe(200);
    expect(totp.json().stage).toBe('full');
    // A browser (no JSON accepted) is sent to the console.
    const browser = await startFlow('qr', userid);
    const redirected = await h.app.inject({
      url: browser.callback,
      remoteAddress: browser.ip,
      headers: { cookie: browser.preAuthCookie },
    });
    expect(redirected.statusCode).toBe(302);
    expect(redirected.headers.location).toBe('/');
  });

  it('surfaces a used code (40029) and an expired one (42003) as clear errors', async () => {
    const userid = freshEmployee();
    await accountFor(userid);
    const first = await startFlow('oauth', userid);
    expect((await finish(first)).statusCode).toBe(200);
    // The same code again, under a fresh state of its own.
    const second = await startFlow('oauth', userid);
    const reused = await finish(
      second,
      `/api/v1/auth/wecom/callback?code=${codeOf(first)}&state=${second.state}`,
    );
    expect(reused.statusCode).toBe(401);
    expect(reused.json().error).toMatchObject({ code: 'wecom_code_invalid' });
    expect(reused.json().error.message).toMatch(/already used/);
    expect((await signInEvents(second.ip)).map((e) => e.details)).toEqual([
      { method: 'wecom', mode: 'oauth', reason: 'code_invalid', errcode: 40029 },
    ]);

    const late = await startFlow('oauth', userid);
    emu.clock.advance(5 * 60_000 + 1);
    const expired = await finish(late);
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('wecom_code_expired');
  });

  it('rejects an expired, replayed or unknown state before exchanging the code', async () => {
    const userid = freshEmployee();
    await accountFor(userid);
    const flow = await startFlow('qr', userid);
    await pool().query(
      "UPDATE sso_preauth SET expires_at = now() - interval '1 second' WHERE state_hash = $1",
      [createHash('sha256').update(flow.state).digest()],
    );
    const expired = await finish(flow);
    expect(expired.statusCode).toBe(400);
    expect(expired.json().error.code).toBe('sso_state_invalid');
    expect((await signInEvents(flow.ip)).map((e) => e.details.reason)).toEqual(['state_expired']);

    const ok = await startFlow('qr', userid);
    expect((await finish(ok)).statusCode).toBe(200);
    expect((await finish(ok)).json().error.code).toBe('sso_state_invalid');
    const forged = await finish(ok, `/api/v1/auth/wecom/callback?code=abc&state=${'A'.repeat(64)}`);
    expect(forged.statusCode).toBe(400);
    expect((await signInEvents(ok.ip)).map((e) => e.details.reason)).toEqual([
      undefined, // the successful sign-in
      'state_replayed',
      'state_unknown',
    ]);
  });

  it('answers a refusal in WeCom (no code)', async () => {
    const flow = await startFlow('qr', freshEmployee(), { deny: true });
    expect(flow.callback).not.toContain('code=');
    const response = await finish(flow);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('sso_refused');
  });

  it('denies a non-member, an inactive employee, an employee without an account and a disabled account', async () => {
    const outsider = await startFlow('oauth', `oOutsider${randomBytes(4).toString('hex')}`);
    const nonMember = await finish(outsider);
    expect(nonMember.statusCode).toBe(403);
    expect(nonMember.json().error.code).toBe('wecom_not_member');

    const leaverId = freshEmployee();
    const leaver = await accountFor(leaverId);
    await pool().query('UPDATE employees SET status = 5 WHERE corp_id = $1 AND userid = $2', [
      corp.id,
      leaverId,
    ]);
    const inactiveFlow = await startFlow('oauth', leaverId);
    const inactive = await finish(inactiveFlow);
    expect(inactive.statusCode).toBe(403);
    expect(inactive.json().error.code).toBe('employee_inactive');

    const withoutAccount = await startFlow('qr', freshEmployee());
    const noAccount = await finish(withoutAccount);
    expect(noAccount.statusCode).toBe(403);
    expect(noAccount.json().error.code).toBe('sso_no_account');

    const disabledId = freshEmployee();
    const disabledUser = await accountFor(disabledId);
    await h.repo.setDisabled(disabledUser.id, true);
    const disabledFlow = await startFlow('qr', disabledId);
    const disabled = await finish(disabledFlow);
    expect(disabled.statusCode).toBe(403);
    expect(disabled.json().error.code).toBe('account_disabled');

    const refusal = async (flow: Flow) => (await signInEvents(flow.ip))[0];
    expect(await refusal(outsider)).toEqual({
      actor: 'anonymous',
      result: 'denied',
      corp_id: corp.id,
      details: { method: 'wecom', mode: 'oauth', reason: 'not_member' },
    });
    expect(await refusal(inactiveFlow)).toMatchObject({
      result: 'denied',
      details: { reason: 'employee_inactive', userid: leaverId, employeeStatus: 5 },
    });
    expect(await refusal(withoutAccount)).toMatchObject({
      result: 'denied',
      details: { reason: 'no_account' },
    });
    expect(await refusal(disabledFlow)).toMatchObject({
      actor: `user:${disabledUser.id}`,
      result: 'denied',
      details: { reason: 'account_disabled', userid: disabledId },
    });
    expect(leaver.id).toBeDefined();
  });

  it('refuses corps without a configured login app', async () => {
    const other = await createTestCorp(pool(), 'sso-off');
    const response = await h.app.inject({ url: `/api/v1/auth/wecom/start?corp=${other.slug}&mode=qr` });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('sso_not_configured');
    expect((await h.app.inject({ url: '/api/v1/auth/sso' })).json()).toEqual({ oidc: null, wecom: true });
  });
});
