import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import { ALERT_COLUMNS, toAlert, type AlertRow } from '../alerts/alerts.repository.js';
import { SamplingService } from './sampling.service.js';
import { activeIn, generatedMonth, queueFor, samplingConfig, WEEKS } from './test-fixture.js';

afterAll(closeTestPool);

describe('weekly full review of sensitive posts', () => {
  it('covers every sensitive-post conversation in every week, once, routed by department', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'smp');
    const month = await generatedMonth(pool, corp.id);
    const general = await queueFor(pool, corp.id, ['sampling']);
    const finance = await queueFor(pool, corp.id, ['sampling'], {
      name: 'finance',
      position: 1,
      categories: ['sensitive_post'],
      departmentIds: [5],
    });
    const service = new SamplingService({ pool, config: samplingConfig() });

    for (const week of WEEKS) {
      const expected = activeIn(month, week.start, week.end).filter((c) =>
        c.employees.some((e) => month.sensitive.has(e)),
      );
      const { run, created } = await service.run(corp.id, 'weekly_sensitive', week.label);
      expect(created).toBe(true);
      expect(run).toMatchObject({
        period: week.label,
        periodStart: week.start,
        periodEnd: week.end,
        rate: null,
        population: expected.length,
        selected: expected.length,
      });
      const { rows } = await pool.query<AlertRow>(
        `SELECT ${ALERT_COLUMNS} FROM review_alerts a WHERE a.corp_id = $1 AND a.sampling_run_id = $2`,
        [corp.id, run.id],
      );
      const alerts = rows.map(toAlert);
      expect(new Set(alerts.map((a) => a.conversationId))).toEqual(new Set(expected.map((c) => c.id)));
      expect(alerts).toHaveLength(expected.length);
      for (const a of alerts) {
        expect(a).toMatchObject({
          source: 'sampling',
          category: 'sensitive_post',
          severity: 'low',
          windowStart: week.start,
          windowEnd: week.end,
        });
        expect(a.employeeUserids.length).toBeGreaterThan(0);
        expect(a.employeeUserids.every((e) => month.sensitive.has(e))).toBe(true);
        const inFinance = a.employeeUserids.some((e) => /^d[56]-/.test(e));
        expect(a.queueId).toBe(inFinance ? finance.id : general.id);
        expect(a.firstActionDue > a.createdAt).toBe(true);
      }
      console.log(`${week.label}: ${alerts.length} of ${expected.length} sensitive-post conversations`);
    }

    for (const week of WEEKS)
      expect(await service.run(corp.id, 'weekly_sensitive', week.label)).toMatchObject({
        created: false,
        alertsCreated: 0,
      });
    const { rows } = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM review_sampling_runs WHERE corp_id = $1',
      [corp.id],
    );
    expect(rows[0]!.n).toBe(WEEKS.length);

    const report = await service.samplingReport(corp.id, '2025-03-01', '2025-04-01');
    expect(report.weeklySensitive.weeks.map((w) => [w.period, w.coverage])).toEqual([
      ['2025-W10', 1],
      ['2025-W11', 1],
      ['2025-W12', 1],
      ['2025-W13', 1],
    ]);
    expect(report.weeklySensitive).toMatchObject({ runs: 4, achievedRate: 1, minCoverage: 1 });
    expect(report.weeklySensitive.weeks.every((w) => w.runId !== null && w.covered > 0)).toBe(true);
  });

  it('reports a week without its run as uncovered', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'smp');
    await generatedMonth(pool, corp.id, 300, 5);
    const service = new SamplingService({ pool, config: samplingConfig() });
    await service.run(corp.id, 'weekly_sensitive', '2025-W10');
    const report = await service.samplingReport(corp.id, '2025-03-03', '2025-03-17');
    const [w10, w11] = report.weeklySensitive.weeks;
    expect(w10).toMatchObject({ period: '2025-W10', coverage: 1 });
    expect(w11).toMatchObject({ period: '2025-W11', runId: null, covered: 0, coverage: 0 });
    expect(w11!.activeConversations).toBeGreaterThan(0);
    expect(report.weeklySensitive.minCoverage).toBe(0);
  });
});
