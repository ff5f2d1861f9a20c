import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentAccessModule } from '../../src/access/content/index.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { SecretNames } from '../../src/crypto/keyring/types.js';
import { DetectionService, PolicyRegistry, PolicyService } from '../../src/detection/store/index.js';
import { NotificationService } from '../../src/notifications/notifications.service.js';
import { OrgRepository } from '../../src/org/org.repository.js';
import type { Corp } from '../../src/org/types.js';
import { configSchema } from '../../src/platform/config/schema.js';
import { createAlerts } from '../../src/review/alerts/create-alerts.js';
import { checkSla } from '../../src/review/alerts/sla.js';
import { verifyEvidencePackage } from '../../src/review/evidence/index.js';
import { reviewModule } from '../../src/review/module.js';
import { WecomApiClient } from '../../src/wecom/api/client.js';
import { IngestService } from '../../src/wecom/connector/ingest.service.js';
import { ContactsSyncService } from '../../src/wecom/contacts/contacts.service.js';
import { createEmulator, type Emulator } from '../../src/wecom/emulator/index.js';
import { HttpEmulatorFinanceSdk } from '../../src/wecom/sdk/http-emulator-sdk.js';
import { harness, makeUser, signIn, type Client, type Harness } from '../access/harness.js';
import { testArchive } from '../support/archive.js';
import { closeTestPool, createTestCorp, testPool } from '../support/db.js';

const KICKBACK = '这单给你三个点回扣，老规矩走私人账户';

let h: Harness;
let corp: Corp;
let emulator: Emulator;
let kickbackMsgid: string;
let salesperson: string;
const as: Record<string, { id: string; client: Client }> = {};

