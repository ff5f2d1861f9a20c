import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { discoverMigrations } from '../../src/platform/db/migrations.js';
import { scratchDatabase } from '../support/db.js';
import { cleanEnv, runVigil, startVigilProcess } from '../support/cli.js';

describe('vigil CLI', () => {
  it('prints its version and help with examples', async () => {
    const version = await runVigil(['--version']);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    const help = await runVigil(['--help']);
    expect(help.stdout).toContain('Examples:');
    for (const command of ['serve', 'worker', 'migrate', 'doctor']) expect(help.stdout).toContain(command);
  });

  it('stops with a one-line error naming a bad configuration value', async () => {
    const result = await runVigil(['serve'], { env: cleanEnv({ PORT: 'abc' }) });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^vigil: config server\.port: expected a port number.*"abc"/);
  });

  it('stops with a one-line error when the database is unreachable', async () => {
    const result = await runVigil(['serve'], {
      env: cleanEnv({ DATABASE_URL: 'postgres://vigil:topsecret@127.0.0.1:1/vigil' }),
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^vigil: database: cannot connect to postgres:\/\/vigil:\*\*\*@127\.0\.0\.1:1\/vigil: .*ECONNREFUSED/,
    );
    expect(result.stderr).not.toContain('topsecret');
  });

  it('migrates, reports migration status and diagnoses the database', async () => {
    const db = await scratchDatabase();
    try {
      const env = cleanEnv({ DATABASE_URL: db.url });
      const before = await runVigil(['migrate', '--status'], { env });
      expect(before.stdout).toContain(`0 applied, ${discoverMigrations().length} pending`);
      const doctorBefore = await runVigil(['doctor'], { env });
      expect(doctorBefore.code).toBe(1);
      expect(doctorBefore.stdout).toMatch(/✗ migrations\s+\d+ pending/);
      expect(doctorBefore.stdout).toContain('fix: run `vigil migrate`');

      expect((await runVigil(['migrate'], { env })).stdout).toContain('database is up to date');
      const after = await runVigil(['migrate', '--status'], { env });
      expect(after.stdout).toContain(`${discoverMigrations().length} applied, 0 pending`);
      const doctor = await runVigil(['doctor'], { env });
      expect(doctor.code).toBe(0);
      expect(doctor.stdout).toContain('all checks passed');
    } finally {
      await db.drop();
    }
  });

  it('doctor explains an unreachable database', async () => {
    const result = await runVigil(['doctor'], {
      env: cleanEnv({ DATABASE_URL: 'postgres://vigil@127.0.0.1:1/vigil' }),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ database\s+database: cannot connect/);
    expect(result.stdout).toContain('fix: check DATABASE_URL');
  });

  it('runs two serve processes on one database: migrations once, each schedule tick once', async () => {
    const db = await scratchDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'vigil-two-'));
    const configFile = join(dir, 'vigil.yaml');
    writeFileSync(
      configFile,
      [
        'server: { host: 127.0.0.1, port: 0 }',
        'jobs:',
        '  pollIntervalMs: 100',
        '  schedules:',
        "    'archive.ensure-partitions': { cron: '* * * * * *' }",
      ].join('\n'),
    );
    const env = cleanEnv({ DATABASE_URL: db.url, VIGIL_CONFIG: configFile });
    const [a, b] = await Promise.all([
      startVigilProcess(['serve'], { env }),
      startVigilProcess(['serve'], { env }),
    ]);
    try {
      for (const vigil of [a!, b!]) {
        const ready = await fetch(`${vigil.url}/readyz`);
        expect(ready.status).toBe(200);
      }
      await sleep(4500);
    } finally {
      expect(await a!.stop()).toBe(0);
      expect(await b!.stop()).toBe(0);
    }
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const migrations = await client.query(
        'SELECT count(*)::int AS n, count(DISTINCT applied_by)::int AS by FROM schema_migrations',
      );
      expect(migrations.rows[0]).toEqual({ n: discoverMigrations().length, by: 1 });
      const ticks = await client.query<{
        scheduled_for: Date;
        n: number;
        succeeded: number;
        attempts: number;
      }>(
        `SELECT scheduled_for, count(*)::int AS n, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
                max(attempts)::int AS attempts
         FROM jobs WHERE schedule = 'archive.ensure-partitions' GROUP BY scheduled_for ORDER BY scheduled_for`,
      );
      expect(ticks.rows.length).toBeGreaterThanOrEqual(3);
      for (const tick of ticks.rows.slice(0, -1))
        expect(tick).toMatchObject({ n: 1, succeeded: 1, attempts: 1 });
    } finally {
      await client.end();
      await db.drop();
    }
  });

  it('starts with nothing configured: embedded PostgreSQL, demo corp, clean stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-zero-'));
    chmodSync(dir, 0o755); // like a checkout: see embedded.test.ts for private directories
    const vigil = await startVigilProcess(['serve'], {
      env: cleanEnv({ PORT: '0', VIGIL_HOST: '127.0.0.1' }),
      cwd: dir,
    });
    let pid: number;
    try {
      expect(vigil.output()).toContain('Demo corp:          "demo" (created now)');
      const ready = (await (await fetch(`${vigil.url}/readyz`)).json()) as { status: string };
      expect(ready.status).toBe('ready');
      const pidFile = join(dir, 'data', 'postgres', 'pgdata', 'postmaster.pid');
      const postmaster = readFileSync(pidFile, 'utf8').split('\n');
      pid = Number(postmaster[0]);
      expect(isAlive(pid)).toBe(true);
      // The demo corp's WeCom (an in-process emulator) is being archived through the real pipeline.
      const { password } = JSON.parse(
        readFileSync(join(dir, 'data', 'postgres', 'credentials.json'), 'utf8'),
      ) as { password: string };
      const client = new pg.Client({
        host: '127.0.0.1',
        port: Number(postmaster[3]),
        user: 'vigil',
        password,
        database: 'postgres',
      });
      await client.connect();
      try {
        let archived = 0;
        for (let i = 0; i < 120 && archived < 1000; i++) {
          archived = (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0]!
            .n;
          if (archived < 1000) await sleep(500);
        }
        expect(archived).toBeGreaterThanOrEqual(1000);
      } finally {
        await client.end();
      }
      // An operator's CLI command beside the running server shares its database and leaves it up.
      const status = await runVigil(['migrate', '--status'], { env: cleanEnv(), cwd: dir });
      expect(status.stdout).toMatch(/\d+ applied, 0 pending/);
      expect((await fetch(`${vigil.url}/readyz`)).status).toBe(200);
      expect(isAlive(pid)).toBe(true);
    } finally {
      expect(await vigil.stop()).toBe(0);
    }
    expect(existsSync(join(dir, 'data', 'postgres', 'pgdata', 'postmaster.pid'))).toBe(false);
    await waitUntilGone(pid);

    // A second start reuses the cluster and the seeded corp.
    const again = await startVigilProcess(['serve'], {
      env: cleanEnv({ PORT: '0', VIGIL_HOST: '127.0.0.1' }),
      cwd: dir,
    });
    expect(again.output()).toContain('"demo" (already seeded)');
    expect(await again.stop()).toBe(0);
  });
});

/** True while the process exists and is not a zombie waiting to be reaped. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The postmaster removes its pid file a moment before its process ends. */
async function waitUntilGone(pid: number): Promise<void> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
  expect(isAlive(pid)).toBe(false);
}
