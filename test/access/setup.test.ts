import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessModule, type AccessModule } from '../../src/access/module.js';
import { aesGcmSecretBox } from '../../src/access/secret-box.js';
import { SETUP_TOKEN_FILE } from '../../src/access/setup.js';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { configSchema } from '../../src/platform/config/schema.js';
import { migrate } from '../../src/platform/db/migrations.js';
import { createPool, type Pool } from '../../src/platform/db/pool.js';
import { Metrics } from '../../src/platform/http/metrics.js';
import { buildHttpServer } from '../../src/platform/http/server.js';
import { testArchive } from '../support/archive.js';
import { createTestCorp, scratchDatabase, testPool } from '../support/db.js';
import { cookieFrom, harness, totpCode } from './harness.js';

// The first-run setup depends on there being no administrator at all, so this file runs on a
// database of its own (the shared one holds administrators of other files).
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let mod: AccessModule;
let app: FastifyInstance;
let dataDir: string;

const PASSWORD = 'a long and unusual passphrase';
let ipSeq = 0;
const ip = () => `10.77.${Math.floor(++ipSeq / 250)}.${(ipSeq % 250) + 1}`;

const setup = (body: Record<string, unknown>, headers: Record<string, string> = {}, remoteAddress = ip()) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/setup', payload: body, headers, remoteAddress });
const required = async () => (await app.inject({ url: '/api/v1/auth/setup' })).json().required as boolean;
const admins = async () =>
  (
    await pool.query<{ username: string }>(
      `SELECT u.username FROM users u JOIN role_assignments r ON r.user_id = u.id
       WHERE r.role = 'system_admin' ORDER BY u.id`,
    )
  ).rows.map((r) => r.username);
const setupEvents = async () =>
  (
    await pool.query<{
      actor: string;
      result: string;
      resource_ids: string[];
      details: Record<string, unknown>;
    }>(
      "SELECT actor, result, resource_ids, details FROM audit_events WHERE action = 'user.setup_admin' ORDER BY seq",
    )
  ).rows;

beforeAll(async () => {
  db = await scratchDatabase();
  pool = createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 8 });
  await migrate(pool);
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-setup-'));
  const config = configSchema.parse({ server: { rateLimitPerMinute: 100_000 } });
  mod = accessModule({
    pool,
    config,
    logger: pino({ level: 'info' }, { write: (line: string) => void logged.push(line) }),
    dataDir,
    secrets: aesGcmSecretBox(randomBytes(32)),
  });
  app = await buildHttpServer({
    config,
    logger: pino({ level: 'silent' }),
    metrics: new Metrics(),
    authorize: mod.authorize,
    routes: mod.routes,
  });
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await db?.drop();
});

/** What the access module logged (the setup token must never be in it). */
const logged: string[] = [];

