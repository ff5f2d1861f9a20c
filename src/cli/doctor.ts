import { accessSync, constants, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { openCore, openDatabase } from '../app.js';
import { diagnoseConnectors } from '../wecom/connector/diagnose.js';
import { loadConfig } from '../platform/config/load.js';
import type { VigilConfig } from '../platform/config/schema.js';
import { discoverMigrations, migrationStatus } from '../platform/db/migrations.js';
import { cliLogger } from './context.js';

interface Finding {
  ok: boolean;
  check: string;
  detail: string;
  fix?: string;
}

/** `vigil doctor`: checks each part Vigil depends on and says how to fix what is wrong. */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check configuration, database, keys and connectors; explain how to fix problems')
    .action(async (_options, command: Command) => {
      const findings = await diagnose(command.optsWithGlobals<{ config?: string }>().config);
      for (const f of findings) {
        process.stdout.write(`${f.ok ? '✓' : '✗'} ${f.check.padEnd(18)} ${f.detail}\n`);
        if (!f.ok && f.fix) process.stdout.write(`  ${''.padEnd(18)} fix: ${f.fix}\n`);
      }
      const failed = findings.filter((f) => !f.ok).length;
      process.stdout.write(failed ? `\n${failed} problem(s) found\n` : '\nall checks passed\n');
      process.exitCode = failed ? 1 : 0;
    });
}

export async function diagnose(configFile?: string): Promise<Finding[]> {
  let config: VigilConfig;
  try {
    config = loadConfig({ file: configFile });
  } catch (err) {
    return [
      {
        ok: false,
        check: 'config',
        detail: (err as Error).message,
        fix: 'correct the named field (see README, Configuration)',
      },
    ];
  }
  const findings: Finding[] = [{ ok: true, check: 'config', detail: 'valid' }];
  findings.push(checkDataDir(config));
  const database = await checkDatabase(config);
  findings.push(...database);
  if (database.every((f) => f.ok)) findings.push(...(await checkKeysAndConnectors(config)));
  return findings;
}

async function checkKeysAndConnectors(config: VigilConfig): Promise<Finding[]> {
  let core;
  try {
    core = await openCore(config, cliLogger(config), { migrate: false });
  } catch (err) {
    return [
      {
        ok: false,
        check: 'keyring',
        detail: (err as Error).message,
        fix: 'check keyring.* in the configuration (README, Configuration)',
      },
    ];
  }
  try {
    const status = await core.keys.status();
    const findings: Finding[] = [
      {
        ok: status.pendingRewrap === 0,
        check: 'keyring',
        detail: `${status.provider}, KEK version ${status.current}${status.pendingRewrap ? `, ${status.pendingRewrap} data key(s) awaiting rewrap` : ''}`,
        fix: 'let the crypto.rewrap job finish (vigil keys rotate waits for it)',
      },
    ];
    findings.push(...(await diagnoseConnectors(core)));
    return findings;
  } finally {
    await core.close();
  }
}

function checkDataDir(config: VigilConfig): Finding {
  const dir = resolve(config.dataDir);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return { ok: true, check: 'data dir', detail: `${dir} is writable` };
  } catch (err) {
    return {
      ok: false,
      check: 'data dir',
      detail: `${dir}: ${(err as Error).message}`,
      fix: 'set dataDir (VIGIL_DATA_DIR) to a writable directory',
    };
  }
}

async function checkDatabase(config: VigilConfig): Promise<Finding[]> {
  let db;
  try {
    db = await openDatabase(config, cliLogger(config), { migrate: false });
  } catch (err) {
    return [
      {
        ok: false,
        check: 'database',
        detail: (err as Error).message,
        fix: config.database.url
          ? 'check DATABASE_URL: host, port, credentials, database name and network access'
          : 'the embedded PostgreSQL could not start; see data/postgres/postgres.log',
      },
    ];
  }
  try {
    const findings: Finding[] = [];
    const { rows } = await db.pool.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    const version = Number(rows[0]!.v);
    findings.push({
      ok: version >= 150000,
      check: 'database',
      detail: `PostgreSQL ${Math.floor(version / 10000)} ${db.embedded ? '(embedded)' : '(external)'}`,
      fix: 'Vigil needs PostgreSQL 15 or newer',
    });
    const pending = (await migrationStatus(db.pool, discoverMigrations())).filter((m) => !m.appliedAt);
    findings.push({
      ok: pending.length === 0,
      check: 'migrations',
      detail: pending.length
        ? `${pending.length} pending (${pending.map((m) => m.version).join(', ')})`
        : 'up to date',
      fix: 'run `vigil migrate` (or start `vigil serve`, which migrates)',
    });
    return findings;
  } finally {
    await db.close();
  }
}
