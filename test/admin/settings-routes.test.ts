import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessRepository } from '../../src/access/access.repository.js';
import { accessModule } from '../../src/access/module.js';
import { aesGcmSecretBox } from '../../src/access/secret-box.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { keysRoutes } from '../../src/crypto/keys.routes.js';
import { KeyService, REWRAP_JOB } from '../../src/crypto/keys.service.js';
import { OrgRepository } from '../../src/org/org.repository.js';
import type { Corp } from '../../src/org/types.js';
import { configSchema } from '../../src/platform/config/schema.js';
import { migrate } from '../../src/platform/db/migrations.js';
import { createPool, type Pool } from '../../src/platform/db/pool.js';
import { Metrics } from '../../src/platform/http/metrics.js';
import { buildHttpServer } from '../../src/platform/http/server.js';
import { JobRepository } from '../../src/platform/jobs/queue.js';
import { JobRunner } from '../../src/platform/jobs/runner.js';
import { samplingModule } from '../../src/review/sampling/index.js';
import { keyringSecrets } from '../../src/wecom/api/secrets.js';
import { connectorSettingsRoutes } from '../../src/wecom/connector/connector-settings.routes.js';
import { ConnectorRepository } from '../../src/wecom/connector/connector.repository.js';
import { makeUser, signIn, type Client, type Harness } from '../access/harness.js';
import { testArchive, textMessage } from '../support/archive.js';
import { createTestCorp, scratchDatabase } from '../support/db.js';

// A database of its own: rotation rewraps every data key of the deployment, and data keys other
// test files made under their own keyrings would not unwrap here.
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let h: Harness;
let corp: Corp;
let other: Corp;
let keyring: Awaited<ReturnType<typeof testArchive>>['keyring'];
let keys: KeyService;
let jobs: JobRepository;
let archive: Awaited<ReturnType<typeof testArchive>>['archive'];
let envelope: Awaited<ReturnType<typeof testArchive>>['envelope'];
/** Every response body of the run, to search for secrets afterwards. */
const bodies: string[] = [];
let admin: Client;
let lead: Client;
let corpAdmin: Client;

const call = async (client: Client, method: string, url: string, payload?: object) => {
  const response = await client.request({
    method: method as 'GET',
    url,
    ...(payload === undefined ? {} : { payload }),
  });
  bodies.push(response.body, JSON.stringify(response.headers));
  return response;
};

beforeAll(async () => {
  db = await scratchDatabase();
  pool = createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 6 });
  await migrate(pool);
  const built = await testArchive(pool);
  ({ keyring, archive, envelope } = built);
  keys = new KeyService(pool, { keyring, deks: built.store, envelope: built.envelope });
  jobs = new JobRepository(pool);
  const audit = new AuditLog(pool);
  const org = new OrgRepository(pool);
  const config = configSchema.parse({ server: { rateLimitPerMinute: 100_000 } });
  const secrets = aesGcmSecretBox(randomBytes(32));
  const mod = accessModule({
    pool,
    config,
    logger: pino({ level: 'silent' }),
    dataDir: mkdtempSync(join(tmpdir(), 'vigil-admin-')),
    secrets,
  });
  const app = await buildHttpServer({
    config,
    logger: pino({ level: 'silent' }),
    metrics: new Metrics(),
    authorize: mod.authorize,
    routes: [
      ...mod.routes,
      keysRoutes({ keys, jobs, audit, pool }),
      connectorSettingsRoutes({ pool, keyring, audit, org }),
      ...samplingModule({ pool, config: config.review, audit }).routes,
    ],
  });
  h = {
    app,
    mod,
    repo: new AccessRepository(pool),
    secrets,
    ip: () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
  };
  corp = await createTestCorp(pool, 'adm');
  other = await createTestCorp(pool, 'adm-other');
  admin = await signIn(h, await makeUser(h, [{ role: 'system_admin', corpId: null }], { totp: true }));
  lead = await signIn(h, await makeUser(h, [{ role: 'compliance_lead', corpId: corp.id }], { totp: true }));
  corpAdmin = await signIn(h, await makeUser(h, [{ role: 'system_admin', corpId: corp.id }], { totp: true }));
}, 120_000);

