import type { Queryable } from '../platform/db/pool.js';

export interface ReviewMetrics {
  period: { from: string; to: string };
  alerts: {
    total: number;
    bySource: Record<string, number>;
    byCategory: Record<string, number>;
    byStatus: Record<string, number>;
  };
  alertsByDepartment: Array<{ departmentId: number; name: string; alerts: number }>;
  /** Alerts per day and severity (corp timezone), for the trend chart. */
  daily: Array<{ day: string; severity: string; alerts: number }>;
  /** Alerts per department and day, for the heatmap. */
  departmentDays: Array<{ department: string; day: string; alerts: number }>;
  alertsByRule: Array<{
    ruleId: string;
    alerts: number;
    decided: number;
    confirmed: number;
    precision: number | null;
  }>;
  precisionByTerm: Array<{ term: string; decided: number; confirmed: number; precision: number | null }>;
  timeToFirstActionHours: { p50: number | null; p90: number | null; mean: number | null };
  timeToResolutionHours: { p50: number | null; p90: number | null; mean: number | null };
  sla: { breached: number; breachRate: number | null; openOverdue: number };
  dualReview: { secondReviews: number; disagreements: number };
  appeals: { notices: number; appeals: number; appealRate: number | null; granted: number; pending: number };
}

const counts = (rows: Array<{ k: string; n: number }>) => Object.fromEntries(rows.map((r) => [r.k, r.n]));
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 10000) / 10000);

