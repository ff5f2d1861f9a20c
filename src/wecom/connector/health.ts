import type { Queryable } from '../../platform/db/pool.js';

/** WeCom serves archived messages for a few days only: 3 in older documentation, 5 in newer. */
export const WECOM_WINDOW_DAYS = 3;

export type CaptureStatus = 'ok' | 'warning' | 'critical' | 'not_started';

/** Everything needed to prove a corp's capture is complete, or to see where it is not. */
export interface CaptureHealth {
  corpId: number;
  wecomCorpId: string;
  enabled: boolean;
  status: CaptureStatus;
  cursor: {
    seq: string;
    pulledTotal: number;
    lastPullAt: Date | null;
    lastNewAt: Date | null;
    lastError: string | null;
    lastErrorAt: Date | null;
  };
  /** Seconds until messages sent after the last successful pull start leaving WeCom's window. */
  windowRemainingSeconds: number | null;
  newestMessageAt: Date | null;
  envelopes: { pending: number; archived: number; held_key: number; quarantined: number };
  decryptProblemsByKeyVersion: Array<{ publickeyVer: number | null; held: number; quarantined: number }>;
  media: { pending: number; stored: number; failed: number; expired: number };
  unknownTypes: number;
}

/** Reads a corp's capture health in a handful of indexed queries. */
export async function captureHealth(
  db: Queryable,
  corpId: number,
  now = Date.now(),
): Promise<CaptureHealth | undefined> {
  const { rows: connectors } = await db.query<{ wecom_corp_id: string; enabled: boolean }>(
    'SELECT wecom_corp_id, enabled FROM wecom_connectors WHERE corp_id = $1',
    [corpId],
  );
  if (!connectors[0]) return undefined;
  const [cursor, envelopes, byVersion, media, newest, unknown] = await Promise.all([
    db.query<{
      seq: string;
      pulled_total: string;
      archived_total: string;
      last_pull_at: Date | null;
      last_new_at: Date | null;
      last_error: string | null;
      last_error_at: Date | null;
    }>(
      'SELECT seq::text, pulled_total::text, archived_total::text, last_pull_at, last_new_at, last_error, last_error_at FROM wecom_cursors WHERE corp_id = $1',
      [corpId],
    ),
    db.query<{ state: string; n: string }>(
      // Not archived ones: streamed messages leave no envelope row (archived_total counts them).
      `SELECT state, count(*)::text AS n FROM wecom_envelopes WHERE corp_id = $1 AND state <> 'archived'
       GROUP BY state`,
      [corpId],
    ),
    db.query<{ publickey_ver: number | null; held: string; quarantined: string }>(
      `SELECT publickey_ver, count(*) FILTER (WHERE state = 'held_key')::text AS held,
              count(*) FILTER (WHERE state = 'quarantined')::text AS quarantined
       FROM wecom_envelopes WHERE corp_id = $1 AND state IN ('held_key', 'quarantined')
       GROUP BY publickey_ver ORDER BY publickey_ver NULLS LAST`,
      [corpId],
    ),
    db.query<{ status: string; n: string }>(
      'SELECT status, count(*)::text AS n FROM attachments WHERE corp_id = $1 GROUP BY status',
      [corpId],
    ),
    db.query<{ t: Date | null }>('SELECT max(msg_time) AS t FROM messages WHERE corp_id = $1', [corpId]),
    db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM messages WHERE corp_id = $1 AND 'unknown_type' = ANY(flags)",
      [corpId],
    ),
  ]);
  const c = cursor.rows[0];
  const count = (rows: Array<{ n: string }>, key: string, field: 'state' | 'status') =>
    Number((rows as Array<Record<string, string>>).find((r) => r[field] === key)?.n ?? 0);
  const lastPullAt = c?.last_pull_at ?? null;
  const windowRemainingSeconds = lastPullAt
    ? Math.round(WECOM_WINDOW_DAYS * 86_400 - (now - lastPullAt.getTime()) / 1000)
    : null;
  return {
    corpId,
    wecomCorpId: connectors[0].wecom_corp_id,
    enabled: connectors[0].enabled,
    status: statusOf(windowRemainingSeconds),
    cursor: {
      seq: c?.seq ?? '0',
      pulledTotal: Number(c?.pulled_total ?? 0),
      lastPullAt,
      lastNewAt: c?.last_new_at ?? null,
      lastError: c?.last_error ?? null,
      lastErrorAt: c?.last_error_at ?? null,
    },
    windowRemainingSeconds,
    newestMessageAt: newest.rows[0]?.t ?? null,
    envelopes: {
      pending: count(envelopes.rows, 'pending', 'state'),
      archived: Number(c?.archived_total ?? 0),
      held_key: count(envelopes.rows, 'held_key', 'state'),
      quarantined: count(envelopes.rows, 'quarantined', 'state'),
    },
    decryptProblemsByKeyVersion: byVersion.rows.map((r) => ({
      publickeyVer: r.publickey_ver,
      held: Number(r.held),
      quarantined: Number(r.quarantined),
    })),
    media: {
      pending: count(media.rows, 'pending', 'status'),
      stored: count(media.rows, 'stored', 'status'),
      failed: count(media.rows, 'failed', 'status'),
      expired: count(media.rows, 'expired', 'status'),
    },
    unknownTypes: Number(unknown.rows[0]?.n ?? 0),
  };
}

/** Warning when less than two days of WeCom's window are left, critical under one. */
function statusOf(remaining: number | null): CaptureStatus {
  if (remaining === null) return 'not_started';
  if (remaining < 86_400) return 'critical';
  if (remaining < 2 * 86_400) return 'warning';
  return 'ok';
}
