import type { Queryable } from '../db/pool.js';
import type { Job, JobProgress, JobStatus } from './types.js';

interface JobRow {
  id: string;
  name: string;
  payload: Record<string, unknown>;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_at: Date;
  schedule: string | null;
  scheduled_for: Date | null;
  locked_by: string | null;
  progress: JobProgress | null;
  result: unknown;
  last_error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const COLUMNS = `id, name, payload, status, attempts, max_attempts, run_at, schedule, scheduled_for, locked_by,
  progress, result, last_error, created_at, started_at, finished_at`;

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    name: row.name,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAt: row.run_at,
    schedule: row.schedule,
    scheduledFor: row.scheduled_for,
    lockedBy: row.locked_by,
    progress: row.progress,
    result: row.result,
    lastError: row.last_error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export interface EnqueueOptions {
  runAt?: Date;
  maxAttempts?: number;
  priority?: number;
}

/** The jobs table: every statement the queue runs lives here. */
export class JobRepository {
  constructor(private readonly db: Queryable) {}

  async enqueue(name: string, payload: Record<string, unknown>, options: EnqueueOptions = {}): Promise<Job> {
    const { rows } = await this.db.query<JobRow>(
      `INSERT INTO jobs (name, payload, run_at, max_attempts, priority)
       VALUES ($1, $2, coalesce($3, now()), $4, $5) RETURNING ${COLUMNS}`,
      [name, payload, options.runAt ?? null, options.maxAttempts ?? 5, options.priority ?? 100],
    );
    return toJob(rows[0]!);
  }

  /** Inserts the job for one schedule tick unless some process already did. */
  async enqueueTick(
    schedule: string,
    tick: Date,
    name: string,
    payload: Record<string, unknown>,
  ): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `INSERT INTO jobs (name, payload, schedule, scheduled_for, max_attempts)
       VALUES ($1, $2, $3, $4, 3)
       ON CONFLICT (schedule, scheduled_for) WHERE schedule IS NOT NULL DO NOTHING`,
      [name, payload, schedule, tick],
    );
    return rowCount === 1;
  }

  /** Claims the next runnable job among `names`, leasing it to `worker` for `leaseMs`. */
  async claim(worker: string, names: string[], leaseMs: number): Promise<Job | undefined> {
    const { rows } = await this.db.query<JobRow>(
      `UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1,
         locked_until = now() + make_interval(secs => $3::double precision / 1000),
         started_at = now(), last_error = NULL
       WHERE id = (
         SELECT id FROM jobs
         WHERE status = 'queued' AND run_at <= now() AND name = ANY($2)
         ORDER BY priority, run_at, id
         FOR UPDATE SKIP LOCKED
         LIMIT 1)
       RETURNING ${COLUMNS}`,
      [worker, names, leaseMs],
    );
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  async extendLease(id: string, worker: string, leaseMs: number): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET locked_until = now() + make_interval(secs => $3::double precision / 1000)
       WHERE id = $1 AND locked_by = $2 AND status = 'running'`,
      [id, worker, leaseMs],
    );
  }

  async complete(id: string, worker: string, result: unknown): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET status = 'succeeded', result = $3, finished_at = now(), locked_by = NULL, locked_until = NULL
       WHERE id = $1 AND locked_by = $2`,
      [id, worker, JSON.stringify(result ?? null)],
    );
  }

  /** Records a failure: retried later with exponential backoff, or failed for good. */
  async fail(id: string, worker: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET
         status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
         run_at = now() + make_interval(secs => least(3600, 5 * power(2, attempts - 1)) * (0.75 + random() / 2)),
         finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
         last_error = left($3, 2000), locked_by = NULL, locked_until = NULL
       WHERE id = $1 AND locked_by = $2`,
      [id, worker, error],
    );
  }

  async reportProgress(id: string, progress: JobProgress): Promise<void> {
    await this.db.query('UPDATE jobs SET progress = $2 WHERE id = $1', [id, progress]);
  }

  /** Returns jobs whose worker died (lease expired) to the queue. */
  async releaseExpiredLeases(): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE jobs SET
         status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
         finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
         last_error = 'worker lost its lease (process died or stalled)', locked_by = NULL, locked_until = NULL
       WHERE status = 'running' AND locked_until < now()`,
    );
    return rowCount ?? 0;
  }

  async get(id: string): Promise<Job | undefined> {
    const { rows } = await this.db.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [id]);
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  async list(filter: { status?: JobStatus; name?: string; limit: number }): Promise<Job[]> {
    const { rows } = await this.db.query<JobRow>(
      `SELECT ${COLUMNS} FROM jobs
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR name = $2)
       ORDER BY id DESC LIMIT $3`,
      [filter.status ?? null, filter.name ?? null, filter.limit],
    );
    return rows.map(toJob);
  }

  async counts(): Promise<Record<JobStatus, number>> {
    const { rows } = await this.db.query<{ status: JobStatus; n: string }>(
      'SELECT status, count(*) AS n FROM jobs GROUP BY status',
    );
    const counts = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    for (const row of rows) counts[row.status] = Number(row.n);
    return counts;
  }

  async pruneFinished(olderThanDays: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'cancelled')
         AND finished_at < now() - make_interval(days => $1)`,
      [olderThanDays],
    );
    return rowCount ?? 0;
  }
}
