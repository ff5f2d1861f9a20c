import { createReadStream, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename } from 'node:path';
import { Command } from 'commander';
import type { Core } from '../app.js';
import { AuditLog } from '../audit/audit-log.js';
import { withCore } from '../cli/context.js';
import { createProgress } from '../cli/progress.js';
import { TrainingService } from './training.service.js';
import type { ImportResult, TrainingActor } from './types.js';

/** The CLI operator has shell access to the host: recorded as such, not as a Vigil user. */
function operator(): TrainingActor {
  try {
    return { actor: `cli:${userInfo().username}` };
  } catch {
    return { actor: 'cli:unknown' }; // no passwd entry (containers)
  }
}

async function corpOf(core: Core, slug: string) {
  const corp = await core.org.findCorp(slug);
  if (!corp) throw new Error(`corp ${slug} not found`);
  return corp;
}

const serviceOf = (core: Core) => new TrainingService({ pool: core.pool, audit: new AuditLog(core.pool) });

const SHOWN_REJECT_LINES = 20;

/** One line: counts, and the lines of the rejected rows. */
export function importSummary(r: ImportResult): string {
  const lines = r.rejects.slice(0, SHOWN_REJECT_LINES).map((x) => x.line);
  const more = r.rejects.length > SHOWN_REJECT_LINES ? ', …' : '';
  const rejected = r.rejected > 0 ? ` (lines ${lines.join(', ')}${more})` : '';
  return (
    `${r.rows} row(s): ${r.inserted} new, ${r.updated} updated, ${r.unchanged} already recorded, ` +
    `${r.rejected} rejected${rejected}`
  );
}

/** `vigil training …`: import training records and show a person's status. */
export function trainingCommand(): Command {
  const training = new Command('training').description(
    'compliance training records (required for access to sensitive data categories)',
  );

  training
    .command('import')
    .description(
      'import a training CSV: userid or username, course, completed_at, [expires_at | valid_months]',
    )
    .argument('<file>', 'CSV file (UTF-8, with a header row)')
    .requiredOption('--corp <slug>', 'corp the records belong to')
    .option('--encoding <name>', 'file encoding, e.g. gb18030 for CSV saved by Chinese Excel', 'utf-8')
    .action((file: string, o: { corp: string; encoding: string }, command: Command) =>
      withCore(command, async (core) => {
        const corp = await corpOf(core, o.corp);
        const size = statSync(file).size;
        const progress = createProgress(`training ${basename(file)}`);
        let rows = 0;
        let bytes = 0;
        async function* chunks(): AsyncGenerator<Buffer> {
          for await (const chunk of createReadStream(file)) {
            bytes += (chunk as Buffer).length;
            progress.update(bytes, Math.max(size, bytes), `${rows} row(s)`);
            yield chunk as Buffer;
          }
        }
        let result: ImportResult;
        try {
          result = await serviceOf(core).importCsv(corp.id, chunks(), operator(), {
            fileName: basename(file),
            source: 'csv',
            encoding: o.encoding,
            onProgress: (n) => (rows = n),
          });
        } finally {
          progress.stop();
        }
        for (const r of result.rejects) process.stdout.write(`line ${r.line}: ${r.reason}\n`);
        if (result.ignoredColumns.length > 0)
          process.stdout.write(`ignored column(s): ${result.ignoredColumns.join(', ')}\n`);
        process.stdout.write(`training import into ${corp.slug}: ${importSummary(result)}\n`);
      }),
    );

  training
    .command('status')
    .description("a user's training status per course (their account's and linked employee's records)")
    .requiredOption('--corp <slug>', 'corp')
    .requiredOption('--user <username>', 'Vigil username')
    .option('--course <name>', 'only this course (shows "missing" when there is no record)')
    .action((o: { corp: string; user: string; course?: string }, command: Command) =>
      withCore(command, async (core) => {
        const corp = await corpOf(core, o.corp);
        const service = serviceOf(core);
        const account = await service.findAccount(o.user);
        if (!account) throw new Error(`user ${o.user} not found`);
        const statuses = await service.statuses(corp.id, account.id, o.course);
        if (statuses.length === 0)
          process.stdout.write(`${account.username}: no training recorded in ${corp.slug}\n`);
        for (const s of statuses) {
          const when = s.expiresAt ? s.expiresAt.toISOString() : null;
          const detail =
            s.state === 'valid'
              ? when
                ? `valid until ${when}`
                : 'valid, no expiry'
              : s.state === 'expired'
                ? `expired ${when}`
                : 'missing';
          process.stdout.write(`${s.course}: ${detail}\n`);
        }
      }),
    );
  return training;
}
