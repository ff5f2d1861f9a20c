import type { Pool } from '../platform/db/pool.js';
import type { JobDefinition, ScheduleDefinition } from '../platform/jobs/types.js';

/** Months of message partitions kept ready ahead of time, so ingest never waits on DDL. */
const MONTHS_AHEAD = 3;

export function archiveJobs(pool: Pool): { jobs: JobDefinition[]; schedules: ScheduleDefinition[] } {
  return {
    jobs: [
      {
        name: 'archive.ensure-partitions',
        async handler() {
          const { rows } = await pool.query<{ part: string }>(
            `SELECT vigil_ensure_message_partition(now() + make_interval(months => m)) AS part
             FROM generate_series(0, $1) AS m`,
            [MONTHS_AHEAD],
          );
          return { partitions: rows.map((r) => r.part) };
        },
      },
    ],
    schedules: [{ name: 'archive.ensure-partitions', cron: '0 0 * * * *', job: 'archive.ensure-partitions' }],
  };
}
