import type { Logger } from '../logging/logger.js';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A row of the jobs table as the API shows it. */
export interface Job {
  id: string;
  name: string;
  payload: Record<string, unknown>;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  schedule: string | null;
  scheduledFor: Date | null;
  lockedBy: string | null;
  progress: JobProgress | null;
  result: unknown;
  lastError: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface JobProgress {
  done: number;
  total?: number;
  message?: string;
}

export interface JobContext {
  job: Job;
  logger: Logger;
  /** Persists progress so `vigil jobs` and the API can show it. */
  reportProgress(progress: JobProgress): Promise<void>;
  /** Aborted when the process shuts down; long jobs should stop at a safe point. */
  signal: AbortSignal;
}

export interface JobDefinition {
  name: string;
  handler(ctx: JobContext): Promise<unknown>;
  maxAttempts?: number;
}

export interface ScheduleDefinition {
  /** Unique schedule name (also the key for config overrides). */
  name: string;
  /** Cron expression; six fields allow seconds. Evaluated in UTC. */
  cron: string;
  job: string;
  payload?: Record<string, unknown>;
  enabled?: boolean;
}
