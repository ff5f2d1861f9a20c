import { Command, InvalidArgumentError } from 'commander';
import type { AccessGrant, GrantAction } from '../access/grants/types.js';
import { GRANT_ACTIONS } from '../access/grants/types.js';
import type { Viewer } from '../access/content/content-access.service.js';
import type { GrantsService } from '../access/grants/grants.service.js';
import { withContentAccess } from './context.js';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function line(g: AccessGrant): string {
  const until = g.validUntil ? ` until ${g.validUntil.toISOString()}` : '';
  return `#${g.id}  ${g.status}${g.breakGlass ? ' (break-glass)' : ''}  ${g.actions.join(',')}  by user #${g.requesterId}${until}  — ${g.reason}`;
}

/** Runs `work` as the `--as` user in the `--corp` corp. */
function inCorp<T>(
  command: Command,
  o: { corp: string; as: string },
  work: (grants: GrantsService, viewer: Viewer, corpId: number) => Promise<T>,
): Promise<T> {
  return withContentAccess(command, o.as, async ({ grants }, viewer, core) => {
    const corp = await core.org.findCorp(o.corp);
    if (!corp) throw new Error(`corp ${o.corp} not found`);
    return work(grants, viewer, corp.id);
  });
}

/** `vigil grants …`: dual-control access grants from the command line (as a Vigil user). */
export function grantsCommand(): Command {
  const grants = new Command('grants').description(
    'access grants: request, approve (by another lead), revoke',
  );
  const corpAndUser = (c: Command) =>
    c
      .requiredOption('--corp <slug>', 'corp slug or id')
      .requiredOption('--as <username>', 'the Vigil user acting');

  corpAndUser(grants.command('list').description('grants: your own, or all of the corp for leads'))
    .option('--status <status>', 'pending | active | expired | rejected | revoked | cancelled')
    .action((o: { corp: string; as: string; status?: AccessGrant['status'] }, command: Command) =>
      inCorp(command, o, async (service, viewer, corpId) => {
        for (const g of await service.list(viewer.principal, corpId, { status: o.status }))
          process.stdout.write(line(g) + '\n');
      }),
    );

  corpAndUser(
    grants.command('request').description('request access beyond your scope; a different lead approves'),
  )
    .requiredOption('--actions <list>', `comma-separated: ${GRANT_ACTIONS.join(', ')}`, list)
    .requiredOption(
      '--reason <text>',
      'why (at least 10 characters; recorded with every read under the grant)',
    )
    .option('--minutes <n>', 'how long the grant lasts once approved', '60')
    .option('--departments <ids>', 'only these department subtrees', list)
    .option('--employees <userids>', 'only conversations of these employees', list)
    .option('--conversations <ids>', 'only these conversations', list)
    .option('--from <date>', 'only messages at or after this time')
    .option('--to <date>', 'only messages before this time')
    .option('--categories <list>', 'sensitive categories the grant opens', list)
    .action(
      (
        o: {
          corp: string;
          as: string;
          actions: string[];
          reason: string;
          minutes: string;
          departments?: string[];
          employees?: string[];
          conversations?: string[];
          from?: string;
          to?: string;
          categories?: string[];
        },
        command: Command,
      ) => {
        const unknown = o.actions.filter((a) => !(GRANT_ACTIONS as readonly string[]).includes(a));
        if (unknown.length) throw new InvalidArgumentError(`--actions: unknown ${unknown.join(', ')}`);
        return inCorp(command, o, async (service, viewer, corpId) => {
          const grant = await service.request(
            viewer.principal,
            corpId,
            {
              actions: o.actions as GrantAction[],
              reason: o.reason,
              durationMinutes: Number(o.minutes),
              departmentIds: o.departments?.map(Number),
              employeeUserids: o.employees,
              conversationIds: o.conversations,
              periodFrom: o.from ? new Date(o.from) : undefined,
              periodTo: o.to ? new Date(o.to) : undefined,
              categories: o.categories ?? [],
            },
            viewer,
          );
          process.stdout.write(
            `requested grant #${grant.id}; a compliance lead other than you must approve it\n`,
          );
        });
      },
    );

  for (const [verb, approve] of [
    ['approve', true],
    ['reject', false],
  ] as const)
    corpAndUser(grants.command(verb).description(`${verb} a pending request (never your own)`))
      .argument('<id>')
      .option('--note <text>', 'a note kept with the decision')
      .action((id: string, o: { corp: string; as: string; note?: string }, command: Command) =>
        inCorp(command, o, async (service, viewer, corpId) => {
          process.stdout.write(
            line(await service.decide(viewer.principal, corpId, id, approve, o.note ?? null, viewer)) + '\n',
          );
        }),
      );

  corpAndUser(grants.command('revoke').description('end a grant: your own, or anyone’s as a lead'))
    .argument('<id>')
    .option('--reason <text>', 'why')
    .action((id: string, o: { corp: string; as: string; reason?: string }, command: Command) =>
      inCorp(command, o, async (service, viewer, corpId) => {
        process.stdout.write(
          line(await service.revoke(viewer.principal, corpId, id, o.reason ?? null, viewer)) + '\n',
        );
      }),
    );
  return grants;
}