describe('first-run setup', () => {
  let token: string;

  it('is closed until the server issues a token, which it writes to a 0600 file but never logs', async () => {
    expect(await required()).toBe(false);
    const closed = await setup({ token: 'x'.repeat(43), username: 'root', password: PASSWORD });
    expect(closed.statusCode).toBe(403);
    expect(closed.json().error.code).toBe('setup_token_invalid');

    const issued = await mod.setup.prepare();
    expect(issued?.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    token = issued!.token;
    const file = join(dataDir, SETUP_TOKEN_FILE);
    expect(issued!.file).toBe(file);
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(logged.join('')).toContain('first-run setup');
    expect(logged.join('')).not.toContain(token);
    // Only its hash is stored.
    const stored = await pool.query<{ token_hash: Buffer }>('SELECT token_hash FROM setup_tokens');
    expect(stored.rows.map((r) => r.token_hash.toString('base64url'))).not.toContain(token);
    expect(await required()).toBe(true);

    const methods = await app.inject({ url: '/api/v1/auth/methods' });
    expect(methods.json()).toEqual({ password: true, oidc: [], wecom: [], setupRequired: true });
  });

  it('refuses a wrong token, a weak password and a cross-site page, and records the wrong token', async () => {
    const address = ip();
    const wrong = await setup(
      { token: randomBytes(32).toString('base64url'), username: 'root', password: PASSWORD },
      {},
      address,
    );
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe('setup_token_invalid');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const denied = await pool.query(
      "SELECT details FROM audit_events WHERE action = 'user.setup_admin' AND actor_ip = $1",
      [address],
    );
    expect(denied.rows).toEqual([{ details: { reason: 'token_invalid' } }]);

    const weak = await setup({ token, username: 'root', password: 'short' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.code).toBe('weak_password');
    const containsName = await setup({ token, username: 'rootadmin', password: 'rootadmin-is-my-password' });
    expect(containsName.json().error.code).toBe('weak_password');
    const badName = await setup({ token, username: '-x', password: PASSWORD });
    expect(badName.json().error.code).toBe('validation_failed');

    const crossSite = await setup(
      { token, username: 'root', password: PASSWORD },
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    );
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json().error.code).toBe('csrf_failed');

    // None of these used the token up.
    expect(await admins()).toEqual([]);
    expect(await required()).toBe(true);
  });

  it('lets exactly one of concurrent attempts create the administrator', async () => {
    // Another instance's token is valid too until an administrator exists.
    const second = (await mod.setup.prepare())!.token;
    const attempts = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        setup({
          token: i % 2 ? second : token,
          username: `admin-${i}`,
          displayName: `管理员 ${i}`,
          password: PASSWORD,
        }),
      ),
    );
    const codes = attempts.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    for (const r of attempts.filter((a) => a.statusCode !== 201)) {
      expect([403, 409]).toContain(r.statusCode);
      expect(['setup_done', 'setup_token_invalid']).toContain(r.json().error.code);
    }
    const winner = attempts.findIndex((r) => r.statusCode === 201);
    expect(await admins()).toEqual([`admin-${winner}`]);
    const tokens = await pool.query<{ consumed: boolean; by: string | null }>(
      'SELECT consumed_at IS NOT NULL AS consumed, consumed_by::text AS by FROM setup_tokens',
    );
    expect(tokens.rows).toHaveLength(1); // the winner's; every other token is gone
    const allowed = (await setupEvents()).filter((e) => e.result === 'allowed');
    expect(allowed).toEqual([
      {
        actor: 'anonymous',
        result: 'allowed',
        resource_ids: [tokens.rows[0]!.by],
        details: expect.objectContaining({ username: `admin-${winner}`, role: 'system_admin' }),
      },
    ]);
    expect(existsSync(join(dataDir, SETUP_TOKEN_FILE))).toBe(false);

    // The administrator's session may only enrol TOTP; then it is a full one.
    const created = attempts[winner]!;
    expect(created.json().stage).toBe('enrol');
    const cookie = cookieFrom(created.headers['set-cookie']);
    const csrf = created.json().csrfToken as string;
    const as = (
      url: string,
      method: 'GET' | 'POST' = 'GET',
      payload?: Record<string, unknown>,
      c = cookie,
      x = csrf,
    ) => app.inject({ method, url, payload, headers: { cookie: c, 'x-csrf-token': x } });
    const early = await as('/api/v1/users');
    expect(early.statusCode).toBe(403);
    expect(early.json().error.code).toBe('totp_enrolment_required');
    const enrol = await as('/api/v1/auth/totp/enroll', 'POST', {});
    expect(enrol.statusCode).toBe(200);
    const confirmed = await as('/api/v1/auth/totp/confirm', 'POST', {
      code: await totpCode(enrol.json().secret),
    });
    expect(confirmed.statusCode).toBe(200);
    const session = confirmed.json().session as { stage: string; csrfToken: string };
    expect(session.stage).toBe('full');
    const fullCookie = cookieFrom(confirmed.headers['set-cookie']);
    const me = await as('/api/v1/auth/me', 'GET', undefined, fullCookie, session.csrfToken);
    expect(me.json().user.username).toBe(`admin-${winner}`);
    expect(me.json().permissions).toContain('users.manage');
  });

  it('refuses every later attempt, and a restart issues no token while an administrator exists', async () => {
    const again = await setup({ token, username: 'late', password: PASSWORD });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('setup_done');
    expect(await required()).toBe(false);
    expect(await mod.setup.prepare()).toBeUndefined();
    expect((await pool.query('SELECT 1 FROM setup_tokens')).rowCount).toBe(0);
    expect(existsSync(join(dataDir, SETUP_TOKEN_FILE))).toBe(false);
    expect((await app.inject({ url: '/api/v1/auth/methods' })).json().setupRequired).toBe(false);
    expect(await admins()).toHaveLength(1);
  });

  it('opens again only when no enabled administrator is left', async () => {
    await pool.query(
      `UPDATE users SET disabled_at = now() WHERE id IN (SELECT user_id FROM role_assignments WHERE role = 'system_admin')`,
    );
    const reissued = await mod.setup.prepare();
    expect(reissued).toBeDefined();
    expect(await required()).toBe(true);
    const created = await setup({ token: reissued!.token, username: 'second-admin', password: PASSWORD });
    expect(created.statusCode).toBe(201);
    expect(await required()).toBe(false);
  });

  it('leaves a verifiable audit log', async () => {
    const report = await verifyAuditLog(pool);
    expect(report.firstProblem).toBeUndefined();
    expect(report.ok).toBe(true);
  });
});

