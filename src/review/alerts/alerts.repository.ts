import type { Queryable } from '../../platform/db/pool.js';
import type { SqlParams } from '../../platform/db/sql-params.js';
import { AppError } from '../../platform/http/errors.js';
import type {
  Alert,
  AlertDraft,
  AlertSource,
  AlertStatus,
  Disposition,
  ReviewQueue,
  Severity,
} from '../types.js';

const QUEUE_COLUMNS = `id::text, corp_id, name, position, policy_ids, categories, department_ids::int[] AS department_ids,
  severities, sources, first_action_hours, resolution_hours, remind_before_hours, confirm_needs_second,
  dual_review_severities`;

interface QueueRow {
  id: string;
  corp_id: number;
  name: string;
  position: number;
  policy_ids: number[] | null;
  categories: string[] | null;
  department_ids: number[] | null;
  severities: ReviewQueue['severities'];
  sources: ReviewQueue['sources'];
  first_action_hours: number;
  resolution_hours: number;
  remind_before_hours: number;
  confirm_needs_second: boolean;
  dual_review_severities: ReviewQueue['dualReviewSeverities'];
}

const toQueue = (r: QueueRow): ReviewQueue => ({
  id: r.id,
  corpId: r.corp_id,
  name: r.name,
  position: r.position,
  policyIds: r.policy_ids,
  categories: r.categories,
  departmentIds: r.department_ids,
  severities: r.severities,
  sources: r.sources,
  firstActionHours: r.first_action_hours,
  resolutionHours: r.resolution_hours,
  remindBeforeHours: r.remind_before_hours,
  confirmNeedsSecond: r.confirm_needs_second,
  dualReviewSeverities: r.dual_review_severities,
});

export const ALERT_COLUMNS = `a.id::text, a.corp_id, a.source, a.conversation_id::text, a.window_start, a.window_end,
  a.category, a.severity, a.rule_ids, a.policy_ids, a.msgids, a.employee_userids, a.priority, a.queue_id::text,
  a.status, a.assignee_id::text, a.first_action_due, a.resolution_due, a.first_action_at, a.reminded_at,
  a.escalated_at, a.breached, a.proposed_disposition, a.proposed_by::text, a.disposition, a.closed_at,
  a.recheck_of::text, a.sampling_run_id::text, a.duplicate_count, a.created_at`;

export interface AlertRow {
  id: string;
  corp_id: number;
  source: Alert['source'];
  conversation_id: string;
  window_start: Date;
  window_end: Date;
  category: string;
  severity: Alert['severity'];
  rule_ids: string[];
  policy_ids: number[];
  msgids: string[];
  employee_userids: string[];
  priority: number;
  queue_id: string | null;
  status: Alert['status'];
  assignee_id: string | null;
  first_action_due: Date;
  resolution_due: Date;
  first_action_at: Date | null;
  reminded_at: Date | null;
  escalated_at: Date | null;
  breached: boolean;
  proposed_disposition: Disposition | null;
  proposed_by: string | null;
  disposition: Disposition | null;
  closed_at: Date | null;
  recheck_of: string | null;
  sampling_run_id: string | null;
  duplicate_count: number;
  created_at: Date;
}

export const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  corpId: r.corp_id,
  source: r.source,
  conversationId: r.conversation_id,
  windowStart: r.window_start,
  windowEnd: r.window_end,
  category: r.category,
  severity: r.severity,
  ruleIds: r.rule_ids,
  policyIds: r.policy_ids,
  msgids: r.msgids,
  employeeUserids: r.employee_userids,
  priority: r.priority,
  queueId: r.queue_id,
  status: r.status,
  assigneeId: r.assignee_id,
  firstActionDue: r.first_action_due,
  resolutionDue: r.resolution_due,
  firstActionAt: r.first_action_at,
  remindedAt: r.reminded_at,
  escalatedAt: r.escalated_at,
  breached: r.breached,
  proposedDisposition: r.proposed_disposition,
  proposedBy: r.proposed_by,
  disposition: r.disposition,
  closedAt: r.closed_at,
  recheckOf: r.recheck_of,
  samplingRunId: r.sampling_run_id,
  duplicateCount: r.duplicate_count,
  createdAt: r.created_at,
});

