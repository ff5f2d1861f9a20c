import { randomBytes } from 'node:crypto';
import type { Role } from '../access/permissions.js';
import { OrgRepository } from '../org/org.repository.js';
import type { Pool } from '../platform/db/pool.js';

/** Employees of a corp with these userids (minimal rows, enough for account links). */
export async function employees(pool: Pool, corpId: number, userids: string[]): Promise<void> {
  await new OrgRepository(pool).upsertEmployees(
    userids.map((userid) => ({
      corpId,
      userid,
      name: userid,
      departmentIds: [],
      mainDepartment: null,
      leaderOf: [],
      position: null,
      status: 1,
      sensitivePost: false,
    })),
  );
}

/** An account (no password) with roles, optionally linked to an employee, optionally disabled. */
export async function account(
  pool: Pool,
  options: {
    roles?: Array<{ role: Role; corpId: number | null }>;
    link?: { corpId: number; userid: string };
    disabled?: boolean;
  } = {},
): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO users (username, corp_id, employee_userid, disabled_at)
     VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END) RETURNING id`,
    [
      `nt-${randomBytes(5).toString('hex')}`,
      options.link?.corpId ?? null,
      options.link?.userid ?? null,
      options.disabled ?? false,
    ],
  );
  const id = rows[0]!.id;
  for (const r of options.roles ?? [])
    await pool.query('INSERT INTO role_assignments (user_id, role, corp_id) VALUES ($1, $2, $3)', [
      id,
      r.role,
      r.corpId,
    ]);
  return id;
}
