import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import { ALERT_COLUMNS, toAlert, type AlertRow } from '../alerts/alerts.repository.js';
import type { Alert } from '../types.js';
import { drawSample } from './draw.js';
import { SamplingService } from './sampling.service.js';
import { activeIn, generatedMonth, MONTH, queueFor, samplingConfig } from './test-fixture.js';

afterAll(closeTestPool);

const HOUR = 3_600_000;

async function alertsOfRun(corpId: number, runId: string): Promise<Alert[]> {
  const { rows } = await testPool().query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM review_alerts a WHERE a.corp_id = $1 AND a.sampling_run_id = $2 ORDER BY a.id`,
    [corpId, runId],
  );
  return rows.map(toAlert);
}

describe('monthly random sampling of ordinary posts', () => {
  it.each([0.05, 0.1])('draws %s of the month’s ordinary-post conversations, once', async (rate) => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'smp');
    const month = await generatedMonth(pool, corp.id);
    const queue = await queueFor(pool, corp.id, ['sampling']);
    await queueFor(pool, corp.id, ['detection', 'recheck'], { position: 1 }); // must not take sampling
    const service = new SamplingService({ pool, config: samplingConfig({ monthlyRate: rate }) });

    const ordinary = activeIn(month, MONTH.start, MONTH.end).filter((c) =>
      c.employees.some((e) => !month.sensitive.has(e)),
    );
    const { run, created, alertsCreated } = await service.run(corp.id, 'monthly_random', '2025-03');
    expect(created).toBe(true);
    expect(run).toMatchObject({
      kind: 'monthly_random',
      period: '2025-03',
      periodStart: MONTH.start,
      periodEnd: MONTH.end,
      rate,
      population: ordinary.length,
      selected: Math.round(ordinary.length * rate),
    });
    expect(ordinary.length).toBeGreaterThan(2000);
    const achieved = run.selected / run.population;
    console.log(`monthly rate ${rate}: ${run.selected}/${run.population} = ${achieved.toFixed(4)}`);
    expect(Math.abs(achieved - rate)).toBeLessThanOrEqual(0.02);

    const alerts = await alertsOfRun(corp.id, run.id);
    expect(alerts).toHaveLength(run.selected);
    expect(alertsCreated).toBe(run.selected);
    const byId = new Map(ordinary.map((c) => [c.id, c]));
    for (const a of alerts) {
      expect(a).toMatchObject({
        source: 'sampling',
        category: 'sampling',
        severity: 'low',
        windowStart: MONTH.start,
        windowEnd: MONTH.end,
        queueId: queue.id,
        status: 'open',
      });
      expect(a.employeeUserids).toEqual(byId.get(a.conversationId)!.employees);
      expect(a.firstActionDue.getTime() - a.createdAt.getTime()).toBeCloseTo(48 * HOUR, -4);
      expect(a.resolutionDue.getTime() - a.createdAt.getTime()).toBeCloseTo(120 * HOUR, -4);
    }
    expect(new Set(alerts.map((a) => a.conversationId)).size).toBe(run.selected);
    // The stored seed repeats the draw over the same population.
    const redrawn = drawSample([...byId.keys()], (id) => id, run.selected, run.seed);
    expect(new Set(redrawn)).toEqual(new Set(alerts.map((a) => a.conversationId)));

    const again = await service.run(corp.id, 'monthly_random', '2025-03');
    expect(again).toMatchObject({ created: false, alertsCreated: 0, run: { id: run.id } });
    expect(await alertsOfRun(corp.id, run.id)).toHaveLength(run.selected);
  });

  it('leaves out conversations only among sensitive posts and messages outside the local month', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'smp');
    const month = await generatedMonth(pool, corp.id, 600, 11);
    const service = new SamplingService({ pool, config: samplingConfig({ monthlyRate: 1 }) });
    const { run } = await service.run(corp.id, 'monthly_random', '2025-03');
    const sampled = new Set((await alertsOfRun(corp.id, run.id)).map((a) => a.conversationId));
    const edges = month.conversations.slice(-4).map((c) => sampled.has(c.id));
    // One second before the local month, its first second, its last second, the next month.
    expect(edges).toEqual([false, true, true, false]);
    for (const c of month.conversations) {
      const inMonth = c.times.some((t) => t >= MONTH.start && t < MONTH.end);
      const ordinary = c.employees.some((e) => !month.sensitive.has(e));
      expect(sampled.has(c.id)).toBe(inMonth && ordinary);
    }
    expect([...month.sensitive].filter((e) => e.startsWith('hr-'))).toEqual(['hr-0', 'hr-1', 'hr-2']);
  });

  it('creates one run and one set of alerts when the same period runs concurrently', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'smp');
    await generatedMonth(pool, corp.id, 400, 3);
    const service = new SamplingService({ pool, config: samplingConfig({ monthlyRate: 0.1 }) });
    const results = await Promise.all([1, 2, 3].map(() => service.run(corp.id, 'monthly_random', '2025-03')));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
    const { rows } = await pool.query<{ runs: number; alerts: number }>(
      `SELECT (SELECT count(*)::int FROM review_sampling_runs WHERE corp_id = $1) AS runs,
              (SELECT count(*)::int FROM review_alerts WHERE corp_id = $1) AS alerts`,
      [corp.id],
    );
    expect(rows[0]).toEqual({ runs: 1, alerts: results[0]!.run.selected });
  });

  it('refuses a period that has not ended and names the expected format', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'smp');
    const service = new SamplingService({
      pool,
      config: samplingConfig(),
      now: () => new Date('2025-03-20T00:00:00Z'),
    });
    await expect(service.run(corp.id, 'monthly_random', '2025-03')).rejects.toMatchObject({
      statusCode: 409,
      code: 'period_not_over',
    });
    await expect(service.run(corp.id, 'monthly_random', '2025-3')).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/YYYY-MM/),
    });
    const empty = await service.run(corp.id, 'monthly_random', '2025-02');
    expect(empty).toMatchObject({ created: true, run: { population: 0, selected: 0 } });
  });
});
