import type { JobDefinition, ScheduleDefinition } from '../platform/jobs/types.js';
import { DELIVER_JOB } from './notifications.service.js';
import type { WecomNotificationDelivery } from './wecom-delivery.js';

/**
 * `notifications.deliver` sends what is due; `notify` enqueues it at once, and the schedule picks
 * up retries (each notification keeps its own backoff, so one failing recipient delays no other).
 */
export function notificationJobs(delivery: WecomNotificationDelivery): {
  jobs: JobDefinition[];
  schedules: ScheduleDefinition[];
} {
  return {
    jobs: [{ name: DELIVER_JOB, maxAttempts: 3, handler: async () => delivery.deliverDue() }],
    schedules: [{ name: DELIVER_JOB, cron: '30 * * * * *', job: DELIVER_JOB }],
  };
}
