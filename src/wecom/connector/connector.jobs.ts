import type { ArchiveService } from '../../archive/archive.service.js';
import type { DetectionService } from '../../detection/store/detection.service.js';
import type { BlobStore } from '../../crypto/blob/blobstore.js';
import type { Keyring } from '../../crypto/keyring/types.js';
import type { NotificationService } from '../../notifications/notifications.service.js';
import type { Pool } from '../../platform/db/pool.js';
import type { JobRepository } from '../../platform/jobs/queue.js';
import type { JobDefinition, ScheduleDefinition } from '../../platform/jobs/types.js';
import { checkCaptureLag } from './capture-alert.js';
import { ConnectorRepository } from './connector.repository.js';
import { openPipeline, type CorpPipeline } from './runtime.js';

export const INGEST_JOB = 'wecom.ingest';

interface Deps {
  pool: Pool;
  archive: ArchiveService;
  keyring: Keyring;
  blobs: BlobStore;
  jobs: JobRepository;
  /** Screens every newly archived message, in the archiving transaction. */
  detection?: DetectionService;
  /** Tells system administrators when capture lags (wecom.capture-check); without it, only logs. */
  notifications?: Pick<NotificationService, 'notify'>;
}

/**
 * Background capture: `wecom.poll` (every 15 s) enqueues `wecom.ingest` for each enabled
 * connector whose poll interval has passed; a callback enqueues it at once. The SDK of each corp
 * is opened once per process and reused (WeCom advises one NewSdk/Init per process).
 */
export function connectorJobs(deps: Deps): {
  jobs: JobDefinition[];
  schedules: ScheduleDefinition[];
  close(): Promise<void>;
} {
  const pipelines = new Map<number, Promise<CorpPipeline>>();
  const pipeline = async (corpId: number): Promise<CorpPipeline> => {
    let p = pipelines.get(corpId);
    if (!p) {
      p = (async () => {
        const connector = await new ConnectorRepository(deps.pool).connector(corpId);
        if (!connector) throw new Error(`corp ${corpId} has no WeCom connector`);
        return openPipeline(deps.pool, deps.archive, deps.keyring, deps.blobs, connector, deps.detection);
      })();
      pipelines.set(corpId, p);
      p.catch(() => pipelines.delete(corpId));
    }
    return p;
  };
  return {
    jobs: [
      {
        name: INGEST_JOB,
        maxAttempts: 3,
        async handler({ job, reportProgress, signal }) {
          const corpId = Number(job.payload.corpId);
          const { ingest, media } = await pipeline(corpId);
          const run = await ingest.runOnce(
            (p) => void reportProgress({ done: p.archived, message: `cursor ${p.cursor}` }),
            signal,
          );
          // Media for up to half a minute per run; the rest waits for the next run.
          const fetched = { stored: 0, expired: 0, failed: 0, retrying: 0 };
          const deadline = Date.now() + 30_000;
          while (Date.now() < deadline && !signal.aborted) {
            const r = await media.processDue(50);
            for (const k of Object.keys(fetched) as Array<keyof typeof fetched>) fetched[k] += r[k];
            if (r.stored + r.expired + r.failed + r.retrying === 0) break;
          }
          return { pulled: run.pulled, ...run.result, media: fetched };
        },
      },
      {
        // Raises the alarm while there is still time: WeCom serves messages for a few days only.
        name: 'wecom.capture-check',
        handler: ({ logger }) => checkCaptureLag(deps.pool, deps.notifications, logger),
      },
      {
        name: 'wecom.poll',
        async handler() {
          const { rows } = await deps.pool.query<{ corp_id: number }>(
            `SELECT c.corp_id FROM wecom_connectors c LEFT JOIN wecom_cursors k ON k.corp_id = c.corp_id
             WHERE c.enabled AND (k.last_pull_at IS NULL OR k.last_pull_at < now() - make_interval(secs => c.poll_interval_seconds))
               AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.name = $1 AND j.status IN ('queued', 'running')
                                 AND j.payload->>'corpId' = c.corp_id::text)`,
            [INGEST_JOB],
          );
          for (const row of rows)
            await deps.jobs.enqueue(INGEST_JOB, { corpId: row.corp_id }, { maxAttempts: 3 });
          return { enqueued: rows.length };
        },
      },
    ],
    schedules: [
      { name: 'wecom.poll', cron: '*/15 * * * * *', job: 'wecom.poll' },
      { name: 'wecom.capture-check', cron: '0 */5 * * * *', job: 'wecom.capture-check' },
    ],
    async close() {
      for (const p of pipelines.values()) await (await p.catch(() => undefined))?.close();
      pipelines.clear();
    },
  };
}
