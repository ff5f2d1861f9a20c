import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Corp } from '../../src/org/types.js';
import { chatMessage } from '../support/archive.js';
import { closeTestPool, createTestCorp, testPool } from '../support/db.js';
import { contentHarness, makeUser, signIn, type Client, type Harness } from './harness.js';

afterAll(closeTestPool);

interface ExportedLine {
  msgid: string;
  from: string;
  tolist: string[];
  _vigil: { watermark: string; grant: string };
}

const T0 = new Date('2026-10-01T02:00:00Z');
const day = (n: number) => new Date(T0.getTime() + n * 86_400_000);
const PHONE = '13812345678';

let h: Harness;
let corp: Corp;
let other: Corp;
const users: Record<string, { id: string; client: Client }> = {};
const conversationOf: Record<string, string> = {};

async function user(name: string, roles: Array<{ role: string; departmentId?: number }>, employee?: string) {
  const u = await makeUser(
    h,
    roles.map((r) => ({ role: r.role, corpId: corp.id, departmentId: r.departmentId ?? null })),
    { totp: roles.some((r) => r.role !== 'employee') },
  );
  if (employee)
    await testPool().query('UPDATE users SET corp_id = $2, employee_userid = $3 WHERE id = $1', [
      u.id,
      corp.id,
      employee,
    ]);
  users[name] = { id: u.id, client: await signIn(h, u) };
}

const as = (name: string) => users[name]!.client;

async function search(name: string, q = '', corpSlug = corp.slug) {
  const r = await as(name).request({
    url: `/api/v1/corps/${corpSlug}/messages/search?q=${encodeURIComponent(q)}&limit=200`,
  });
  return r;
}
async function visible(name: string, q = ''): Promise<string[]> {
  const r = await search(name, q);
  expect(r.statusCode, r.body).toBe(200);
  return (r.json().items as Array<{ msgid: string }>).map((i) => i.msgid).sort();
}

async function post(name: string, url: string, payload: unknown) {
  return as(name).request({
    method: 'POST',
    url: `/api/v1/corps/${corp.slug}${url}`,
    payload: payload as object,
  });
}

async function grant(requester: string, approver: string, body: Record<string, unknown>): Promise<string> {
  const requested = await post(requester, '/grants', {
    reason: 'investigating a kickback alert',
    durationMinutes: 60,
    ...body,
  });
  expect(requested.statusCode, requested.body).toBe(201);
  const id = requested.json().id as string;
  const approved = await post(approver, `/grants/${id}/approve`, { note: 'ok' });
  expect(approved.statusCode, approved.body).toBe(200);
  return id;
}

async function train(name: string, expiresAt: Date | null) {
  await testPool().query(
    `INSERT INTO training_completions (corp_id, user_id, course, completed_at, expires_at, source, imported_by)
     VALUES ($1, $2, 'compliance-basics', now() - interval '1 day', $3, 'api', 'test')`,
    [corp.id, users[name]!.id, expiresAt],
  );
}

async function lastAudit(actorName: string, action: string) {
  const { rows } = await testPool().query(
    'SELECT result, resource_ids, reason, details FROM audit_events WHERE actor = $1 AND action = $2 ORDER BY seq DESC LIMIT 1',
    [`user:${users[actorName]!.id}`, action],
  );
  return rows[0];
}

