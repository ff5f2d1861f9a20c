import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { openCore } from '../app.js';
import { keyringAuditSigner } from '../crypto/keyring-services.js';
import { AuditService } from '../audit/audit.service.js';
import { cliLogger, configFrom } from './context.js';

const seqArg = (value: string): string => {
  if (!/^\d+$/.test(value) || value === '0') throw new InvalidArgumentError('expected a positive integer');
  return value;
};

/** Opens the database and the audit service for one CLI command, closing both afterwards. */
async function withAudit<T>(command: Command, work: (audit: AuditService) => Promise<T>): Promise<T> {
  const config = configFrom(command);
  const logger = cliLogger(config);
  const core = await openCore(config, logger);
  try {
    const audit = new AuditService({
      pool: core.pool,
      config: config.audit,
      dataDir: config.dataDir,
      signer: () => keyringAuditSigner(core.crypto.keyring, config.audit.keyName, config.audit.signature),
      logger,
    });
    return await work(audit);
  } finally {
    await core.close();
  }
}

/** `vigil audit …`: verify the tamper-evident log, export it, checkpoint it, prove entries. */
export function auditCommand(): Command {
  const audit = new Command('audit').description(
    'tamper-evident audit log: verify, export, checkpoints, proofs',
  );

  audit
    .command('verify')
    .description(
      'recompute the hash chain and Merkle tree; name the first altered, removed, inserted or reordered entry',
    )
    .option('--from <seq>', 'first entry to check', seqArg)
    .option('--to <seq>', 'last entry to check', seqArg)
    .option('--checkpoints <file>', 'exported checkpoints to compare with (default: the local export)')
    .action(async (options: { from?: string; to?: string; checkpoints?: string }, command: Command) => {
      const ok = await withAudit(command, async (service) => {
        const file =
          options.checkpoints ?? (existsSync(service.checkpointsFile) ? service.checkpointsFile : undefined);
        const report = await service.verify({ from: options.from, to: options.to, checkpointsFile: file });
        const range = report.first ? `entries ${report.first}..${report.last}` : 'no entries';
        if (report.ok) {
          process.stdout.write(
            `audit log OK: ${report.checked} ${range}` +
              (report.treeSize !== null ? `, tree size ${report.treeSize}, root ${report.rootHash}` : '') +
              `; ${report.checkpointsChecked} checkpoint(s) matched` +
              (report.checkpointsSkipped
                ? `, ${report.checkpointsSkipped} skipped (purged or outside the range)`
                : '') +
              (file ? ` (including ${file})` : '') +
              '\n',
          );
        } else {
          process.stdout.write(`audit log FAILED: ${report.checked} ${range}\n`);
          const first = report.firstProblem!;
          process.stdout.write(`first problem: entry ${first.seq} (${first.kind}): ${first.message}\n`);
          for (const p of report.problems.slice(1, 20))
            process.stdout.write(`  entry ${p.seq} (${p.kind}): ${p.message}\n`);
          if (report.problems.length > 20) process.stdout.write(`  … ${report.problems.length - 20} more\n`);
        }
        return report.ok;
      });
      if (!ok) process.exitCode = 1;
    });

  audit
    .command('export')
    .description('write entries to stdout, oldest first')
    .option('--format <format>', 'jsonl | syslog (RFC 5424)', 'jsonl')
    .option('--since <date>', 'only entries at or after this date (ISO 8601)')
    .action(async (options: { format: string; since?: string }, command: Command) => {
      if (options.format !== 'jsonl' && options.format !== 'syslog')
        throw new InvalidArgumentError('--format: expected jsonl or syslog');
      const since = options.since ? new Date(options.since) : undefined;
      if (since && Number.isNaN(since.getTime())) throw new InvalidArgumentError('--since: expected a date');
      await withAudit(command, (service) =>
        service.export({ format: options.format as 'jsonl' | 'syslog', since }, (line) => {
          if (!process.stdout.write(line))
            return new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
        }),
      );
    });

  audit
    .command('checkpoint')
    .description(
      'sign a checkpoint of the log now and export it (the audit.checkpoint job does this every 10 minutes)',
    )
    .action(async (_options: unknown, command: Command) => {
      await withAudit(command, async (service) => {
        const { checkpoint, created, published } = await service.checkpoint();
        process.stdout.write(
          `${created ? 'new' : 'unchanged'} checkpoint #${checkpoint.id}, tree size ${checkpoint.treeSize}; ` +
            `${published} exported to ${service.checkpointsFile}\n` +
            `verifier key: ${await service.verifierKey()}\n` +
            (await service.trustedVerifierKeys())
              .slice(1)
              .map((k) => `earlier key, still trusted: ${k}\n`)
              .join('') +
            `\n${checkpoint.note}`,
        );
      });
    });

  audit
    .command('prove')
    .description(
      'RFC 6962 proofs: inclusion of an entry (--seq), or consistency between checkpoints (--since-checkpoint)',
    )
    .option('--seq <n>', 'entry to prove', seqArg)
    .option('--since-checkpoint <id>', 'older checkpoint for a consistency proof', seqArg)
    .option('--checkpoint <id>', 'checkpoint to prove against (default: the latest)', seqArg)
    .action(
      async (options: { seq?: string; sinceCheckpoint?: string; checkpoint?: string }, command: Command) => {
        if (!options.seq === !options.sinceCheckpoint)
          throw new InvalidArgumentError('give either --seq or --since-checkpoint');
        await withAudit(command, async (service) => {
          const result = options.seq
            ? await service.proveInclusion(Number(options.seq), options.checkpoint)
            : await service.proveConsistency(options.sinceCheckpoint!, options.checkpoint);
          process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        });
      },
    );

  audit
    .command('purge')
    .description(
      'delete entries older than audit.retentionDays behind an anchor (the audit.purge job does this daily)',
    )
    .action(async (_options: unknown, command: Command) => {
      await withAudit(command, async (service) => {
        const result = await service.purge();
        process.stdout.write(
          result.purgedThrough
            ? `purged ${result.deleted} entries through ${result.purgedThrough}\n`
            : 'nothing to purge\n',
        );
      });
    });

  return audit;
}
