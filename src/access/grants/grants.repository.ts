import type { Queryable } from '../../platform/db/pool.js';
import type { AccessGrant, CategoryGrant, GrantAction, GrantRequest, GrantStatus } from './types.js';

interface GrantRow {
  id: string;
  corp_id: number;
  requester_id: string;
  actions: GrantAction[];
  department_ids: string[] | null;
  employee_userids: string[] | null;
  conversation_ids: string[] | null;
  period_from: Date | null;
  period_to: Date | null;
  categories: string[];
  reason: string;
  duration_minutes: number;
  status: GrantStatus;
  break_glass: boolean;
  requested_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  decision_note: string | null;
  valid_until: Date | null;
  revoked_by: string | null;
  revoked_at: Date | null;
  revoke_reason: string | null;
  reviewed_by: string | null;
  reviewed_at: Date | null;
  review_outcome: 'justified' | 'unjustified' | null;
  review_note: string | null;
}

const COLUMNS = `id::text, corp_id, requester_id::text, actions, department_ids::text[], employee_userids,
  conversation_ids::text[], period_from, period_to, categories, reason, duration_minutes, status, break_glass,
  requested_at, decided_by::text, decided_at, decision_note, valid_until, revoked_by::text, revoked_at,
  revoke_reason, reviewed_by::text, reviewed_at, review_outcome, review_note`;

function toGrant(r: GrantRow, now = new Date()): AccessGrant {
  return {
    id: r.id,
    corpId: r.corp_id,
    requesterId: r.requester_id,
    actions: r.actions,
    departmentIds: r.department_ids?.map(Number) ?? null,
    employeeUserids: r.employee_userids,
    conversationIds: r.conversation_ids,
    periodFrom: r.period_from,
    periodTo: r.period_to,
    categories: r.categories,
    reason: r.reason,
    durationMinutes: r.duration_minutes,
    status: r.status === 'active' && r.valid_until && r.valid_until <= now ? 'expired' : r.status,
    breakGlass: r.break_glass,
    requestedAt: r.requested_at,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    decisionNote: r.decision_note,
    validUntil: r.valid_until,
    revokedBy: r.revoked_by,
    revokedAt: r.revoked_at,
    revokeReason: r.revoke_reason,
    reviewedBy: r.reviewed_by,
    reviewedAt: r.reviewed_at,
    reviewOutcome: r.review_outcome,
    reviewNote: r.review_note,
  };
}

export interface GrantListFilter {
  requesterId?: string;
  status?: GrantStatus | 'expired';
  breakGlassUnreviewed?: boolean;
}

/** SQL of access grants and category grants. */
export class GrantsRepository {
  constructor(private readonly db: Queryable) {}

  async insert(
    corpId: number,
    requesterId: string,
    request: GrantRequest,
    breakGlass: boolean,
  ): Promise<AccessGrant> {
    const { rows } = await this.db.query<GrantRow>(
      `INSERT INTO access_grants (corp_id, requester_id, actions, department_ids, employee_userids, conversation_ids,
         period_from, period_to, categories, reason, duration_minutes, break_glass, status, valid_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
         CASE WHEN $12 THEN 'active' ELSE 'pending' END,
         CASE WHEN $12 THEN now() + make_interval(mins => $11) END)
       RETURNING ${COLUMNS}`,
      [
        corpId,
        requesterId,
        request.actions,
        request.departmentIds ?? null,
        request.employeeUserids ?? null,
        request.conversationIds ?? null,
        request.periodFrom ?? null,
        request.periodTo ?? null,
        request.categories ?? [],
        request.reason,
        request.durationMinutes,
        breakGlass,
      ],
    );
    return toGrant(rows[0]!);
  }

  /** The grant, locked for a decision when `forUpdate`. */
  async find(corpId: number, id: string, forUpdate = false): Promise<AccessGrant | undefined> {
    const { rows } = await this.db.query<GrantRow>(
      `SELECT ${COLUMNS} FROM access_grants WHERE corp_id = $1 AND id = $2::bigint${forUpdate ? ' FOR UPDATE' : ''}`,
      [corpId, id],
    );
    return rows[0] && toGrant(rows[0]);
  }

  async list(corpId: number, filter: GrantListFilter, limit = 200): Promise<AccessGrant[]> {
    const status = filter.status === 'expired' ? 'active' : (filter.status ?? null);
    const { rows } = await this.db.query<GrantRow>(
      `SELECT ${COLUMNS} FROM access_grants
       WHERE corp_id = $1 AND ($2::bigint IS NULL OR requester_id = $2) AND ($3::text IS NULL OR status = $3)
         AND ($4::boolean IS NULL OR (break_glass AND reviewed_at IS NULL) = $4)
       ORDER BY requested_at DESC, id DESC LIMIT $5`,
      [corpId, filter.requesterId ?? null, status, filter.breakGlassUnreviewed ?? null, limit],
    );
    const grants = rows.map((r) => toGrant(r));
    return filter.status ? grants.filter((g) => g.status === filter.status) : grants;
  }

