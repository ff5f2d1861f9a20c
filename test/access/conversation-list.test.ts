import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Corp } from '../../src/org/types.js';
import { chatMessage } from '../support/archive.js';
import { closeTestPool, createTestCorp, testPool } from '../support/db.js';
import { contentHarness, makeUser, signIn, type Client, type Harness } from './harness.js';

afterAll(closeTestPool);

// "My conversations" (employee self-service) through the content choke point: the conversation
// list is scoped in SQL like every other read (as in content-scope.test.ts), names are masked
// and pseudonymised as the viewer's rights say, and every listing is audited.

const T0 = new Date('2026-10-01T02:00:00Z');
const day = (n: number) => new Date(T0.getTime() + n * 86_400_000);

interface Listed {
  items: Array<{
    id: string;
    kind: string;
    lastMessageAt: string;
    counterparts: Array<{ id: string; kind: string; name: string | null }>;
  }>;
  next: string | null;
  watermark: string;
}

let h: Harness;
let corp: Corp;
let other: Corp;
const users: Record<string, { id: string; client: Client }> = {};
const conversationOf: Record<string, string> = {};

async function user(name: string, roles: Array<{ role: string; departmentId?: number }>, employee?: string) {
  const u = await makeUser(
    h,
    roles.map((r) => ({ role: r.role as 'employee', corpId: corp.id, departmentId: r.departmentId ?? null })),
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

async function list(name: string, query = '', slug = corp.slug) {
  return users[name]!.client.request({ url: `/api/v1/corps/${slug}/conversations${query}` });
}
async function listed(name: string, query = ''): Promise<Listed> {
  const r = await list(name, query);
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as Listed;
}
const idsOf = (page: Listed) => page.items.map((i) => i.id);

beforeAll(async () => {
  const built = await contentHarness();
  const { pool, org, archive } = built;
  h = built.h;
  corp = await createTestCorp(pool, 'convlist');
  other = await createTestCorp(pool, 'convlist-other');
  await org.upsertDepartments([
    { corpId: corp.id, id: 1, parentId: null, name: '公司' },
    { corpId: corp.id, id: 2, parentId: 1, name: '销售中心' },
    { corpId: corp.id, id: 3, parentId: 2, name: '销售一部' },
    { corpId: corp.id, id: 5, parentId: 1, name: '财务部' },
  ]);
  const employee = (userid: string, name: string, dept: number) => ({
    corpId: corp.id,
    userid,
    name,
    departmentIds: [dept],
    mainDepartment: dept,
    leaderOf: [],
    position: null,
    status: 1,
    sensitivePost: false,
  });
  await org.upsertEmployees([
    employee('alice', '李娜', 2),
    employee('bob', '王强', 3),
    employee('dave', '赵磊', 5),
  ]);
  // A customer whose WeCom name carries a phone number: masked like message text.
  await pool.query(
    `INSERT INTO external_contacts (corp_id, external_userid, name, kind) VALUES ($1, 'wmCust1', '陈先生 13812345678', 1)`,
    [corp.id],
  );
  await archive.storeBatch(corp.id, [
    chatMessage('A1', 'alice', 'wmCust1', '您好，资料已发送', day(0)),
    chatMessage('A2', 'alice', 'dave', '报销单请审批', day(4)),
    chatMessage('B1', 'bob', 'wmCust1', '回扣明天给你', day(1)),
    chatMessage('B2', 'bob', 'wmCust1', '周末一起吃饭', day(30)),
    chatMessage('D1', 'dave', 'wmCust2', '对账单已核对', day(3)),
  ]);
  await archive.storeBatch(other.id, [chatMessage('X1', 'alice', 'wmCust1', '别的公司', day(5))]);
  const { rows } = await pool.query<{ conversation_key: string; id: string }>(
    'SELECT conversation_key, id::text FROM conversations WHERE corp_id = $1',
    [corp.id],
  );
  for (const r of rows) conversationOf[r.conversation_key] = r.id;
  await pool.query(
    `INSERT INTO detection_findings (corp_id, conversation_id, category, window_start, window_end, severity, rule_ids, hit_count, msgids)
     VALUES ($1, $2, 'bribery', $3, $3, 'high', '{kickback}', 1, '{B1}')`,
    [corp.id, conversationOf['bob|wmCust1'], day(1)],
  );

  await user('alice', [{ role: 'employee' }], 'alice');
  await user('unlinked', [{ role: 'employee' }]);
  await user('salesManager', [{ role: 'department_manager', departmentId: 2 }], 'bob');
  await user('officer', [{ role: 'compliance_officer' }]);
});

describe('conversation list through the content choke point', () => {
  it("lists only an employee's own conversations, newest first, with counterparts as allowed", async () => {
    const page = await listed('alice', '?mine=true');
    expect(idsOf(page)).toEqual([conversationOf['alice|dave'], conversationOf['alice|wmCust1']]);
    expect(page.items[0]).toMatchObject({
      kind: 'internal',
      lastMessageAt: day(4).toISOString(),
      counterparts: [{ id: 'dave', kind: 'employee', name: '赵磊' }],
    });
    // The viewer is not their own counterpart; the customer's phone number is masked.
    expect(page.items[1]!.counterparts).toEqual([
      { id: 'wmCust1', kind: 'external', name: '陈先生 138****5678' },
    ]);
    expect(page.watermark).toContain('#');
    // Without `mine` the employee's scope is the same: their own conversations, nothing else.
    expect(idsOf(await listed('alice'))).toEqual(idsOf(page));
    // Nothing of another corp, where the account holds no role.
    expect((await list('alice', '', other.slug)).statusCode).toBe(403);
  });

  it('applies pseudonyms to counterparts: a pseudonym carries no name', async () => {
    await testPool().query(`UPDATE corps SET pseudonyms = 'external' WHERE id = $1`, [corp.id]);
    try {
      const page = await listed('alice', '?mine=true');
      const customer = page.items[1]!.counterparts[0]!;
      expect(customer).toMatchObject({ kind: 'external', name: null });
      expect(customer.id).toMatch(/^客户-[0-9A-Z]{8}$/);
      expect(page.items[0]!.counterparts[0]).toMatchObject({ id: 'dave', name: '赵磊' });
    } finally {
      await testPool().query(`UPDATE corps SET pseudonyms = 'none' WHERE id = $1`, [corp.id]);
    }
  });

  it('scopes every role in SQL; mine=true narrows to the conversations the viewer is in', async () => {
    // Department manager of the sales subtree (alice and bob), linked to bob.
    const all = await listed('salesManager');
    expect(idsOf(all).sort()).toEqual(
      [conversationOf['alice|dave'], conversationOf['alice|wmCust1'], conversationOf['bob|wmCust1']].sort(),
    );
    expect(idsOf(await listed('salesManager', '?mine=true'))).toEqual([conversationOf['bob|wmCust1']]);
    // Review context only: bob's conversation, whose latest visible message is B1, not B2.
    const officer = await listed('officer');
    expect(idsOf(officer)).toEqual([conversationOf['bob|wmCust1']]);
    expect(officer.items[0]!.lastMessageAt).toBe(day(1).toISOString());
    expect((await listed('officer', '?mine=true')).items).toEqual([]);
    // An employee account not linked to an employee has no scope at all.
    const unlinked = await list('unlinked', '?mine=true');
    expect(unlinked.statusCode).toBe(403);
    expect(unlinked.json().error.code).toBe('out_of_scope');
  });

  it('pages with a cursor and audits each listing with what it returned', async () => {
    const first = await listed('salesManager', '?limit=2');
    expect(first.items).toHaveLength(2);
    expect(first.next).not.toBeNull();
    const second = await listed('salesManager', `?limit=2&cursor=${encodeURIComponent(first.next!)}`);
    expect(second.next).toBeNull();
    expect([...idsOf(first), ...idsOf(second)]).toEqual(idsOf(await listed('salesManager')));
    expect((await list('salesManager', '?cursor=nonsense')).statusCode).toBe(400);

    const { rows } = await testPool().query(
      `SELECT resource_type, resource_ids, details->>'mine' AS mine FROM audit_events
       WHERE actor = $1 AND action = 'content.list' ORDER BY seq`,
      [`user:${users.alice!.id}`],
    );
    expect(rows[0]).toEqual({
      resource_type: 'conversation',
      resource_ids: [conversationOf['alice|dave'], conversationOf['alice|wmCust1']],
      mine: 'true',
    });
    const denied = await testPool().query(
      `SELECT result, details->>'reason' AS reason FROM audit_events WHERE actor = $1 AND action = 'content.view'`,
      [`user:${users.unlinked!.id}`],
    );
    expect(denied.rows).toEqual([{ result: 'denied', reason: 'no_scope' }]);
  });
});
