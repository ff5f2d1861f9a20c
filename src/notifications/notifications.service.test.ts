import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../test/support/db.js';
import { withTransaction, type Queryable } from '../platform/db/pool.js';
import { DELIVER_JOB, NotificationService } from './notifications.service.js';
import { account, employees } from './test-fixture.js';

afterAll(closeTestPool);

const service = () => new NotificationService(testPool());

async function notified(kind: string) {
  const { rows } = await testPool().query<{ user_id: string; corp_id: number | null; wecom_state: string }>(
    'SELECT user_id, corp_id, wecom_state FROM notifications WHERE kind = $1 ORDER BY user_id',
    [kind],
  );
  return rows;
}

/** Delivery jobs enqueued by the current transaction of `client`. */
async function jobsOfThisTransaction(client: Queryable): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM jobs WHERE name = $1 AND xmin::text = (txid_current() % 4294967296)::text`,
    [DELIVER_JOB],
  );
  return rows[0]!.n;
}

describe('NotificationService.notify', () => {
  it('resolves a role to its enabled holders in the corp or globally, plus named accounts', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'nt');
    const other = await createTestCorp(pool, 'nt');
    await employees(pool, corp.id, ['lead01']);
    const leadHere = await account(pool, {
      roles: [{ role: 'compliance_lead', corpId: corp.id }],
      link: { corpId: corp.id, userid: 'lead01' },
    });
    const leadEverywhere = await account(pool, { roles: [{ role: 'compliance_lead', corpId: null }] });
    const excluded = [
      await account(pool, { roles: [{ role: 'compliance_lead', corpId: other.id }] }),
      await account(pool, { roles: [{ role: 'compliance_lead', corpId: corp.id }], disabled: true }),
      await account(pool, { roles: [{ role: 'compliance_officer', corpId: corp.id }] }),
    ];
    const named = await account(pool);
    // Global leads created by other test files share the database: look at this test's accounts.
    const mine = new Set([leadHere, leadEverywhere, named, ...excluded]);
    const kind = `test.role_${corp.id}`;

    const result = await service().notify(pool, {
      corpId: corp.id,
      recipients: { role: { role: 'compliance_lead', corpId: corp.id }, userIds: [named, leadHere] },
      kind,
      title: 'Break-glass access opened by li.lei',
      body: 'Review it within 24 hours.',
      link: '/grants/7',
    });
    const expected = [leadHere, leadEverywhere, named].sort((a, b) => Number(a) - Number(b));
    expect(result.userIds.filter((id) => mine.has(id))).toEqual(expected);
    expect(result.notificationIds).toHaveLength(result.userIds.length);
    // Only the account linked to an employee is queued for WeCom; the others are in-app only.
    expect((await notified(kind)).filter((n) => mine.has(n.user_id))).toEqual(
      expected.map((id) => ({
        user_id: id,
        corp_id: corp.id,
        wecom_state: id === leadHere ? 'pending' : 'in_app',
      })),
    );
  });

  it("commits with the caller's transaction and leaves nothing when it rolls back", async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'nt');
    await employees(pool, corp.id, ['emp01']);
    const linked = await account(pool, { link: { corpId: corp.id, userid: 'emp01' } });
    const kind = `test.tx_${corp.id}`;
    const input = {
      corpId: corp.id,
      recipients: { userIds: [linked] },
      kind,
      title: 'SLA reminder',
      body: '',
    };

    await expect(
      withTransaction(pool, async (client) => {
        await service().notify(client, input);
        expect(await jobsOfThisTransaction(client)).toBe(1);
        throw new Error('the caller changed its mind');
      }),
    ).rejects.toThrow('the caller changed its mind');
    expect(await notified(kind)).toEqual([]);

    await withTransaction(pool, async (client) => {
      await service().notify(client, input);
      expect(await jobsOfThisTransaction(client)).toBe(1);
    });
    expect(await notified(kind)).toHaveLength(1);

    // In-app only recipients need no delivery job.
    const unlinked = await account(pool);
    await withTransaction(pool, async (client) => {
      await service().notify(client, { ...input, recipients: { userIds: [unlinked] } });
      expect(await jobsOfThisTransaction(client)).toBe(0);
    });
  });

  it('refuses missing recipients, bad kinds and links to other sites', async () => {
    const base = { corpId: null, recipients: { userIds: ['1'] }, kind: 'test.x', title: 't', body: '' };
    await expect(service().notify(testPool(), { ...base, recipients: {} })).rejects.toThrow(/no recipients/);
    await expect(service().notify(testPool(), { ...base, kind: 'Bad Kind' })).rejects.toThrow(/bad kind/);
    await expect(service().notify(testPool(), { ...base, recipients: { userIds: ['x'] } })).rejects.toThrow(
      RangeError,
    );
    for (const link of ['https://evil.example/', '//evil.example/x', '/\\evil.example'])
      await expect(service().notify(testPool(), { ...base, link }), link).rejects.toThrow(/link/);
  });
});
