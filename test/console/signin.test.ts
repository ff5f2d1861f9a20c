import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { available, startConsoleServer, type ConsoleServer } from './server.js';
import { violations } from './axe.js';

let s: ConsoleServer;
let idp: TestOidcProvider;
let callback: string;

const ADMIN_PASSWORD = 'a long and unusual passphrase';
/** A port free right now: the OIDC callback URL must be configured before the server listens. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TOTP code of a later 30 s step than `afterStep` (a code is accepted once per step). */
async function codeAfter(secret: string, afterStep: number): Promise<string> {
  while (Math.floor(Date.now() / 30_000) <= afterStep) await sleep(250);
  return generate({ secret });
}

const currentStep = () => Math.floor(Date.now() / 30_000);

async function watch(page: Page, name: string): Promise<Page> {
  page.on('pageerror', (e) => console.error(`[${name}] page error: ${e.message}`));
  return page;
}

describe.skipIf(!available)('sign-in page: first-run setup and single sign-on in Chromium', () => {
  beforeAll(async () => {
    const port = await freePort();
    callback = `http://127.0.0.1:${port}/api/v1/auth/oidc/callback`;
    idp = await startOidcProvider({ redirectUris: [callback] });
    s = await startConsoleServer('signin', {
      port,
      access: {
        oidc: {
          name: 'Test IdP',
          issuer: idp.issuer,
          clientId: idp.clientId,
          clientSecret: idp.clientSecret,
          redirectUri: callback,
          allowInsecureHttp: true,
        },
      },
    });
  }, 180_000);

  afterAll(async () => {
    await s?.close();
    await idp?.stop();
  });

  it(
    'creates the first administrator with the setup token, who then signs in with TOTP',
    { timeout: 120_000 },
    async () => {
      // What `vigil serve` does at start-up when no administrator exists.
      const issued = await s.h.mod.setup.prepare();
      expect(issued).toBeDefined();
      const page = await watch(await s.anonymous(), 'setup');
      await page.getByTestId('setup').waitFor();
      expect(await page.getByRole('heading').first().innerText()).toContain('首次设置');
      expect(await violations(page)).toEqual([]);

      // A wrong token is refused with an explanation.
      await page.getByTestId('setup-token').fill(randomBytes(32).toString('base64url'));
      await page.getByTestId('setup-username').fill('root');
      await page.getByTestId('setup-display-name').fill('系统管理员');
      await page.getByTestId('setup-password').fill(ADMIN_PASSWORD);
      await page.getByTestId('setup-confirm').fill(ADMIN_PASSWORD);
      await page.getByTestId('setup-submit').click();
      expect(await page.getByTestId('setup-error').innerText()).toContain('设置令牌不正确');

      // The password policy is checked before anything is sent.
      await page.getByTestId('setup-token').fill(issued!.token);
      await page.getByTestId('setup-password').fill('root-short');
      await page.getByTestId('setup-confirm').fill('root-short');
      await page.getByTestId('setup-submit').click();
      await page.getByText('密码至少需要 12 个字符').waitFor();
      await page.getByTestId('setup-password').fill(ADMIN_PASSWORD);
      await page.getByTestId('setup-confirm').fill(ADMIN_PASSWORD);
      await page.getByTestId('setup-submit').click();

      // Then TOTP enrolment is mandatory before the console opens.
      await page.getByTestId('setup-enrol').waitFor();
      const secret = (await page.getByTestId('totp-secret').innerText()).trim();
      await page.getByTestId('totp-enrol-code').fill(await generate({ secret }));
      const enrolledStep = currentStep();
      await page.getByTestId('totp-enrol-confirm').click();
      expect(await page.getByTestId('current-user').innerText()).toBe('root');
      await page.waitForURL(/\/admin/);

      const { rows } = await s.pool.query<{ result: string; details: Record<string, unknown> }>(
        "SELECT result, details FROM audit_events WHERE action = 'user.setup_admin' ORDER BY seq",
      );
      expect(rows.map((r) => r.result)).toEqual(['denied', 'allowed']);
      expect(rows[1]!.details).toMatchObject({ username: 'root', role: 'system_admin' });
      expect((await s.pool.query('SELECT 1 FROM setup_tokens WHERE consumed_at IS NULL')).rowCount).toBe(0);
      await page.close();

      // The setup is closed now: a new browser gets the sign-in page, and the admin signs in.
      const again = await watch(await s.anonymous(), 'admin');
      await again.getByLabel('用户名').fill('root');
      expect(await again.getByTestId('setup').count()).toBe(0);
      await again.getByLabel('密码').fill(ADMIN_PASSWORD);
      await again.getByRole('button', { name: '登录', exact: true }).click();
      await again.getByLabel('动态验证码').fill(await codeAfter(secret, enrolledStep));
      await again.getByRole('button', { name: '验证' }).click();
      expect(await again.getByTestId('current-user').innerText()).toBe('root');
      await again.close();
    },
  );

  it(
    'signs in through the OIDC provider from the sign-in page, then asks for TOTP',
    { timeout: 60_000 },
    async () => {
      const user = await s.addUser('oidc', 'compliance_officer');
      idp.login = {
        sub: `sub-${randomBytes(6).toString('hex')}`,
        claims: { preferred_username: user.username },
      };
      const page = await watch(await s.anonymous(), 'oidc');
      const button = page.getByTestId('sso-oidc');
      expect(await button.innerText()).toContain('Test IdP');
      expect(await button.getAttribute('href')).toBe('/api/v1/auth/oidc/start');
      expect(await violations(page)).toEqual([]);
      await button.click();

      // Vigil → the provider (auto-approving) → Vigil's callback → the console, at the TOTP step.
      await page.getByLabel('动态验证码').fill(await generate({ secret: user.totpSecret! }));
      const sent = idp.authorizeRequests.at(-1)!;
      expect(sent.get('redirect_uri')).toBe(callback);
      expect(sent.get('code_challenge_method')).toBe('S256');
      await page.getByRole('button', { name: '验证' }).click();
      expect(await page.getByTestId('current-user').innerText()).toBe(user.username);
      const { rows } = await s.pool.query<{ details: Record<string, unknown> }>(
        "SELECT details FROM audit_events WHERE action = 'auth.sign_in' AND actor = $1 AND result = 'allowed' ORDER BY seq",
        [`user:${user.id}`],
      );
      expect(rows[0]!.details).toMatchObject({ method: 'oidc', issuer: idp.issuer });
      await page.close();
    },
  );

  it('explains a failed single sign-on in the user’s language', { timeout: 60_000 }, async () => {
    const page = await watch(await s.anonymous(), 'sso-error');
    idp.denyNext = true;
    await page.getByTestId('sso-oidc').click();
    const error = page.getByTestId('sign-in-error');
    expect(await error.innerText()).toContain('单点登录未成功');
    expect(await error.innerText()).toContain('身份提供方没有完成登录');
    // The code is dropped from the address bar, so a reload does not show it again.
    await expect.poll(() => new URL(page.url()).search).toBe('');

    // An identity without an account, in English.
    idp.login = {
      sub: `sub-${randomBytes(6).toString('hex')}`,
      claims: { preferred_username: 'nobody-here' },
    };
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByTestId('sso-oidc').click();
    expect(await page.getByTestId('sign-in-error').innerText()).toContain(
      'No Vigil account matches this identity',
    );
    await page.close();
  });
});
