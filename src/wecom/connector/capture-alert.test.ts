import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCorp, scratchDatabase } from '../../../test/support/db.js';
import { NotificationService } from '../../notifications/notifications.service.js';
import { account, employees } from '../../notifications/test-fixture.js';
import { WecomNotificationDelivery } from '../../notifications/wecom-delivery.js';
import { migrate } from '../../platform/db/migrations.js';
import { createPool, type Pool } from '../../platform/db/pool.js';
import type { JobContext } from '../../platform/jobs/types.js';
import { WecomApiClient } from '../api/client.js';
import { createEmulator, type Emulator } from '../emulator/index.js';
import { CAPTURE_LAG_KIND } from './capture-alert.js';
import { connectorJobs } from './connector.jobs.js';
import { ConnectorRepository } from './connector.repository.js';

// The check looks at every connector of the database: one of its own keeps other suites' corps
// (and their global administrators) out of these counts.
let db: { url: string; drop(): Promise<void> };
let pool: Pool;
let emu: Emulator;
const WECOM_CORP = 'wwcapturelag0001';

beforeAll(async () => {
  db = await scratchDatabase();
  pool = createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 4 });
  await migrate(pool);
  emu = await createEmulator({ corps: [{ corpId: WECOM_CORP, messageCount: 12, seed: 'capture-lag' }] });
});

afterAll(async () => {
  await emu?.stop();
  await pool?.end();
  await db?.drop();
});

const logger = pino({ level: 'silent' });

/** Sets when capture last pulled successfully (the lag the check measures). */
async function lastPulled(corpId: number, hoursAgo: number): Promise<void> {
  await pool.query(
    `INSERT INTO wecom_cursors (corp_id, last_pull_at, last_error, last_error_at)
     VALUES ($1, now() - make_interval(secs => $2), 'GetChatData from seq 42: 10001 network error', now())
     ON CONFLICT (corp_id) DO UPDATE SET last_pull_at = EXCLUDED.last_pull_at, last_error = EXCLUDED.last_error`,
    [corpId, hoursAgo * 3600],
  );
}

async function lagNotices(corpId: number) {
  const { rows } = await pool.query<{
    user_id: string;
    title: string;
    body: string;
    link: string;
    wecom_state: string;
  }>(
    `SELECT user_id::text, title, body, link, wecom_state FROM notifications
     WHERE corp_id = $1 AND kind = $2 ORDER BY id`,
    [corpId, CAPTURE_LAG_KIND],
  );
  return rows;
}

