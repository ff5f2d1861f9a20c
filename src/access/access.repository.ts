import type { Queryable } from '../platform/db/pool.js';
import type { Role } from './permissions.js';
import type { ApiToken, RoleAssignment, Session, SessionStage, User } from './types.js';

interface UserRow {
  id: string;
  username: string;
  display_name: string | null;
  corp_id: number | null;
  employee_userid: string | null;
  password_hash: string | null;
  totp_secret: Buffer | null;
  totp_enabled_at: Date | null;
  totp_pending: Buffer | null;
  totp_last_step: string | null;
  failed_attempts: number;
  locked_until: Date | null;
  disabled_at: Date | null;
  created_at: Date;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  corpId: r.corp_id,
  employeeUserid: r.employee_userid,
  passwordHash: r.password_hash,
  totpSecret: r.totp_secret,
  totpEnabledAt: r.totp_enabled_at,
  totpPending: r.totp_pending,
  totpLastStep: r.totp_last_step === null ? null : Number(r.totp_last_step),
  failedAttempts: r.failed_attempts,
  lockedUntil: r.locked_until,
  disabledAt: r.disabled_at,
  createdAt: r.created_at,
});

interface AssignmentRow {
  id: string;
  user_id: string;
  role: Role;
  corp_id: number | null;
  department_id: string | null;
}

const toAssignment = (r: AssignmentRow): RoleAssignment => ({
  id: r.id,
  userId: r.user_id,
  role: r.role,
  corpId: r.corp_id,
  departmentId: r.department_id === null ? null : Number(r.department_id),
});

interface SessionRow {
  id: string;
  user_id: string;
  stage: SessionStage;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  ended_at: Date | null;
}

const toSession = (r: SessionRow): Session => ({
  id: r.id,
  userId: r.user_id,
  stage: r.stage,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
  endedAt: r.ended_at,
});

interface TokenRow {
  id: string;
  user_id: string;
  name: string;
  hint: string;
  permissions: string[];
  corp_id: number | null;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}

const toToken = (r: TokenRow): ApiToken => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  hint: r.hint,
  permissions: r.permissions,
  corpId: r.corp_id,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  createdAt: r.created_at,
});

/** SQL for users, role assignments, sessions, API tokens and sign-in attempts. */
export class AccessRepository {
  constructor(private readonly db: Queryable) {}

  // Users

