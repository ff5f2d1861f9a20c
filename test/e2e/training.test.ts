import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { OrgRepository } from '../../src/org/org.repository.js';
import { cleanEnv, runVigil } from '../support/cli.js';
import { closeTestPool, createTestCorp, testPool } from '../support/db.js';
import { testOrganisation } from '../support/org-fixture.js';

afterAll(closeTestPool);

const day = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('vigil training', () => {
  it('imports a CSV with progress, lists rejects by line, is idempotent, and shows a status', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'cli');
    const org = testOrganisation(corp.id);
    await new OrgRepository(pool).upsertDepartments(org.departments);
    await new OrgRepository(pool).upsertEmployees(org.employees);
    const username = `cli-${randomBytes(4).toString('hex')}`;
    await pool.query("INSERT INTO users (username, corp_id, employee_userid) VALUES ($1, $2, 'user007')", [
      username,
      corp.id,
    ]);

    const dir = mkdtempSync(join(tmpdir(), 'vigil-training-'));
    const file = join(dir, 'lms-export.csv');
    writeFileSync(
      file,
      '\uFEFFuserid,course,completed_at,valid_months,note\r\n' +
        `user007,AML,${day(-20)},12,"first, with comma"\r\n` +
        `user008,"Ethics ""2026""",${day(-20)},,\r\n` +
        `ghost,AML,${day(-20)},,\r\n` +
        `user009,AML,not-a-date,,\r\n`,
    );
    const env = cleanEnv({
      DATABASE_URL: inject('databaseUrl'),
      VIGIL__KEYRING__LOCAL__PATH: join(dir, 'keyring.json'),
    });

    const first = await runVigil(['training', 'import', file, '--corp', corp.slug], { env });
    expect(first.stderr).toContain('training lms-export.csv:');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('line 4: unknown person: no employee "ghost" in this corp');
    expect(first.stdout).toContain('line 5: bad date in completed_at: "not-a-date"');
    expect(first.stdout).toContain('ignored column(s): note');
    expect(first.stdout).toContain(
      `training import into ${corp.slug}: 4 row(s): 2 new, 0 updated, 0 already recorded, 2 rejected (lines 4, 5)`,
    );

    const again = await runVigil(['training', 'import', file, '--corp', corp.slug], { env });
    expect(again.stdout).toContain('4 row(s): 0 new, 0 updated, 2 already recorded, 2 rejected (lines 4, 5)');

    const status = await runVigil(['training', 'status', '--corp', corp.slug, '--user', username], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^AML: valid until \d{4}-\d{2}-\d{2}T/m);
    const missing = await runVigil(
      ['training', 'status', '--corp', corp.slug, '--user', username, '--course', 'Ethics "2026"'],
      { env },
    );
    expect(missing.stdout).toBe('Ethics "2026": missing\n');

    const { rows } = await pool.query(
      "SELECT actor, details->>'fileName' AS file FROM audit_events WHERE corp_id = $1 AND action = 'training.import'",
      [corp.id],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ actor: expect.stringMatching(/^cli:/), file: 'lms-export.csv' });

    const unknown = await runVigil(['training', 'import', file, '--corp', 'no-such-corp'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('vigil: corp no-such-corp not found');
  });
});
