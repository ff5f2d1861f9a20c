import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { JobRunner } from '../platform/jobs/runner.js';
import { REWRAP_JOB } from '../crypto/keys.service.js';
import { cliLogger, configFrom, withCore } from './context.js';
import { createProgress } from './progress.js';

/** Runs `work` with the core services open, closing them afterwards. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('key-encryption keys: status, rotation, crypto-shredding');

  keys
    .command('status')
    .description('KEK versions and how many data keys each wraps')
    .action((_o, command: Command) =>
      withCore(command, async (core) => {
        const status = await core.keys.status();
        const out = [
          `keyring: ${status.provider}`,
          `current KEK version: ${status.current}`,
          '',
          'version  state      data keys  created',
        ];
        for (const v of status.versions) {
          out.push(
            `${String(v.version).padEnd(8)} ${v.state.padEnd(10)} ${String(v.deks).padStart(9)}  ${v.createdAt ?? ''}`,
          );
        }
        out.push(
          '',
          `data keys awaiting rewrap: ${status.pendingRewrap}`,
          `destroyed scopes (crypto-shredded): ${status.destroyedScopes}`,
        );
        process.stdout.write(out.join('\n') + '\n');
      }),
    );

  keys
    .command('rotate')
    .description(
      'create a new KEK version and rewrap every data key under it (content is never re-encrypted)',
    )
    .option('--no-wait', 'only enqueue the rewrap job for a running worker')
    .action((options: { wait: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const version = await core.keys.rotate();
        const job = await core.jobs.enqueue(REWRAP_JOB, { kekVersion: version });
        process.stdout.write(`created KEK version ${version}; rewrap job #${job.id} queued\n`);
        if (!options.wait) return;
        // Run the job here too; whichever process claims it first does the work.
        const runner = new JobRunner(core.jobs, cliLogger(configFrom(command)), {
          concurrency: 1,
          pollIntervalMs: 200,
        });
        runner.define(core.keys.rewrapJob());
        runner.start();
        const progress = createProgress('rewrapping data keys');
        try {
          for (;;) {
            const current = (await core.jobs.get(job.id))!;
            if (current.progress)
              progress.update(current.progress.done, current.progress.total, current.progress.message);
            if (current.status === 'succeeded' || current.status === 'failed') {
              progress.stop();
              if (current.status === 'failed') throw new Error(`rewrap failed: ${current.lastError}`);
              process.stdout.write(`rewrap complete: ${JSON.stringify(current.result)}\n`);
              break;
            }
            await sleep(200);
          }
        } finally {
          await runner.stop();
        }
      }),
    );

  keys
    .command('shred')
    .description(
      'crypto-shred: destroy the data keys of a corp up to a month, making that content unreadable everywhere',
    )
    .requiredOption('--corp <slug>', 'corp slug or id')
    .requiredOption('--through <YYYY-MM>', 'last month to destroy (inclusive)')
    .option('--class <retentionClass>', 'only this retention class')
    .option('--dry-run', 'list what would be destroyed and change nothing')
    .option('--purge', 'also delete the message rows of destroyed scopes')
    .action(
      (
        options: { corp: string; through: string; class?: string; dryRun?: boolean; purge?: boolean },
        command: Command,
      ) =>
        withCore(command, async (core) => {
          if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(options.through))
            throw new Error('--through: expected YYYY-MM');
          const corp = await core.org.findCorp(options.corp);
          if (!corp) throw new Error(`corp ${options.corp} not found`);
          const plans = await core.keys.planShred(corp.id, options.through, options.class);
          for (const p of plans) {
            const state = p.alreadyDestroyed
              ? 'already destroyed'
              : options.dryRun
                ? 'would destroy'
                : 'destroying';
            process.stdout.write(
              `${p.scope.month} ${p.scope.retentionClass.padEnd(12)} ${String(p.messages).padStart(8)} messages  ${state}\n`,
            );
          }
          if (options.dryRun) {
            process.stdout.write(
              `dry run: ${plans.filter((p) => !p.alreadyDestroyed).length} scope(s) would be destroyed\n`,
            );
            return;
          }
          const destroyed = await core.keys.shred(corp.id, plans);
          process.stdout.write(`destroyed ${destroyed} data key(s)\n`);
          if (options.purge)
            process.stdout.write(`purged ${await core.keys.purgeShredded(corp.id, plans)} message row(s)\n`);
        }),
    );
  return keys;
}
