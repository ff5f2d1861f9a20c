import { withTransaction, type Pool, type PoolClient } from '../platform/db/pool.js';
import { AppError, forbidden, notFound } from '../platform/http/errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import { AccessRepository } from './access.repository.js';
import { passwordProblem, randomPassword, type PasswordHasher } from './passwords.js';
import { ROLES, isRole, roleConflict, type Role } from './permissions.js';
import { grantsFor } from './scope.js';
import type { Principal, RoleAssignment, User } from './types.js';

/** Who changes users: a signed-in administrator, or the operator at the CLI (`principal` absent). */
export interface Acting {
  actor: string;
  ip?: string | null;
  principal?: Principal;
}

export interface RoleInput {
  role: string;
  corpId: number | null;
  departmentId?: number | null;
}

export interface UserView {
  id: string;
  username: string;
  displayName: string | null;
  corpId: number | null;
  employeeUserid: string | null;
  totpEnrolled: boolean;
  disabled: boolean;
  locked: boolean;
  createdAt: Date;
  roles: Omit<RoleAssignment, 'userId'>[];
}

/** The one way users leave the module: no hashes, secrets or counters. */
export function presentUser(u: User, roles: RoleAssignment[]): UserView {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    corpId: u.corpId,
    employeeUserid: u.employeeUserid,
    totpEnrolled: Boolean(u.totpEnabledAt),
    disabled: Boolean(u.disabledAt),
    locked: Boolean(u.lockedUntil && u.lockedUntil > new Date()),
    createdAt: u.createdAt,
    roles: roles.filter((r) => r.userId === u.id).map(({ userId: _userId, ...r }) => r),
  };
}

const USERNAME = /^[a-z0-9][a-z0-9._@-]{1,63}$/;

/** User administration: accounts, passwords, roles (with separation of duties), disabling. */
export class UsersService {
  private readonly repo: AccessRepository;

  constructor(private readonly deps: { pool: Pool; audit: AuditLog; passwords: PasswordHasher }) {
    this.repo = new AccessRepository(deps.pool);
  }

  async list(): Promise<UserView[]> {
    const users = await this.repo.listUsers();
    const roles = await this.repo.rolesOfUsers(users.map((u) => u.id));
    return users.map((u) => presentUser(u, roles));
  }

  async get(idOrName: string): Promise<UserView> {
    const user = /^\d+$/.test(idOrName)
      ? await this.repo.findUser(idOrName)
      : await this.repo.findUserByName(idOrName);
    if (!user) throw notFound('user');
    return presentUser(user, await this.repo.rolesOf(user.id));
  }

  /** Creates a user; without a password a random one is generated and returned once. */
  async create(
    acting: Acting,
    input: {
      username: string;
      displayName?: string | null;
      password?: string;
      corpId?: number | null;
      employeeUserid?: string | null;
      roles?: RoleInput[];
    },
  ): Promise<{ user: UserView; password?: string }> {
    const username = input.username.trim().toLowerCase();
    if (!USERNAME.test(username))
      throw new AppError(400, 'validation_failed', 'username: 2–64 of a-z 0-9 . _ @ -');
    const generated = input.password === undefined ? randomPassword() : undefined;
    const password = input.password ?? generated!;
    const problem = passwordProblem(password, username);
    if (problem) throw new AppError(400, 'weak_password', problem);
    for (const r of input.roles ?? []) this.checkMayGrant(acting, r);
    const hash = await this.deps.passwords.hash(password);
    return withTransaction(this.deps.pool, async (client) => {
      const repo = new AccessRepository(client);
      if (await repo.findUserByName(username))
        throw new AppError(409, 'already_exists', `user ${username} exists`);
      if (input.employeeUserid) {
        if (input.corpId == null)
          throw new AppError(400, 'validation_failed', 'an employee link needs the corp of the employee');
        const known = await client.query('SELECT 1 FROM employees WHERE corp_id = $1 AND userid = $2', [
          input.corpId,
          input.employeeUserid,
        ]);
        if (known.rowCount === 0)
          throw new AppError(
            400,
            'unknown_employee',
            `no employee ${input.employeeUserid} in this corp: sync the organisation from WeCom first`,
          );
      }
      const user = await repo.insertUser({
        username,
        displayName: input.displayName ?? null,
        corpId: input.employeeUserid ? (input.corpId ?? null) : null,
        employeeUserid: input.employeeUserid ?? null,
        passwordHash: hash,
      });
      await this.deps.audit.record(client, {
        actor: acting.actor,
        actorIp: acting.ip,
        action: 'user.create',
        result: 'allowed',
        resourceType: 'user',
        resourceIds: [user.id],
        details: { username },
      });
      for (const r of input.roles ?? []) await this.assignIn(client, acting, user.id, r);
      return {
        user: presentUser(user, await repo.rolesOf(user.id)),
        ...(generated ? { password: generated } : {}),
      };
    });
  }

