import { Command } from 'commander';
import type { ViewedMessage } from '../access/content/present.js';
import { withContentAccess } from './context.js';

/** `vigil search`: archive search as a Vigil user, through the content access service. */
export function searchCommand(): Command {
  return new Command('search')
    .description('search the archive as a user (their scope and grants apply; audited)')
    .argument('<query>', 'e.g. 回扣, "保本 稳赚", 回扣 AND (返点 OR 好处费) NOT 测试')
    .requiredOption('--corp <slug>', 'corp slug or id')
    .requiredOption('--as <username>', 'the Vigil user searching')
    .option('--from <date>', 'messages at or after this time')
    .option('--to <date>', 'messages before this time')
    .option('--employee <userid>', 'conversations of this employee')
    .option('--external <id>', 'conversations with this external contact')
    .option('--type <msgtypes>', 'comma-separated message types')
    .option('--limit <n>', 'results', '20')
    .option('--json', 'one JSON object per hit')
    .action((query: string, options: Record<string, string | undefined>, command: Command) =>
      withContentAccess(command, options.as!, async ({ content }, viewer, core) => {
        const corp = await core.org.findCorp(options.corp!);
        if (!corp) throw new Error(`corp ${options.corp} not found`);
        const page = await content.search(
          viewer,
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
        for (const hit of page.items)
          process.stdout.write((options.json ? JSON.stringify(hit) : formatHit(hit)) + '\n');
        if (!options.json)
          process.stdout.write(
            `${page.items.length} result(s)${page.next ? ' (more: raise --limit)' : ''} · ${page.watermark}\n`,
          );
      }),
    );
}

function formatHit(m: ViewedMessage): string {
  const head = `${m.msgTime.toISOString()}  ${m.msgid}  ${m.senderId ?? '-'}  ${m.msgtype}`;
  if (m.content.state !== 'ok')
    return `${head}  [${m.content.state === 'destroyed' ? 'destroyed by retention' : 'unreadable'}]`;
  const h = m.highlight;
  if (!h) return head;
  let text = '';
  let at = 0;
  for (const r of h.ranges) {
    text += h.snippet.slice(at, r.start) + '【' + h.snippet.slice(r.start, r.end) + '】';
    at = r.end;
  }
  text += h.snippet.slice(at);
  return `${head}\n    ${h.truncatedStart ? '…' : ''}${text.replace(/\s+/g, ' ')}${h.truncatedEnd ? '…' : ''}`;
}
