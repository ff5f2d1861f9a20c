import { randomBytes } from 'node:crypto';
import { createTestCorp, testPool } from '../../test/support/db.js';
import { testOrganisation } from '../../test/support/org-fixture.js';
import { OrgRepository } from '../org/org.repository.js';
import type { Corp } from '../org/types.js';

/** A corp of the test's own with the fixture organisation (employees user001…user060). */
export async function corpWithEmployees(): Promise<Corp> {
  const corp = await createTestCorp(testPool(), 'tr');
  const org = testOrganisation(corp.id);
  const repo = new OrgRepository(testPool());
  await repo.upsertDepartments(org.departments);
  await repo.upsertEmployees(org.employees);
  return corp;
}

/** An account (no password), optionally linked to an employee of the corp. */
export async function account(link?: {
  corpId: number;
  userid: string;
}): Promise<{ id: string; username: string }> {
  const username = `tr-${randomBytes(5).toString('hex')}`;
  const { rows } = await testPool().query<{ id: string }>(
    'INSERT INTO users (username, corp_id, employee_userid) VALUES ($1, $2, $3) RETURNING id',
    [username, link?.corpId ?? null, link?.userid ?? null],
  );
  return { id: rows[0]!.id, username };
}
