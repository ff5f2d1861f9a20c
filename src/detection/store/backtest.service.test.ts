import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { testArchive } from '../../../test/support/archive.js';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import { AppError } from '../../platform/http/errors.js';
import { JobRepository } from '../../platform/jobs/queue.js';
import type { Job, JobProgress } from '../../platform/jobs/types.js';
import { BACKTEST_JOB, BacktestService, measuredPrecision } from './backtest.service.js';
import { detectionJobs } from './detection.jobs.js';
import { DetectionService } from './detection.service.js';
import { PolicyRegistry } from './registry.js';
import { groupMessage, policyDoc } from './test-helpers.js';

afterAll(closeTestPool);

const at = (minute: number) => new Date(Date.UTC(2026, 3, 6, 2, 0) + minute * 60_000);

/** Runs a job definition's handler the way the runner does, collecting progress. */
async function runJob(def: { handler: (ctx: never) => Promise<unknown> }, job: Job, progress: JobProgress[]) {
  return def.handler({
    job,
    logger: pino({ level: 'silent' }),
    reportProgress: async (p: JobProgress) => void progress.push(p),
    signal: new AbortController().signal,
  } as never);
}

describe('back-tests', () => {
  it('runs a draft policy over the archive: hits per rule and term, examples, progress', async () => {
    const corp = await createTestCorp();
    const { archive } = await testArchive(testPool());
    const messages = [
      ...Array.from({ length: 8 }, (_, i) => groupMessage(`b${i}`, `这单回扣 ${i}`, at(i))),
      ...Array.from({ length: 3 }, (_, i) => groupMessage(`f${i}`, `返点照旧`, at(20 + i))),
      ...Array.from({ length: 4 }, (_, i) => groupMessage(`n${i}`, `今天开会`, at(30 + i))),
      groupMessage('old', '回扣', new Date(Date.UTC(2026, 0, 5))), // outside the range
    ];
    await archive.storeBatch(corp.id, messages);
    const jobs = new JobRepository(testPool());
    const service = new BacktestService(testPool(), archive, jobs);
    const draft = policyDoc('bt1', ['回扣', '返点'], 'bribery', [
      { id: 'bt1.meeting', name: '开会', category: 'other', severity: 'low', when: { term: '开会' } },
    ]);
    const started = await service.start({
      corpId: corp.id,
      document: draft,
      scope: { from: at(0).toISOString(), to: at(60).toISOString() },
      requestedBy: 'alice',
    });
    expect(started.status).toBe('queued');
    const job = (await jobs.get(started.jobId!))!;
    expect(job).toMatchObject({ name: BACKTEST_JOB, payload: { backtestId: started.id } });

    const detection = new DetectionService(testPool(), new PolicyRegistry(testPool()));
    const [backtestJob] = detectionJobs({ archive, detection, backtests: service });
    const progress: JobProgress[] = [];
    expect(await runJob(backtestJob!, job, progress)).toMatchObject({ messages: 15, hits: 15 });
    expect(progress[0]).toMatchObject({ done: 0, total: 15 });
    expect(progress.at(-1)).toMatchObject({ done: 15, total: 15 });

    const done = (await service.get(started.id))!;
    expect(done.status).toBe('succeeded');
    expect(done.progress).toMatchObject({ done: 15 });
    const result = done.result!;
    expect(result).toMatchObject({ messages: 15, unreadable: 0, hits: 15, findings: 2 });
    expect(result.rules.map((r) => [r.ruleId, r.hits, r.messages, r.examples.length, r.precision])).toEqual([
      ['bt1.words', 11, 11, 5, null],
      ['bt1.meeting', 4, 4, 4, null],
    ]);
    expect(result.terms.map((t) => [t.ruleId, t.term, t.hits])).toEqual([
      ['bt1.words', '回扣', 8],
      ['bt1.meeting', '开会', 4],
      ['bt1.words', '返点', 3],
    ]);
    expect(result.terms.find((t) => t.term === '返点')!.examples).toEqual(['f0', 'f1', 'f2']);
    // No matched text in the stored result: only ids, counts and policy terms.
    expect(JSON.stringify(result)).not.toContain('这单');
  });

  it('samples the most recent messages, back-tests a stored version, and rejects a bad draft', async () => {
    const corp = await createTestCorp();
    const { archive } = await testArchive(testPool());
    await archive.storeBatch(
      corp.id,
      Array.from({ length: 12 }, (_, i) => groupMessage(`s${i}`, '回扣', at(i))),
    );
    const service = new BacktestService(testPool(), archive);
    const bt = await service.create({ corpId: corp.id, document: policyDoc('bt2'), scope: { sample: 5 } });
    const progress: JobProgress[] = [];
    const result = await service.run(bt.id, (p) => void progress.push(p));
    expect(result.messages).toBe(5);
    expect(result.rules[0]!.examples).toEqual(['s7', 's8', 's9', 's10', 's11']);
    expect(progress.at(-1)).toMatchObject({ done: 5, total: 5 });

    const bad = await service
      .create({ corpId: corp.id, document: { id: 'x', name: 'x', rules: [{ id: 'r' }] } })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(AppError);
    expect((bad as AppError).statusCode).toBe(422);
    expect(await measuredPrecision(testPool(), corp.id, 'bt2.words')).toBeNull();
  });
});