const api = (name: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
  as[name]!.client.request({
    method,
    url: `/api/v1/corps/${corp.slug}${url}`,
    ...(payload ? { payload } : {}),
  });

beforeAll(async () => {
  const pool = testPool();
  corp = await createTestCorp(pool, 'review');
  const wecomCorpId = `ww${corp.slug.replace(/-/g, '')}`;
  emulator = await createEmulator({ corps: [{ corpId: wecomCorpId, messageCount: 60, days: 2 }] });
  const emulated = emulator.corp(wecomCorpId);
  const { archive, keyring } = await testArchive(pool);
  await keyring.putSecret(
    SecretNames.wecomRsa(String(corp.id), 1),
    Buffer.from(emulated.generatedPrivateKey(1)!),
  );

  // The organisation from WeCom, then a salesperson promising a customer a kickback.
  const client = new WecomApiClient({
    baseUrl: emulator.baseUrl,
    corpId: wecomCorpId,
    secrets: async (kind) => emulated.secrets[kind],
  });
  await new ContactsSyncService(pool, client, corp.id).syncOrganisation();
  const customer = emulated.gen.customers[0]!;
  salesperson = customer.owner;
  kickbackMsgid = emulated.injectMessage({
    from: salesperson,
    tolist: [customer.external_userid],
    roomid: '',
    msgtype: 'text',
    text: { content: KICKBACK },
  }).msgid;

  const registry = new PolicyRegistry(pool);
  const policies = new PolicyService(pool, { onChange: (c) => registry.invalidate(c) });
  for (const policy of (await policies.installTemplates(corp.id)).installed)
    await policies.setEnabled(policy.id, true);
  const sdk = new HttpEmulatorFinanceSdk(emulator.baseUrl);
  await sdk.init(wecomCorpId, emulated.secrets.archive);
  await new IngestService(pool, archive, keyring, corp.id, sdk, {
    detection: new DetectionService(pool, registry),
  }).runOnce();

  const audit = new AuditLog(pool);
  const notifications = new NotificationService(pool);
  const config = configSchema.parse({});
  const content = contentAccessModule({
    pool,
    archive,
    keyring,
    audit,
    org: new OrgRepository(pool),
    config: config.access,
    notifications,
  });
  const review = reviewModule({
    pool,
    audit,
    content: content.content,
    org: new OrgRepository(pool),
    keyring,
    notifications,
    config: config.review,
    baseUrl: 'https://vigil.example.com',
  });
  h = await harness({}, [...content.routes, ...review.routes]);
  const user = async (name: string, role: string, employee?: string) => {
    const u = await makeUser(h, [{ role, corpId: corp.id }], { totp: role !== 'employee' });
    if (employee)
      await pool.query('UPDATE users SET corp_id = $2, employee_userid = $3 WHERE id = $1', [
        u.id,
        corp.id,
        employee,
      ]);
    as[name] = { id: u.id, client: await signIn(h, u) };
  };
  await user('reviewerA', 'compliance_officer');
  await user('reviewerB', 'compliance_officer');
  await user('lead', 'compliance_lead');
  await user('employee', 'employee', salesperson);
}, 120_000);

afterAll(async () => {
  await emulator?.stop();
  await closeTestPool();
});

describe('review workflow, end to end through the API', () => {
  it('goes from a kickback message to a decided appeal', { timeout: 120_000 }, async () => {
    // Finding → alert in the bribery queue.
    const queue = await api('lead', 'PUT', '/review/queues/bribery', {
      categories: ['bribery'],
      position: 10,
    });
    expect(queue.statusCode, queue.body).toBe(200);
    expect((await api('lead', 'POST', '/review/intake')).json().created).toBeGreaterThan(0);
    const listed = await api('reviewerA', 'GET', '/review/alerts?category=bribery&status=open');
    const alert = (listed.json().items as Array<{ id: string; msgids: string[]; queueId: string }>).find(
      (a) => a.msgids.includes(kickbackMsgid),
    );
    expect(alert, listed.body).toBeDefined();
    expect(alert!.queueId).toBe(queue.json().id);
    const detail = (await api('reviewerA', 'GET', `/review/alerts/${alert!.id}`)).json();
    expect(detail.hits.map((x: { msgid: string }) => x.msgid)).toContain(kickbackMsgid);
    const shown = detail.context.find((m: { msgid: string }) => m.msgid === kickbackMsgid);
    expect(JSON.parse(shown.content.raw).text.content).toBe(KICKBACK);

    // Claimed and confirmed by A; B's confirmation is required, and A cannot give it.
    expect((await api('reviewerA', 'POST', '/review/alerts/claim', { ids: [alert!.id] })).statusCode).toBe(
      200,
    );
    const first = await api('reviewerA', 'POST', '/review/alerts/decide', {
      ids: [alert!.id],
      disposition: 'violation_confirmed',
      comment: '明确承诺回扣',
    });
    expect(first.json().items[0]).toMatchObject({
      status: 'awaiting_second',
      proposedDisposition: 'violation_confirmed',
    });
    const self = await api('reviewerA', 'POST', '/review/alerts/decide', {
      ids: [alert!.id],
      disposition: 'violation_confirmed',
    });
    expect(self.statusCode).toBe(403);
    const second = await api('reviewerB', 'POST', '/review/alerts/decide', {
      ids: [alert!.id],
      disposition: 'violation_confirmed',
    });
    expect(second.json().items[0]).toMatchObject({ status: 'closed', disposition: 'violation_confirmed' });

    // A case with a legal hold, and its evidence exported under an approved export grant.
    const created = await api('reviewerA', 'POST', '/review/cases', {
      title: '回扣调查',
      alertIds: [alert!.id],
    });
    expect(created.statusCode, created.body).toBe(201);
    const caseId = created.json().id as string;
    await api('reviewerA', 'POST', `/review/cases/${caseId}/hold`, {
      hold: true,
      reason: 'litigation expected',
    });
    const noGrant = await api('reviewerA', 'POST', `/review/cases/${caseId}/evidence`, { grant: '999999' });
    expect(noGrant.statusCode).toBe(403);
    const requested = await api('reviewerA', 'POST', '/grants', {
      actions: ['export'],
      conversationIds: [detail.alert.conversationId],
      reason: 'evidence for the kickback case',
      durationMinutes: 30,
    });
    await api('lead', 'POST', `/grants/${requested.json().id}/approve`, {});
    const exported = await api('reviewerA', 'POST', `/review/cases/${caseId}/evidence`, {
      grant: requested.json().id,
    });
    expect(exported.statusCode, exported.body).toBe(200);
    const zip = exported.rawPayload;
    const verified = verifyEvidencePackage(zip);
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
    const tampered = Buffer.from(zip);
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    expect(verifyEvidencePackage(tampered).ok).toBe(false);
    const timeline = (await api('reviewerA', 'GET', `/review/cases/${caseId}`)).json().timeline;
    expect(timeline.map((e: { kind: string }) => e.kind)).toEqual([
      'created',
      'alert_added',
      'hold_set',
      'evidence_exported',
    ]);

    // The employee is notified, reads the notice and appeals; neither A nor B may decide it.
    const { rows: told } = await testPool().query(
      "SELECT 1 FROM notifications WHERE user_id = $1 AND kind = 'review.notice'",
      [as.employee!.id],
    );
    expect(told).toHaveLength(1);
    const notices = (await api('employee', 'GET', '/me/notices')).json().items;
    expect(notices).toHaveLength(1);
    expect(notices[0].body).toContain(`#${alert!.id}`);
    const appeal = await api('employee', 'POST', `/me/notices/${notices[0].id}/appeal`, {
      statement: '这是客户的玩笑，我没有承诺回扣',
    });
    expect(appeal.statusCode, appeal.body).toBe(201);
    for (const reviewer of ['reviewerA', 'reviewerB'])
      expect(
        (
          await api(reviewer, 'POST', `/review/appeals/${appeal.json().id}/decide`, {
            outcome: 'granted',
            note: 'x',
          })
        ).statusCode,
      ).toBe(403);
    const decided = await api('lead', 'POST', `/review/appeals/${appeal.json().id}/decide`, {
      outcome: 'dismissed',
      note: '聊天记录清楚表明承诺了回扣',
    });
    expect(decided.json()).toMatchObject({ status: 'dismissed' });

    const metrics = (await api('lead', 'GET', '/review/metrics?from=2000-01-01&to=2100-01-01')).json();
    expect(metrics.appeals).toMatchObject({ notices: 1, appeals: 1, appealRate: 1 });
    expect(metrics.dualReview).toEqual({ secondReviews: 1, disagreements: 0 });
    const rule = metrics.alertsByRule.find((r: { confirmed: number }) => r.confirmed > 0);
    expect(rule.precision).toBeGreaterThan(0);
  });

  it('reminds alerts near their SLA and escalates breached ones, visible in metrics', async () => {
    const pool = testPool();
    const { rows } = await pool.query<{ id: string }>(
      'SELECT id::text FROM conversations WHERE corp_id = $1 LIMIT 1',
      [corp.id],
    );
    const draft = {
      source: 'detection' as const,
      conversationId: rows[0]!.id,
      windowStart: new Date(),
      windowEnd: new Date(),
      category: 'sla_probe',
      severity: 'medium' as const,
      employeeUserids: [salesperson],
    };
    const [near, late] = await createAlerts(pool, corp.id, [draft, draft]);
    const hour = 3_600_000;
    const now = new Date();
    await pool.query('UPDATE review_alerts SET resolution_due = $2, first_action_due = $2 WHERE id = $1', [
      near!.id,
      new Date(now.getTime() + 2 * hour),
    ]);
    await pool.query('UPDATE review_alerts SET resolution_due = $2, first_action_due = $2 WHERE id = $1', [
      late!.id,
      new Date(now.getTime() - hour),
    ]);
    const result = await checkSla(pool, new NotificationService(pool), now);
    expect(result.reminded).toBeGreaterThanOrEqual(1);
    expect(result.escalated).toBeGreaterThanOrEqual(1);
    const state = await pool.query<{ id: string; reminded: boolean; breached: boolean }>(
      'SELECT id::text, reminded_at IS NOT NULL AS reminded, breached FROM review_alerts WHERE id = ANY($1::bigint[]) ORDER BY id',
      [[near!.id, late!.id]],
    );
    expect(state.rows).toEqual([
      { id: near!.id, reminded: true, breached: false },
      { id: late!.id, reminded: false, breached: true },
    ]);
    const { rows: sent } = await pool.query<{ kind: string; link: string }>(
      "SELECT kind, link FROM notifications WHERE kind IN ('review.sla_reminder', 'review.sla_breach') AND corp_id = $1",
      [corp.id],
    );
    expect(sent).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'review.sla_reminder', link: `/review/alerts/${near!.id}` }),
        expect.objectContaining({ kind: 'review.sla_breach', link: `/review/alerts/${late!.id}` }),
      ]),
    );
    expect((await checkSla(pool, undefined, now)).escalated).toBe(0); // once only
    const metrics = (await api('lead', 'GET', '/review/metrics?from=2000-01-01&to=2100-01-01')).json();
    expect(metrics.sla.breached).toBeGreaterThanOrEqual(1);
  });
});
