import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { pino } from 'pino';
import { closeTestPool, testPool } from '../../../test/support/db.js';
import { JobRepository } from './queue.js';
import { JobRunner } from './runner.js';

const logger = pino({ level: 'silent' });
afterAll(closeTestPool);

/** Job names unique to one test, so tests sharing the database never claim each other's jobs. */
const uniqueName = (label: string) => `test.${label}.${Math.random().toString(36).slice(2, 8)}`;

/** Starts a runner and makes sure it stops when the test ends, passed or failed. */
function startStopped(runner: JobRunner): void {
  runner.start();
  onTestFinished(() => runner.stop());
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('job queue', () => {
  it('runs every job exactly once across competing runners', async () => {
    const repo = new JobRepository(testPool());
    const name = uniqueName('once');
    const executions = new Map<string, number>();
    const runners = [0, 1, 2].map(() => new JobRunner(repo, logger, { concurrency: 3, pollIntervalMs: 20 }));
    for (const runner of runners) {
      runner.define({
        name,
        handler: async ({ job }) => {
          executions.set(job.id, (executions.get(job.id) ?? 0) + 1);
          await sleep(2);
          return { by: runner.workerId };
        },
      });
    }
    const jobs = await Promise.all(Array.from({ length: 60 }, (_, i) => repo.enqueue(name, { i })));
    runners.forEach((r) => startStopped(r));
    await waitFor(async () => (await repo.list({ name, status: 'succeeded', limit: 100 })).length === 60);
    await Promise.all(runners.map((r) => r.stop()));
    expect(jobs.every((job) => executions.get(job.id) === 1)).toBe(true);
  });

  it('retries a failing job with backoff and records the error', async () => {
    const repo = new JobRepository(testPool());
    const name = uniqueName('retry');
    let calls = 0;
    const runner = new JobRunner(repo, logger, { concurrency: 1, pollIntervalMs: 20 });
    runner.define({
      name,
      handler: async () => {
        calls++;
        if (calls === 1) throw new Error('transient failure');
        return 'ok';
      },
    });
    const job = await repo.enqueue(name, {});
    startStopped(runner);
    // Read the row after the handler ran: a row fetched before the claim would also say 'queued'.
    await waitFor(async () => calls === 1 && (await repo.get(job.id))?.lastError === 'transient failure');
    const afterFailure = (await repo.get(job.id))!;
    expect(afterFailure.lastError).toBe('transient failure');
    expect(afterFailure.runAt.getTime()).toBeGreaterThan(Date.now() + 2000); // backed off, not hot-looping
    await testPool().query('UPDATE jobs SET run_at = now() WHERE id = $1', [job.id]);
    await waitFor(async () => (await repo.get(job.id))?.status === 'succeeded');
    await runner.stop();
    const done = (await repo.get(job.id))!;
    expect(done.attempts).toBe(2);
    expect(done.result).toBe('ok');
  });

  it('fails a job for good after its last attempt', async () => {
    const repo = new JobRepository(testPool());
    const name = uniqueName('fail');
    const runner = new JobRunner(repo, logger, { concurrency: 1, pollIntervalMs: 20 });
    runner.define({ name, handler: async () => Promise.reject(new Error('permanent')) });
    const job = await repo.enqueue(name, {}, { maxAttempts: 1 });
    startStopped(runner);
    await waitFor(async () => (await repo.get(job.id))?.status === 'failed');
    await runner.stop();
    expect((await repo.get(job.id))!.lastError).toBe('permanent');
  });

  it('returns the job of a worker that died to the queue once its lease expires', async () => {
    const repo = new JobRepository(testPool());
    const name = uniqueName('lease');
    const job = await repo.enqueue(name, {});
    const claimed = await repo.claim('dead-worker', [name], 50);
    expect(claimed?.id).toBe(job.id);
    await sleep(120);
    expect(await repo.releaseExpiredLeases()).toBeGreaterThanOrEqual(1);
    const requeued = (await repo.get(job.id))!;
    expect(requeued.status).toBe('queued');
    expect(requeued.lastError).toMatch(/lost its lease/);
  });

  it('enqueues one job per schedule tick however many processes schedule it', async () => {
    const repo = new JobRepository(testPool());
    const name = uniqueName('tick');
    const runners = [0, 1, 2, 3].map(
      () => new JobRunner(repo, logger, { concurrency: 1, pollIntervalMs: 20 }),
    );
    for (const runner of runners) runner.schedule({ name, cron: '*/10 * * * * *', job: name });
    const now = new Date('2026-11-24T10:00:07Z');
    await Promise.all(runners.map((r) => r.enqueueDueTicks(now)));
    await Promise.all(runners.map((r) => r.enqueueDueTicks(new Date('2026-11-24T10:00:09Z'))));
    await Promise.all(runners.map((r) => r.enqueueDueTicks(new Date('2026-11-24T10:00:10Z'))));
    const { rows } = await testPool().query<{ scheduled_for: Date }>(
      'SELECT scheduled_for FROM jobs WHERE schedule = $1 ORDER BY scheduled_for',
      [name],
    );
    expect(rows.map((r) => r.scheduled_for.toISOString())).toEqual([
      '2026-11-24T10:00:00.000Z',
      '2026-11-24T10:00:10.000Z',
    ]);
  });

  it('rejects a malformed cron expression at start-up', () => {
    const runner = new JobRunner(new JobRepository(testPool()), logger, {
      concurrency: 1,
      pollIntervalMs: 20,
    });
    expect(() => runner.schedule({ name: 'bad', cron: 'every tuesday', job: 'x' })).toThrow();
  });
});
