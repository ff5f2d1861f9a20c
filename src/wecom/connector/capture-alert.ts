import type { NotificationService } from '../../notifications/notifications.service.js';
import { withTransaction, type Pool } from '../../platform/db/pool.js';
import type { Logger } from '../../platform/logging/logger.js';
import { captureHealth, WECOM_WINDOW_DAYS, type CaptureHealth, type CaptureStatus } from './health.js';

/** Notification kind of the capture-lag alarm. */
export const CAPTURE_LAG_KIND = 'wecom.capture_lag';

/**
 * The capture check (`wecom.capture-check`, every 5 minutes): for each enabled connector whose
 * capture is lagging (warning: under two days of WeCom's window left, critical: under one), opens
 * an incident and notifies the corp's system administrators (role `system_admin` in the corp or
 * global), in-app and by WeCom app message. Once per incident: the incident row and the
 * notifications commit together, and the open incident keeps later checks quiet until capture
 * recovers, which closes it. Without a notification service the alarm is only logged.
 */
export async function checkCaptureLag(
  pool: Pool,
  notifications: Pick<NotificationService, 'notify'> | undefined,
  logger?: Logger,
  now = Date.now(),
): Promise<Record<string, CaptureStatus>> {
  const { rows } = await pool.query<{ corp_id: number; name: string }>(
    'SELECT w.corp_id, c.name FROM wecom_connectors w JOIN corps c ON c.id = w.corp_id WHERE w.enabled ORDER BY w.corp_id',
  );
  const statuses: Record<string, CaptureStatus> = {};
  for (const { corp_id: corpId, name } of rows) {
    const health = await captureHealth(pool, corpId, now);
    if (!health) continue;
    statuses[corpId] = health.status;
    if (health.status !== 'warning' && health.status !== 'critical') {
      await pool.query(
        'UPDATE wecom_capture_incidents SET closed_at = now() WHERE corp_id = $1 AND closed_at IS NULL',
        [corpId],
      );
      continue;
    }
    logger?.[health.status === 'critical' ? 'error' : 'warn'](
      {
        corpId,
        windowRemainingSeconds: health.windowRemainingSeconds,
        lastError: health.cursor.lastError,
      },
      "WeCom capture is lagging: messages will leave WeCom's window unless pulling resumes",
    );
    if (notifications) await openIncident(pool, notifications, name, health);
  }
  return statuses;
}

/** Opens the corp's incident and notifies, unless one is open already. */
async function openIncident(
  pool: Pool,
  notifications: Pick<NotificationService, 'notify'>,
  corpName: string,
  health: CaptureHealth,
): Promise<void> {
  await withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO wecom_capture_incidents (corp_id, status, window_remaining_seconds, last_pull_at)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (corp_id) WHERE closed_at IS NULL DO NOTHING
       RETURNING id::text`,
      [health.corpId, health.status, health.windowRemainingSeconds, health.cursor.lastPullAt],
    );
    if (!rows[0]) return; // already open: notified when it opened
    const sent = await notifications.notify(client, {
      corpId: health.corpId,
      recipients: { role: { role: 'system_admin', corpId: health.corpId } },
      kind: CAPTURE_LAG_KIND,
      title: `企业微信存档采集滞后 / WeCom capture is lagging: ${corpName}`.slice(0, 200),
      body: describe(health),
      link: '/capture',
    });
    await client.query('UPDATE wecom_capture_incidents SET notified = $2 WHERE id = $1', [
      rows[0].id,
      sent.userIds.length,
    ]);
  });
}

/** The event, never message content: when capture last succeeded and how long WeCom still serves. */
function describe(health: CaptureHealth): string {
  const hours = (seconds: number) => `${(seconds / 3600).toFixed(1)} h`;
  const remaining = health.windowRemainingSeconds ?? 0;
  const lines = [
    `No successful pull from WeCom since ${health.cursor.lastPullAt?.toISOString() ?? 'never'} (corp ${health.wecomCorpId}).`,
    remaining > 0
      ? `Messages sent since then leave WeCom's ${WECOM_WINDOW_DAYS}-day retention window in ${hours(remaining)} unless capture resumes.`
      : `Messages sent since then are already leaving WeCom's ${WECOM_WINDOW_DAYS}-day retention window.`,
  ];
  if (health.cursor.lastError) lines.push(`Last error: ${health.cursor.lastError.slice(0, 500)}`);
  return lines.join('\n');
}
