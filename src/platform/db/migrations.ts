import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Pool } from './pool.js';
import { sourceRoot } from '../paths.js';

/** A numbered, forward-only SQL file owned by a module: `src/<module>/migrations/NNNN_name.sql`. */
export interface Migration {
  version: number;
  name: string;
  module: string;
  sql: string;
  checksum: string;
}

export interface MigrationStatus {
  version: number;
  name: string;
  module: string;
  appliedAt: Date | null;
}

// Any constant works; it only has to be the same for every Vigil process.
const MIGRATION_LOCK_KEY = 0x76_69_67_69; // "vigi"

/** Reads every module's migrations, ordered by version; duplicate numbers are an error. */
export function discoverMigrations(root = sourceRoot()): Migration[] {
  const found: Migration[] = [];
  for (const module of readdirSync(root)) {
    const dir = join(root, module, 'migrations');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql'))) {
      const match = /^(\d{4})_(.+)\.sql$/.exec(file);
      if (!match) throw new Error(`migration ${module}/${file}: expected a name like 0001_description.sql`);
      const sql = readFileSync(join(dir, file), 'utf8');
      found.push({
        version: Number(match[1]),
        name: match[2]!,
        module,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      });
    }
  }
  found.sort((a, b) => a.version - b.version);
  for (let i = 1; i < found.length; i++) {
    if (found[i]!.version === found[i - 1]!.version) {
      throw new Error(
        `migration number ${found[i]!.version} is used twice (${found[i - 1]!.module}, ${found[i]!.module})`,
      );
    }
  }
  return found;
}

/**
 * Applies pending migrations under a session advisory lock, each in its own transaction, so that
 * several instances starting at once apply each migration exactly once. Returns the versions applied.
 */
export async function migrate(pool: Pool, migrations = discoverMigrations()): Promise<Migration[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await ensureMigrationsTable(client);
    const applied = await appliedChecksums(client);
    const pending: Migration[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.version);
      if (checksum === undefined) pending.push(migration);
      else if (checksum !== migration.checksum) {
        throw new Error(
          `migration ${migration.version}_${migration.name} was changed after it was applied; ` +
            'migrations are forward-only: add a new one instead',
        );
      }
    }
    for (const migration of pending) {
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(
          'INSERT INTO schema_migrations (version, name, module, checksum, applied_by) VALUES ($1, $2, $3, $4, $5)',
          [
            migration.version,
            migration.name,
            migration.module,
            migration.checksum,
            `${hostname()}:${process.pid}`,
          ],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(
          `migration ${migration.version}_${migration.name} failed: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    return pending;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}

/** Every known migration with the time it was applied (null when pending). */
export async function migrationStatus(
  pool: Pool,
  migrations = discoverMigrations(),
): Promise<MigrationStatus[]> {
  await ensureMigrationsTable(pool);
  const { rows } = await pool.query<{ version: number; applied_at: Date }>(
    'SELECT version, applied_at FROM schema_migrations',
  );
  const appliedAt = new Map(rows.map((r) => [r.version, r.applied_at]));
  return migrations.map((m) => ({
    version: m.version,
    name: m.name,
    module: m.module,
    appliedAt: appliedAt.get(m.version) ?? null,
  }));
}

async function ensureMigrationsTable(client: Pick<Pool, 'query'>): Promise<void> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    module text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL
  )`);
}

async function appliedChecksums(client: Pick<Pool, 'query'>): Promise<Map<number, string>> {
  const { rows } = await client.query<{ version: number; checksum: string }>(
    'SELECT version, checksum FROM schema_migrations',
  );
  return new Map(rows.map((r) => [r.version, r.checksum]));
}
