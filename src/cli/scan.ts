import { createReadStream } from 'node:fs';
import { Command } from 'commander';
import { compilePolicyFile, listTemplates, loadTemplate, scanJsonl } from '../detection/scan.js';

/** `vigil scan`: runs detection over WeCom-format JSONL and prints one JSON line per hit. */
export function scanCommand(): Command {
  return new Command('scan')
    .description('scan decrypted WeCom-format messages (JSONL) with a policy template or file')
    .option('--template <name>', `bundled template, or "all" (${listTemplates().join(', ')})`)
    .option('--policy <file>', 'policy file (YAML or JSON)')
    .option('--input <file>', 'JSONL input (default: standard input)')
    .addHelpText('after', '\nExample:\n  $ vigil scan --template all --input messages.jsonl > hits.jsonl\n')
    .action(async (options: { template?: string; policy?: string; input?: string }) => {
      if (Boolean(options.template) === Boolean(options.policy))
        throw new Error('give exactly one of --template or --policy');
      const policy = options.policy ? compilePolicyFile(options.policy) : loadTemplate(options.template!);
      const input = options.input ? createReadStream(options.input) : process.stdin;
      const summary = await scanJsonl(input, process.stdout, policy);
      process.stderr.write(
        `scanned ${summary.messages} message(s): ${summary.hits} hit(s), ${summary.errors} bad line(s)\n`,
      );
    });
}
