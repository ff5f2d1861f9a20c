import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { pino } from 'pino';
import { closeTestPool, createTestCorp, scratchDatabase, testPool } from '../../test/support/db.js';
import { migrate } from '../platform/db/migrations.js';
import { createPool } from '../platform/db/pool.js';
import { testArchive, textMessage } from '../../test/support/archive.js';
import { KeyService } from './keys.service.js';

afterAll(closeTestPool);

const at = (month: number, i: number) => new Date(Date.UTC(2015, month, 1 + (i % 27), 9, i % 60));
const MONTHS = 120;

describe('key rotation and crypto-shredding', () => {
  it('rotates the KEK while ingest and reads continue, losing and failing nothing', async () => {
    // A database of its own: rotation rewraps every data key of the deployment, and the shared
    // test database holds keys of other tests' throwaway keyrings.
    const db = await scratchDatabase();
    const pool = createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 4 });
    onTestFinished(async () => {
      await pool.end();
      await db.drop();
    });
    await migrate(pool);
    const corp = await createTestCorp(pool);
    const crypto = await testArchive(pool);
    const keys = new KeyService(pool, {
      keyring: crypto.keyring,
      deks: crypto.store,
      envelope: crypto.envelope,
    });
    // Data keys in ten years of months, so the rewrap has work to interleave with.
    await crypto.archive.storeBatch(
      corp.id,
      Array.from({ length: MONTHS }, (_, m) => textMessage(`seed-${m}`, `第${m}月的合同`, at(m, m))),
    );

    let stop = false;
    const failures: string[] = [];
    let written = 0;
    let read = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const month = i % MONTHS;
        await crypto.archive.storeBatch(corp.id, [textMessage(`w-${i}`, `轮换期间写入 ${i}`, at(month, i))]);
        written++;
      }
    })();
    const reader = (async () => {
      for (let i = 0; !stop; i++) {
        crypto.envelope.clearCache(); // force unwraps through the keyring during rotation
        const message = await crypto.archive.getMessage(corp.id, `seed-${i % MONTHS}`);
        if (message?.content.state !== 'ok')
          failures.push(`seed-${i % MONTHS}: ${JSON.stringify(message?.content)}`);
        read++;
      }
    })();

    const version = await keys.rotate();
    const job = keys.rewrapJob();
    const progress: number[] = [];
    let result: { targetKekVersion: number; rewrapped: number };
    try {
      result = (await job.handler({
        job: {} as never,
        logger: pino({ level: 'silent' }),
        signal: new AbortController().signal,
        reportProgress: async (p) => void progress.push(p.done),
      })) as { targetKekVersion: number; rewrapped: number };
    } finally {
      stop = true;
      await Promise.all([writer, reader]);
    }
    expect(result.rewrapped).toBe(MONTHS);

    expect(failures).toEqual([]);
    expect(written).toBeGreaterThan(0);
    expect(read).toBeGreaterThan(0);
    expect(result.targetKekVersion).toBe(version);
    expect(progress.length).toBeGreaterThan(0);
    const { rows } = await pool.query(
      'SELECT DISTINCT kek_version FROM data_keys WHERE corp_id = $1 AND destroyed_at IS NULL',
      [String(corp.id)],
    );
    expect(rows).toEqual([{ kek_version: version }]);
    const status = await keys.status();
    expect(status.current).toBe(version);
    crypto.envelope.clearCache();
    for (let i = 0; i < written; i += 7) {
      expect((await crypto.archive.getMessage(corp.id, `w-${i}`))?.content.state).toBe('ok');
    }
  });

  it('plans, shreds and purges months through a given month only', async () => {
    const pool = testPool();
    const corp = await createTestCorp();
    const crypto = await testArchive(pool);
    const keys = new KeyService(pool, {
      keyring: crypto.keyring,
      deks: crypto.store,
      envelope: crypto.envelope,
    });
    await crypto.archive.storeBatch(corp.id, [
      textMessage('jan', '一月', new Date('2025-01-15T00:00:00Z')),
      textMessage('feb', '二月', new Date('2025-02-15T00:00:00Z')),
      textMessage('feb2', '二月又一条', new Date('2025-02-28T23:59:59Z')),
      textMessage('mar', '三月', new Date('2025-03-01T00:00:00Z')),
    ]);
    const plan = await keys.planShred(corp.id, '2025-02');
    expect(plan.map((p) => [p.scope.month, p.messages, p.alreadyDestroyed])).toEqual([
      ['2025-01', 1, false],
      ['2025-02', 2, false],
    ]);
    expect(await keys.shred(corp.id, plan)).toBe(2);
    const index = await pool.query(
      'SELECT msgid, search IS NULL AS cleared FROM messages WHERE corp_id = $1 ORDER BY msg_time',
      [corp.id],
    );
    expect(index.rows.map((r) => [r.msgid, r.cleared])).toEqual([
      ['jan', true],
      ['feb', true],
      ['feb2', true],
      ['mar', false],
    ]);
    expect((await crypto.archive.getMessage(corp.id, 'feb2'))?.content).toEqual({ state: 'destroyed' });
    expect((await crypto.archive.getMessage(corp.id, 'mar'))?.content.state).toBe('ok');
    expect((await keys.planShred(corp.id, '2025-02')).every((p) => p.alreadyDestroyed)).toBe(true);
    expect(await keys.purgeShredded(corp.id, plan)).toBe(3);
    expect(await crypto.archive.getMessage(corp.id, 'jan')).toBeUndefined();
    // A purged msgid is never archived again.
    expect(
      (
        await crypto.archive.storeBatch(corp.id, [
          textMessage('jan', '一月', new Date('2025-01-15T00:00:00Z')),
        ])
      ).duplicates,
    ).toEqual(['jan']);
  });
});
