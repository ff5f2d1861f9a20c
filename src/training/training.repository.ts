import type { Queryable } from '../platform/db/pool.js';
import { personCompletionsSql, VALID_NOW_SQL } from './training-sql.js';
import type { ImportReject, TrainingCompletion, TrainingSource } from './types.js';

/** A completion ready to store: exactly one of userId and employeeUserid is set. */
export interface CompletionInput {
  userId: string | null;
  employeeUserid: string | null;
  course: string;
  completedAt: Date;
  expiresAt: Date | null;
}

export interface AccountRef {
  id: string;
  username: string;
  corpId: number | null;
  employeeUserid: string | null;
}

interface CompletionRow {
  id: string;
  corp_id: number;
  user_id: string | null;
  username: string | null;
  employee_userid: string | null;
  course: string;
  completed_at: Date;
  expires_at: Date | null;
  source: TrainingSource;
  imported_by: string;
  imported_at: Date;
}

const toCompletion = (r: CompletionRow): TrainingCompletion => ({
  id: r.id,
  corpId: r.corp_id,
  userId: r.user_id,
  username: r.username,
  employeeUserid: r.employee_userid,
  course: r.course,
  completedAt: r.completed_at,
  expiresAt: r.expires_at,
  source: r.source,
  importedBy: r.imported_by,
  importedAt: r.imported_at,
});

/** SQL of training records and imports. */
export class TrainingRepository {
  constructor(private readonly db: Queryable) {}

  async corpTimeZone(corpId: number): Promise<string | undefined> {
    const { rows } = await this.db.query<{ timezone: string }>('SELECT timezone FROM corps WHERE id = $1', [
      corpId,
    ]);
    return rows[0]?.timezone;
  }

  /** Which of these WeCom userids are employees of the corp (left ones included). */
  async knownEmployees(corpId: number, userids: string[]): Promise<Set<string>> {
    if (userids.length === 0) return new Set();
    const { rows } = await this.db.query<{ userid: string }>(
      'SELECT userid FROM employees WHERE corp_id = $1 AND userid = ANY($2::text[])',
      [corpId, userids],
    );
    return new Set(rows.map((r) => r.userid));
  }

  /** Accounts by username (disabled ones included: training history outlives accounts). */
  async accountsByName(usernames: string[]): Promise<Map<string, AccountRef>> {
    if (usernames.length === 0) return new Map();
    const { rows } = await this.db.query<{
      id: string;
      username: string;
      corp_id: number | null;
      employee_userid: string | null;
    }>('SELECT id, username, corp_id, employee_userid FROM users WHERE username = ANY($1::text[])', [
      usernames,
    ]);
    return new Map(
      rows.map((r) => [
        r.username,
        { id: r.id, username: r.username, corpId: r.corp_id, employeeUserid: r.employee_userid },
      ]),
    );
  }

  async createImport(
    corpId: number,
    fileName: string | null,
    source: TrainingSource,
    by: string,
  ): Promise<string> {
    const { rows } = await this.db.query<{ id: string }>(
      `INSERT INTO training_imports (corp_id, file_name, source, imported_by) VALUES ($1, $2, $3, $4)
       RETURNING id`,
      [corpId, fileName, source, by],
    );
    return rows[0]!.id;
  }

  async finishImport(
    id: string,
    counts: { rows: number; accepted: number; inserted: number; updated: number; rejected: number },
    rejects: ImportReject[],
  ): Promise<void> {
    await this.db.query(
      `UPDATE training_imports SET rows = $2, accepted = $3, inserted = $4, updated = $5, rejected = $6,
         rejects = $7::jsonb WHERE id = $1`,
      [
        id,
        counts.rows,
        counts.accepted,
        counts.inserted,
        counts.updated,
        counts.rejected,
        JSON.stringify(rejects),
      ],
    );
  }

