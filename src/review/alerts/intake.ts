import type { Pool } from '../../platform/db/pool.js';
import { withTransaction } from '../../platform/db/pool.js';
import type { Severity } from '../types.js';
import { createAlerts } from './create-alerts.js';

/** A finding repeating an unclosed alert of its conversation and category within this gap is merged. */
const MERGE_GAP_HOURS = 24;

interface FindingRow {
  id: string;
  conversation_id: string;
  category: string;
  window_start: Date;
  window_end: Date;
  severity: Severity;
  rule_ids: string[];
  msgids: string[];
  policy_ids: number[];
  employee_userids: string[];
}

/**
 * Turns new detection findings of a corp into alerts, exactly once each: a finding is either the
 * start of an alert or merged into an unclosed one of the same conversation and category
 * (duplicates suppressed, counted). Runs in batches under a per-corp advisory lock.
 */
export async function ingestFindings(
  pool: Pool,
  corpId: number,
  batch = 200,
): Promise<{ created: number; merged: number }> {
  const total = { created: 0, merged: 0 };
  for (;;) {
    const done = await withTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`review.intake:${corpId}`]);
      const { rows } = await client.query<FindingRow>(
        `SELECT f.id::text, f.conversation_id::text, f.category, f.window_start, f.window_end, f.severity, f.rule_ids,
           f.msgids,
           coalesce((SELECT array_agg(DISTINCT h.policy_id) FROM detection_hits h
             WHERE h.corp_id = f.corp_id AND h.finding_id = f.id AND h.policy_id IS NOT NULL), '{}') AS policy_ids,
           coalesce((SELECT array_agg(cm.member_id ORDER BY cm.member_id) FROM conversation_members cm
             WHERE cm.corp_id = f.corp_id AND cm.conversation_id = f.conversation_id AND cm.member_kind = 'employee'), '{}')
             AS employee_userids
         FROM detection_findings f
         WHERE f.corp_id = $1
           AND NOT EXISTS (SELECT 1 FROM review_alert_findings x WHERE x.corp_id = f.corp_id AND x.finding_id = f.id)
         ORDER BY f.id LIMIT $2`,
        [corpId, batch],
      );
      for (const f of rows) {
        const merged = await client.query<{ id: string }>(
          `UPDATE review_alerts SET window_start = least(window_start, $4), window_end = greatest(window_end, $5),
             msgids = ARRAY(SELECT DISTINCT unnest(msgids || $6::text[])),
             rule_ids = ARRAY(SELECT DISTINCT unnest(rule_ids || $7::text[])),
             policy_ids = ARRAY(SELECT DISTINCT unnest(policy_ids || $8::int[])),
             duplicate_count = duplicate_count + 1
           WHERE id = (SELECT id FROM review_alerts WHERE corp_id = $1 AND conversation_id = $2 AND category = $3
               AND source = 'detection' AND status <> 'closed'
               AND window_end >= $4::timestamptz - make_interval(hours => ${MERGE_GAP_HOURS})
             ORDER BY id DESC LIMIT 1)
           RETURNING id::text`,
          [
            corpId,
            f.conversation_id,
            f.category,
            f.window_start,
            f.window_end,
            f.msgids,
            f.rule_ids,
            f.policy_ids,
          ],
        );
        let alertId = merged.rows[0]?.id;
        if (alertId) total.merged++;
        else {
          const [alert] = await createAlerts(client, corpId, [
            {
              source: 'detection',
              conversationId: f.conversation_id,
              windowStart: f.window_start,
              windowEnd: f.window_end,
              category: f.category,
              severity: f.severity,
              ruleIds: f.rule_ids,
              policyIds: f.policy_ids,
              msgids: f.msgids,
              employeeUserids: f.employee_userids,
            },
          ]);
          alertId = alert!.id;
          total.created++;
        }
        await client.query(
          'INSERT INTO review_alert_findings (corp_id, finding_id, alert_id, merged) VALUES ($1, $2, $3, $4)',
          [corpId, f.id, alertId, Boolean(merged.rows[0])],
        );
      }
      return rows.length < batch;
    });
    if (done) return total;
  }
}

/** Corps with findings not yet taken by the review workflow. */
export async function corpsWithNewFindings(pool: Pool): Promise<number[]> {
  const { rows } = await pool.query<{ corp_id: number }>(
    `SELECT DISTINCT f.corp_id FROM detection_findings f
     WHERE NOT EXISTS (SELECT 1 FROM review_alert_findings x WHERE x.corp_id = f.corp_id AND x.finding_id = f.id)`,
  );
  return rows.map((r) => r.corp_id);
}
