import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCorp, scratchDatabase } from '../../test/support/db.js';
import { migrate } from '../platform/db/migrations.js';
import { createPool, type Pool } from '../platform/db/pool.js';
import type { JobContext } from '../platform/jobs/types.js';
import type { Keyring } from '../crypto/keyring/types.js';
import { WecomApiClient } from '../wecom/api/client.js';
import { createEmulator, type Emulator } from '../wecom/emulator/index.js';
import { notificationJobs } from './notifications.jobs.js';
import { NotificationService } from './notifications.service.js';
import { account, employees } from './test-fixture.js';
import {
  connectorWecomApps,
  retryDelaySeconds,
  WecomNotificationDelivery,
  wecomText,
  type WecomAppFor,
} from './wecom-delivery.js';

// Delivery claims every due notification of the database: a database of its own keeps other
// suites' notifications out of these counts.
let db: { url: string; drop(): Promise<void> };
let pool: Pool;
let emu: Emulator;
const WECOM_CORP = 'wwnotify00000001';

beforeAll(async () => {
  db = await scratchDatabase();
  pool = createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 4 });
  await migrate(pool);
  emu = await createEmulator({ corps: [{ corpId: WECOM_CORP, messageCount: 12, seed: 'notifications' }] });
});

afterAll(async () => {
  await emu?.stop();
  await pool?.end();
  await db?.drop();
});

/** The emulator's app through the real API client, with a fetch that drops chosen message/send calls. */
function emulatorApp(vigilCorpId: number, dropSends: { count: number }): WecomAppFor {
  const corp = emu.corp(WECOM_CORP);
  const client = new WecomApiClient({
    baseUrl: emu.baseUrl,
    corpId: WECOM_CORP,
    secrets: async (kind) => corp.secrets[kind],
    fetch: async (input, init) => {
      if (String(input).includes('/message/send') && dropSends.count > 0) {
        dropSends.count--;
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      }
      return fetch(input, init);
    },
  });
  return async (corpId) => (corpId === vigilCorpId ? { client, agentid: corp.agentId } : undefined);
}

async function state(id: string) {
  const { rows } = await pool.query<{
    wecom_state: string;
    attempts: number;
    wecom_error: string | null;
    delivered: boolean;
    retry_in: number | null;
  }>(
    `SELECT wecom_state, attempts, wecom_error, delivered_wecom_at IS NOT NULL AS delivered,
       round(extract(epoch FROM next_attempt_at - now()))::int AS retry_in
     FROM notifications WHERE id = $1`,
    [id],
  );
  return rows[0]!;
}

const jobContext = () =>
  ({ logger: pino({ level: 'silent' }), reportProgress: async () => undefined }) as unknown as JobContext;