  async findUserByName(username: string): Promise<User | undefined> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  async findUser(id: string): Promise<User | undefined> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  /** Locks the user's row for the rest of the transaction (sign-in counters, TOTP step). */
  async lockUser(id: string): Promise<User | undefined> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users WHERE id = $1 FOR UPDATE', [id]);
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  async listUsers(): Promise<User[]> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users ORDER BY id');
    return rows.map(toUser);
  }

  async insertUser(u: {
    username: string;
    displayName: string | null;
    corpId: number | null;
    employeeUserid: string | null;
    passwordHash: string | null;
  }): Promise<User> {
    const { rows } = await this.db.query<UserRow>(
      `INSERT INTO users (username, display_name, corp_id, employee_userid, password_hash, password_changed_at)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $5::text IS NULL THEN NULL ELSE now() END) RETURNING *`,
      [u.username, u.displayName, u.corpId, u.employeeUserid, u.passwordHash],
    );
    return toUser(rows[0]!);
  }

  async setPassword(userId: string, passwordHash: string): Promise<void> {
    await this.db.query(
      `UPDATE users SET password_hash = $2, password_changed_at = now(), failed_attempts = 0, locked_until = NULL
       WHERE id = $1`,
      [userId, passwordHash],
    );
  }

  async setDisabled(userId: string, disabled: boolean): Promise<void> {
    await this.db.query(
      'UPDATE users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) ELSE NULL END WHERE id = $1',
      [userId, disabled],
    );
  }

  async recordFailure(userId: string, lockedUntil: Date | null): Promise<void> {
    await this.db.query(
      'UPDATE users SET failed_attempts = failed_attempts + 1, locked_until = $2 WHERE id = $1',
      [userId, lockedUntil],
    );
  }

  async resetFailures(userId: string): Promise<void> {
    await this.db.query('UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1', [userId]);
  }

  async setPendingTotp(userId: string, sealed: Buffer | null): Promise<void> {
    await this.db.query('UPDATE users SET totp_pending = $2 WHERE id = $1', [userId, sealed]);
  }

  async enableTotp(userId: string, sealed: Buffer, step: number): Promise<void> {
    await this.db.query(
      `UPDATE users SET totp_secret = $2, totp_enabled_at = now(), totp_pending = NULL, totp_last_step = $3
       WHERE id = $1`,
      [userId, sealed, step],
    );
  }

  /** Compare-and-set of the last used time step: false when the step was already used. */
  async useTotpStep(userId: string, step: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE users SET totp_last_step = $2
       WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`,
      [userId, step],
    );
    return rowCount === 1;
  }

  async anyUserWithRole(role: Role): Promise<{ username: string } | undefined> {
    const { rows } = await this.db.query<{ username: string }>(
      `SELECT u.username FROM users u JOIN role_assignments r ON r.user_id = u.id
       WHERE r.role = $1 AND u.disabled_at IS NULL ORDER BY u.id LIMIT 1`,
      [role],
    );
    return rows[0];
  }

  // Roles

  async rolesOf(userId: string): Promise<RoleAssignment[]> {
    const { rows } = await this.db.query<AssignmentRow>(
      'SELECT id, user_id, role, corp_id, department_id FROM role_assignments WHERE user_id = $1 ORDER BY id',
      [userId],
    );
    return rows.map(toAssignment);
  }

  async rolesOfUsers(userIds: string[]): Promise<RoleAssignment[]> {
    const { rows } = await this.db.query<AssignmentRow>(
      'SELECT id, user_id, role, corp_id, department_id FROM role_assignments WHERE user_id = ANY($1) ORDER BY id',
      [userIds],
    );
    return rows.map(toAssignment);
  }

  async assignRole(a: {
    userId: string;
    role: Role;
    corpId: number | null;
    departmentId: number | null;
    grantedBy: string | null;
  }): Promise<RoleAssignment | undefined> {
    const { rows } = await this.db.query<AssignmentRow>(
      `INSERT INTO role_assignments (user_id, role, corp_id, department_id, granted_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING id, user_id, role, corp_id, department_id`,
      [a.userId, a.role, a.corpId, a.departmentId, a.grantedBy],
    );
    return rows[0] ? toAssignment(rows[0]) : undefined;
  }

  async removeRole(userId: string, assignmentId: string): Promise<RoleAssignment | undefined> {
    const { rows } = await this.db.query<AssignmentRow>(
      `DELETE FROM role_assignments WHERE id = $1 AND user_id = $2
       RETURNING id, user_id, role, corp_id, department_id`,
      [assignmentId, userId],
    );
    return rows[0] ? toAssignment(rows[0]) : undefined;
  }

  /** True when `departmentId` is one of `roots` or lies below one of them. */
  async departmentWithin(corpId: number, departmentId: number, roots: number[]): Promise<boolean> {
    if (roots.length === 0) return false;
    const { rows } = await this.db.query<{ ok: boolean }>(
      `WITH RECURSIVE up AS (
         SELECT id, parent_id, 0 AS depth FROM departments WHERE corp_id = $1 AND id = $2
         UNION ALL
         SELECT d.id, d.parent_id, up.depth + 1 FROM departments d JOIN up ON d.corp_id = $1 AND d.id = up.parent_id
         WHERE up.depth < 64
       )
       SELECT EXISTS (SELECT 1 FROM up WHERE id = ANY($3::bigint[])) AS ok`,
      [corpId, departmentId, roots],
    );
    return rows[0]!.ok;
  }

  /** Corps a user's roles reach (every corp for a global role), for the console's corp switcher. */
  async corpsOfRoles(
    corpIds: Array<number | null>,
  ): Promise<Array<{ id: number; slug: string; name: string }>> {
    const { rows } = await this.db.query<{ id: number; slug: string; name: string }>(
      'SELECT id, slug, name FROM corps WHERE $1::boolean OR id = ANY($2::int[]) ORDER BY id',
      [corpIds.includes(null), corpIds.filter((c): c is number => c !== null)],
    );
    return rows;
  }

  async corpIdOf(idOrSlug: string): Promise<number | undefined> {
    const { rows } = await this.db.query<{ id: number }>(
      'SELECT id FROM corps WHERE slug = $1::text OR id::text = $1::text',
      [idOrSlug],
    );
    return rows[0]?.id;
  }

  // Sessions

  async insertSession(s: {
    tokenHash: Buffer;
    userId: string;
    stage: SessionStage;
    expiresAt: Date;
    ip: string | null;
    userAgent: string | null;
  }): Promise<Session> {
    const { rows } = await this.db.query<SessionRow>(
      `INSERT INTO sessions (token_hash, user_id, stage, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING *`,
      [s.tokenHash, s.userId, s.stage, s.expiresAt, s.ip, s.userAgent],
    );
    return toSession(rows[0]!);
  }

  /** The session with this token hash, with its timeouts evaluated on the database clock. */
  async findSession(
    tokenHash: Buffer,
    idleMinutes: number,
  ): Promise<(Session & { idleExpired: boolean; absoluteExpired: boolean }) | undefined> {
    const { rows } = await this.db.query<SessionRow & { idle: boolean; expired: boolean }>(
      `SELECT *, last_seen_at <= now() - make_interval(mins => $2) AS idle, expires_at <= now() AS expired
       FROM sessions WHERE token_hash = $1`,
      [tokenHash, idleMinutes],
    );
    const r = rows[0];
    return r ? { ...toSession(r), idleExpired: r.idle, absoluteExpired: r.expired } : undefined;
  }

  /** Records activity, at most once a minute per session to spare writes. */
  async touchSession(id: string): Promise<void> {
    await this.db.query(
      "UPDATE sessions SET last_seen_at = now() WHERE id = $1 AND last_seen_at < now() - interval '1 minute'",
      [id],
    );
  }

  async endSession(id: string, reason: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'UPDATE sessions SET ended_at = now(), end_reason = $2 WHERE id = $1 AND ended_at IS NULL',
      [id, reason],
    );
    return rowCount === 1;
  }

  async endUserSessions(userId: string, reason: string, exceptId?: string): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE sessions SET ended_at = now(), end_reason = $2
       WHERE user_id = $1 AND ended_at IS NULL AND ($3::bigint IS NULL OR id <> $3)`,
      [userId, reason, exceptId ?? null],
    );
    return rowCount ?? 0;
  }

  /** Deletes sessions ended (or expired) more than `days` ago, and old sign-in attempts. */
  async prune(days: number): Promise<{ sessions: number; attempts: number }> {
    const sessions = await this.db.query(
      `DELETE FROM sessions WHERE coalesce(ended_at, expires_at) < now() - make_interval(days => $1)`,
      [days],
    );
    const attempts = await this.db.query(
      "DELETE FROM sign_in_attempts WHERE attempted_at < now() - interval '1 day'",
    );
    return { sessions: sessions.rowCount ?? 0, attempts: attempts.rowCount ?? 0 };
  }

  // API tokens

  async insertToken(t: {
    userId: string;
    name: string;
    tokenHash: Buffer;
    hint: string;
    permissions: string[];
    corpId: number | null;
    expiresAt: Date;
  }): Promise<ApiToken> {
    const { rows } = await this.db.query<TokenRow>(
      `INSERT INTO api_tokens (user_id, name, token_hash, hint, permissions, corp_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [t.userId, t.name, t.tokenHash, t.hint, t.permissions, t.corpId, t.expiresAt],
    );
    return toToken(rows[0]!);
  }

  /** The token with this hash, with expiry evaluated on the database clock. */
  async findToken(tokenHash: Buffer): Promise<(ApiToken & { expired: boolean }) | undefined> {
    const { rows } = await this.db.query<TokenRow & { expired: boolean }>(
      'SELECT *, expires_at <= now() AS expired FROM api_tokens WHERE token_hash = $1',
      [tokenHash],
    );
    return rows[0] ? { ...toToken(rows[0]), expired: rows[0].expired } : undefined;
  }

  async tokensOf(userId: string): Promise<ApiToken[]> {
    const { rows } = await this.db.query<TokenRow>(
      'SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY id',
      [userId],
    );
    return rows.map(toToken);
  }

  async getToken(id: string): Promise<ApiToken | undefined> {
    const { rows } = await this.db.query<TokenRow>('SELECT * FROM api_tokens WHERE id = $1', [id]);
    return rows[0] ? toToken(rows[0]) : undefined;
  }

  async revokeToken(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL',
      [id],
    );
    return rowCount === 1;
  }

  async touchToken(id: string): Promise<void> {
    await this.db.query(
      "UPDATE api_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
      [id],
    );
  }

  // Sign-in attempts

  async recordAttempt(ip: string, username: string, succeeded: boolean): Promise<void> {
    await this.db.query('INSERT INTO sign_in_attempts (ip, username, succeeded) VALUES ($1, $2, $3)', [
      ip,
      username,
      succeeded,
    ]);
  }

  /** Failed attempts in the last `minutes` for (ip, username) and for the ip alone. */
  async recentFailures(
    ip: string,
    username: string,
    minutes: number,
  ): Promise<{ account: number; ip: number }> {
    const { rows } = await this.db.query<{ account: string; ip: string }>(
      `SELECT count(*) FILTER (WHERE username = $2) AS account, count(*) AS ip FROM sign_in_attempts
       WHERE ip = $1 AND NOT succeeded AND attempted_at > now() - make_interval(mins => $3)`,
      [ip, username, minutes],
    );
    return { account: Number(rows[0]!.account), ip: Number(rows[0]!.ip) };
  }
}
