import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, makeUser, signIn, type Client, type Harness } from '../../test/access/harness.js';
import { closeTestPool, createTestCorp, testPool } from '../../test/support/db.js';
import { AuditLog } from '../audit/audit-log.js';
import { OrgRepository } from '../org/org.repository.js';
import type { Corp } from '../org/types.js';
import { privacyModule } from './module.js';
import { PrivacyRepository } from './privacy.repository.js';
import { noticeDigest } from './privacy.service.js';

afterAll(closeTestPool);

let h: Harness;
let corp: Corp;
let other: Corp;
let today: string;
const clients: Record<string, Client> = {};
const ids: Record<string, string> = {};

const nextDay = (day: string, n = 1) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

async function user(name: string, role: string, options: { employee?: string; corp?: Corp } = {}) {
  const at = options.corp ?? corp;
  const u = await makeUser(h, [{ role: role as 'employee', corpId: at.id }], { totp: role !== 'employee' });
  if (options.employee)
    await testPool().query('UPDATE users SET corp_id = $2, employee_userid = $3 WHERE id = $1', [
      u.id,
      at.id,
      options.employee,
    ]);
  ids[name] = u.id;
  clients[name] = await signIn(h, u);
}

const call = (name: string, method: 'GET' | 'POST', path: string, payload?: object, slug = corp.slug) =>
  clients[name]!.request({
    method,
    url: `/api/v1/corps/${slug}${path}`,
    headers: { 'user-agent': 'VigilTest/1.0 (privacy)' },
    ...(payload ? { payload } : {}),
  });

const NOTICE = {
  title: '员工企业微信会话存档告知书',
  body: '公司依法对员工使用企业微信与客户的业务沟通进行存档与合规检查。<script>window.x=1</script>',
};

beforeAll(async () => {
  const pool = testPool();
  h = await harness({}, privacyModule({ pool, audit: new AuditLog(pool) }).routes);
  corp = await createTestCorp(pool, 'privacy');
  other = await createTestCorp(pool, 'privacy-other');
  const org = new OrgRepository(pool);
  await org.upsertDepartments([{ corpId: corp.id, id: 1, parentId: null, name: '销售部' }]);
  const employee = (userid: string, name: string, status = 1) => ({
    corpId: corp.id,
    userid,
    name,
    departmentIds: [1],
    mainDepartment: 1,
    leaderOf: [],
    position: null,
    status,
    sensitivePost: false,
  });
  await org.upsertEmployees([
    employee('alice', '李娜'),
    employee('bob', '王强'),
    employee('carol', '张敏', 5), // left the company: not expected to acknowledge
  ]);
  today = (await new PrivacyRepository(pool).today(corp.id))!;
  await user('privacy', 'privacy_officer');
  await user('lead', 'compliance_lead');
  await user('officer', 'compliance_officer');
  await user('alice', 'employee', { employee: 'alice' });
  await user('unlinked', 'employee');
  await user('otherPrivacy', 'privacy_officer', { corp: other });
});

