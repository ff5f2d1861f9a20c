import type { JobContext, JobDefinition, ScheduleDefinition } from '../../platform/jobs/types.js';
import type { SamplingService } from './sampling.service.js';
import type { SamplingKind } from './types.js';

export const SAMPLING_JOBS: Record<SamplingKind, string> = {
  monthly_random: 'review.sampling.monthly',
  weekly_sensitive: 'review.sampling.weekly',
  recheck: 'review.sampling.recheck',
};

/**
 * Schedules are evaluated in UTC. At 12:00 UTC the previous local month, week or day has ended in
 * every time zone (UTC−12 … UTC+14), so each tick takes the last ended period of each corp.
 */
const CRON: Record<SamplingKind, string> = {
  monthly_random: '0 12 1 * *',
  weekly_sensitive: '0 12 * * 1',
  recheck: '0 12 * * *',
};

interface SamplingPayload {
  corpId?: number;
  period?: string;
}

function payloadOf(ctx: JobContext): SamplingPayload {
  const { corpId, period } = ctx.job.payload;
  if (corpId !== undefined && !Number.isInteger(corpId)) throw new Error('payload.corpId must be a corp id');
  if (period !== undefined && typeof period !== 'string') throw new Error('payload.period must be a string');
  return { corpId: corpId as number | undefined, period };
}

/**
 * One job per kind, over all corps or the payload's `corpId`, for the payload's `period` or else
 * the last period that had ended at the schedule's tick (or now). A corp that fails does not stop
 * the others; the job then fails and its retry skips the corps already done (runs are idempotent).
 */
export function samplingJobs(deps: { service: SamplingService; corpIds: () => Promise<number[]> }): {
  jobs: JobDefinition[];
  schedules: ScheduleDefinition[];
} {
  const kinds = Object.keys(SAMPLING_JOBS) as SamplingKind[];
  const handlerFor = (kind: SamplingKind) => async (ctx: JobContext) => {
    const { corpId, period } = payloadOf(ctx);
    const corpIds = corpId !== undefined ? [corpId] : await deps.corpIds();
    const at = ctx.job.scheduledFor ?? new Date();
    const runs: Array<{ corpId: number; period: string; created: boolean; alertsCreated: number }> = [];
    const failures: string[] = [];
    const skipped: number[] = [];
    for (const id of corpIds) {
      if (ctx.signal.aborted) throw new Error('stopped by shutdown; the retry resumes');
      try {
        // A corp may turn the weekly sensitive-post review off; a period asked for by name still runs.
        if (
          kind === 'weekly_sensitive' &&
          !period &&
          !(await deps.service.settings(id)).effective.weeklySensitive
        ) {
          skipped.push(id);
          continue;
        }
        const result = period
          ? await deps.service.run(id, kind, period)
          : await deps.service.runPrevious(id, kind, at);
        runs.push({
          corpId: id,
          period: result.run.period,
          created: result.created,
          alertsCreated: result.alertsCreated,
        });
      } catch (err) {
        failures.push(`corp ${id}: ${(err as Error).message}`);
        ctx.logger.warn({ corpId: id, kind, err: (err as Error).message }, 'sampling run failed');
      }
      await ctx.reportProgress({
        done: runs.length + failures.length + skipped.length,
        total: corpIds.length,
      });
    }
    if (failures.length) throw new Error(`${SAMPLING_JOBS[kind]}: ${failures.join('; ')}`);
    return { kind, runs, ...(skipped.length ? { skipped } : {}) };
  };
  return {
    jobs: kinds.map((kind) => ({ name: SAMPLING_JOBS[kind], maxAttempts: 3, handler: handlerFor(kind) })),
    schedules: kinds.map((kind) => ({
      name: SAMPLING_JOBS[kind],
      cron: CRON[kind],
      job: SAMPLING_JOBS[kind],
    })),
  };
}
