import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditLog } from '../audit/audit-log.js';
import { withTransaction, type Pool, type Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/http/errors.js';
import type { Logger } from '../platform/logging/logger.js';
import { AccessRepository } from './access.repository.js';
import type { AuthService, NewSession, RequestMeta } from './auth.service.js';
import { passwordProblem, type PasswordHasher } from './passwords.js';
import { ROLE_PERMISSIONS, ROLES, type Role } from './permissions.js';

/** The same lock as UsersService.bootstrapAdmin: the two ways to a first administrator never interleave. */
const ADMIN_LOCK = 0x61_64_6d_6e; // "admn"
/** Usernames as UsersService accepts them. */
const USERNAME = /^[a-z0-9][a-z0-9._@-]{1,63}$/;
/** The role the first administrator gets. */
const FIRST_ADMIN_ROLE: Role = 'system_admin';
/** Roles that can manage users: while nobody holds one, the deployment needs its first-run setup. */
export const ADMIN_ROLES: readonly Role[] = ROLES.filter((r) => ROLE_PERMISSIONS[r].includes('users.manage'));
/** The token file in the data directory (mode 0600). */
export const SETUP_TOKEN_FILE = 'setup-token';

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export interface SetupServiceDeps {
  pool: Pool;
  audit: AuditLog;
  auth: AuthService;
  passwords: PasswordHasher;
  dataDir: string;
  logger?: Logger;
}

export interface SetupInput {
  token: string;
  username: string;
  displayName?: string | null;
  password: string;
}

const tokenInvalid = () =>
  new AppError(
    403,
    'setup_token_invalid',
    "the setup token is wrong: use the one in the server's start-up log or in the data directory",
  );
const setupDone = () => new AppError(409, 'setup_done', 'an administrator exists already: sign in instead');

/** True when an enabled account holds a role that manages users. */
async function adminExists(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM users u JOIN role_assignments r ON r.user_id = u.id
       WHERE r.role = ANY($1) AND u.disabled_at IS NULL) AS found`,
    [ADMIN_ROLES],
  );
  return rows[0]!.found;
}

/**
 * First-run setup of a deployment without the demo: while no enabled account can manage users,
 * `vigil serve` issues a one-time token at start-up (shown in its banner, never logged, and
 * written to `<dataDir>/setup-token`, mode 0600), and the console's setup page creates the first
 * administrator with it. Creating the administrator, consuming the token and the audit event
 * are one transaction under the bootstrap lock, so of concurrent attempts exactly one succeeds;
 * once an administrator exists every attempt is refused.
 */
export class SetupService {
  private readonly file: string;

  constructor(private readonly deps: SetupServiceDeps) {
    this.file = join(resolve(deps.dataDir), SETUP_TOKEN_FILE);
  }

  /** Whether the console should offer the setup page: no administrator, and a token was issued. */
  async required(): Promise<boolean> {
    const { rows } = await this.deps.pool.query<{ pending: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE consumed_at IS NULL) AS pending',
    );
    return rows[0]!.pending && !(await adminExists(this.deps.pool));
  }

  /**
   * At start-up: when no administrator exists, issues a token (written to the token file; the
   * caller shows it in the banner) and returns it; otherwise removes leftover tokens and the file and returns undefined.
   * Tokens of other instances stay valid until the first administrator is created.
   */
  async prepare(): Promise<{ token: string; file?: string } | undefined> {
    const issued = await withTransaction(this.deps.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_LOCK]);
      if (await adminExists(client)) {
        await client.query('DELETE FROM setup_tokens');
        return undefined;
      }
      // Every administrator is gone since an earlier setup: that one no longer blocks a new one.
      await client.query('DELETE FROM setup_tokens WHERE consumed_at IS NOT NULL');
      const token = randomBytes(32).toString('base64url');
      await client.query('INSERT INTO setup_tokens (token_hash) VALUES ($1)', [sha256(token)]);
      return token;
    });
    if (issued === undefined) {
      this.removeFile();
      return undefined;
    }
    const file = this.writeFile(issued);
    // The token itself stays out of the log (logs are shipped and kept): the banner and the file
    // carry it.
    this.deps.logger?.warn(
      { file: file ?? null },
      'first-run setup: no administrator exists. Open the console and create one with the setup token ' +
        (file ? `in ${file} (also shown in the start-up banner)` : 'shown in the start-up banner'),
    );
    return { token: issued, ...(file ? { file } : {}) };
  }

  /**
   * Creates the first administrator (system_admin, global) with a setup token and signs them in:
   * the session's stage is `enrol`, because the role requires TOTP.
   */
  async complete(input: SetupInput, meta: RequestMeta, presentedSession?: string): Promise<NewSession> {
    const { pool, audit } = this.deps;
    const username = input.username.trim().toLowerCase();
    const hash = sha256(input.token);
    // Cheap refusals first: nobody without the token makes the server hash a password.
    if (await adminExists(pool)) throw setupDone();
    const known = await pool.query(
      'SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND consumed_at IS NULL',
      [hash],
    );
    if (known.rowCount === 0) return this.refuse(meta, 'token_invalid', tokenInvalid());
    if (!USERNAME.test(username))
      throw new AppError(400, 'validation_failed', 'username: 2–64 of a-z 0-9 . _ @ -');
    const problem = passwordProblem(input.password, username);
    if (problem) throw new AppError(400, 'weak_password', problem);
    const passwordHash = await this.deps.passwords.hash(input.password);

    const user = await withTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_LOCK]);
      if (await adminExists(client)) throw setupDone();
      const repo = new AccessRepository(client);
      if (await repo.findUserByName(username))
        throw new AppError(409, 'already_exists', `user ${username} exists`);
      const created = await repo.insertUser({
        username,
        displayName: input.displayName?.trim() || null,
        corpId: null,
        employeeUserid: null,
        passwordHash,
      });
      const consumed = await client.query(
        `UPDATE setup_tokens SET consumed_at = now(), consumed_by = $2
         WHERE token_hash = $1 AND consumed_at IS NULL RETURNING id`,
        [hash, created.id],
      );
      // Used up meanwhile: the first attempt won (and the check above would refuse this one).
      if (consumed.rowCount === 0) throw tokenInvalid();
      await client.query('DELETE FROM setup_tokens WHERE consumed_at IS NULL');
      const assignment = await repo.assignRole({
        userId: created.id,
        role: FIRST_ADMIN_ROLE,
        corpId: null,
        departmentId: null,
        grantedBy: null,
      });
      await audit.record(client, {
        actor: 'anonymous',
        actorIp: meta.ip,
        action: 'user.setup_admin',
        result: 'allowed',
        resourceType: 'user',
        resourceIds: [created.id],
        details: { username, role: FIRST_ADMIN_ROLE, assignmentId: assignment?.id ?? null },
      });
      return created;
    });
    this.removeFile();
    this.deps.logger?.info({ username }, 'first-run setup: the first administrator was created');
    return this.deps.auth.startVerifiedSession(user, 'password', meta, presentedSession);
  }

  /** Records a refused attempt while setup is open (in its own transaction) and throws `error`. */
  private async refuse(meta: RequestMeta, reason: string, error: AppError): Promise<never> {
    await this.deps.audit.recordStandalone({
      actor: 'anonymous',
      actorIp: meta.ip,
      action: 'user.setup_admin',
      result: 'denied',
      details: { reason },
    });
    throw error;
  }

  /** Writes the token file atomically with mode 0600; a data directory that cannot take it is logged. */
  private writeFile(token: string): string | undefined {
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(resolve(this.deps.dataDir), { recursive: true, mode: 0o700 });
      writeFileSync(temp, `${token}\n`, { mode: 0o600, flag: 'w' });
      chmodSync(temp, 0o600); // in case the file existed with a wider mode
      renameSync(temp, this.file);
      return this.file;
    } catch (err) {
      rmSync(temp, { force: true });
      this.deps.logger?.warn(
        { file: this.file, problem: (err as Error).message },
        'first-run setup: cannot write the setup token file',
      );
      return undefined;
    }
  }

  private removeFile(): void {
    try {
      rmSync(this.file, { force: true });
    } catch {
      // A read-only data directory: the token in it is void anyway.
    }
  }
}
