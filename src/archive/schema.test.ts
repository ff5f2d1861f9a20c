import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../test/support/db.js';

afterAll(closeTestPool);

describe('archive schema', () => {
  it('stores WeCom seq as an exact unsigned 64-bit value', async () => {
    const corp = await createTestCorp();
    const pool = testPool();
    const max = (2n ** 64n - 1n).toString();
    const { rows: conv } = await pool.query(
      "INSERT INTO conversations (corp_id, kind, conversation_key) VALUES ($1, 'internal', 'a|b') RETURNING id",
      [corp.id],
    );
    await pool.query(
      `INSERT INTO messages (corp_id, msg_time, msgid, seq, conversation_id, msgtype) VALUES ($1, now(), 'm1', $2, $3, 'text')`,
      [corp.id, max, conv[0].id],
    );
    const { rows } = await pool.query('SELECT seq FROM messages WHERE corp_id = $1', [corp.id]);
    expect(rows[0].seq).toBe('18446744073709551615');
    await expect(
      pool.query(
        `INSERT INTO messages (corp_id, msg_time, msgid, seq, conversation_id, msgtype) VALUES ($1, now(), 'm2', $2, $3, 'text')`,
        [corp.id, (2n ** 64n).toString() + '0', conv[0].id],
      ),
    ).rejects.toThrow(/numeric field overflow/);
  });

  it('creates monthly partitions on demand, once, even concurrently', async () => {
    const pool = testPool();
    const when = '2019-03-15T08:00:00Z';
    const names = await Promise.all(
      [1, 2, 3, 4].map(() =>
        pool.query<{ p: string }>('SELECT vigil_ensure_message_partition($1) AS p', [when]),
      ),
    );
    expect(new Set(names.map((r) => r.rows[0]!.p))).toEqual(new Set(['messages_2019_03']));
    const { rows } = await pool.query(
      "SELECT pg_get_expr(relpartbound, oid) AS bound FROM pg_class WHERE relname = 'messages_2019_03'",
    );
    expect(rows[0].bound).toBe("FOR VALUES FROM ('2019-03-01 00:00:00+00') TO ('2019-04-01 00:00:00+00')");
  });

  it('refuses a message whose month has no partition rather than misfiling it', async () => {
    const corp = await createTestCorp();
    await expect(
      testPool().query(
        `INSERT INTO messages (corp_id, msg_time, msgid, conversation_id, msgtype) VALUES ($1, '1999-01-01', 'old', 1, 'text')`,
        [corp.id],
      ),
    ).rejects.toThrow(/no partition/);
  });
});
