import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, testPool } from '../../test/support/db.js';
import { AuditLog } from '../audit/audit-log.js';
import { account, corpWithEmployees } from './test-fixture.js';
import { holdsValidTraining, validTrainingSql } from './training-sql.js';
import { TrainingService } from './training.service.js';
import { TrainingImportError } from './types.js';

afterAll(closeTestPool);

const service = () => new TrainingService({ pool: testPool(), audit: new AuditLog(testPool()) });
const ACTOR = { actor: 'user:test', ip: '10.0.0.1' };

/** A YYYY-MM-DD date `days` from today (negative: in the past). */
const day = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

async function completions(corpId: number) {
  const { rows } = await testPool().query<{ who: string; course: string; expires_at: Date | null }>(
    `SELECT coalesce(employee_userid, 'account:' || user_id) AS who, course, expires_at
     FROM training_completions WHERE corp_id = $1 ORDER BY id`,
    [corpId],
  );
  return rows;
}

describe('training CSV import', () => {
  it('imports a file with BOM, CRLF and quoted fields and rejects bad rows with their line numbers', async () => {
    const corp = await corpWithEmployees();
    const li = await account();
    const csv =
      '\uFEFFuserid,username,course,completed_at,expires_at,valid_months,comment\r\n' +
      `user001,,"Anti-bribery, 2026",${day(-30)},${day(300)},,"said ""done"""\r\n` +
      `,${li.username.toUpperCase()},反洗钱,${day(-10)},,12,"two\r\nlines"\r\n` +
      `ghost,,AML,${day(-10)},,,\r\n` +
      `user002,,AML,2026-02-30,,,\r\n` +
      `user003,,,${day(-10)},,,\r\n` +
      `user004,,AML,${day(-10)},${day(-20)},,\r\n` +
      '\r\n' +
      `,nobody-here,AML,${day(-10)},,,\r\n`;
    const progress: number[] = [];
    const result = await service().importCsv(corp.id, csv, ACTOR, {
      fileName: 'lms.csv',
      onProgress: (n) => progress.push(n),
    });
    expect(result).toMatchObject({
      rows: 7,
      accepted: 2,
      inserted: 2,
      updated: 0,
      unchanged: 0,
      rejected: 5,
      ignoredColumns: ['comment'],
    });
    expect(result.rejects).toEqual([
      { line: 5, reason: 'unknown person: no employee "ghost" in this corp' },
      {
        line: 6,
        reason: 'bad date in completed_at: "2026-02-30" (expected YYYY-MM-DD or an ISO 8601 date-time)',
      },
      { line: 7, reason: 'missing course' },
      { line: 8, reason: 'expires before completion (expires_at is not after completed_at)' },
      { line: 10, reason: 'unknown person: no account "nobody-here"' },
    ]);
    expect(progress.at(-1)).toBe(7);
    expect((await completions(corp.id)).map((c) => [c.who, c.course])).toEqual([
      ['user001', 'Anti-bribery, 2026'],
      [`account:${li.id}`, '反洗钱'],
    ]);
  });

  it('is idempotent: a re-import adds nothing, a corrected expiry updates, a conflicting repeat is rejected', async () => {
    const corp = await corpWithEmployees();
    const csv = `userid,course,completed_at,expires_at\nuser001,AML,${day(-30)},${day(30)}\nuser002,AML,${day(-30)},\n`;
    const first = await service().importCsv(corp.id, csv, ACTOR);
    expect(first).toMatchObject({ inserted: 2, unchanged: 0, rejected: 0 });
    const again = await service().importCsv(corp.id, csv, ACTOR);
    expect(again).toMatchObject({ rows: 2, accepted: 2, inserted: 0, updated: 0, unchanged: 2, rejected: 0 });
    expect(await completions(corp.id)).toHaveLength(2);

    const corrected =
      `userid,course,completed_at,expires_at\nuser001,AML,${day(-30)},${day(60)}\n` +
      `user001,AML,${day(-30)},${day(60)}\nuser001,AML,${day(-30)},${day(90)}\n`;
    const third = await service().importCsv(corp.id, corrected, ACTOR);
    expect(third).toMatchObject({ inserted: 0, updated: 1, unchanged: 1, rejected: 1 });
    expect(third.rejects).toEqual([
      { line: 4, reason: 'conflicts with line 2: same person, course and completion, another expiry' },
    ]);
    expect(await completions(corp.id)).toHaveLength(2);
  });

  it('stores nothing when the header is unusable', async () => {
    const corp = await corpWithEmployees();
    await expect(service().importCsv(corp.id, 'name,course\nx,AML\n', ACTOR)).rejects.toThrow(
      /header: missing userid or username, completed_at/,
    );
    await expect(service().importCsv(corp.id, '', ACTOR)).rejects.toBeInstanceOf(TrainingImportError);
    const { rows } = await testPool().query('SELECT 1 FROM training_imports WHERE corp_id = $1', [corp.id]);
    expect(rows).toHaveLength(0);
  });

  it('writes a training.import audit event and the import bookkeeping in the same transaction', async () => {
    const corp = await corpWithEmployees();
    const result = await service().importCsv(
      corp.id,
      `userid,course,completed_at\nuser001,AML,${day(-1)}\nnobody,AML,${day(-1)}\n`,
      ACTOR,
      { fileName: 'march.csv', source: 'api' },
    );
    const { rows: events } = await testPool().query(
      `SELECT actor, actor_ip, action, resource_type, resource_ids, result, details FROM audit_events
       WHERE corp_id = $1 AND action = 'training.import'`,
      [corp.id],
    );
    expect(events).toEqual([
      {
        actor: 'user:test',
        actor_ip: '10.0.0.1',
        action: 'training.import',
        resource_type: 'training_import',
        resource_ids: [result.importId],
        result: 'allowed',
        details: {
          fileName: 'march.csv',
          source: 'api',
          rows: 2,
          inserted: 1,
          updated: 0,
          unchanged: 0,
          rejected: 1,
        },
      },
    ]);
    const { rows: imports } = await testPool().query(
      'SELECT file_name, source, rows, accepted, rejected, rejects, imported_by FROM training_imports WHERE id = $1',
      [result.importId],
    );
    expect(imports[0]).toEqual({
      file_name: 'march.csv',
      source: 'api',
      rows: 2,
      accepted: 1,
      rejected: 1,
      rejects: [{ line: 3, reason: 'unknown person: no employee "nobody" in this corp' }],
      imported_by: 'user:test',
    });
  });
});