describe('monitoring notices (PIPL 告知)', () => {
  it('publishes versions that never change; a new version supersedes from its effective day', async () => {
    // Only privacy.manage publishes: not an employee, not a compliance officer, not another corp's officer.
    for (const name of ['alice', 'officer'])
      expect((await call(name, 'POST', '/privacy/notices', NOTICE)).statusCode, name).toBe(403);
    expect((await call('otherPrivacy', 'POST', '/privacy/notices', NOTICE)).statusCode).toBe(403);

    const first = await call('privacy', 'POST', '/privacy/notices', NOTICE);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ version: 1, effectiveOn: today, titleEn: null, bodyEn: null });
    expect(first.json().digest).toBe(
      noticeDigest({
        corpId: corp.id,
        version: 1,
        ...NOTICE,
        titleEn: null,
        bodyEn: null,
        effectiveOn: today,
      }),
    );
    const second = await call('lead', 'POST', '/privacy/notices', {
      ...NOTICE,
      body: `${NOTICE.body}（第二版：新增语音消息）`,
      titleEn: 'Notice of WeCom message archiving',
      bodyEn: 'Business conversations on WeCom are archived and screened for compliance.',
      effectiveOn: today,
    });
    expect(second.statusCode, second.body).toBe(201);
    expect(second.json()).toMatchObject({ version: 2, titleEn: 'Notice of WeCom message archiving' });

    // Published versions are immutable, even to SQL.
    await expect(
      testPool().query(`UPDATE privacy_notices SET body = 'changed' WHERE corp_id = $1 AND version = 1`, [
        corp.id,
      ]),
    ).rejects.toThrow(/append-only/);
    await expect(
      testPool().query('DELETE FROM privacy_notices WHERE corp_id = $1 AND version = 1', [corp.id]),
    ).rejects.toThrow(/append-only/);
    // No back-dating, and no English title without an English body.
    const backdated = await call('privacy', 'POST', '/privacy/notices', {
      ...NOTICE,
      effectiveOn: nextDay(today, -1),
    });
    expect(backdated.statusCode).toBe(422);
    expect(backdated.json().error.code).toBe('invalid_effective_date');
    expect((await call('privacy', 'POST', '/privacy/notices', { ...NOTICE, titleEn: 'x' })).statusCode).toBe(
      422,
    );
    expect((await call('privacy', 'POST', '/privacy/notices', { ...NOTICE, body: '   ' })).statusCode).toBe(
      400,
    );

    // A version effective tomorrow does not replace today's, and nothing can come before it.
    const future = await call('privacy', 'POST', '/privacy/notices', {
      ...NOTICE,
      effectiveOn: nextDay(today),
    });
    expect(future.json()).toMatchObject({ version: 3, effectiveOn: nextDay(today) });
    expect((await call('privacy', 'POST', '/privacy/notices', NOTICE)).json().error.code).toBe(
      'invalid_effective_date',
    );
    const listed = await call('privacy', 'GET', '/privacy/notices');
    expect(listed.json()).toMatchObject({ current: 2 });
    expect(listed.json().items.map((n: { version: number }) => n.version)).toEqual([3, 2, 1]);
    expect(
      (await call('otherPrivacy', 'GET', '/privacy/notices', undefined, other.slug)).json().items,
    ).toEqual([]);

    const audited = await testPool().query<{
      actor: string;
      resource_ids: string[];
      details: { digest: string };
    }>(
      `SELECT actor, resource_ids, details FROM audit_events
       WHERE corp_id = $1 AND action = 'privacy.notice_publish' ORDER BY seq`,
      [corp.id],
    );
    expect(audited.rows.map((r) => [r.actor, r.resource_ids[0]])).toEqual([
      [`user:${ids.privacy}`, '1'],
      [`user:${ids.lead}`, '2'],
      [`user:${ids.privacy}`, '3'],
    ]);
    expect(audited.rows[0]!.details.digest).toBe(first.json().digest);
  });

  it('records an acknowledgement of the current version once, as a consent record', async () => {
    const mine = await call('alice', 'GET', '/me/privacy-notice');
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json()).toMatchObject({
      notice: { version: 2 },
      acknowledgement: null,
      employeeUserid: 'alice',
    });
    expect(mine.json().notice.body).toContain('<script>'); // data, rendered as text by the console

    expect(
      (await call('alice', 'POST', '/me/privacy-notice/acknowledge', { version: 1 })).json().error.code,
    ).toBe('notice_not_current');
    expect(
      (await call('alice', 'POST', '/me/privacy-notice/acknowledge', { version: 3 })).json().error.code,
    ).toBe('notice_not_current');
    expect((await call('alice', 'POST', '/me/privacy-notice/acknowledge', { version: 99 })).statusCode).toBe(
      404,
    );
    const unlinked = await call('unlinked', 'POST', '/me/privacy-notice/acknowledge', { version: 2 });
    expect(unlinked.statusCode).toBe(409);
    expect(unlinked.json().error.code).toBe('not_an_employee');

    const acked = await call('alice', 'POST', '/me/privacy-notice/acknowledge', { version: 2 });
    expect(acked.statusCode, acked.body).toBe(201);
    expect(acked.json()).toMatchObject({
      created: true,
      acknowledgement: {
        version: 2,
        employeeUserid: 'alice',
        userId: ids.alice,
        ip: clients.alice!.ip,
        userAgent: 'VigilTest/1.0 (privacy)',
      },
    });
    const again = await call('alice', 'POST', '/me/privacy-notice/acknowledge', { version: 2 });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({
      created: false,
      acknowledgement: { id: acked.json().acknowledgement.id },
    });
    expect((await call('alice', 'GET', '/me/privacy-notice')).json().acknowledgement).toMatchObject({
      id: acked.json().acknowledgement.id,
    });

    const rows = await testPool().query(
      'SELECT employee_userid, version FROM privacy_acknowledgements WHERE corp_id = $1',
      [corp.id],
    );
    expect(rows.rows).toEqual([{ employee_userid: 'alice', version: 2 }]);
    const audited = await testPool().query(
      `SELECT actor, actor_ip, resource_ids, details->>'employee' AS employee FROM audit_events
       WHERE corp_id = $1 AND action = 'privacy.notice_acknowledge'`,
      [corp.id],
    );
    expect(audited.rows).toEqual([
      { actor: `user:${ids.alice}`, actor_ip: clients.alice!.ip, resource_ids: ['2'], employee: 'alice' },
    ]);
    // Consent records are append-only.
    await expect(
      testPool().query(`UPDATE privacy_acknowledgements SET ip = '1.2.3.4' WHERE corp_id = $1`, [corp.id]),
    ).rejects.toThrow(/append-only/);
    await expect(
      testPool().query('DELETE FROM privacy_acknowledgements WHERE corp_id = $1', [corp.id]),
    ).rejects.toThrow(/append-only/);
  });

  it('shows who among the active employees has not acknowledged the current version', async () => {
    for (const name of ['alice', 'officer'])
      expect((await call(name, 'GET', '/privacy/coverage')).statusCode, name).toBe(403);
    expect((await call('otherPrivacy', 'GET', '/privacy/coverage')).statusCode).toBe(403);

    const coverage = await call('lead', 'GET', '/privacy/coverage');
    expect(coverage.statusCode, coverage.body).toBe(200);
    expect(coverage.json()).toEqual({
      version: 2,
      effectiveOn: today,
      employees: 2,
      acknowledged: 1,
      pending: 1,
      missing: [{ userid: 'bob', name: '王强', department: '销售部', hasAccount: false }],
      truncated: false,
    });
    const records = await call('privacy', 'GET', '/privacy/notices/2/acknowledgements');
    expect(records.json()).toMatchObject({
      items: [{ employeeUserid: 'alice', version: 2 }],
      nextBefore: null,
    });
    expect((await call('privacy', 'GET', '/privacy/notices/7/acknowledgements')).statusCode).toBe(404);

    // Another corp without a notice: everyone is pending.
    const none = await call('otherPrivacy', 'GET', '/privacy/coverage', undefined, other.slug);
    expect(none.json()).toMatchObject({ version: null, employees: 0, pending: 0 });
    const nothing = await call('alice', 'GET', '/me/privacy-notice', undefined, corp.slug);
    expect(nothing.json().notice.version).toBe(2);
  });
});
