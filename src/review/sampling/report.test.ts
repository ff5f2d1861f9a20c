import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import { HUMAN_REVIEW_DEFINITION } from './sampling-report.js';
import { SamplingService } from './sampling.service.js';
import { generatedMonth, samplingConfig } from './test-fixture.js';

afterAll(closeTestPool);

const MARCH = '2025-03-05T04:00:00Z';
const FEBRUARY = '2025-02-10T04:00:00Z';

describe('sampling report', () => {
  it('computes the human-review ratio of a hand-checked month', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'rpt');
    await pool.query('SELECT vigil_ensure_message_partition($1::timestamptz)', [FEBRUARY]);
    await pool.query('SELECT vigil_ensure_message_partition($1::timestamptz)', [MARCH]);
    const { rows: convs } = await pool.query<{ id: string }>(
      `INSERT INTO conversations (corp_id, kind, conversation_key)
       SELECT $1, 'external', 'k-' || n FROM generate_series(1, 11) AS n ORDER BY n RETURNING id::text`,
      [corp.id],
    );
    const c = convs.map((r) => r.id);
    // c[0..9] talk in March (10 automated decisions); c[10] only in February.
    await pool.query(
      `INSERT INTO messages (corp_id, conversation_id, msg_time, msgid, msgtype)
       SELECT $1, conv, CASE WHEN i = 11 THEN $3::timestamptz ELSE $2::timestamptz END, 'm-' || i || '-' || r, 'text'
       FROM unnest($4::bigint[]) WITH ORDINALITY AS t(conv, i), generate_series(1, 2) AS r`,
      [corp.id, MARCH, FEBRUARY, c],
    );
    const { rows: users } = await pool.query<{ id: string }>(
      'INSERT INTO users (username) VALUES ($1) RETURNING id::text',
      [`reviewer-${randomBytes(4).toString('hex')}`],
    );
    const reviewer = users[0]!.id;
    const alert = async (
      conv: string,
      o: {
        windowStart?: string;
        firstActionAt?: string | null;
        status?: string;
        disposition?: string | null;
      } = {},
    ): Promise<string> => {
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO review_alerts (corp_id, source, conversation_id, window_start, window_end, category, severity,
           first_action_due, resolution_due, first_action_at, status, disposition, closed_at)
         VALUES ($1, 'detection', $2, $3::timestamptz, $3::timestamptz + interval '1 hour', 'bribery', 'high',
           now(), now(), $4, $5, $6, CASE WHEN $5 = 'closed' THEN now() END)
         RETURNING id::text`,
        [
          corp.id,
          conv,
          o.windowStart ?? MARCH,
          o.firstActionAt ?? null,
          o.status ?? 'open',
          o.disposition ?? null,
        ],
      );
      return rows[0]!.id;
    };
    const decide = (alertId: string, stage: string) =>
      pool.query(
        `INSERT INTO review_decisions (corp_id, alert_id, reviewer_id, stage, disposition) VALUES ($1, $2, $3, $4, $5)`,
        [corp.id, alertId, reviewer, stage, stage === 'claim' ? null : 'compliant'],
      );

    await alert(c[0]!, { firstActionAt: MARCH }); // judged: first action
    await alert(c[1]!); // open, untouched
    await decide(await alert(c[2]!, { status: 'closed', disposition: 'compliant' }), 'first'); // judged: closed by a person
    await alert(c[3]!, { windowStart: '2025-01-10T00:00:00Z', firstActionAt: '2025-01-11T00:00:00Z' }); // another period
    await decide(await alert(c[4]!), 'claim'); // only a claim row, no first action recorded: not counted
    await alert(c[5]!, { firstActionAt: MARCH }); // judged, counted once for two alerts
    await alert(c[5]!, { firstActionAt: MARCH });
    await alert(c[6]!, { status: 'closed', disposition: 'false_positive' }); // auto-dismissed: no person
    await alert(c[10]!, { firstActionAt: MARCH }); // no March message: not an automated decision of March

    const service = new SamplingService({ pool, config: samplingConfig({ humanReviewTarget: 0.3 }) });
    const report = await service.samplingReport(corp.id, '2025-03-01', '2025-04-01');
    expect(report.humanReview).toEqual({
      definition: HUMAN_REVIEW_DEFINITION,
      automatedDecisions: 10,
      humanJudged: 3,
      ratio: 0.3,
      target: 0.3,
      meetsTarget: true,
    });
    expect(report.from).toEqual(new Date('2025-02-28T16:00:00Z'));
    expect(report.to).toEqual(new Date('2025-03-31T16:00:00Z'));

    const stricter = new SamplingService({ pool, config: samplingConfig({ humanReviewTarget: 0.31 }) });
    expect((await stricter.samplingReport(corp.id, '2025-03-01', '2025-04-01')).humanReview).toMatchObject({
      ratio: 0.3,
      meetsTarget: false,
    });
    expect((await service.samplingReport(corp.id, '2024-03-01', '2024-04-01')).humanReview).toMatchObject({
      automatedDecisions: 0,
      ratio: null,
      meetsTarget: null,
    });
    await expect(service.samplingReport(corp.id, '2025-04-01', '2025-03-01')).rejects.toMatchObject({
      statusCode: 400,
    });
  });

  it('sums the runs of each kind against the configured rates', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'rpt');
    await generatedMonth(pool, corp.id, 500, 9);
    const service = new SamplingService({
      pool,
      config: samplingConfig({ monthlyRate: 0.1, recheckRate: 0.2 }),
    });
    const monthly = (await service.run(corp.id, 'monthly_random', '2025-03')).run;
    await service.run(corp.id, 'weekly_sensitive', '2025-W11');
    await service.run(corp.id, 'weekly_sensitive', '2025-W14'); // ends in April: outside the report
    await service.run(corp.id, 'recheck', '2025-03-02');

    const report = await service.samplingReport(corp.id, '2025-03-01', '2025-04-01');
    expect(report.monthlyRandom).toEqual({
      configuredRate: 0.1,
      runs: 1,
      population: monthly.population,
      selected: monthly.selected,
      achievedRate: monthly.selected / monthly.population,
      periods: [
        {
          period: '2025-03',
          periodStart: monthly.periodStart,
          periodEnd: monthly.periodEnd,
          rate: 0.1,
          population: monthly.population,
          selected: monthly.selected,
          achievedRate: monthly.selected / monthly.population,
        },
      ],
    });
    expect(report.weeklySensitive).toMatchObject({ runs: 1, achievedRate: 1 });
    expect(report.recheck).toEqual({
      configuredRate: 0.2,
      runs: 1,
      population: 0,
      selected: 0,
      achievedRate: null,
    });
    // Every sampled conversation was screened, but nobody acted on an alert yet.
    expect(report.humanReview).toMatchObject({ humanJudged: 0, ratio: 0, meetsTarget: false });
  });
});
