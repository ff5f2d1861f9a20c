import type { Queryable } from '../../platform/db/pool.js';
import type { Alert, AlertDraft, Disposition, ReviewQueue } from '../types.js';

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
}
