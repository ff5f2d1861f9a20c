import type { Keyring } from '../../crypto/keyring/types.js';
import type { Pool } from '../../platform/db/pool.js';
import { JobRepository } from '../../platform/jobs/queue.js';
import type { JobDefinition, ScheduleDefinition } from '../../platform/jobs/types.js';
import { WecomApiClient } from '../api/client.js';
import { keyringSecrets } from '../api/secrets.js';
import { ContactsRepository, type ConnectorSummary } from './contacts.repository.js';
import { ContactsSyncService } from './contacts.service.js';

export interface ContactsJobDeps {
  pool: Pool;
  keyring: Keyring;
  /** Builds the API client of a connector (default: its api_base_url and keyring secrets). */
  clientFor?: (connector: ConnectorSummary) => WecomApiClient;
}

export const CONTACTS_SYNC_JOB = 'wecom.contacts-sync';
export const CONTACTS_SYNC_ALL_JOB = 'wecom.contacts-sync-all';

/** The API client of a connector, reading secrets from the keyring. */
export function defaultClientFor(keyring: Keyring, connector: ConnectorSummary): WecomApiClient {
  return new WecomApiClient({
    baseUrl: connector.apiBaseUrl,
    corpId: connector.wecomCorpId,
    secrets: keyringSecrets(keyring, connector.corpId),
  });
}

/**
 * `wecom.contacts-sync {corpId}` syncs one corp (organisation, permit list, groups, external
 * contacts, consents); the hourly `wecom.contacts-sync` schedule runs `wecom.contacts-sync-all`,
 * which enqueues it for every enabled connector that has none queued or running.
 */
export function contactsJobs(deps: ContactsJobDeps): {
  jobs: JobDefinition[];
  schedules: ScheduleDefinition[];
} {
  const repo = new ContactsRepository(deps.pool);
  const clientFor = deps.clientFor ?? ((c: ConnectorSummary) => defaultClientFor(deps.keyring, c));
  return {
    jobs: [
      {
        name: CONTACTS_SYNC_JOB,
        maxAttempts: 3,
        async handler(ctx) {
          const corpId = Number(ctx.job.payload.corpId);
          if (!Number.isInteger(corpId)) throw new Error('payload.corpId must be a corp id');
          const connector = await repo.findConnector(corpId);
          if (!connector) throw new Error(`corp ${corpId} has no WeCom connector`);
          const service = new ContactsSyncService(deps.pool, clientFor(connector), corpId);
          const result = await service.syncAll();
          const failed = Object.entries(result.steps).filter(
            ([, s]) => !s.ok && !('skipped' in s && s.skipped),
          );
          for (const [name, s] of Object.entries(result.steps)) {
            if (!s.ok)
              ctx.logger.warn({ corpId, step: name, error: s.error }, 'contacts sync step did not run');
          }
          // A failing step fails the job (and retries it); skipped steps (secret not configured) do not.
          if (failed.length > 0) {
            throw new Error(
              `contacts sync of corp ${corpId}: ${failed.map(([n, s]) => `${n}: ${'error' in s ? s.error : ''}`).join('; ')}`,
            );
          }
          return result;
        },
      },
      {
        name: CONTACTS_SYNC_ALL_JOB,
        async handler() {
          const jobs = new JobRepository(deps.pool);
          const busy = new Set<number>();
          for (const status of ['queued', 'running'] as const) {
            for (const j of await jobs.list({ status, name: CONTACTS_SYNC_JOB, limit: 1000 })) {
              busy.add(Number(j.payload.corpId));
            }
          }
          const enqueued: number[] = [];
          for (const c of await repo.listConnectors(true)) {
            if (busy.has(c.corpId)) continue;
            await jobs.enqueue(CONTACTS_SYNC_JOB, { corpId: c.corpId }, { maxAttempts: 3 });
            enqueued.push(c.corpId);
          }
          return { enqueued };
        },
      },
    ],
    schedules: [{ name: CONTACTS_SYNC_JOB, cron: '0 17 * * * *', job: CONTACTS_SYNC_ALL_JOB }],
  };
}