describe('sign-in methods', () => {
  it('lists the OIDC provider and the WeCom corps that have a connector', async () => {
    const shared = testPool();
    const { keyring } = await testArchive(shared);
    const withConnector = await createTestCorp(shared, 'methods');
    const withoutConnector = await createTestCorp(shared, 'methods');
    await shared.query(
      "INSERT INTO wecom_connectors (corp_id, wecom_corp_id, sdk_mode, api_base_url) VALUES ($1, $2, 'emulator', 'http://127.0.0.1:9')",
      [withConnector.id, `wwm${randomBytes(4).toString('hex')}`],
    );
    const h = await harness(
      {
        oidc: {
          name: '集团统一身份认证',
          issuer: 'https://idp.example',
          clientId: 'vigil',
          clientSecret: 'secret',
          redirectUri: 'https://vigil.example/api/v1/auth/oidc/callback',
        },
        wecom: {
          agents: { [withConnector.slug]: 1000002, [withoutConnector.slug]: 1000003, 'no-such-corp': 7 },
          redirectUri: 'https://vigil.example/api/v1/auth/wecom/callback',
        },
      },
      [],
      {},
      { keyring },
    );
    const methods = await h.app.inject({ url: '/api/v1/auth/methods' });
    expect(methods.statusCode).toBe(200);
    expect(methods.headers['cache-control']).toBe('no-store');
    expect(methods.json()).toEqual({
      password: true,
      oidc: [{ id: 'oidc', name: '集团统一身份认证', startUrl: '/api/v1/auth/oidc/start' }],
      wecom: [
        {
          corp: withConnector.slug,
          name: withConnector.name,
          startUrl: `/api/v1/auth/wecom/start?corp=${withConnector.slug}`,
        },
      ],
      // No setup token was issued on the shared database.
      setupRequired: false,
    });

    const off = await harness();
    expect((await off.app.inject({ url: '/api/v1/auth/methods' })).json()).toMatchObject({
      password: true,
      oidc: [],
      wecom: [],
    });
  });

  it('sends a browser whose single sign-on fails back to the sign-in page with the code', async () => {
    const off = await harness();
    // An API client gets the JSON error; a browser's navigation lands on the console.
    const api = await off.app.inject({ url: '/api/v1/auth/oidc/start' });
    expect(api.statusCode).toBe(404);
    const browser = await off.app.inject({
      url: '/api/v1/auth/oidc/start',
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(browser.statusCode).toBe(302);
    expect(browser.headers.location).toBe('/?error=sso_not_configured');

    const h = await harness({
      oidc: {
        issuer: 'https://idp.example',
        clientId: 'vigil',
        clientSecret: 'secret',
        redirectUri: 'https://vigil.example/api/v1/auth/oidc/callback',
      },
    });
    const callback = await h.app.inject({
      url: `/api/v1/auth/oidc/callback?state=${'s'.repeat(43)}&code=abc`,
      headers: { accept: 'text/html' },
    });
    expect(callback.statusCode).toBe(302);
    expect(callback.headers.location).toBe('/?error=sso_state_invalid');
    expect(callback.headers['set-cookie']).toBe('vigil_sso=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
    const json = await h.app.inject({
      url: `/api/v1/auth/oidc/callback?state=${'s'.repeat(43)}&code=abc`,
      headers: { accept: 'application/json' },
    });
    expect(json.statusCode).toBe(400);
    expect(json.json().error.code).toBe('sso_state_invalid');
  });
});