describe('capture-lag alert (wecom.capture-check)', () => {
  it("notifies the corp's system administrators once per incident, in-app and through WeCom", async () => {
    const corp = await createTestCorp(pool, 'lag');
    const other = await createTestCorp(pool, 'lag');
    for (const c of [corp, other])
      await new ConnectorRepository(pool).upsertConnector({
        corp_id: c.id,
        wecom_corp_id: c.id === corp.id ? WECOM_CORP : `wwother${c.id}`,
        sdk_mode: 'emulator',
        sdk_library: null,
        api_base_url: emu.baseUrl,
        proxy: null,
      });
    const [userid] = emu.corp(WECOM_CORP).gen.employees.map((e) => e.userid);
    await employees(pool, corp.id, [userid!]);
    const adminHere = await account(pool, {
      roles: [{ role: 'system_admin', corpId: corp.id }],
      link: { corpId: corp.id, userid: userid! },
    });
    const adminEverywhere = await account(pool, { roles: [{ role: 'system_admin', corpId: null }] });
    await account(pool, { roles: [{ role: 'system_admin', corpId: other.id }] });
    await account(pool, { roles: [{ role: 'system_admin', corpId: corp.id }], disabled: true });
    await account(pool, { roles: [{ role: 'auditor', corpId: corp.id }] });

    const notifications = new NotificationService(pool);
    const { jobs } = connectorJobs({
      pool,
      notifications,
      // Only the capture check runs here: it needs none of the ingest dependencies.
      archive: undefined as never,
      keyring: undefined as never,
      blobs: undefined as never,
      jobs: undefined as never,
    });
    const check = jobs.find((j) => j.name === 'wecom.capture-check')!;
    const run = () => check.handler({ logger } as unknown as JobContext);

    // Pulling fine: nothing to say.
    await lastPulled(corp.id, 1);
    await lastPulled(other.id, 1);
    expect(await run()).toMatchObject({ [corp.id]: 'ok', [other.id]: 'ok' });
    expect(await lagNotices(corp.id)).toEqual([]);

    // 30 hours without a successful pull: under two of WeCom's three days left.
    await lastPulled(corp.id, 30);
    expect(await run()).toMatchObject({ [corp.id]: 'warning', [other.id]: 'ok' });
    const first = await lagNotices(corp.id);
    expect(first.map((n) => n.user_id).sort()).toEqual([adminHere, adminEverywhere].sort());
    expect(first[0]).toMatchObject({ link: '/capture' });
    expect(first[0]!.title).toContain(corp.name);
    expect(first[0]!.body).toMatch(/leave WeCom's 3-day retention window in 42\.0 h/);
    expect(first[0]!.body).toContain('Last error: GetChatData from seq 42: 10001 network error');
    // Only the account linked to an employee gets the WeCom app message.
    expect(first.find((n) => n.user_id === adminHere)!.wecom_state).toBe('pending');
    expect(first.find((n) => n.user_id === adminEverywhere)!.wecom_state).toBe('in_app');
    expect(await lagNotices(other.id)).toEqual([]);

    // Later checks of the same incident stay quiet, even once it turns critical.
    expect(await run()).toMatchObject({ [corp.id]: 'warning' });
    await lastPulled(corp.id, 60);
    expect(await run()).toMatchObject({ [corp.id]: 'critical' });
    expect(await lagNotices(corp.id)).toHaveLength(2);

    // The WeCom leg: the delivery job sends the app message through message/send.
    const corpApp = emu.corp(WECOM_CORP);
    const client = new WecomApiClient({
      baseUrl: emu.baseUrl,
      corpId: WECOM_CORP,
      secrets: async (kind) => corpApp.secrets[kind],
    });
    const delivery = new WecomNotificationDelivery({
      pool,
      appFor: async (corpId) => (corpId === corp.id ? { client, agentid: corpApp.agentId } : undefined),
    });
    expect(await delivery.deliverDue()).toMatchObject({ delivered: 1, failed: 0 });
    const sent = emu.sentMessages(WECOM_CORP).filter((m) => m.touser.includes(userid!));
    expect(sent).toHaveLength(1);
    expect(JSON.stringify(sent[0]!.body)).toContain('WeCom capture is lagging');

    // Capture recovers: the incident closes. Lagging anew is a new incident, notified again.
    await lastPulled(corp.id, 0);
    expect(await run()).toMatchObject({ [corp.id]: 'ok' });
    expect(await lagNotices(corp.id)).toHaveLength(2);
    await lastPulled(corp.id, 50);
    expect(await run()).toMatchObject({ [corp.id]: 'critical' });
    expect(await lagNotices(corp.id)).toHaveLength(4);
    const { rows: incidents } = await pool.query<{ status: string; notified: number; open: boolean }>(
      `SELECT status, notified, closed_at IS NULL AS open FROM wecom_capture_incidents
       WHERE corp_id = $1 ORDER BY id`,
      [corp.id],
    );
    expect(incidents).toEqual([
      { status: 'warning', notified: 2, open: false },
      { status: 'critical', notified: 2, open: true },
    ]);
  });

  it('only logs without a notification service, as before', async () => {
    const corp = await createTestCorp(pool, 'lag');
    await new ConnectorRepository(pool).upsertConnector({
      corp_id: corp.id,
      wecom_corp_id: `wwquiet${corp.id}`,
      sdk_mode: 'emulator',
      sdk_library: null,
      api_base_url: emu.baseUrl,
      proxy: null,
    });
    await lastPulled(corp.id, 70);
    const warnings: unknown[] = [];
    const { jobs } = connectorJobs({
      pool,
      archive: undefined as never,
      keyring: undefined as never,
      blobs: undefined as never,
      jobs: undefined as never,
    });
    const check = jobs.find((j) => j.name === 'wecom.capture-check')!;
    const spy = {
      ...logger,
      error: (o: unknown) => warnings.push(o),
      warn: (o: unknown) => warnings.push(o),
    };
    expect(await check.handler({ logger: spy } as unknown as JobContext)).toMatchObject({
      [corp.id]: 'critical',
    });
    expect(warnings).toContainEqual(expect.objectContaining({ corpId: corp.id }));
    expect(await lagNotices(corp.id)).toEqual([]);
    const { rows } = await pool.query('SELECT 1 FROM wecom_capture_incidents WHERE corp_id = $1', [corp.id]);
    expect(rows).toEqual([]);
  });
});
