import { rmSync } from 'node:fs';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/platform/db/embedded.js';
import { createPool } from '../src/platform/db/pool.js';
import { migrate } from '../src/platform/db/migrations.js';
import { databaseUrlFor } from './support/urls.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated database of its own for this test run. */
    databaseUrl: string;
    /** The server's maintenance database, for tests that create scratch databases. */
    adminDatabaseUrl: string;
  }
}

/**
 * Gives the run a freshly migrated database: on the server of TEST_DATABASE_URL when set (CI),
 * otherwise on an embedded PostgreSQL, which is what a new user gets.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let embedded: EmbeddedPostgres | undefined;
  let embeddedDir: string | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    // A cluster per run, so concurrent runs (several terminals, editors) never stop each other's.
    embeddedDir = `.tmp/test-postgres/run-${process.pid}`;
    embedded = await startEmbeddedPostgres({ dir: embeddedDir, port: 0 });
    adminUrl = embedded.url;
  }
  const name = `vigil_test_${Date.now()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await dropStaleDatabases(admin);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();

  const url = databaseUrlFor(adminUrl, name);
  const pool = createPool(url, { ssl: { mode: 'disable' }, poolMax: 2 });
  await migrate(pool);
  await pool.end();

  project.provide('databaseUrl', url);
  project.provide('adminDatabaseUrl', adminUrl);

  return async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
    await embedded?.stop();
    if (embeddedDir) rmSync(embeddedDir, { recursive: true, force: true });
  };
}

/** Databases left by runs that crashed more than six hours ago. */
async function dropStaleDatabases(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname ~ '^vigil_(test|scratch)_[0-9]+_'",
  );
  const cutoff = Date.now() - 6 * 3600_000;
  for (const { datname } of rows) {
    const created = Number(datname.split('_')[2]);
    if (created < cutoff)
      await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
  }
}