  /**
   * Stores completions once: a completion already recorded is left alone, or gets the new expiry
   * when the file corrects it. The batch must not repeat a key.
   */
  async store(
    corpId: number,
    completions: CompletionInput[],
    meta: { importId: string; source: TrainingSource; by: string },
  ): Promise<{ inserted: number; updated: number }> {
    if (completions.length === 0) return { inserted: 0, updated: 0 };
    const { rows } = await this.db.query<{ inserted: boolean }>(
      `INSERT INTO training_completions AS t
         (corp_id, user_id, employee_userid, course, completed_at, expires_at, source, import_id, imported_by)
       SELECT $1, r.user_id, r.employee_userid, r.course, r.completed_at, r.expires_at, $2, $3, $4
       FROM jsonb_to_recordset($5::jsonb)
         AS r(user_id bigint, employee_userid text, course text, completed_at timestamptz, expires_at timestamptz)
       ON CONFLICT ON CONSTRAINT training_completions_once DO UPDATE
         SET expires_at = EXCLUDED.expires_at, import_id = EXCLUDED.import_id,
             imported_by = EXCLUDED.imported_by, imported_at = now()
         WHERE t.expires_at IS DISTINCT FROM EXCLUDED.expires_at
       RETURNING (xmax = 0) AS inserted`,
      [
        corpId,
        meta.source,
        meta.importId,
        meta.by,
        JSON.stringify(
          completions.map((c) => ({
            user_id: c.userId,
            employee_userid: c.employeeUserid,
            course: c.course,
            completed_at: c.completedAt.toISOString(),
            expires_at: c.expiresAt?.toISOString() ?? null,
          })),
        ),
      ],
    );
    const inserted = rows.filter((r) => r.inserted).length;
    return { inserted, updated: rows.length - inserted };
  }

  /** Aggregate of a user's completions of one course: what the status is computed from. */
  async statusOf(
    corpId: number,
    userId: string,
    course: string,
  ): Promise<{
    any: boolean;
    valid: boolean;
    forever: boolean;
    validUntil: Date | null;
    lastExpiry: Date | null;
  }> {
    const { rows } = await this.db.query<{
      any: boolean;
      valid: boolean | null;
      forever: boolean | null;
      valid_until: Date | null;
      last_expiry: Date | null;
    }>(
      `SELECT count(*) > 0 AS any,
         bool_or(${VALID_NOW_SQL()}) AS valid,
         bool_or(${VALID_NOW_SQL()} AND tc.expires_at IS NULL) AS forever,
         max(tc.expires_at) FILTER (WHERE ${VALID_NOW_SQL()}) AS valid_until,
         max(tc.expires_at) AS last_expiry
       FROM training_completions tc
       WHERE ${personCompletionsSql({ corpId: '$1::integer', userId: '$2::bigint' })} AND tc.course = $3`,
      [corpId, userId, course],
    );
    const r = rows[0]!;
    return {
      any: r.any,
      valid: r.valid ?? false,
      forever: r.forever ?? false,
      validUntil: r.valid_until,
      lastExpiry: r.last_expiry,
    };
  }

  /** Courses a user has records of in a corp. */
  async coursesOf(corpId: number, userId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ course: string }>(
      `SELECT DISTINCT tc.course FROM training_completions tc
       WHERE ${personCompletionsSql({ corpId: '$1::integer', userId: '$2::bigint' })} ORDER BY 1`,
      [corpId, userId],
    );
    return rows.map((r) => r.course);
  }

  /** Records of a corp, newest first; of one user (account and linked employee) when given. */
  async list(filter: {
    corpId: number;
    userId?: string;
    course?: string;
    before?: string;
    limit: number;
  }): Promise<TrainingCompletion[]> {
    const { rows } = await this.db.query<CompletionRow>(
      `SELECT tc.id, tc.corp_id, tc.user_id, u.username, tc.employee_userid, tc.course, tc.completed_at,
         tc.expires_at, tc.source, tc.imported_by, tc.imported_at
       FROM training_completions tc LEFT JOIN users u ON u.id = tc.user_id
       WHERE tc.corp_id = $1::integer
         AND ($2::bigint IS NULL OR ${personCompletionsSql({ corpId: '$1::integer', userId: '$2::bigint' })})
         AND ($3::text IS NULL OR tc.course = $3) AND ($4::bigint IS NULL OR tc.id < $4)
       ORDER BY tc.id DESC LIMIT $5`,
      [filter.corpId, filter.userId ?? null, filter.course ?? null, filter.before ?? null, filter.limit],
    );
    return rows.map(toCompletion);
  }

  async findAccount(username: string): Promise<AccountRef | undefined> {
    return (await this.accountsByName([username.toLowerCase()])).get(username.toLowerCase());
  }
}
