import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { decodeMarks } from '../access/content/invisible-mark.js';
import { withCore } from './context.js';

/** `vigil trace FILE`: who copied a leaked snippet (溯源), from the console's invisible copy mark. */
export function traceCommand(): Command {
  return new Command('trace')
    .description('decode the invisible copy mark in a leaked text back to the viewer and time')
    .argument('[file]', 'the leaked text (default: standard input)')
    .action((file: string | undefined, _options: unknown, command: Command) => {
      const text = readFileSync(file ?? 0, 'utf8');
      const marks = decodeMarks(text);
      if (marks.length === 0) {
        process.stderr.write('no intact copy mark found (the text may have been retyped or cleaned)\n');
        process.exitCode = 1;
        return;
      }
      return withCore(command, async (core) => {
        for (const mark of marks) {
          const { rows } = await core.pool.query<{ username: string; display_name: string | null }>(
            'SELECT username, display_name FROM users WHERE id = $1',
            [mark.userId],
          );
          const who = rows[0]
            ? `${rows[0].username}${rows[0].display_name ? ` (${rows[0].display_name})` : ''}`
            : 'unknown user';
          const at = new Date(mark.minute * 60_000).toISOString().slice(0, 16).replace('T', ' ');
          process.stdout.write(`copied by user #${mark.userId} ${who} at ${at} UTC\n`);
        }
      });
    });
}
