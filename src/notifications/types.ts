import type { Role } from '../access/permissions.js';

/** Who receives a notification: named accounts, and/or everyone holding a role in a corp. */
export interface Recipients {
  userIds?: string[];
  /** Holders of the role in that corp or globally (enabled accounts only). */
  role?: { role: Role; corpId: number };
}

/**
 * A notification to send. Title and body describe an event ("Break-glass access opened by li.lei
 * for 2 hours"): never message content, which must only be read through the access service.
 */
export interface NotifyInput {
  /** The corp the event is about; null for system-wide events. */
  corpId: number | null;
  recipients: Recipients;
  /** Dotted event kind, e.g. 'grants.break_glass', 'review.sla_reminder'. */
  kind: string;
  title: string;
  body: string;
  /** A path inside Vigil ("/reviews/42"), shown in-app and appended to WeCom messages. */
  link?: string | null;
}

export type WecomDeliveryState = 'in_app' | 'pending' | 'delivered' | 'failed';

export interface Notification {
  id: string;
  corpId: number | null;
  userId: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  createdAt: Date;
  readAt: Date | null;
  wecomState: WecomDeliveryState;
  deliveredWecomAt: Date | null;
}

export interface NotifyResult {
  notificationIds: string[];
  /** The accounts notified (after resolving roles, without disabled accounts). */
  userIds: string[];
}