  private checkMayGrant(acting: Acting, r: RoleInput): void {
    if (!isRole(r.role))
      throw new AppError(400, 'validation_failed', `unknown role ${r.role}; roles: ${ROLES.join(', ')}`);
    if (r.departmentId != null && r.corpId === null)
      throw new AppError(400, 'validation_failed', 'a department needs a corp');
    if (!acting.principal) return;
    // A corp's administrator manages that corp's roles only; global roles need a global grant.
    const ok = grantsFor(acting.principal, 'users.manage').some(
      (g) => g.departmentId === null && (g.corpId === null || g.corpId === r.corpId),
    );
    if (!ok) throw forbidden('you may not grant roles in that corp');
  }

  private async assignIn(
    client: PoolClient,
    acting: Acting,
    userId: string,
    r: RoleInput,
  ): Promise<RoleAssignment> {
    const repo = new AccessRepository(client);
    this.checkMayGrant(acting, r);
    if (acting.principal?.userId === userId) throw forbidden('you may not change your own roles');
    const role = r.role as Role;
    for (const existing of await repo.rolesOf(userId)) {
      const conflict = roleConflict(existing.role, role);
      if (conflict) throw new AppError(409, 'separation_of_duties', conflict);
    }
    const assignment = await repo.assignRole({
      userId,
      role,
      corpId: r.corpId,
      departmentId: r.departmentId ?? null,
      grantedBy: acting.principal?.userId ?? null,
    });
    if (!assignment) throw new AppError(409, 'already_exists', 'the user already has that role there');
    await this.deps.audit.record(client, {
      actor: acting.actor,
      actorIp: acting.ip,
      corpId: r.corpId,
      action: 'role.assign',
      result: 'allowed',
      resourceType: 'user',
      resourceIds: [userId],
      details: { role, corpId: r.corpId, departmentId: r.departmentId ?? null, assignmentId: assignment.id },
    });
    return assignment;
  }

  async assignRole(acting: Acting, userId: string, r: RoleInput): Promise<RoleAssignment> {
    return withTransaction(this.deps.pool, async (client) => {
      if (!(await new AccessRepository(client).lockUser(userId))) throw notFound('user');
      return this.assignIn(client, acting, userId, r);
    });
  }

  async removeRole(acting: Acting, userId: string, assignmentId: string): Promise<void> {
    if (acting.principal?.userId === userId) throw forbidden('you may not change your own roles');
    await withTransaction(this.deps.pool, async (client) => {
      const repo = new AccessRepository(client);
      const existing = (await repo.rolesOf(userId)).find((r) => r.id === assignmentId);
      if (!existing) throw notFound('role assignment');
      this.checkMayGrant(acting, existing);
      await repo.removeRole(userId, assignmentId);
      await this.deps.audit.record(client, {
        actor: acting.actor,
        actorIp: acting.ip,
        corpId: existing.corpId,
        action: 'role.remove',
        result: 'allowed',
        resourceType: 'user',
        resourceIds: [userId],
        details: { role: existing.role, corpId: existing.corpId, departmentId: existing.departmentId },
      });
    });
  }

