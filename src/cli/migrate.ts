import { Command } from 'commander';
import { openDatabase } from '../app.js';
import { discoverMigrations, migrationStatus } from '../platform/db/migrations.js';
import { cliLogger, configFrom } from './context.js';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending database migrations (they also run at start-up)')
    .option('--status', 'list migrations with their state instead of applying them')
    .action(async (options: { status?: boolean }, command: Command) => {
      const config = configFrom(command);
      const db = await openDatabase(config, cliLogger(config), { migrate: !options.status });
      try {
        const status = await migrationStatus(db.pool, discoverMigrations());
        if (options.status) {
          for (const m of status) {
            const state = m.appliedAt ? `applied ${m.appliedAt.toISOString()}` : 'pending';
            process.stdout.write(
              `${String(m.version).padStart(4, '0')}  ${m.module.padEnd(10)} ${m.name.padEnd(28)} ${state}\n`,
            );
          }
          const pending = status.filter((m) => !m.appliedAt).length;
          process.stdout.write(`${status.length - pending} applied, ${pending} pending\n`);
        } else {
          process.stdout.write(`database is up to date (${status.length} migrations)\n`);
        }
      } finally {
        await db.close();
      }
    });
}
