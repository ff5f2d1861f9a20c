import type { Queryable } from '../platform/db/pool.js';
import { AccessRepository } from './access.repository.js';
import type { Principal } from './types.js';

/**
 * The principal of an operator's CLI command run as a Vigil user (`--as`). Whoever runs the CLI
 * already holds the database and keyring, so this is accountability, not a barrier: every read
 * still passes the content access service, with the user's scope and grants, and is audited
 * under the user with `via: cli`.
 */
export async function cliPrincipal(db: Queryable, username: string): Promise<Principal> {
  const repo = new AccessRepository(db);
  const user = await repo.findUserByName(username.trim().toLowerCase());
  if (!user || user.disabledAt) throw new Error(`user ${username} not found or disabled`);
  return {
    userId: user.id,
    username: user.username,
    actor: `user:${user.id}`,
    via: 'cli',
    stage: 'full',
    roles: await repo.rolesOf(user.id),
    totpEnrolled: Boolean(user.totpEnabledAt),
  };
}
