import { afterEach, describe, expect, it } from 'vitest';
import { scratchDatabase } from '../../../test/support/db.js';
import { createPool, type Pool } from './pool.js';
import { discoverMigrations, migrate, migrationStatus, type Migration } from './migrations.js';

const pools: Pool[] = [];
const drops: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()));
  await Promise.all(drops.splice(0).map((d) => d()));
});

async function freshPools(n: number): Promise<Pool[]> {
  const db = await scratchDatabase();
  drops.push(db.drop);
  const created = Array.from({ length: n }, () =>
    createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 2 }),
  );
  pools.push(...created);
  return created;
}

const migration = (version: number, sql: string): Migration => ({
  version,
  name: `m${version}`,
  module: 'test',
  sql,
  checksum: `sum-${version}-${sql.length}`,
});

describe('migrations', () => {
  it('discovers every module migration in order with unique numbers', () => {
    const found = discoverMigrations();
    expect(found.length).toBeGreaterThanOrEqual(3);
    expect(found.map((m) => m.version)).toEqual([...found.map((m) => m.version)].sort((a, b) => a - b));
    expect(found.find((m) => m.module === 'archive')?.sql).toContain('PARTITION BY RANGE (msg_time)');
  });

  it('applies each migration once when several instances start at the same time', async () => {
    const instances = await freshPools(4);
    const results = await Promise.all(instances.map((pool) => migrate(pool)));
    const total = discoverMigrations().length;
    expect(results.reduce((n, applied) => n + applied.length, 0)).toBe(total);
    const { rows } = await instances[0]!.query('SELECT version FROM schema_migrations');
    expect(rows).toHaveLength(total);
    expect((await migrationStatus(instances[0]!)).every((m) => m.appliedAt)).toBe(true);
  });

  it('reports pending migrations and applies only those', async () => {
    const [pool] = await freshPools(1);
    await migrate(pool!, [migration(1, 'CREATE TABLE a (x int)')]);
    const next = [migration(1, 'CREATE TABLE a (x int)'), migration(2, 'CREATE TABLE b (x int)')];
    expect((await migrationStatus(pool!, next)).map((m) => Boolean(m.appliedAt))).toEqual([true, false]);
    expect((await migrate(pool!, next)).map((m) => m.version)).toEqual([2]);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const [pool] = await freshPools(1);
    await migrate(pool!, [migration(1, 'CREATE TABLE a (x int)')]);
    await expect(migrate(pool!, [migration(1, 'CREATE TABLE a (x bigint)')])).rejects.toThrow(
      /changed after it was applied/,
    );
  });

  it('rolls back a failing migration and names it', async () => {
    const [pool] = await freshPools(1);
    await expect(
      migrate(pool!, [migration(1, 'CREATE TABLE ok (x int); SELECT no_such_function()')]),
    ).rejects.toThrow(/migration 1_m1 failed/);
    const { rows } = await pool!.query("SELECT to_regclass('ok') AS t");
    expect(rows[0].t).toBeNull();
  });
});