/** Where an open alert stands against its deadlines (null once closed). */
export type SlaState = 'overdue' | 'due_soon' | 'on_track';

/** An alert as the queue lists it: with its SLA state, computed by the database's clock. */
export interface ListedAlert extends Alert {
  slaState: SlaState | null;
}

/** The queue's filters, resolved (`assignee` is a user id or 'none'). */
export interface AlertListFilters {
  queueId?: string;
  status?: AlertStatus[];
  severity?: Severity[];
  category?: string[];
  source?: AlertSource;
  assignee?: string;
  sla?: 'overdue' | 'due_soon';
}

export interface AlertPage {
  items: ListedAlert[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
  /** Alerts matching the same filters (all pages). */
  total: number;
  /** False when counting stopped at TOTAL_CAP: `total` is then a lower bound. */
  totalExact: boolean;
}

/** Counting stops here, so the total stays cheap on a corp with millions of alerts. */
export const TOTAL_CAP = 1_000_000;

// The queue's order, as one row of expressions: unclosed first, highest priority, earliest
// resolution deadline, id. Index review_alerts_queue_order (migration 0061) has exactly these.
const ORDER_KEY = `(a.status = 'closed'), -a.priority, a.resolution_due, a.id`;

// The reminder window is the queue's (4 h without one), as in sla.ts.
const REMIND = `make_interval(hours => coalesce(q.remind_before_hours, 4))`;
const OVERDUE = `(a.breached OR a.resolution_due <= now() OR (a.first_action_at IS NULL AND a.first_action_due <= now()))`;
const DUE_SOON = `(a.resolution_due <= now() + ${REMIND}
  OR (a.first_action_at IS NULL AND a.first_action_due <= now() + ${REMIND}))`;
const SLA_STATE = `CASE WHEN a.status = 'closed' THEN NULL WHEN ${OVERDUE} THEN 'overdue'
  WHEN ${DUE_SOON} THEN 'due_soon' ELSE 'on_track' END`;
const FROM = `review_alerts a LEFT JOIN review_queues q ON q.corp_id = a.corp_id AND q.id = a.queue_id`;

/** A position in the queue's order: the last row of a page. */
interface Cursor {
  closed: boolean;
  priority: number;
  /** resolution_due to the microsecond (a JS Date would lose them), UTC. */
  due: string;
  id: string;
}

const DUE_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.closed ? 1 : 0, c.priority, c.due, c.id])).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    (parsed[0] !== 0 && parsed[0] !== 1) ||
    typeof parsed[1] !== 'number' ||
    !Number.isFinite(parsed[1]) ||
    typeof parsed[2] !== 'string' ||
    !DUE_TEXT.test(parsed[2]) ||
    typeof parsed[3] !== 'string' ||
    !/^\d{1,19}$/.test(parsed[3])
  )
    throw new AppError(400, 'invalid_cursor', 'the cursor is not one this API returned');
  return { closed: parsed[0] === 1, priority: parsed[1], due: parsed[2], id: parsed[3] };
}

/** SQL of queues and alerts. */
export class AlertsRepository {
  constructor(private readonly db: Queryable) {}

  async queues(corpId: number): Promise<ReviewQueue[]> {
    const { rows } = await this.db.query<QueueRow>(
      `SELECT ${QUEUE_COLUMNS} FROM review_queues WHERE corp_id = $1 ORDER BY position, id`,
      [corpId],
    );
    return rows.map(toQueue);
  }

  async queue(corpId: number, id: string): Promise<ReviewQueue | undefined> {
    const { rows } = await this.db.query<QueueRow>(
      `SELECT ${QUEUE_COLUMNS} FROM review_queues WHERE corp_id = $1 AND id = $2::bigint`,
      [corpId, id],
    );
    return rows[0] && toQueue(rows[0]);
  }