beforeAll(async () => {
  const built = await contentHarness();
  const { pool, org, archive } = built;
  h = built.h;
  corp = await createTestCorp(pool, 'scope');
  other = await createTestCorp(pool, 'scope-other');
  await org.upsertDepartments([
    { corpId: corp.id, id: 1, parentId: null, name: '公司' },
    { corpId: corp.id, id: 2, parentId: 1, name: '销售中心' },
    { corpId: corp.id, id: 3, parentId: 2, name: '销售一部' },
    { corpId: corp.id, id: 4, parentId: 1, name: '人力资源部', categories: ['hr'] },
    { corpId: corp.id, id: 5, parentId: 1, name: '财务部' },
  ]);
  const employee = (userid: string, dept: number) => ({
    corpId: corp.id,
    userid,
    name: userid,
    departmentIds: [dept],
    mainDepartment: dept,
    leaderOf: [],
    position: null,
    status: 1,
    sensitivePost: false,
  });
  await org.upsertEmployees([
    employee('alice', 2),
    employee('bob', 3),
    employee('carol', 4),
    employee('dave', 5),
  ]);
  await archive.storeBatch(corp.id, [
    chatMessage('A1', 'alice', 'wmCust1', `客户电话 ${PHONE}，回扣两个点`, day(0)),
    chatMessage('B1', 'bob', 'wmCust1', '回扣明天给你', day(1)),
    chatMessage('B2', 'bob', 'wmCust1', '周末一起吃饭', day(30)),
    chatMessage('C1', 'carol', 'dave', '员工投诉回扣处理意见', day(2)),
    chatMessage('D1', 'dave', 'wmCust1', '对账时回扣另算', day(3)),
  ]);
  await archive.storeBatch(other.id, [chatMessage('X1', 'alice', 'wmCust1', '回扣 别的公司', day(0))]);
  const { rows } = await pool.query<{ conversation_key: string; id: string }>(
    'SELECT conversation_key, id::text FROM conversations WHERE corp_id = $1',
    [corp.id],
  );
  for (const r of rows) conversationOf[r.conversation_key.split('|').sort().join('|')] = r.id;
  // A finding on Bob's conversation: reviewers see its context (±72 h), not the whole history.
  await pool.query(
    `INSERT INTO detection_findings (corp_id, conversation_id, category, window_start, window_end, severity, rule_ids, hit_count, msgids)
     VALUES ($1, $2, 'bribery', $3, $3, 'high', '{kickback}', 1, '{B1}')`,
    [corp.id, conversationOf['bob|wmCust1'], day(1)],
  );

  await user('employee', [{ role: 'employee' }], 'alice');
  await user('salesManager', [{ role: 'department_manager', departmentId: 2 }]);
  await user('hrManager', [{ role: 'department_manager', departmentId: 4 }]);
  await user('officer', [{ role: 'compliance_officer' }]);
  await user('lead1', [{ role: 'compliance_lead' }]);
  await user('lead2', [{ role: 'compliance_lead' }]);
});

