import { Command } from 'commander';
import { openCore } from '../app.js';
import type { SearchHit } from '../archive/archive.service.js';
import { cliLogger, configFrom } from './context.js';

/** `vigil search`: the operators' archive search (goes through the access service once it exists). */
export function searchCommand(): Command {
  return new Command('search')
    .description('search the archive: phrases, AND / OR / NOT, filters')
    .argument('<query>', 'e.g. 回扣, "保本 稳赚", 回扣 AND (返点 OR 好处费) NOT 测试')
    .requiredOption('--corp <slug>', 'corp slug or id')
    .option('--from <date>', 'messages at or after this time')
    .option('--to <date>', 'messages before this time')
    .option('--employee <userid>', 'conversations of this employee')
    .option('--external <id>', 'conversations with this external contact')
    .option('--type <msgtypes>', 'comma-separated message types')
    .option('--limit <n>', 'results', '20')
    .option('--json', 'one JSON object per hit')
    .action(async (query: string, options: Record<string, string | undefined>, command: Command) => {
      const config = configFrom(command);
      const core = await openCore(config, cliLogger(config));
      try {
        const corp = await core.org.findCorp(options.corp!);
        if (!corp) throw new Error(`corp ${options.corp} not found`);
        const page = await core.archive.search(
          corp.id,
          query,
          {
            from: options.from ? new Date(options.from) : undefined,
            to: options.to ? new Date(options.to) : undefined,
            employeeId: options.employee,
            externalContactId: options.external,
            msgtypes: options.type?.split(','),
          },
          { limit: Number(options.limit) },
        );
        for (const hit of page.hits)
          process.stdout.write((options.json ? JSON.stringify(hit) : formatHit(hit)) + '\n');
        if (!options.json)
          process.stdout.write(`${page.hits.length} result(s)${page.next ? ' (more: raise --limit)' : ''}\n`);
      } finally {
        await core.close();
      }
    });
}

function formatHit(hit: SearchHit): string {
  const m = hit.message;
  const head = `${m.msgTime.toISOString()}  ${m.msgid}  ${m.senderId ?? '-'}  ${m.msgtype}`;
  if (m.content.state !== 'ok')
    return `${head}  [${m.content.state === 'destroyed' ? 'destroyed by retention' : 'unreadable'}]`;
  if (!hit.highlight) return head;
  let text = '';
  let at = 0;
  for (const r of hit.highlight.ranges) {
    text +=
      hit.highlight.snippet.slice(at, r.start) + '【' + hit.highlight.snippet.slice(r.start, r.end) + '】';
    at = r.end;
  }
  text += hit.highlight.snippet.slice(at);
  return `${head}\n    ${hit.highlight.truncatedStart ? '…' : ''}${text.replace(/\s+/g, ' ')}${hit.highlight.truncatedEnd ? '…' : ''}`;
}