/** Review KPIs of a corp for alerts created in [from, to): what dashboards and reports draw. */
export async function reviewMetrics(
  db: Queryable,
  corpId: number,
  from: Date,
  to: Date,
): Promise<ReviewMetrics> {
  const args = [corpId, from, to];
  const inPeriod = 'a.corp_id = $1 AND a.created_at >= $2 AND a.created_at < $3';
  const q = async <T extends object>(sql: string) => (await db.query<T>(sql, args)).rows;
  const group = (column: string) =>
    q<{ k: string; n: number }>(
      `SELECT ${column} AS k, count(*)::int AS n FROM review_alerts a WHERE ${inPeriod} GROUP BY 1`,
    );
  const [bySource, byCategory, byStatus] = await Promise.all([
    group('a.source'),
    group('a.category'),
    group('a.status'),
  ]);
  const durations = (end: string) =>
    q<{ p50: number | null; p90: number | null; mean: number | null }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY h) AS p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY h) AS p90,
         avg(h) AS mean
       FROM (SELECT extract(epoch FROM ${end} - a.created_at) / 3600 AS h FROM review_alerts a
             WHERE ${inPeriod} AND ${end} IS NOT NULL) d`,
    );
  const round = (v: { p50: number | null; p90: number | null; mean: number | null }) => ({
    p50: v.p50 === null ? null : Math.round(v.p50 * 100) / 100,
    p90: v.p90 === null ? null : Math.round(v.p90 * 100) / 100,
    mean: v.mean === null ? null : Math.round(Number(v.mean) * 100) / 100,
  });
  const [firstAction] = await durations('a.first_action_at');
  const [resolution] = await durations('a.closed_at');
  const byDepartment = await q<{ departmentId: number; name: string; alerts: number }>(
    `SELECT d.id::int AS "departmentId", d.name, count(DISTINCT a.id)::int AS alerts
     FROM review_alerts a JOIN employees e ON e.corp_id = a.corp_id AND e.userid = ANY (a.employee_userids)
     JOIN departments d ON d.corp_id = e.corp_id AND d.id = e.main_department
     WHERE ${inPeriod} GROUP BY d.id, d.name ORDER BY alerts DESC`,
  );
  const daily = await q<{ day: string; severity: string; alerts: number }>(
    `SELECT to_char(a.created_at AT TIME ZONE c.timezone, 'YYYY-MM-DD') AS day, a.severity, count(*)::int AS alerts
     FROM review_alerts a JOIN corps c ON c.id = a.corp_id WHERE ${inPeriod} GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const departmentDays = await q<{ department: string; day: string; alerts: number }>(
    `SELECT d.name AS department, to_char(a.created_at AT TIME ZONE c.timezone, 'YYYY-MM-DD') AS day,
       count(DISTINCT a.id)::int AS alerts
     FROM review_alerts a JOIN corps c ON c.id = a.corp_id
     JOIN employees e ON e.corp_id = a.corp_id AND e.userid = ANY (a.employee_userids)
     JOIN departments d ON d.corp_id = e.corp_id AND d.id = e.main_department
     WHERE ${inPeriod} GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const byRule = await q<{ ruleId: string; alerts: number; decided: number; confirmed: number }>(
    `SELECT r.rule_id AS "ruleId", count(*)::int AS alerts,
       count(*) FILTER (WHERE a.status = 'closed' AND a.disposition IN ('violation_confirmed', 'compliant', 'false_positive'))::int AS decided,
       count(*) FILTER (WHERE a.status = 'closed' AND a.disposition = 'violation_confirmed')::int AS confirmed
     FROM review_alerts a CROSS JOIN LATERAL unnest(a.rule_ids) AS r(rule_id) WHERE ${inPeriod}
     GROUP BY r.rule_id ORDER BY alerts DESC`,
  );
  const byTerm = await q<{ term: string; decided: number; confirmed: number }>(
    `SELECT h.term, count(DISTINCT a.id)::int AS decided,
       count(DISTINCT a.id) FILTER (WHERE a.disposition = 'violation_confirmed')::int AS confirmed
     FROM review_alerts a JOIN review_alert_findings x ON x.corp_id = a.corp_id AND x.alert_id = a.id
     JOIN detection_hits h ON h.corp_id = x.corp_id AND h.finding_id = x.finding_id
     WHERE ${inPeriod} AND a.status = 'closed' AND a.disposition IN ('violation_confirmed', 'compliant', 'false_positive')
     GROUP BY h.term ORDER BY decided DESC LIMIT 200`,
  );
  const [sla] = await q<{ breached: number; total: number; overdue: number }>(
    `SELECT count(*) FILTER (WHERE a.breached)::int AS breached, count(*)::int AS total,
       count(*) FILTER (WHERE a.status <> 'closed' AND a.resolution_due < now())::int AS overdue
     FROM review_alerts a WHERE ${inPeriod}`,
  );
  const [dual] = await q<{ second: number; disagree: number }>(
    `SELECT count(*)::int AS second, count(*) FILTER (WHERE NOT d.agrees)::int AS disagree
     FROM review_decisions d JOIN review_alerts a ON a.corp_id = d.corp_id AND a.id = d.alert_id
     WHERE ${inPeriod} AND d.stage = 'second'`,
  );
  const [appeals] = await q<{ notices: number; appeals: number; granted: number; pending: number }>(
    `SELECT count(DISTINCT n.id)::int AS notices, count(p.id)::int AS appeals,
       count(p.id) FILTER (WHERE p.status = 'granted')::int AS granted,
       count(p.id) FILTER (WHERE p.status = 'pending')::int AS pending
     FROM review_notices n JOIN review_alerts a ON a.corp_id = n.corp_id AND a.id = n.alert_id
     LEFT JOIN review_appeals p ON p.corp_id = n.corp_id AND p.notice_id = n.id
     WHERE ${inPeriod}`,
  );
  return {
    period: { from: from.toISOString(), to: to.toISOString() },
    alerts: {
      total: Object.values(counts(byStatus)).reduce((s, n) => s + n, 0),
      bySource: counts(bySource),
      byCategory: counts(byCategory),
      byStatus: counts(byStatus),
    },
    alertsByDepartment: byDepartment,
    daily,
    departmentDays,
    alertsByRule: byRule.map((r) => ({ ...r, precision: ratio(r.confirmed, r.decided) })),
    precisionByTerm: byTerm.map((t) => ({ ...t, precision: ratio(t.confirmed, t.decided) })),
    timeToFirstActionHours: round(firstAction!),
    timeToResolutionHours: round(resolution!),
    sla: { breached: sla!.breached, breachRate: ratio(sla!.breached, sla!.total), openOverdue: sla!.overdue },
    dualReview: { secondReviews: dual!.second, disagreements: dual!.disagree },
    appeals: { ...appeals!, appealRate: ratio(appeals!.appeals, appeals!.notices) },
  };
}