describe('training status', () => {
  it('is valid, expired or missing, over the account and its linked employee', async () => {
    const corp = await corpWithEmployees();
    const linked = await account({ corpId: corp.id, userid: 'user010' });
    const plain = await account();
    await service().importCsv(
      corp.id,
      'userid,username,course,completed_at,expires_at\n' +
        `user010,,AML,${day(-400)},${day(-35)}\n` + // expired…
        `user010,,AML,${day(-30)},${day(335)}\n` + // …then renewed
        `user010,,Ethics,${day(-400)},${day(-5)}\n` +
        `,${linked.username},Privacy,${day(-3)},\n` +
        `,${plain.username},Ethics,${day(-3)},${day(10)}\n`,
      ACTOR,
    );
    const s = service();
    const aml = await s.currentStatus(corp.id, linked.id, 'AML');
    expect(aml.state).toBe('valid');
    expect(aml.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    const ethics = await s.currentStatus(corp.id, linked.id, 'Ethics');
    expect(ethics.state).toBe('expired');
    expect(ethics.expiresAt!.getTime()).toBeLessThan(Date.now());
    expect(await s.currentStatus(corp.id, linked.id, 'Privacy')).toEqual({ state: 'valid', expiresAt: null });
    expect(await s.currentStatus(corp.id, linked.id, 'Security')).toEqual({
      state: 'missing',
      expiresAt: null,
    });
    expect((await s.currentStatus(corp.id, plain.id, 'Ethics')).state).toBe('valid');
    expect((await s.currentStatus(corp.id, plain.id, 'AML')).state).toBe('missing');
    expect((await s.statuses(corp.id, linked.id)).map((x) => [x.course, x.state])).toEqual([
      ['AML', 'valid'],
      ['Ethics', 'expired'],
      ['Privacy', 'valid'],
    ]);

    // Another corp's records never count.
    const other = await corpWithEmployees();
    expect((await s.currentStatus(other.id, linked.id, 'AML')).state).toBe('missing');

    for (const [course, expected] of [
      ['AML', true],
      ['Ethics', false],
      ['Privacy', true],
      ['Security', false],
    ] as const) {
      expect(await holdsValidTraining(testPool(), corp.id, linked.id, course), course).toBe(expected);
    }
    // The same condition embedded in a query of another module, over its own columns.
    const { rows } = await testPool().query<{ course: string }>(
      `SELECT r.course FROM (VALUES ('AML'), ('Ethics'), ('Privacy')) AS r(course)
       WHERE ${validTrainingSql({ corpId: '$1::integer', userId: '$2::bigint', course: 'r.course' })}
       ORDER BY 1`,
      [corp.id, linked.id],
    );
    expect(rows.map((r) => r.course)).toEqual(['AML', 'Privacy']);
    expect(() => validTrainingSql({ corpId: '1; DROP TABLE users', userId: '$2', course: '$3' })).toThrow(
      RangeError,
    );
  });
});
