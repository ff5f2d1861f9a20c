import { userInfo } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { openDatabase } from '../app.js';
import { AuditLog } from '../audit/audit-log.js';
import { accessConfigSchema } from '../access/config.js';
import { PasswordHasher } from '../access/passwords.js';
import { ROLES } from '../access/permissions.js';
import { UsersService, type Acting } from '../access/users.service.js';
import { OrgRepository } from '../org/org.repository.js';
import type { VigilConfig } from '../platform/config/schema.js';
import { cliLogger, configFrom } from './context.js';

/** The CLI operator has shell access to the host: recorded as such, not as a Vigil user. */
const operator = (): Acting => {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (containers): keep 'unknown'.
  }
  return { actor: `cli:${name}` };
};

async function withUsers<T>(
  command: Command,
  work: (users: UsersService, org: OrgRepository) => Promise<T>,
): Promise<T> {
  const config = configFrom(command) as VigilConfig & { access?: unknown };
  const access = accessConfigSchema.parse(config.access ?? {});
  const db = await openDatabase(config, cliLogger(config));
  try {
    const users = new UsersService({
      pool: db.pool,
      audit: new AuditLog(db.pool),
      passwords: new PasswordHasher(access.passwordHashing),
    });
    return await work(users, new OrgRepository(db.pool));
  } finally {
    await db.close();
  }
}

/** `vigil users …`: create users with a role, reset passwords, list. */
export function usersCommand(): Command {
  const users = new Command('users').description('Vigil user accounts and roles');

  users
    .command('create')
    .description('create a user with a role; prints a generated password once')
    .requiredOption('--username <name>', 'login name (a-z 0-9 . _ @ -)')
    .requiredOption('--role <role>', ROLES.join(' | '))
    .option('--corp <slug>', 'corp the role applies to (omit for a global system_admin or auditor)')
    .option('--department <id>', 'limit the role to this department subtree')
    .option('--display-name <name>', 'name shown in the console')
    .option('--employee <userid>', 'the WeCom employee this account belongs to (needs --corp)')
    .action(
      async (
        options: {
          username: string;
          role: string;
          corp?: string;
          department?: string;
          displayName?: string;
          employee?: string;
        },
        command: Command,
      ) => {
        if (!(ROLES as readonly string[]).includes(options.role))
          throw new InvalidArgumentError(`--role: expected one of ${ROLES.join(', ')}`);
        if (options.department && !/^\d+$/.test(options.department))
          throw new InvalidArgumentError('--department: expected a department id');
        if (options.department && !options.corp) throw new InvalidArgumentError('--department needs --corp');
        if (options.employee && !options.corp) throw new InvalidArgumentError('--employee needs --corp');
        await withUsers(command, async (service, org) => {
          let corpId: number | null = null;
          if (options.corp) {
            const corp = await org.findCorp(options.corp);
            if (!corp) throw new Error(`corp ${options.corp} not found`);
            corpId = corp.id;
          }
          const { user, password } = await service.create(operator(), {
            username: options.username,
            displayName: options.displayName ?? null,
            corpId,
            employeeUserid: options.employee ?? null,
            roles: [
              {
                role: options.role,
                corpId,
                departmentId: options.department ? Number(options.department) : null,
              },
            ],
          });
          process.stdout.write(
            `created user ${user.username} (#${user.id}) as ${options.role}${options.corp ? ` in ${options.corp}` : ''}\n`,
          );
          if (password) process.stdout.write(`password (shown once): ${password}\n`);
        });
      },
    );

  users
    .command('reset-password')
    .description('set a new random password (shown once), unlock the account and end its sessions')
    .argument('<username>')
    .action(async (username: string, _options: unknown, command: Command) => {
      await withUsers(command, async (service) => {
        const password = await service.resetPassword(operator(), username);
        process.stdout.write(`new password for ${username} (shown once): ${password}\n`);
      });
    });

  users
    .command('list')
    .description('list users and their roles')
    .action(async (_options: unknown, command: Command) => {
      await withUsers(command, async (service) => {
        for (const u of await service.list()) {
          const roles = u.roles
            .map(
              (r) =>
                `${r.role}${r.corpId === null ? '' : `@corp${r.corpId}`}${r.departmentId === null ? '' : `/dept${r.departmentId}`}`,
            )
            .join(', ');
          const flags = [
            u.disabled ? 'disabled' : '',
            u.locked ? 'locked' : '',
            u.totpEnrolled ? 'totp' : 'no-totp',
          ]
            .filter(Boolean)
            .join(' ');
          process.stdout.write(
            `#${u.id.padEnd(5)} ${u.username.padEnd(24)} ${flags.padEnd(18)} ${roles || '(no roles)'}\n`,
          );
        }
      });
    });

  return users;
}
