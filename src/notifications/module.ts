import type { FastifyPluginAsync } from 'fastify';
import type { Keyring } from '../crypto/keyring/types.js';
import type { Pool } from '../platform/db/pool.js';
import type { JobDefinition, ScheduleDefinition } from '../platform/jobs/types.js';
import type { Logger } from '../platform/logging/logger.js';
import { notificationJobs } from './notifications.jobs.js';
import { notificationsRoutes } from './notifications.routes.js';
import { NotificationService } from './notifications.service.js';
import { connectorWecomApps, WecomNotificationDelivery, type WecomAppFor } from './wecom-delivery.js';

export { NotificationService, DELIVER_JOB } from './notifications.service.js';
export type { NotifyInput, NotifyResult, Recipients } from './types.js';

export interface NotificationsModuleDeps {
  pool: Pool;
  keyring: Keyring;
  /** AgentId of the self-built app per corp slug (`access.wecom.agents`); none: in-app only. */
  agents?: Readonly<Record<string, number>>;
  /** The WeCom app of a corp (default: connector, keyring and `agents`); tests pass the emulator's. */
  appFor?: WecomAppFor;
  /** Vigil's external URL, for links in WeCom messages. */
  publicUrl?: string;
  logger?: Logger;
}

/** Notifications, wired for the HTTP server and the job runner. */
export function notificationsModule(deps: NotificationsModuleDeps): {
  service: NotificationService;
  delivery: WecomNotificationDelivery;
  routes: FastifyPluginAsync[];
  jobs: JobDefinition[];
  schedules: ScheduleDefinition[];
} {
  const service = new NotificationService(deps.pool);
  const delivery = new WecomNotificationDelivery({
    pool: deps.pool,
    appFor: deps.appFor ?? connectorWecomApps(deps.pool, deps.keyring, deps.agents ?? {}),
    publicUrl: deps.publicUrl,
    logger: deps.logger,
  });
  return { service, delivery, routes: [notificationsRoutes(service)], ...notificationJobs(delivery) };
}
