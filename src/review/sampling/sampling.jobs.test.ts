import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import type { Job, JobContext } from '../../platform/jobs/types.js';
import { SAMPLING_JOBS, samplingJobs } from './sampling.jobs.js';
import { SamplingService } from './sampling.service.js';
import { generatedMonth, samplingConfig } from './test-fixture.js';

afterAll(closeTestPool);

function context(
  name: string,
  payload: Record<string, unknown>,
  scheduledFor: Date | null = null,
): JobContext {
  return {
    job: { id: '1', name, payload, scheduledFor } as Job,
    logger: pino({ level: 'silent' }),
    reportProgress: async () => undefined,
    signal: new AbortController().signal,
  };
}

describe('sampling jobs', () => {
  it('run each kind over the given corps for a period, or the last one ended at the tick', async () => {
    const pool = testPool();
    const [corp, other] = [await createTestCorp(pool, 'sjob'), await createTestCorp(pool, 'sjob')];
    await generatedMonth(pool, corp.id, 300, 17);
    const service = new SamplingService({ pool, config: samplingConfig() });
    const { jobs, schedules } = samplingJobs({ service, corpIds: async () => [corp.id, other.id] });
    const handler = (name: string) => jobs.find((j) => j.name === name)!.handler;

    expect(schedules).toEqual([
      { name: 'review.sampling.monthly', cron: '0 12 1 * *', job: 'review.sampling.monthly' },
      { name: 'review.sampling.weekly', cron: '0 12 * * 1', job: 'review.sampling.weekly' },
      { name: 'review.sampling.recheck', cron: '0 12 * * *', job: 'review.sampling.recheck' },
    ]);

    const monthly = await handler(SAMPLING_JOBS.monthly_random)(
      context(SAMPLING_JOBS.monthly_random, { corpId: corp.id, period: '2025-03' }),
    );
    expect(monthly).toMatchObject({ runs: [{ corpId: corp.id, period: '2025-03', created: true }] });

    // Ticks: Monday 17 March 12:00 UTC → week 11; 1 April → March (done already); every corp.
    const weekly = await handler(SAMPLING_JOBS.weekly_sensitive)(
      context(SAMPLING_JOBS.weekly_sensitive, {}, new Date('2025-03-17T12:00:00Z')),
    );
    expect(weekly).toMatchObject({
      runs: [
        { corpId: corp.id, period: '2025-W11', created: true },
        { corpId: other.id, period: '2025-W11', created: true, alertsCreated: 0 },
      ],
    });
    const tick = await handler(SAMPLING_JOBS.monthly_random)(
      context(SAMPLING_JOBS.monthly_random, {}, new Date('2025-04-01T12:00:00Z')),
    );
    expect(tick).toMatchObject({
      runs: [
        { corpId: corp.id, period: '2025-03', created: false },
        { corpId: other.id, period: '2025-03', created: true },
      ],
    });
    const recheck = await handler(SAMPLING_JOBS.recheck)(
      context(SAMPLING_JOBS.recheck, { corpId: other.id }, new Date('2025-03-17T12:00:00Z')),
    );
    expect(recheck).toMatchObject({ runs: [{ corpId: other.id, period: '2025-03-16' }] });

    await expect(
      handler(SAMPLING_JOBS.recheck)(context(SAMPLING_JOBS.recheck, { corpId: 'x' })),
    ).rejects.toThrow(/corpId/);
    await expect(
      handler(SAMPLING_JOBS.monthly_random)(context(SAMPLING_JOBS.monthly_random, { period: '2999-01' })),
    ).rejects.toThrow(/corp \d+: .*not ended/);
  });
});
