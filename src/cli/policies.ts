import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { Command } from 'commander';
import { openCore, type Core } from '../app.js';
import { AuditLog } from '../audit/audit-log.js';
import { BacktestService, type BacktestResult } from '../detection/store/backtest.service.js';
import { PolicyService, parsePolicySource, type Author } from '../detection/store/policy.service.js';
import type { StoredPolicy } from '../detection/store/policy.repository.js';
import { AppError } from '../platform/http/errors.js';
import { cliLogger, configFrom } from './context.js';
import { createProgress } from './progress.js';

/** The operator running the CLI, as policy history and the audit log name them. */
function cliAuthor(): Author {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep 'unknown'
  }
  return { name: `cli:${user}`, actor: 'system' };
}

async function withCore<T>(command: Command, work: (core: Core) => Promise<T>): Promise<T> {
  const config = configFrom(command);
  const core = await openCore(config, cliLogger(config));
  try {
    return await work(core);
  } catch (e) {
    // A 422 lists every bad rule on its own line; the CLI's one-line error would hide them.
    if (e instanceof AppError && Array.isArray(e.details))
      throw new Error(
        `${e.message.split('\n')[0]}\n${e.details.map((d) => `  - ${describe(d)}`).join('\n')}`,
        {
          cause: e,
        },
      );
    throw e;
  } finally {
    await core.close();
  }
}

function describe(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  const d = detail as { where?: string; path?: string; message?: string };
  return `${d.where ?? ''}${d.path ? ` at ${d.path}` : ''}: ${d.message ?? ''}`;
}

async function corpIdOf(core: Core, slug: string | undefined): Promise<number | null> {
  if (slug === undefined) return null;
  const corp = await core.org.findCorp(slug);
  if (!corp) throw new Error(`corp ${slug} not found`);
  return corp.id;
}

function policyId(value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`policy id must be a number, got "${value}"`);
  return Number(value);
}

function readPolicy(file: string): { document: unknown; source: string } {
  const source = readFileSync(file, 'utf8');
  return { document: parsePolicySource(source), source };
}

function formatPolicy(p: StoredPolicy): string {
  return [
    String(p.id).padStart(5),
    p.enabled ? 'enabled ' : 'disabled',
    `v${p.currentVersion}`.padEnd(4),
    (p.corpId === null ? 'all corps' : `corp ${p.corpId}`).padEnd(10),
    p.key.padEnd(24),
    p.name,
  ].join('  ');
}

function formatResult(r: BacktestResult): string {
  const lines = [
    `${r.messages} message(s) scanned, ${r.hits} hit(s), ${r.findings} finding(s)` +
      (r.unreadable ? `, ${r.unreadable} unreadable` : '') +
      (r.skipped ? `, ${r.skipped} skipped` : ''),
  ];
  if (r.rules.length) lines.push('', 'rule                                  hits  msgs  precision  examples');
  for (const rule of r.rules)
    lines.push(
      `${rule.ruleId.padEnd(36)}  ${String(rule.hits).padStart(4)}  ${String(rule.messages).padStart(4)}  ${(rule.precision === null ? '-' : rule.precision.toFixed(2)).padStart(9)}  ${rule.examples.join(' ')}`,
    );
  if (r.terms.length) lines.push('', 'term                              rule                          hits');
  for (const t of r.terms.slice(0, 50))
    lines.push(`${t.term.slice(0, 32).padEnd(32)}  ${t.ruleId.padEnd(28)}  ${String(t.hits).padStart(4)}`);
  if (r.terms.length > 50) lines.push(`… ${r.terms.length - 50} more term(s) (use --json)`);
  return lines.join('\n');
}

