import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Command } from 'commander';
import { importJsonl } from '../wecom/connector/import.service.js';
import { withContentAccess, withCore } from './context.js';
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

/** `vigil export`: messages under an export grant as WeCom-format JSONL, oldest first. */
export function exportCommand(): Command {
  return new Command('export')
    .description(
      'export messages under an approved export grant (JSONL, masked and watermarked as the user sees them)',
    )
    .requiredOption('--corp <slug>', 'corp slug or id')
    .requiredOption('--as <username>', 'the Vigil user exporting (the grant’s requester)')
    .requiredOption('--grant <id>', 'the active export grant')
    .option('--conversation <id>', 'only this conversation')
    .option('--from <date>', 'messages at or after this time')
    .option('--to <date>', 'messages before this time')
    .option('--output <file>', 'write here instead of standard output')
    .action(
      (
        o: {
          corp: string;
          as: string;
          grant: string;
          conversation?: string;
          from?: string;
          to?: string;
          output?: string;
        },
        command: Command,
      ) =>
        withContentAccess(command, o.as, async ({ content }, viewer, core) => {
          const corp = await core.org.findCorp(o.corp);
          if (!corp) throw new Error(`corp ${o.corp} not found`);
          const out = o.output ? createWriteStream(o.output) : process.stdout;
          const progress = createProgress('exporting');
          let written = 0;
          for await (const line of content.export(viewer, corp.id, o.grant, {
            conversationId: o.conversation,
            from: o.from ? new Date(o.from) : undefined,
            to: o.to ? new Date(o.to) : undefined,
          })) {
            if (!out.write(line)) await once(out, 'drain');
            progress.update(++written);
          }
          progress.stop();
          if (o.output) {
            (out as ReturnType<typeof createWriteStream>).end();
            await once(out, 'close');
          }
          process.stderr.write(`exported ${written} message(s)\n`);
        }),
    );
}
