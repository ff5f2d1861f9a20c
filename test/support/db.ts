import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../src/platform/db/pool.js';
import { OrgRepository } from '../../src/org/org.repository.js';
import type { Corp } from '../../src/org/types.js';
import { databaseUrlFor } from './urls.js';

let shared: Pool | undefined;

/** The run's migrated database (shared by the test files of this worker). */
export function testPool(): Pool {
  shared ??= createPool(inject('databaseUrl'), { ssl: { mode: 'disable' }, poolMax: 5 });
  return shared;
}

export async function closeTestPool(): Promise<void> {
  await shared?.end();
  shared = undefined;
}

/** An empty database of its own, for tests of migrations and multi-process start-up. */
export async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `vigil_scratch_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: databaseUrlFor(adminUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A corp of the test's own, so tests never share or truncate each other's data. */
export async function createTestCorp(pool: Pool = testPool(), label = 't'): Promise<Corp> {
  const slug = `${label}-${randomBytes(5).toString('hex')}`;
  return new OrgRepository(pool).ensureCorp(slug, `测试公司 ${slug}`, null);
}