  /** Disables (ending every session; tokens stop working) or re-enables an account. */
  async setDisabled(acting: Acting, userId: string, disabled: boolean): Promise<void> {
    if (acting.principal?.userId === userId) throw forbidden('you may not disable your own account');
    await withTransaction(this.deps.pool, async (client) => {
      const repo = new AccessRepository(client);
      if (!(await repo.lockUser(userId))) throw notFound('user');
      await repo.setDisabled(userId, disabled);
      const ended = disabled ? await repo.endUserSessions(userId, 'account_disabled') : 0;
      await this.deps.audit.record(client, {
        actor: acting.actor,
        actorIp: acting.ip,
        action: disabled ? 'user.disable' : 'user.enable',
        result: 'allowed',
        resourceType: 'user',
        resourceIds: [userId],
        details: disabled ? { sessionsEnded: ended } : {},
      });
    });
  }

  /** Ends every session of a user (ASVS 5.0 V7.4.5: administrators can terminate sessions). */
  async endSessions(acting: Acting, userId: string): Promise<number> {
    return withTransaction(this.deps.pool, async (client) => {
      const ended = await new AccessRepository(client).endUserSessions(userId, 'ended_by_admin');
      await this.deps.audit.record(client, {
        actor: acting.actor,
        actorIp: acting.ip,
        action: 'user.sign_out',
        result: 'allowed',
        resourceType: 'user',
        resourceIds: [userId],
        details: { sessions: ended },
      });
      return ended;
    });
  }

  /** Sets a new random password (returned once), unlocks the account and ends its sessions. */
  async resetPassword(acting: Acting, username: string): Promise<string> {
    const user = await this.repo.findUserByName(username.trim().toLowerCase());
    if (!user) throw notFound('user');
    const password = randomPassword();
    const hash = await this.deps.passwords.hash(password);
    await withTransaction(this.deps.pool, async (client) => {
      const repo = new AccessRepository(client);
      await repo.setPassword(user.id, hash);
      await repo.endUserSessions(user.id, 'password_reset');
      await this.deps.audit.record(client, {
        actor: acting.actor,
        actorIp: acting.ip,
        action: 'user.reset_password',
        result: 'allowed',
        resourceType: 'user',
        resourceIds: [user.id],
      });
    });
    return password;
  }

  /**
   * Creates the first system administrator (`admin`, global, random password returned once)
   * when no enabled system_admin exists. Safe when several instances start at once.
   */
  async bootstrapAdmin(): Promise<{ username: string; password?: string }> {
    const hashPromise = (async () => {
      const password = randomPassword();
      return { password, hash: await this.deps.passwords.hash(password) };
    })();
    return withTransaction(this.deps.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [0x61_64_6d_6e]); // "admn"
      const repo = new AccessRepository(client);
      const existing = await repo.anyUserWithRole('system_admin');
      if (existing) return { username: existing.username };
      const { password, hash } = await hashPromise;
      let username = 'admin';
      for (let i = 2; await repo.findUserByName(username); i++) username = `admin${i}`;
      const user = await repo.insertUser({
        username,
        displayName: 'Administrator',
        corpId: null,
        employeeUserid: null,
        passwordHash: hash,
      });
      await repo.assignRole({
        userId: user.id,
        role: 'system_admin',
        corpId: null,
        departmentId: null,
        grantedBy: null,
      });
      await this.deps.audit.record(client, {
        actor: 'system',
        action: 'user.bootstrap_admin',
        result: 'allowed',
        resourceType: 'user',
        resourceIds: [user.id],
        details: { username, role: 'system_admin' },
      });
      return { username, password };
    });
  }
}