  async upsertQueue(corpId: number, q: Omit<ReviewQueue, 'id' | 'corpId'>): Promise<ReviewQueue> {
    const { rows } = await this.db.query<QueueRow>(
      `INSERT INTO review_queues (corp_id, name, position, policy_ids, categories, department_ids, severities, sources,
         first_action_hours, resolution_hours, remind_before_hours, confirm_needs_second, dual_review_severities)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (corp_id, name) DO UPDATE SET position = EXCLUDED.position, policy_ids = EXCLUDED.policy_ids,
         categories = EXCLUDED.categories, department_ids = EXCLUDED.department_ids, severities = EXCLUDED.severities,
         sources = EXCLUDED.sources, first_action_hours = EXCLUDED.first_action_hours,
         resolution_hours = EXCLUDED.resolution_hours, remind_before_hours = EXCLUDED.remind_before_hours,
         confirm_needs_second = EXCLUDED.confirm_needs_second, dual_review_severities = EXCLUDED.dual_review_severities
       RETURNING ${QUEUE_COLUMNS}`,
      [
        corpId,
        q.name,
        q.position,
        q.policyIds,
        q.categories,
        q.departmentIds,
        q.severities,
        q.sources,
        q.firstActionHours,
        q.resolutionHours,
        q.remindBeforeHours,
        q.confirmNeedsSecond,
        q.dualReviewSeverities,
      ],
    );
    return toQueue(rows[0]!);
  }

  /** The departments of these employees and all their ancestors. */
  async departmentsWithAncestors(corpId: number, userids: string[]): Promise<Set<number>> {
    if (userids.length === 0) return new Set();
    const { rows } = await this.db.query<{ id: string }>(
      `WITH RECURSIVE up AS (
         SELECT d.id, d.parent_id, 0 AS depth FROM employees e
         JOIN departments d ON d.corp_id = e.corp_id AND d.id = ANY (e.department_ids)
         WHERE e.corp_id = $1 AND e.userid = ANY ($2::text[])
         UNION
         SELECT d.id, d.parent_id, up.depth + 1 FROM departments d JOIN up ON d.corp_id = $1 AND d.id = up.parent_id
         WHERE up.depth < 64
       )
       SELECT DISTINCT id::text FROM up`,
      [corpId, userids],
    );
    return new Set(rows.map((r) => Number(r.id)));
  }

  /** Measured precision per rule: null while a rule has fewer than `minDecisions` decided alerts. */
  async rulePrecisions(
    corpId: number,
    ruleIds: string[],
    minDecisions = 5,
  ): Promise<Map<string, number | null>> {
    const { rows } = await this.db.query<{ rule_id: string; decided: number; confirmed: number }>(
      `SELECT rule_id, count(*)::int AS decided, count(*) FILTER (WHERE confirmed)::int AS confirmed
       FROM detection_rule_dispositions WHERE corp_id = $1 AND rule_id = ANY ($2::text[]) GROUP BY rule_id`,
      [corpId, ruleIds],
    );
    const out = new Map<string, number | null>(ruleIds.map((r) => [r, null]));
    for (const r of rows) out.set(r.rule_id, r.decided >= minDecisions ? r.confirmed / r.decided : null);
    return out;
  }

  async insert(
    corpId: number,
    draft: AlertDraft & { priority: number },
    queue: ReviewQueue | undefined,
    sla: { firstActionHours: number; resolutionHours: number },
  ): Promise<Alert> {
    const { rows } = await this.db.query<AlertRow>(
      `INSERT INTO review_alerts AS a (corp_id, source, conversation_id, window_start, window_end, category, severity,
         rule_ids, policy_ids, msgids, employee_userids, priority, queue_id, first_action_due, resolution_due,
         recheck_of, sampling_run_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
         now() + make_interval(hours => $14), now() + make_interval(hours => $15), $16, $17)
       RETURNING ${ALERT_COLUMNS}`,
      [
        corpId,
        draft.source,
        draft.conversationId,
        draft.windowStart,
        draft.windowEnd,
        draft.category,
        draft.severity,
        draft.ruleIds ?? [],
        draft.policyIds ?? [],
        draft.msgids ?? [],
        draft.employeeUserids,
        draft.priority,
        queue?.id ?? null,
        sla.firstActionHours,
        sla.resolutionHours,
        draft.recheckOf ?? null,
        draft.samplingRunId ?? null,
      ],
    );
    return toAlert(rows[0]!);
  }

