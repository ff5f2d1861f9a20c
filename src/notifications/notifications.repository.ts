import type { Queryable } from '../platform/db/pool.js';
import type { Notification, NotifyInput, WecomDeliveryState } from './types.js';

interface NotificationRow {
  id: string;
  corp_id: number | null;
  user_id: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  created_at: Date;
  read_at: Date | null;
  wecom_state: WecomDeliveryState;
  delivered_wecom_at: Date | null;
}

const COLUMNS =
  'id, corp_id, user_id, kind, title, body, link, created_at, read_at, wecom_state, delivered_wecom_at';

const toNotification = (r: NotificationRow): Notification => ({
  id: r.id,
  corpId: r.corp_id,
  userId: r.user_id,
  kind: r.kind,
  title: r.title,
  body: r.body,
  link: r.link,
  createdAt: r.created_at,
  readAt: r.read_at,
  wecomState: r.wecom_state,
  deliveredWecomAt: r.delivered_wecom_at,
});

/** A notification claimed for WeCom delivery, with its recipient's employee link. */
export interface DueNotification {
  id: string;
  title: string;
  body: string;
  link: string | null;
  attempts: number;
  /** The corp and userid of the employee the account is linked to (null when unlinked). */
  employeeCorpId: number | null;
  employeeUserid: string | null;
  disabled: boolean;
}

/** SQL of notifications: recipients, the inbox and the WeCom delivery queue. */
export class NotificationsRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * One row per recipient: the named accounts and the role's holders in the corp or globally,
   * enabled accounts only. Accounts linked to an employee get WeCom delivery, the others in-app only.
   */
  async insert(
    input: NotifyInput,
  ): Promise<Array<{ id: string; userId: string; wecomState: WecomDeliveryState }>> {
    const role = input.recipients.role;
    const { rows } = await this.db.query<{ id: string; user_id: string; wecom_state: WecomDeliveryState }>(
      `WITH recipients AS (
         SELECT u.id FROM users u WHERE u.id = ANY($1::bigint[])
         UNION
         SELECT r.user_id FROM role_assignments r
         WHERE $2::text IS NOT NULL AND r.role = $2 AND (r.corp_id = $3 OR r.corp_id IS NULL))
       INSERT INTO notifications (corp_id, user_id, kind, title, body, link, wecom_state, next_attempt_at)
       SELECT $4, u.id, $5, $6, $7, $8,
         CASE WHEN u.employee_userid IS NULL THEN 'in_app' ELSE 'pending' END,
         CASE WHEN u.employee_userid IS NULL THEN NULL ELSE now() END
       FROM users u
       WHERE u.id IN (SELECT id FROM recipients) AND u.disabled_at IS NULL
       ORDER BY u.id
       RETURNING id, user_id, wecom_state`,
      [
        input.recipients.userIds ?? [],
        role?.role ?? null,
        role?.corpId ?? null,
        input.corpId,
        input.kind,
        input.title,
        input.body,
        input.link ?? null,
      ],
    );
    return rows.map((r) => ({ id: r.id, userId: r.user_id, wecomState: r.wecom_state }));
  }

  async list(
    userId: string,
    filter: { unreadOnly: boolean; before?: string; limit: number },
  ): Promise<Notification[]> {
    const { rows } = await this.db.query<NotificationRow>(
      `SELECT ${COLUMNS} FROM notifications
       WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL) AND ($3::bigint IS NULL OR id < $3)
       ORDER BY id DESC LIMIT $4`,
      [userId, filter.unreadOnly, filter.before ?? null, filter.limit],
    );
    return rows.map(toNotification);
  }

  async unreadCount(userId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL',
      [userId],
    );
    return Number(rows[0]!.n);
  }

  /** Marks one of the user's notifications read (keeping the first read time); false when not theirs. */
  async markRead(userId: string, id: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2',
      [id, userId],
    );
    return rowCount === 1;
  }

  async markAllRead(userId: string): Promise<number> {
    const { rowCount } = await this.db.query(
      'UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL',
      [userId],
    );
    return rowCount ?? 0;
  }

  /**
   * Claims due WeCom deliveries for `leaseSeconds`: another worker skips them meanwhile, and a
   * worker that dies leaves them due again when the lease ends.
   */
  async claimDue(limit: number, leaseSeconds: number): Promise<DueNotification[]> {
    const { rows } = await this.db.query<{
      id: string;
      title: string;
      body: string;
      link: string | null;
      attempts: number;
      employee_corp_id: number | null;
      employee_userid: string | null;
      disabled: boolean;
    }>(
      `UPDATE notifications n SET next_attempt_at = now() + make_interval(secs => $2)
       FROM users u
       WHERE u.id = n.user_id AND n.id IN (
         SELECT id FROM notifications WHERE wecom_state = 'pending' AND next_attempt_at <= now()
         ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING n.id, n.title, n.body, n.link, n.attempts, u.corp_id AS employee_corp_id,
         u.employee_userid, u.disabled_at IS NOT NULL AS disabled`,
      [limit, leaseSeconds],
    );
    // UPDATE … RETURNING has no order: oldest first, as claimed.
    rows.sort((a, b) => Number(a.id) - Number(b.id));
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      body: r.body,
      link: r.link,
      attempts: r.attempts,
      employeeCorpId: r.employee_corp_id,
      employeeUserid: r.employee_userid,
      disabled: r.disabled,
    }));
  }

  async markDelivered(id: string): Promise<void> {
    await this.db.query(
      `UPDATE notifications SET wecom_state = 'delivered', delivered_wecom_at = now(), wecom_error = NULL,
         attempts = attempts + 1, next_attempt_at = NULL WHERE id = $1`,
      [id],
    );
  }

  /** Records a failed attempt: due again after `retryInSeconds`, or given up when that is null. */
  async markAttemptFailed(id: string, error: string, retryInSeconds: number | null): Promise<void> {
    await this.db.query(
      `UPDATE notifications SET attempts = attempts + 1, wecom_error = left($2, 500),
         wecom_state = CASE WHEN $3::double precision IS NULL THEN 'failed' ELSE 'pending' END,
         next_attempt_at = CASE WHEN $3::double precision IS NULL THEN NULL
                                ELSE now() + make_interval(secs => $3::double precision) END
       WHERE id = $1`,
      [id, error, retryInSeconds],
    );
  }

  /** Not for WeCom after all (the link is gone, or the corp has no app): in-app only, with why. */
  async markInAppOnly(id: string, reason: string): Promise<void> {
    await this.db.query(
      `UPDATE notifications SET wecom_state = 'in_app', wecom_error = $2, next_attempt_at = NULL WHERE id = $1`,
      [id, reason],
    );
  }
}
