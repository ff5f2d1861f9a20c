import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Command } from 'commander';
import { importJsonl } from '../wecom/connector/import.service.js';
import { withCore } from './context.js';
import { createProgress } from './progress.js';

/** `vigil import FILE.jsonl`: migrate decrypted WeCom-format messages from another archiver. */
export function importCommand(): Command {
  return new Command('import')
    .description('import decrypted WeCom-format messages (JSONL), e.g. from another archiver')
    .argument('<file>', 'JSONL file, one WeCom message JSON object per line')
    .requiredOption('--corp <slug>', 'corp slug or id')
    .option('--rejects <file>', 'where lines that are not messages go (default: <file>.rejected.jsonl)')
    .action((file: string, o: { corp: string; rejects?: string }, command: Command) =>
      withCore(command, async (core) => {
        const corp = await core.org.findCorp(o.corp);
        if (!corp) throw new Error(`corp ${o.corp} not found`);
        const rejectsPath = o.rejects ?? `${file}.rejected.jsonl`;
        const rejects = createWriteStream(rejectsPath);
        const progress = createProgress('importing');
        const report = await importJsonl(
          core.archive,
          corp.id,
          createReadStream(file),
          (r) => void rejects.write(JSON.stringify(r) + '\n'),
          (r) => progress.update(r.lines, undefined, `${r.imported} imported, ${r.duplicates} duplicates`),
        );
        progress.stop();
        rejects.end();
        await once(rejects, 'close');
        process.stdout.write(
          `${report.lines} line(s): ${report.imported} imported, ${report.duplicates} already archived, ` +
            `${report.rejected} rejected${report.rejected ? ` (see ${rejectsPath})` : ''}\n`,
        );
      }),
    );
}

/** `vigil export`: a conversation or time range as decrypted WeCom-format JSONL, oldest first. */
export function exportCommand(): Command {
  return new Command('export')
    .description('export messages as WeCom-format JSONL (decrypted), oldest first')
    .requiredOption('--corp <slug>', 'corp slug or id')
    .option('--conversation <id>', 'only this conversation')
    .option('--from <date>', 'messages at or after this time')
    .option('--to <date>', 'messages before this time')
    .option('--output <file>', 'write here instead of standard output')
    .action(
      (
        o: { corp: string; conversation?: string; from?: string; to?: string; output?: string },
        command: Command,
      ) =>
        withCore(command, async (core) => {
          const corp = await core.org.findCorp(o.corp);
          if (!corp) throw new Error(`corp ${o.corp} not found`);
          const out = o.output ? createWriteStream(o.output) : process.stdout;
          let cursor: string | undefined;
          let written = 0;
          let unreadable = 0;
          do {
            const page = await core.archive.search(
              corp.id,
              '',
              {
                conversationId: o.conversation,
                from: o.from ? new Date(o.from) : undefined,
                to: o.to ? new Date(o.to) : undefined,
                ascending: true,
              },
              { cursor, limit: 500 },
            );
            for (const { message } of page.hits) {
              if (message.content.state !== 'ok') {
                unreadable++;
                continue;
              }
              if (!out.write(message.content.raw + '\n')) await once(out, 'drain');
              written++;
            }
            cursor = page.next ?? undefined;
          } while (cursor);
          if (o.output) {
            (out as ReturnType<typeof createWriteStream>).end();
            await once(out, 'close');
          }
          process.stderr.write(
            `exported ${written} message(s)${unreadable ? `; ${unreadable} destroyed or unreadable skipped` : ''}\n`,
          );
        }),
    );
}