describe('the content choke point', () => {
  it('scopes each role in SQL: own, department subtree, review context; nothing of another corp', async () => {
    expect(await visible('employee')).toEqual(['A1']);
    expect(await visible('salesManager')).toEqual(['A1', 'B1', 'B2']);
    // Bob's finding opens 72 h around it: B1, not B2 a month later, nor any other conversation.
    expect(await visible('officer')).toEqual(['B1']);
    expect(await visible('lead1')).toEqual(['B1']);
    // HR conversations carry the sensitive category 'hr': even their own manager needs a grant.
    expect(await visible('hrManager')).toEqual([]);
    expect((await search('employee', '', other.slug)).statusCode).toBe(403);
  });

  it('denies a read outside scope and audits it in the same transaction as allowed reads', async () => {
    const read = await as('employee').request({ url: `/api/v1/corps/${corp.slug}/messages/C1` });
    expect(read.statusCode).toBe(403);
    expect(read.json().error.code).toBe('out_of_scope');
    expect(await lastAudit('employee', 'content.view')).toMatchObject({
      result: 'denied',
      resource_ids: ['C1'],
    });
    const own = await as('employee').request({ url: `/api/v1/corps/${corp.slug}/messages/A1` });
    expect(own.statusCode).toBe(200);
    expect(own.json().watermark).toMatch(/#\d+$/);
    await visible('employee', '回扣');
    expect(await lastAudit('employee', 'content.search')).toMatchObject({
      result: 'allowed',
      resource_ids: ['A1'],
      details: expect.objectContaining({ query: '回扣' }),
    });
  });

  it('masks personal data in results, highlights and single views unless the viewer may unmask', async () => {
    const masked = (await search('employee', '回扣')).json().items[0];
    expect(masked.content.raw).toContain('138****5678');
    expect(masked.content.raw).not.toContain(PHONE);
    expect(masked.highlight.snippet).toContain('138****5678');
    expect(
      masked.highlight.snippet.slice(masked.highlight.ranges[0].start, masked.highlight.ranges[0].end),
    ).toBe('回扣');
    const single = (await as('employee').request({ url: `/api/v1/corps/${corp.slug}/messages/A1` })).json();
    expect(single.message.content.raw).not.toContain(PHONE);
  });

  it('opens global search only under a grant approved by another lead, until it is revoked or expires', async () => {
    const own = await post('lead1', '/grants', {
      actions: ['search'],
      reason: 'quarterly kickback sweep',
      durationMinutes: 60,
    });
    expect(own.statusCode).toBe(201);
    const self = await post('lead1', `/grants/${own.json().id}/approve`, {});
    expect(self.statusCode).toBe(403);
    expect(await lastAudit('lead1', 'grant.decide')).toMatchObject({ result: 'denied' });
    expect(await visible('lead1')).toEqual(['B1']); // still pending
    expect((await post('officer', `/grants/${own.json().id}/approve`, {})).statusCode).toBe(403); // not a lead
    expect((await post('lead2', `/grants/${own.json().id}/approve`, {})).statusCode).toBe(200);
    expect(await visible('lead1')).toEqual(['A1', 'B1', 'B2', 'D1']); // HR still needs its category
    // Leads hold content.unmask: the phone number is shown.
    const a1 = (await search('lead1', '电话')).json().items[0];
    expect(a1.content.raw).toContain(PHONE);
    expect(await lastAudit('lead1', 'content.search')).toMatchObject({
      reason: expect.stringContaining('quarterly kickback sweep'),
    });
    expect(
      (await post('lead2', `/grants/${own.json().id}/revoke`, { reason: 'sweep done' })).statusCode,
    ).toBe(200);
    expect(await visible('lead1')).toEqual(['B1']);

    const officerGrant = await grant('officer', 'lead1', { actions: ['search'], departmentIds: [2] });
    expect(await visible('officer')).toEqual(['A1', 'B1', 'B2']); // the grant's departments only
    await testPool().query(
      "UPDATE access_grants SET valid_until = now() - interval '1 second' WHERE id = $1",
      [officerGrant],
    );
    expect(await visible('officer')).toEqual(['B1']);
    const listed = await as('officer').request({ url: `/api/v1/corps/${corp.slug}/grants?status=expired` });
    expect(listed.json().items.map((g: { id: string }) => g.id)).toContain(officerGrant);
  });

  it('opens a sensitive category only with its grant and current training', async () => {
    const category = await post('lead1', '/category-grants', {
      userId: users.hrManager!.id,
      category: 'hr',
      reason: 'HR manager reviews HR complaints',
    });
    expect(category.statusCode, category.body).toBe(201);
    expect(await visible('hrManager')).toEqual([]); // no training on record
    await train('hrManager', new Date(Date.now() - 3_600_000)); // expired an hour ago
    expect(await visible('hrManager')).toEqual([]);
    await train('hrManager', new Date(Date.now() + 86_400_000 * 365));
    expect(await visible('hrManager')).toEqual(['C1']);
    // Nobody grants a category to themselves.
    expect(
      (
        await post('lead1', '/category-grants', {
          userId: users.lead1!.id,
          category: 'hr',
          reason: 'just because I can',
        })
      ).statusCode,
    ).toBe(403);
  });

  it('exports only under an export grant, masked, pseudonymised and watermarked', async () => {
    expect(
      (await as('officer').request({ url: `/api/v1/corps/${corp.slug}/exports/messages?grant=1` }))
        .statusCode,
    ).toBe(403);
    const id = await grant('officer', 'lead2', {
      actions: ['export'],
      employeeUserids: ['alice', 'carol'],
      categories: ['hr'],
    });
    await testPool().query("UPDATE corps SET pseudonyms = 'external' WHERE id = $1", [corp.id]);
    try {
      let lines = await exported(id);
      expect(lines.map((l) => l.msgid)).toEqual(['A1']); // carol's HR conversation: no training yet
      await train('officer', null);
      lines = await exported(id);
      expect(lines.map((l) => l.msgid)).toEqual(['A1', 'C1']);
      const a1 = lines[0]!;
      expect(JSON.stringify(a1)).not.toContain(PHONE);
      expect(a1.tolist[0]).toMatch(/^客户-[0-9A-Z]{8}$/);
      expect(a1.from).toBe('alice');
      expect(a1._vigil.watermark).toContain(`#`);
      expect(await lastAudit('officer', 'content.export')).toMatchObject({
        result: 'allowed',
        resource_ids: [id],
      });
      // An expired grant exports nothing, and the refusal is audited.
      await testPool().query(
        "UPDATE access_grants SET valid_until = now() - interval '1 second' WHERE id = $1",
        [id],
      );
      const expired = await as('officer').request({
        url: `/api/v1/corps/${corp.slug}/exports/messages?grant=${id}`,
      });
      expect(expired.statusCode).toBe(403);
      expect(await lastAudit('officer', 'content.export')).toMatchObject({
        result: 'denied',
        resource_ids: [id],
      });
    } finally {
      await testPool().query("UPDATE corps SET pseudonyms = 'none' WHERE id = $1", [corp.id]);
    }
  });

  it('reveals a pseudonym only under a reveal grant covering the conversation', async () => {
    await testPool().query("UPDATE corps SET pseudonyms = 'external' WHERE id = $1", [corp.id]);
    try {
      const conversation = conversationOf['alice|wmCust1']!;
      const item = (await search('employee', '回扣')).json().items[0];
      const pseudonym = JSON.parse(item.content.raw).tolist[0] as string;
      expect(pseudonym).toMatch(/^客户-/);
      const reveal = () => post('officer', `/conversations/${conversation}/reveal`, { pseudonym });
      expect((await reveal()).statusCode).toBe(403);
      await grant('officer', 'lead1', { actions: ['reveal'], conversationIds: [conversation] });
      const revealed = await reveal();
      expect(revealed.statusCode, revealed.body).toBe(200);
      expect(revealed.json().id).toBe('wmCust1');
      expect(await lastAudit('officer', 'content.reveal')).toMatchObject({
        result: 'allowed',
        details: expect.objectContaining({ pseudonym }),
      });
    } finally {
      await testPool().query("UPDATE corps SET pseudonyms = 'none' WHERE id = $1", [corp.id]);
    }
  });

  it('opens break-glass access at once and has another lead review it afterwards', async () => {
    const conversation = conversationOf['dave|wmCust1']!;
    const opened = await post('officer', '/grants/break-glass', {
      actions: ['view'],
      conversationIds: [conversation],
      reason: 'customer threatens to leak the contract now',
      durationMinutes: 30,
    });
    expect(opened.statusCode, opened.body).toBe(201);
    expect(opened.json()).toMatchObject({ status: 'active', breakGlass: true });
    const read = await as('officer').request({
      url: `/api/v1/corps/${corp.slug}/conversations/${conversation}/messages`,
    });
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().items.map((m: { msgid: string }) => m.msgid)).toEqual(['D1']);
    const id = opened.json().id;
    const { rows: told } = await testPool().query(
      "SELECT user_id::text FROM notifications WHERE kind = 'grant.break_glass' AND link = $1 ORDER BY user_id",
      [`/grants/${id}`],
    );
    // Every compliance lead of the corp is told (global leads of other tests' corps too).
    expect(told.map((r) => r.user_id)).toEqual(expect.arrayContaining([users.lead1!.id, users.lead2!.id]));
    expect(told.map((r) => r.user_id)).not.toContain(users.officer!.id);
    expect((await post('officer', `/grants/${id}/review`, { outcome: 'justified' })).statusCode).toBe(403);
    const pending = await as('lead1').request({
      url: `/api/v1/corps/${corp.slug}/grants?unreviewedBreakGlass=true`,
    });
    expect(pending.json().items.map((g: { id: string }) => g.id)).toContain(id);
    expect(
      (await post('lead1', `/grants/${id}/review`, { outcome: 'justified', note: 'real threat' })).statusCode,
    ).toBe(200);
    expect((await post('lead2', `/grants/${id}/review`, { outcome: 'justified' })).statusCode).toBe(409);
  });
});

async function exported(grantId: string): Promise<Array<ExportedLine>> {
  const r = await as('officer').request({
    url: `/api/v1/corps/${corp.slug}/exports/messages?grant=${grantId}`,
  });
  expect(r.statusCode, r.body).toBe(200);
  return r.body
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ExportedLine)
    .sort((a, b) => String(a.msgid).localeCompare(String(b.msgid)));
}
