import type { NotificationService } from '../../notifications/notifications.service.js';
import type { Pool } from '../../platform/db/pool.js';
import { withTransaction } from '../../platform/db/pool.js';

/**
 * The SLA watch, run every few minutes: reminds the assignee (or the leads, when nobody has it)
 * of an alert nearing its resolution deadline, and escalates to the leads once a deadline (first
 * action or resolution) has passed, marking the alert breached. Each alert is reminded and
 * escalated once.
 */
export async function checkSla(
  pool: Pool,
  notifications: Pick<NotificationService, 'notify'> | undefined,
  now = new Date(),
): Promise<{ reminded: number; escalated: number }> {
  return withTransaction(pool, async (client) => {
    const reminded = await client.query<{
      corp_id: number;
      id: string;
      assignee_id: string | null;
      resolution_due: Date;
    }>(
      `UPDATE review_alerts a SET reminded_at = $1
       FROM review_alerts x LEFT JOIN review_queues q ON q.corp_id = x.corp_id AND q.id = x.queue_id
       WHERE a.corp_id = x.corp_id AND a.id = x.id AND x.status <> 'closed' AND x.reminded_at IS NULL AND NOT x.breached
         AND x.resolution_due - make_interval(hours => coalesce(q.remind_before_hours, 4)) <= $1
         AND x.resolution_due > $1
       RETURNING a.corp_id, a.id::text, a.assignee_id::text, a.resolution_due`,
      [now],
    );
    for (const a of reminded.rows)
      await notifications?.notify(client, {
        corpId: a.corp_id,
        recipients: a.assignee_id
          ? { userIds: [a.assignee_id] }
          : { role: { role: 'compliance_lead', corpId: a.corp_id } },
        kind: 'review.sla_reminder',
        title: `告警 #${a.id} 即将超时 / Alert #${a.id} is due soon`,
        body: `Resolve it before ${a.resolution_due.toISOString()}.`,
        link: `/review/alerts/${a.id}`,
      });
    const breached = await client.query<{ corp_id: number; id: string; kind: string }>(
      `UPDATE review_alerts SET breached = true, escalated_at = coalesce(escalated_at, $1)
       WHERE status <> 'closed' AND NOT breached
         AND (resolution_due <= $1 OR (first_action_at IS NULL AND first_action_due <= $1))
       RETURNING corp_id, id::text, CASE WHEN first_action_at IS NULL THEN 'first action' ELSE 'resolution' END AS kind`,
      [now],
    );
    for (const a of breached.rows)
      await notifications?.notify(client, {
        corpId: a.corp_id,
        recipients: { role: { role: 'compliance_lead', corpId: a.corp_id } },
        kind: 'review.sla_breach',
        title: `告警 #${a.id} 已超时 / Alert #${a.id} breached its SLA`,
        body: `The ${a.kind} deadline passed.`,
        link: `/review/alerts/${a.id}`,
      });
    return { reminded: reminded.rowCount ?? 0, escalated: breached.rowCount ?? 0 };
  });
}