/** `vigil policies`: stored detection policies, templates and back-tests. */
export function policiesCommand(): Command {
  const command = new Command('policies').description(
    'detection policies: list, install templates, enable, back-test',
  );

  command
    .command('list')
    .description('list policies (with --corp: the ones that corp uses)')
    .option('--corp <slug>', 'corp slug or id')
    .option('--json', 'one JSON object per policy')
    .action(async (options: { corp?: string; json?: boolean }, cmd: Command) => {
      await withCore(cmd, async (core) => {
        const corpId = await corpIdOf(core, options.corp);
        const list = await new PolicyService(core.pool).list(corpId ?? undefined);
        for (const p of list)
          process.stdout.write((options.json ? JSON.stringify(p) : formatPolicy(p)) + '\n');
        if (!options.json) process.stdout.write(`${list.length} polic${list.length === 1 ? 'y' : 'ies'}\n`);
      });
    });

  command
    .command('install-templates')
    .description('install the bundled Chinese templates as disabled policies (of a corp, or of all corps)')
    .option('--corp <slug>', 'corp slug or id (default: all corps)')
    .action(async (options: { corp?: string }, cmd: Command) => {
      await withCore(cmd, async (core) => {
        const service = new PolicyService(core.pool, { audit: new AuditLog(core.pool) });
        const r = await service.installTemplates(await corpIdOf(core, options.corp), cliAuthor());
        for (const p of r.installed) process.stdout.write(`installed ${formatPolicy(p)}\n`);
        for (const s of r.skipped) process.stdout.write(`skipped   ${s.template}: ${s.reason}\n`);
        process.stdout.write(
          `${r.installed.length} installed (disabled: enable with \`vigil policies enable ID\`), ${r.skipped.length} skipped\n`,
        );
      });
    });

  for (const action of ['enable', 'disable'] as const)
    command
      .command(`${action} <id>`)
      .description(`${action} a policy (takes effect within seconds in every process)`)
      .action(async (id: string, _options: unknown, cmd: Command) => {
        await withCore(cmd, async (core) => {
          const service = new PolicyService(core.pool, { audit: new AuditLog(core.pool) });
          const p = await service.setEnabled(policyId(id), action === 'enable', cliAuthor());
          process.stdout.write(`${formatPolicy(p)}\n`);
        });
      });

  command
    .command('save')
    .description('save a policy file: a new policy, or a new version of the policy with the same id')
    .requiredOption('--policy <file>', 'policy file (YAML or JSON)')
    .option('--corp <slug>', 'corp slug or id (default: all corps)')
    .option('--comment <text>', 'what changed')
    .action(async (options: { policy: string; corp?: string; comment?: string }, cmd: Command) => {
      await withCore(cmd, async (core) => {
        const { document, source } = readPolicy(options.policy);
        const service = new PolicyService(core.pool, { audit: new AuditLog(core.pool) });
        const corpId = await corpIdOf(core, options.corp);
        const key = (document as { id?: unknown } | null)?.id;
        const existing = (await service.list(corpId)).find((p) => p.key === key && p.corpId === corpId);
        const input = { document, source, comment: options.comment ?? null, author: cliAuthor() };
        const saved = existing
          ? await service.update(existing.id, input)
          : await service.create(corpId, input);
        process.stdout.write(`${formatPolicy(saved)}\n`);
      });
    });

  command
    .command('backtest')
    .description('run a draft policy over a corp’s archive and report hits per rule and term')
    .requiredOption('--policy <file>', 'policy file (YAML or JSON)')
    .requiredOption('--corp <slug>', 'corp slug or id')
    .option('--from <date>', 'messages at or after this time')
    .option('--to <date>', 'messages before this time')
    .option('--sample <n>', 'only the most recent N messages of the range')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  $ vigil policies backtest --policy bribery.yaml --corp demo --from 2026-01-01 --sample 10000\n',
    )
    .action(
      async (
        options: {
          policy: string;
          corp: string;
          from?: string;
          to?: string;
          sample?: string;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        const { document } = readPolicy(options.policy);
        if (options.sample !== undefined && !/^[1-9]\d*$/.test(options.sample))
          throw new Error('--sample must be a positive integer');
        await withCore(cmd, async (core) => {
          const corpId = (await corpIdOf(core, options.corp))!;
          const service = new BacktestService(core.pool, core.archive);
          const backtest = await service.create({
            corpId,
            document,
            scope: {
              from: options.from,
              to: options.to,
              sample: options.sample === undefined ? undefined : Number(options.sample),
            },
            requestedBy: cliAuthor().name,
          });
          const bar = createProgress('backtest');
          let result: BacktestResult;
          try {
            result = await service.run(backtest.id, (p) => bar.update(p.done, p.total, p.message ?? ''));
          } finally {
            bar.stop();
          }
          process.stdout.write(
            options.json
              ? JSON.stringify({ id: backtest.id, ...result }) + '\n'
              : `backtest ${backtest.id}: ${formatResult(result)}\n`,
          );
        });
      },
    );

  return command;
}