  /** The requester's grants in force now. */
  async active(corpId: number, requesterId: string): Promise<AccessGrant[]> {
    const { rows } = await this.db.query<GrantRow>(
      `SELECT ${COLUMNS} FROM access_grants
       WHERE corp_id = $1 AND requester_id = $2 AND status = 'active' AND valid_until > now()`,
      [corpId, requesterId],
    );
    return rows.map((r) => toGrant(r));
  }

  async decide(id: string, approve: boolean, deciderId: string, note: string | null): Promise<AccessGrant> {
    const { rows } = await this.db.query<GrantRow>(
      `UPDATE access_grants SET status = $2, decided_by = $3, decided_at = now(), decision_note = $4,
         valid_until = CASE WHEN $2 = 'active' THEN now() + make_interval(mins => duration_minutes) END
       WHERE id = $1::bigint RETURNING ${COLUMNS}`,
      [id, approve ? 'active' : 'rejected', deciderId, note],
    );
    return toGrant(rows[0]!);
  }

  async end(
    id: string,
    status: 'revoked' | 'cancelled',
    by: string,
    reason: string | null,
  ): Promise<AccessGrant> {
    const { rows } = await this.db.query<GrantRow>(
      `UPDATE access_grants SET status = $2, revoked_by = $3, revoked_at = now(), revoke_reason = $4
       WHERE id = $1::bigint RETURNING ${COLUMNS}`,
      [id, status, by, reason],
    );
    return toGrant(rows[0]!);
  }

  async review(
    id: string,
    reviewerId: string,
    outcome: 'justified' | 'unjustified',
    note: string | null,
  ): Promise<AccessGrant> {
    const { rows } = await this.db.query<GrantRow>(
      `UPDATE access_grants SET reviewed_by = $2, reviewed_at = now(), review_outcome = $3, review_note = $4
       WHERE id = $1::bigint RETURNING ${COLUMNS}`,
      [id, reviewerId, outcome, note],
    );
    return toGrant(rows[0]!);
  }

  // Category grants

  async grantCategory(
    corpId: number,
    userId: string,
    category: string,
    grantedBy: string,
    reason: string,
    expiresAt: Date | null,
  ): Promise<CategoryGrant> {
    const { rows } = await this.db.query<CategoryGrantRow>(
      `INSERT INTO category_grants (corp_id, user_id, category, granted_by, reason, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${CATEGORY_COLUMNS}`,
      [corpId, userId, category, grantedBy, reason, expiresAt],
    );
    return toCategoryGrant(rows[0]!);
  }

  async revokeCategory(corpId: number, id: string, by: string): Promise<CategoryGrant | undefined> {
    const { rows } = await this.db.query<CategoryGrantRow>(
      `UPDATE category_grants SET revoked_at = now(), revoked_by = $3
       WHERE corp_id = $1 AND id = $2::bigint AND revoked_at IS NULL RETURNING ${CATEGORY_COLUMNS}`,
      [corpId, id, by],
    );
    return rows[0] && toCategoryGrant(rows[0]);
  }

  async categoryGrants(corpId: number, userId?: string): Promise<CategoryGrant[]> {
    const { rows } = await this.db.query<CategoryGrantRow>(
      `SELECT ${CATEGORY_COLUMNS} FROM category_grants
       WHERE corp_id = $1 AND ($2::bigint IS NULL OR user_id = $2) AND revoked_at IS NULL
         AND (expires_at IS NULL OR expires_at > now())
       ORDER BY granted_at DESC`,
      [corpId, userId ?? null],
    );
    return rows.map(toCategoryGrant);
  }
}

interface CategoryGrantRow {
  id: string;
  corp_id: number;
  user_id: string;
  category: string;
  granted_by: string;
  reason: string;
  granted_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
}

const CATEGORY_COLUMNS =
  'id::text, corp_id, user_id::text, category, granted_by::text, reason, granted_at, expires_at, revoked_at';

const toCategoryGrant = (r: CategoryGrantRow): CategoryGrant => ({
  id: r.id,
  corpId: r.corp_id,
  userId: r.user_id,
  category: r.category,
  grantedBy: r.granted_by,
  reason: r.reason,
  grantedAt: r.granted_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});