  async find(corpId: number, id: string, forUpdate = false): Promise<Alert | undefined> {
    const { rows } = await this.db.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM review_alerts a WHERE a.corp_id = $1 AND a.id = $2::bigint${forUpdate ? ' FOR UPDATE' : ''}`,
      [corpId, id],
    );
    return rows[0] && toAlert(rows[0]);
  }

  /**
   * One page of the queue in its order (see ORDER_KEY), after `cursor` (keyset) or at `offset`,
   * with the count of all alerts matching. `scope` is a condition over `a` whose values are in `p`
   * (whose `$1` is the corp).
   */
  async page(
    p: SqlParams,
    scope: string,
    filters: AlertListFilters,
    page: { limit: number; offset?: number; cursor?: string },
  ): Promise<AlertPage> {
    const where = ['a.corp_id = $1', scope];
    if (filters.queueId) where.push(`a.queue_id = ${p.add(filters.queueId)}::bigint`);
    if (filters.status?.length) where.push(`a.status = ANY(${p.add(filters.status)}::text[])`);
    if (filters.severity?.length) where.push(`a.severity = ANY(${p.add(filters.severity)}::text[])`);
    if (filters.category?.length) where.push(`a.category = ANY(${p.add(filters.category)}::text[])`);
    if (filters.source) where.push(`a.source = ${p.add(filters.source)}`);
    if (filters.assignee === 'none') where.push('a.assignee_id IS NULL');
    else if (filters.assignee) where.push(`a.assignee_id = ${p.add(filters.assignee)}::bigint`);
    if (filters.sla === 'overdue') where.push(`a.status <> 'closed' AND ${OVERDUE}`);
    if (filters.sla === 'due_soon') where.push(`a.status <> 'closed' AND NOT ${OVERDUE} AND ${DUE_SOON}`);
    const filtered = where.join(' AND ');
    // The count takes the filters' values only; the page adds its cursor and limit after them.
    const countValues = [...p.values];
    const count = this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${FROM} WHERE ${filtered} LIMIT ${TOTAL_CAP + 1}) x`,
      countValues,
    );

    let after = '';
    if (page.cursor) {
      const c = decodeCursor(page.cursor);
      after = ` AND (${ORDER_KEY}) > (${p.add(c.closed)}::boolean, -(${p.add(c.priority)}::float8),
        ${p.add(c.due)}::timestamptz, ${p.add(c.id)}::bigint)`;
    }
    const offset = !page.cursor && page.offset ? ` OFFSET ${p.add(page.offset)}` : '';
    const items = this.db.query<AlertRow & { sla_state: SlaState | null; k_closed: boolean; k_due: string }>(
      `SELECT ${ALERT_COLUMNS}, ${SLA_STATE} AS sla_state, a.status = 'closed' AS k_closed,
         to_char(a.resolution_due AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS k_due
       FROM ${FROM} WHERE ${filtered}${after}
       ORDER BY ${ORDER_KEY} LIMIT ${p.add(page.limit + 1)}${offset}`,
      p.values,
    );
    const [{ rows }, counted] = await Promise.all([items, count]);
    const more = rows.length > page.limit;
    const shown = more ? rows.slice(0, page.limit) : rows;
    const last = shown.at(-1);
    const n = counted.rows[0]!.n;
    return {
      items: shown.map((r) => ({ ...toAlert(r), slaState: r.sla_state })),
      nextCursor:
        more && last
          ? encodeCursor({ closed: last.k_closed, priority: last.priority, due: last.k_due, id: last.id })
          : null,
      total: Math.min(n, TOTAL_CAP),
      totalExact: n <= TOTAL_CAP,
    };
  }
}