describe('WeCom delivery of notifications', () => {
  it('sends through message/send, retries a failed send with backoff, and never sends to unlinked accounts', async () => {
    const corp = await createTestCorp(pool, 'nt');
    const [first, second] = emu.corp(WECOM_CORP).gen.employees.map((e) => e.userid);
    await employees(pool, corp.id, [first!, second!, 'left.long.ago']);
    const a = await account(pool, { link: { corpId: corp.id, userid: first! } });
    const b = await account(pool, { link: { corpId: corp.id, userid: second! } });
    const unlinked = await account(pool);
    const gone = await account(pool, { link: { corpId: corp.id, userid: 'left.long.ago' } });
    const dropSends = { count: 1 };
    const delivery = new WecomNotificationDelivery({
      pool,
      appFor: emulatorApp(corp.id, dropSends),
      publicUrl: 'https://vigil.example.com/',
    });
    const sentBefore = emu.sentMessages(WECOM_CORP).length;

    const notified = await new NotificationService(pool).notify(pool, {
      corpId: corp.id,
      recipients: { userIds: [a, b, unlinked, gone] },
      kind: 'review.sla_reminder',
      title: '3 alerts wait for review',
      body: 'The oldest is 20 hours old.',
      link: '/review/queue',
    });
    const [idA, idB, idUnlinked, idGone] = notified.notificationIds;

    // Through the job, as the runner calls it.
    const run = notificationJobs(delivery).jobs[0]!;
    expect(await run.handler(jobContext())).toEqual({ delivered: 1, retrying: 1, failed: 1, inAppOnly: 0 });
    expect(await state(idA!)).toMatchObject({
      wecom_state: 'pending',
      attempts: 1,
      wecom_error: 'WeCom /cgi-bin/message/send: -1 network error ECONNRESET',
      delivered: false,
    });
    expect((await state(idA!)).retry_in).toBeGreaterThanOrEqual(retryDelaySeconds(1) - 2);
    expect(await state(idB!)).toMatchObject({ wecom_state: 'delivered', attempts: 1, wecom_error: null });
    // WeCom does not know the employee: a definite refusal, not retried.
    expect(await state(idGone!)).toMatchObject({
      wecom_state: 'failed',
      attempts: 1,
      wecom_error: expect.stringMatching(/refused recipient left\.long\.ago/),
    });
    expect(await state(idUnlinked!)).toMatchObject({ wecom_state: 'in_app', attempts: 0 });

    // Not due yet: nothing happens.
    expect(await delivery.deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 0, inAppOnly: 0 });
    // The backoff has passed.
    await pool.query('UPDATE notifications SET next_attempt_at = now() WHERE id = $1', [idA]);
    expect(await delivery.deliverDue()).toEqual({ delivered: 1, retrying: 0, failed: 0, inAppOnly: 0 });
    expect(await state(idA!)).toMatchObject({ wecom_state: 'delivered', attempts: 2, wecom_error: null });

    const sent = emu.sentMessages(WECOM_CORP).slice(sentBefore);
    expect(sent.map((m) => m.touser)).toEqual([[second], ['left.long.ago'], [first]]);
    expect(sent[2]).toMatchObject({
      msgtype: 'text',
      agentid: emu.corp(WECOM_CORP).agentId,
      body: {
        text: {
          content:
            '3 alerts wait for review\nThe oldest is 20 hours old.\nhttps://vigil.example.com/review/queue',
        },
      },
    });
  });

  it('gives up after the last attempt; a corp without an app gets in-app notifications only', async () => {
    const corp = await createTestCorp(pool, 'nt');
    const userid = emu.corp(WECOM_CORP).gen.employees[2]!.userid;
    await employees(pool, corp.id, [userid]);
    const user = await account(pool, { link: { corpId: corp.id, userid } });
    const delivery = new WecomNotificationDelivery({
      pool,
      appFor: emulatorApp(corp.id, { count: 10 }),
      maxAttempts: 2,
    });
    const { notificationIds } = await new NotificationService(pool).notify(pool, {
      corpId: corp.id,
      recipients: { userIds: [user] },
      kind: 'test.retry',
      title: 'x',
      body: '',
    });
    expect((await delivery.deliverDue()).retrying).toBe(1);
    await pool.query('UPDATE notifications SET next_attempt_at = now() WHERE id = $1', [notificationIds[0]]);
    expect((await delivery.deliverDue()).failed).toBe(1);
    expect(await state(notificationIds[0]!)).toMatchObject({
      wecom_state: 'failed',
      attempts: 2,
      retry_in: null,
    });

    // No app for the corp: in-app only, with the reason.
    const noApp = new WecomNotificationDelivery({ pool, appFor: async () => undefined });
    const again = await new NotificationService(pool).notify(pool, {
      corpId: corp.id,
      recipients: { userIds: [user] },
      kind: 'test.no_app',
      title: 'x',
      body: '',
    });
    expect(await noApp.deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 0, inAppOnly: 1 });
    expect(await state(again.notificationIds[0]!)).toMatchObject({
      wecom_state: 'in_app',
      attempts: 0,
      wecom_error: `corp ${corp.id} has no WeCom app (access.wecom.agents) or connector`,
    });

    // The account lost its employee link before delivery: nothing goes to WeCom.
    const third = await new NotificationService(pool).notify(pool, {
      corpId: corp.id,
      recipients: { userIds: [user] },
      kind: 'test.unlinked_later',
      title: 'x',
      body: '',
    });
    await pool.query('UPDATE users SET corp_id = NULL, employee_userid = NULL WHERE id = $1', [user]);
    const sentBefore = emu.sentMessages(WECOM_CORP).length;
    expect(await delivery.deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 0, inAppOnly: 1 });
    expect(await state(third.notificationIds[0]!)).toMatchObject({
      wecom_state: 'in_app',
      wecom_error: 'account no longer linked to an employee',
    });
    expect(emu.sentMessages(WECOM_CORP)).toHaveLength(sentBefore);
  });

  it('finds the app by default from the connector, the keyring secret and the AgentId of the corp slug', async () => {
    const corp = await createTestCorp(pool, 'nt');
    const emulated = emu.corp(WECOM_CORP);
    await pool.query(
      `INSERT INTO wecom_connectors (corp_id, wecom_corp_id, sdk_mode, api_base_url) VALUES ($1, $2, 'emulator', $3)`,
      [corp.id, WECOM_CORP, emu.baseUrl],
    );
    const secrets = new Map([[`wecom/secret/${corp.id}/app`, Buffer.from(emulated.secrets.app)]]);
    const keyring = { getSecret: async (name: string) => secrets.get(name) } as unknown as Keyring;

    expect(await connectorWecomApps(pool, keyring, {})(corp.id)).toBeUndefined();
    const appFor = connectorWecomApps(pool, keyring, { [corp.slug]: emulated.agentId });
    expect((await appFor(corp.id))?.agentid).toBe(emulated.agentId);
    expect(await appFor(corp.id + 1000)).toBeUndefined();

    const userid = emulated.gen.employees[3]!.userid;
    await employees(pool, corp.id, [userid]);
    const user = await account(pool, { link: { corpId: corp.id, userid } });
    await new NotificationService(pool).notify(pool, {
      corpId: corp.id,
      recipients: { userIds: [user] },
      kind: 'test.default_app',
      title: 'Case 9 assigned to you',
      body: '',
    });
    expect(await new WecomNotificationDelivery({ pool, appFor }).deliverDue()).toMatchObject({
      delivered: 1,
    });
    expect(emu.sentMessages(WECOM_CORP).at(-1)).toMatchObject({
      touser: [userid],
      body: { text: { content: 'Case 9 assigned to you' } },
    });
  });

  it('formats WeCom text within the size limit, links only with a known address', () => {
    expect(wecomText({ title: 'T', body: 'B', link: '/x' })).toBe('T\nB');
    const long = wecomText({ title: '标题', body: '很'.repeat(1000), link: '/cases/1' }, 'https://v.example');
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(2000);
    expect(long.endsWith('…\nhttps://v.example/cases/1')).toBe(true);
  });
});