afterAll(async () => {
  await h?.app.close();
  await pool?.end();
  await db?.drop();
});

describe('OpenAPI', () => {
  it('documents the settings routes', async () => {
    const response = await h.app.inject({ url: '/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    const paths = response.json().paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths['/api/v1/keys/status']!)).toEqual(['get']);
    expect(Object.keys(paths['/api/v1/keys/rotate']!)).toEqual(['post']);
    expect(Object.keys(paths['/api/v1/corps/{corp}/wecom/connector']!).sort()).toEqual(['get', 'put']);
    expect(Object.keys(paths['/api/v1/corps/{corp}/review/sampling/settings']!).sort()).toEqual([
      'get',
      'put',
    ]);
  });
});

describe('WeCom connector settings', () => {
  // Canaries in the shapes WeCom issues (the callback pair has strict formats).
  const canary = {
    archive: `CANARY-archive-${randomBytes(8).toString('hex')}`,
    contacts: `CANARY-contacts-${randomBytes(8).toString('hex')}`,
    externalcontact: `CANARY-ext-${randomBytes(8).toString('hex')}`,
    app: `CANARY-app-${randomBytes(8).toString('hex')}`,
    callback_token: `CANARYtok${randomBytes(8).toString('hex')}`,
    callback_aeskey: `CANARYaes${randomBytes(17).toString('hex')}`,
  };
  const url = () => `/api/v1/corps/${corp.slug}/wecom/connector`;
  const settings = {
    wecomCorpId: 'ww0123456789abcdef',
    sdkMode: 'emulator',
    sdkLibrary: null,
    apiBaseUrl: 'http://127.0.0.1:9/',
    proxy: null,
    pollIntervalSeconds: 30,
    enabled: true,
  };

  it('stores settings and write-only secrets where the connector reads them, audited without values', async () => {
    expect(canary.callback_aeskey).toHaveLength(43);
    const before = await call(admin, 'GET', url());
    expect(before.statusCode).toBe(200);
    expect(before.json()).toMatchObject({
      settings: null,
      secrets: expect.arrayContaining([{ kind: 'archive', set: false, changedAt: null, changedBy: null }]),
    });

    const saved = await call(admin, 'PUT', url(), { ...settings, secrets: canary });
    expect(saved.statusCode).toBe(200);
    const view = saved.json();
    expect(view.settings).toEqual(settings);
    expect(view.secrets).toHaveLength(6);
    for (const s of view.secrets) {
      expect(s).toMatchObject({ set: true, changedBy: expect.stringMatching(/^user:/) });
      expect(Date.parse(s.changedAt)).toBeGreaterThan(Date.now() - 60_000);
    }

    // Persisted through the connector's own row and keyring names.
    const row = await new ConnectorRepository(pool).connector(corp.id);
    expect(row).toMatchObject({
      wecom_corp_id: 'ww0123456789abcdef',
      sdk_mode: 'emulator',
      poll_interval_seconds: 30,
    });
    expect(await keyringSecrets(keyring, corp.id)('archive')).toBe(canary.archive);
    expect(await keyringSecrets(keyring, corp.id)('app')).toBe(canary.app);
    expect((await keyring.getSecret(`wecom/callback/${corp.id}/aeskey`))?.toString()).toBe(
      canary.callback_aeskey,
    );

    // Another read, the list, and a change without secrets keep the stored values and show "set".
    expect((await call(admin, 'GET', url())).json().secrets.every((s: { set: boolean }) => s.set)).toBe(true);
    const listed = await call(admin, 'GET', '/api/v1/wecom/connectors');
    expect(listed.json().items.map((c: { slug: string }) => c.slug)).toEqual(
      expect.arrayContaining([corp.slug, other.slug]),
    );
    const polled = await call(admin, 'PUT', url(), { ...settings, pollIntervalSeconds: 120 });
    expect(polled.json().settings.pollIntervalSeconds).toBe(120);
    expect(await keyringSecrets(keyring, corp.id)('archive')).toBe(canary.archive);

    const { rows } = await pool.query<{ details: unknown; actor: string }>(
      `SELECT details, actor FROM audit_events WHERE corp_id = $1 AND action = 'wecom.connector.update' ORDER BY seq`,
      [corp.id],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]!.details).toMatchObject({ created: true, replaced: Object.keys(canary) });
    expect(rows[1]!.details).toMatchObject({
      created: false,
      changed: ['pollIntervalSeconds'],
      replaced: [],
    });
    const audited = JSON.stringify(rows);
    for (const value of Object.values(canary)) expect(audited).not.toContain(value);
  });

  it('asks for the archive secret again before sending it to another API base or corp id', async () => {
    const moved = await call(admin, 'PUT', url(), { ...settings, apiBaseUrl: 'https://evil.example/' });
    expect(moved.statusCode).toBe(409);
    expect(moved.json().error.code).toBe('archive_secret_required');
    expect((await new ConnectorRepository(pool).connector(corp.id))?.api_base_url).toBe(
      'http://127.0.0.1:9/',
    );
    const fresh = `CANARY-archive2-${randomBytes(8).toString('hex')}`;
    const ok = await call(admin, 'PUT', url(), {
      ...settings,
      apiBaseUrl: 'https://qyapi.example/',
      secrets: { archive: fresh },
    });
    expect(ok.statusCode).toBe(200);
    expect(await keyringSecrets(keyring, corp.id)('archive')).toBe(fresh);
    // A malformed value is refused without echoing it.
    const bad = await call(admin, 'PUT', url(), {
      ...settings,
      apiBaseUrl: 'https://qyapi.example/',
      secrets: { callback_aeskey: `${canary.callback_aeskey}!` },
    });
    expect(bad.statusCode).toBe(400);
    canary.archive += ` ${fresh}`; // searched for below as well
  });

  it('keeps a proxy password: shown masked, kept when sent back masked', async () => {
    const proxy = `socks5://vigil:CANARY-proxy-pass@10.0.0.1:8081`;
    const secret = { archive: `CANARY-archive3-${randomBytes(4).toString('hex')}` };
    const saved = await call(admin, 'PUT', url(), {
      ...settings,
      apiBaseUrl: 'https://qyapi.example/',
      proxy,
      secrets: secret,
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json().settings.proxy).toBe('socks5://vigil:***@10.0.0.1:8081');
    const again = await call(admin, 'PUT', url(), {
      ...settings,
      apiBaseUrl: 'https://qyapi.example/',
      proxy: 'socks5://vigil:***@10.0.0.1:8081',
    });
    expect(again.statusCode).toBe(200);
    expect((await new ConnectorRepository(pool).connector(corp.id))?.proxy).toBe(proxy);
  });

  it('lets content roles read the settings but only system administrators change them', async () => {
    expect((await call(lead, 'GET', url())).statusCode).toBe(200);
    expect(
      (await call(lead, 'PUT', url(), { ...settings, secrets: { app: 'CANARY-lead' } })).statusCode,
    ).toBe(403);
    expect((await call(lead, 'GET', `/api/v1/corps/${other.slug}/wecom/connector`)).statusCode).toBe(403);
    const listed = await call(lead, 'GET', '/api/v1/wecom/connectors');
    expect(listed.json().items.map((c: { slug: string }) => c.slug)).toEqual([corp.slug]);
  });

  it('never returns a secret from any settings route', async () => {
    // Every route of this file once more, then every response body and header of the run.
    await call(admin, 'GET', '/api/v1/wecom/connectors');
    await call(admin, 'GET', url());
    await call(admin, 'GET', '/api/v1/keys/status');
    await call(lead, 'GET', `/api/v1/corps/${corp.slug}/review/sampling/settings`);
    const all = bodies.join('\n');
    expect(all).toContain(corp.slug);
    for (const value of [
      ...Object.values(canary).flatMap((v) => v.split(' ')),
      'CANARY-proxy-pass',
      'CANARY-lead',
    ])
      expect(all).not.toContain(value);
    expect(all).not.toMatch(/CANARY/);
  });
});

describe('sampling settings', () => {
  const url = () => `/api/v1/corps/${corp.slug}/review/sampling/settings`;

  it('persists per-corp rates that sampling runs then use; empty falls back to the configuration', async () => {
    const initial = await call(lead, 'GET', url());
    expect(initial.statusCode).toBe(200);
    expect(initial.json()).toMatchObject({
      stored: { monthlyRate: null, weeklySensitive: true },
      defaults: { monthlyRate: 0.05, recheckRate: 0.1 },
      effective: { monthlyRate: 0.05, weeklySensitive: true },
    });
    const saved = await call(lead, 'PUT', url(), {
      monthlyRate: 0.2,
      recheckRate: null,
      lowScoreBelow: 2,
      humanReviewTarget: 0.5,
      weeklySensitive: false,
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toMatchObject({
      stored: { monthlyRate: 0.2, recheckRate: null, lowScoreBelow: 2, weeklySensitive: false },
      effective: {
        monthlyRate: 0.2,
        recheckRate: 0.1,
        lowScoreBelow: 2,
        humanReviewTarget: 0.5,
        weeklySensitive: false,
      },
    });
    expect((await call(lead, 'GET', url())).json().stored.updatedBy).toMatch(/^user:/);
    // Another corp keeps the configuration's values.
    expect(
      (await call(admin, 'GET', `/api/v1/corps/${other.slug}/review/sampling/settings`)).json().effective
        .monthlyRate,
    ).toBe(0.05);
    expect(
      (
        await call(lead, 'PUT', url(), {
          monthlyRate: 2,
          recheckRate: null,
          lowScoreBelow: null,
          humanReviewTarget: null,
          weeklySensitive: true,
        })
      ).statusCode,
    ).toBe(400);

    // A monthly run of this corp draws with its own rate.
    const run = await call(lead, 'POST', `/api/v1/corps/${corp.slug}/review/sampling/runs`, {
      kind: 'monthly_random',
      period: '2025-03',
    });
    expect(run.statusCode).toBe(201);
    expect(run.json().run.rate).toBe(0.2);

    const { rows } = await pool.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE corp_id = $1 AND action = 'review.sampling.settings'`,
      [corp.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.details).toMatchObject({
      changed: ['monthlyRate', 'lowScoreBelow', 'humanReviewTarget', 'weeklySensitive'],
      after: { monthlyRate: 0.2, weeklySensitive: false },
    });
  });

  it('skips the weekly sensitive-post job for a corp that turned it off', async () => {
    const weekly = samplingModule({ pool, config: configSchema.parse({}).review }).jobs.find(
      (j) => j.name === 'review.sampling.weekly',
    )!;
    const result = (await weekly.handler({
      job: { payload: { corpId: corp.id }, scheduledFor: new Date() } as never,
      logger: pino({ level: 'silent' }),
      reportProgress: async () => undefined,
      signal: new AbortController().signal,
    })) as { runs: unknown[]; skipped?: number[] };
    expect(result).toEqual({ kind: 'weekly_sensitive', runs: [], skipped: [corp.id] });
  });

  it('needs config.manage', async () => {
    expect((await call(lead, 'GET', `/api/v1/corps/${other.slug}/review/sampling/settings`)).statusCode).toBe(
      403,
    );
  });
});

describe('keyring status and rotation', () => {
  it('shows versions and data keys per corp, rotates as an audited job that rewraps every data key', async () => {
    const months = ['2025-01-15', '2025-02-15', '2025-03-15', '2025-04-15'];
    await archive.storeBatch(
      corp.id,
      months.map((d, i) => textMessage(`rot-${i}`, `轮换前的消息 ${i}`, new Date(`${d}T08:00:00Z`))),
    );
    await archive.storeBatch(other.id, [
      textMessage('rot-other', '另一家企业', new Date('2025-02-01T08:00:00Z')),
    ]);

    const status = await call(admin, 'GET', '/api/v1/keys/status');
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({
      provider: 'local',
      current: 1,
      versions: [{ version: 1, state: 'active', current: true, deks: 5 }],
      pendingRewrap: 0,
      rotation: null,
    });
    expect(status.json().versions[0].createdAt).toEqual(expect.any(String));
    const mine = status.json().corps.find((c: { slug: string }) => c.slug === corp.slug);
    expect(mine).toMatchObject({ versions: [{ kekVersion: 1, deks: 4 }], pending: 0, destroyed: 0 });
    // No wrapped key, in any encoding, leaves the server.
    const wrapped = await pool.query<{ wrapped: Buffer }>('SELECT wrapped FROM data_keys');
    for (const { wrapped: w } of wrapped.rows) {
      expect(status.body).not.toContain(w.toString('base64').slice(0, 24));
      expect(status.body).not.toContain(w.toString('hex').slice(0, 24));
    }

    // Separation of duties and scope: content roles never; a corp's administrator not for all corps.
    expect((await call(lead, 'GET', '/api/v1/keys/status')).statusCode).toBe(403);
    expect((await call(lead, 'POST', '/api/v1/keys/rotate', {})).statusCode).toBe(403);
    expect((await call(corpAdmin, 'POST', '/api/v1/keys/rotate', {})).statusCode).toBe(403);
    const scoped = await call(corpAdmin, 'GET', '/api/v1/keys/status');
    expect(scoped.json().corps.map((c: { slug: string }) => c.slug)).toEqual([corp.slug]);

    const rotated = await call(admin, 'POST', '/api/v1/keys/rotate', {});
    expect(rotated.statusCode).toBe(202);
    expect(rotated.json()).toMatchObject({ kekVersion: 2, rotation: { status: 'queued' } });
    const jobId = rotated.json().rotation.jobId as string;
    expect((await call(admin, 'POST', '/api/v1/keys/rotate', {})).json().error.code).toBe(
      'rotation_in_progress',
    );
    const during = (await call(admin, 'GET', '/api/v1/keys/status')).json();
    expect(during).toMatchObject({ current: 2, pendingRewrap: 5, rotation: { jobId, status: 'queued' } });

    const audits = await pool.query<{
      actor: string;
      resource_ids: string[];
      details: Record<string, unknown>;
    }>(`SELECT actor, resource_ids, details FROM audit_events WHERE action = 'keys.rotate'`);
    expect(audits.rows).toEqual([
      { actor: expect.stringMatching(/^user:/), resource_ids: ['2'], details: { kekVersion: 2, jobId } },
    ]);

    const runner = new JobRunner(jobs, pino({ level: 'silent' }), { concurrency: 1, pollIntervalMs: 50 });
    runner.define(keys.rewrapJob());
    runner.start();
    try {
      for (let i = 0; i < 200 && (await jobs.get(jobId))?.status !== 'succeeded'; i++) await sleep(50);
    } finally {
      await runner.stop();
    }
    const after = (await call(admin, 'GET', '/api/v1/keys/status')).json();
    expect(after).toMatchObject({
      current: 2,
      pendingRewrap: 0,
      versions: [
        { version: 1, current: false, deks: 0 },
        { version: 2, current: true, deks: 5 },
      ],
      rotation: { jobId, status: 'succeeded', progress: { done: 5, total: 5 } },
    });
    expect(after.corps.find((c: { slug: string }) => c.slug === corp.slug)).toMatchObject({
      versions: [{ kekVersion: 2, deks: 4 }],
      pending: 0,
    });
    const versions = await pool.query('SELECT DISTINCT kek_version FROM data_keys');
    expect(versions.rows).toEqual([{ kek_version: 2 }]);
    // Content is untouched and reads through the rewrapped keys.
    envelope.clearCache();
    const read = await archive.getMessage(corp.id, 'rot-2');
    expect(read?.content).toMatchObject({ state: 'ok', raw: expect.stringContaining('轮换前的消息 2') });
    expect(await jobs.list({ name: REWRAP_JOB, limit: 5 })).toHaveLength(1);
  });
});
