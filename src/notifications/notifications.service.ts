import pg from 'pg';
import { withTransaction, type Pool, type Queryable } from '../platform/db/pool.js';
import { JobRepository } from '../platform/jobs/queue.js';
import { NotificationsRepository } from './notifications.repository.js';
import type { Notification, NotifyInput, NotifyResult } from './types.js';

/** The job that sends pending notifications as WeCom app messages. */
export const DELIVER_JOB = 'notifications.deliver';

const KIND = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
// A path inside Vigil: a link must never lead a recipient to another site.
const LINK = /^\/([^/\\]|$)/;

function check(input: NotifyInput): void {
  const { userIds = [], role } = input.recipients;
  if (userIds.length === 0 && !role) throw new RangeError('notify: no recipients (userIds or role)');
  if (userIds.some((id) => !/^\d{1,18}$/.test(id)))
    throw new RangeError('notify: userIds must be account ids');
  if (!KIND.test(input.kind) || input.kind.length > 100)
    throw new RangeError(`notify: bad kind ${input.kind}`);
  if (input.title.trim().length === 0 || input.title.length > 200)
    throw new RangeError('notify: title must have 1–200 characters');
  if (input.body.length > 2000) throw new RangeError('notify: body longer than 2000 characters');
  if (input.link && (!LINK.test(input.link) || input.link.length > 500))
    throw new RangeError('notify: link must be a path inside Vigil, e.g. /reviews/42');
}

/**
 * In-app notifications, also sent through WeCom to accounts linked to an employee. Callers pass
 * event descriptions ("Break-glass access opened by li.lei"), never archived message content:
 * notifications are readable without the access service and leave Vigil through WeCom.
 */
export class NotificationService {
  constructor(private readonly pool: Pool) {}

  /**
   * Notifies the recipients. With a transaction client the rows and the delivery job commit or
   * roll back with the caller's change; with the pool they get a transaction of their own.
   */
  async notify(db: Pool | Queryable, input: NotifyInput): Promise<NotifyResult> {
    check(input);
    if (db instanceof pg.Pool) return withTransaction(db, (client) => this.insert(client, input));
    return this.insert(db, input);
  }

  private async insert(client: Queryable, input: NotifyInput): Promise<NotifyResult> {
    const rows = await new NotificationsRepository(client).insert(input);
    if (rows.some((r) => r.wecomState === 'pending'))
      await new JobRepository(client).enqueue(DELIVER_JOB, {}, { maxAttempts: 3, priority: 50 });
    return { notificationIds: rows.map((r) => r.id), userIds: rows.map((r) => r.userId) };
  }

  /** The user's own notifications, newest first. */
  async list(
    userId: string,
    filter: { unreadOnly: boolean; before?: string; limit: number },
  ): Promise<{ items: Notification[]; unreadCount: number; nextBefore: string | null }> {
    const repo = new NotificationsRepository(this.pool);
    const items = await repo.list(userId, filter);
    return {
      items,
      unreadCount: await repo.unreadCount(userId),
      nextBefore: items.length === filter.limit ? items.at(-1)!.id : null,
    };
  }

  /** False when the notification does not exist or is someone else's. */
  markRead(userId: string, id: string): Promise<boolean> {
    return new NotificationsRepository(this.pool).markRead(userId, id);
  }

  markAllRead(userId: string): Promise<number> {
    return new NotificationsRepository(this.pool).markAllRead(userId);
  }
}
