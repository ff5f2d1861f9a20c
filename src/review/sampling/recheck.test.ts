import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import type { Pool } from '../../platform/db/pool.js';
import { ALERT_COLUMNS, toAlert, type AlertRow } from '../alerts/alerts.repository.js';
import type { Alert } from '../types.js';
import { SamplingService } from './sampling.service.js';
import { queueFor, samplingConfig } from './test-fixture.js';

afterAll(closeTestPool);

/** 2025-03-10 in Asia/Shanghai. */
const DAY = { start: new Date('2025-03-09T16:00:00Z'), end: new Date('2025-03-10T16:00:00Z') };
const HOUR = 3_600_000;

interface Seeded {
  source: 'detection' | 'sampling' | 'recheck';
  status?: 'open' | 'closed';
  disposition: string | null;
  priority: number;
  closedAt: Date | null;
  recheckOf?: string;
}

/** Ten kinds of closed alerts; six of them (marked) are what a recheck may draw. */
const MIX: Array<Omit<Seeded, 'closedAt'> & { eligible: boolean }> = [
  { source: 'detection', disposition: 'compliant', priority: 3, eligible: true },
  { source: 'detection', disposition: 'compliant', priority: 2, eligible: true },
  { source: 'detection', disposition: 'false_positive', priority: 8, eligible: true },
  { source: 'detection', disposition: 'false_positive', priority: 0.2, eligible: true },
  { source: 'detection', disposition: 'violation_confirmed', priority: 0.5, eligible: true }, // low score
  { source: 'detection', disposition: 'violation_confirmed', priority: 4, eligible: false },
  { source: 'detection', disposition: 'questionable', priority: 1, eligible: false }, // not below 1
  { source: 'recheck', disposition: 'compliant', priority: 0.3, eligible: false }, // never a recheck
  { source: 'sampling', disposition: 'violation_confirmed', priority: 0.75, eligible: false },
  { source: 'sampling', disposition: 'compliant', priority: 0.75, eligible: true },
];

async function conversations(pool: Pool, corpId: number, count: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO conversations (corp_id, kind, conversation_key)
     SELECT $1, 'external', 'k-' || n FROM generate_series(1, $2) AS n RETURNING id::text`,
    [corpId, count],
  );
  return rows.map((r) => r.id);
}

async function seedAlerts(pool: Pool, corpId: number, convs: string[], alerts: Seeded[]): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO review_alerts (corp_id, source, conversation_id, window_start, window_end, category, severity,
       rule_ids, policy_ids, msgids, employee_userids, priority, status, disposition, closed_at, recheck_of,
       first_action_due, resolution_due)
     SELECT $1, source, conv, '2025-03-01'::timestamptz + n * interval '1 minute',
       '2025-03-01'::timestamptz + n * interval '2 minutes', (ARRAY['bribery', 'leak'])[1 + n % 2],
       (ARRAY['low', 'medium', 'high', 'critical'])[1 + n % 4], ARRAY['rule-' || n % 7], ARRAY[1 + n % 3],
       ARRAY['msg-' || n], ARRAY['emp-' || n % 5], priority, status, disposition, closed_at, recheck_of,
       now(), now()
     FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::text[], $6::text[], $7::timestamptz[], $8::bigint[])
       WITH ORDINALITY AS t(source, conv, priority, status, disposition, closed_at, recheck_of, n)
     ORDER BY n
     RETURNING id::text`,
    [
      corpId,
      alerts.map((a) => a.source),
      alerts.map((_, i) => convs[i % convs.length]),
      alerts.map((a) => a.priority),
      alerts.map((a) => a.status ?? 'closed'),
      alerts.map((a) => a.disposition),
      alerts.map((a) => a.closedAt),
      alerts.map((a) => a.recheckOf ?? null),
    ],
  );
  return rows.map((r) => r.id);
}

async function alertsWhere(
  pool: Pool,
  corpId: number,
  condition: string,
  params: unknown[],
): Promise<Alert[]> {
  const { rows } = await pool.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM review_alerts a WHERE a.corp_id = $1 AND ${condition} ORDER BY a.id`,
    [corpId, ...params],
  );
  return rows.map(toAlert);
}

const during = (i: number) => new Date(DAY.start.getTime() + ((i * 997) % (24 * HOUR)));

describe('rechecks of dismissed and low-score alerts', () => {
  it('sends the configured share of that day’s dismissed and low-score alerts back to people', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'rck');
    const convs = await conversations(pool, corp.id, 40);
    const queue = await queueFor(pool, corp.id, ['recheck']);
    await queueFor(pool, corp.id, ['detection', 'sampling'], { position: 1 });

    const inDay: Seeded[] = Array.from({ length: 3000 }, (_, i) => ({
      ...MIX[i % 10]!,
      closedAt: during(i),
    }));
    const ids = await seedAlerts(pool, corp.id, convs, inDay);
    const eligible = new Set(ids.filter((_, i) => MIX[i % 10]!.eligible));
    const eligibleKind = new Map(ids.map((id, i) => [id, i % 10]));
    // Not in the population: the days around, still open, and alerts that were rechecked already.
    const dismissed = { source: 'detection', disposition: 'compliant', priority: 0.1 } as const;
    await seedAlerts(pool, corp.id, convs, [
      ...Array.from({ length: 100 }, () => ({
        ...dismissed,
        closedAt: new Date(DAY.start.getTime() - 1000),
      })),
      ...Array.from({ length: 100 }, () => ({ ...dismissed, closedAt: DAY.end })),
      ...Array.from({ length: 100 }, () => ({
        ...dismissed,
        status: 'open' as const,
        disposition: null,
        closedAt: null,
      })),
    ]);
    const rechecked = await seedAlerts(
      pool,
      corp.id,
      convs,
      Array.from({ length: 50 }, (_, i) => ({ ...dismissed, closedAt: during(i) })),
    );
    await seedAlerts(
      pool,
      corp.id,
      convs,
      rechecked.map((id) => ({
        source: 'recheck',
        status: 'open',
        disposition: null,
        priority: 1,
        closedAt: null,
        recheckOf: id,
      })),
    );

    const service = new SamplingService({ pool, config: samplingConfig({ recheckRate: 0.1 }) });
    const { run, created } = await service.run(corp.id, 'recheck', '2025-03-10');
    expect(created).toBe(true);
    expect(run).toMatchObject({
      kind: 'recheck',
      period: '2025-03-10',
      periodStart: DAY.start,
      periodEnd: DAY.end,
    });
    expect(run).toMatchObject({ rate: 0.1, population: eligible.size, selected: 180 });
    const achieved = run.selected / run.population;
    console.log(`recheck rate 0.1: ${run.selected}/${run.population} = ${achieved.toFixed(4)}`);
    expect(Math.abs(achieved - 0.1)).toBeLessThanOrEqual(0.02);

    const rechecks = await alertsWhere(pool, corp.id, 'a.sampling_run_id = $2', [run.id]);
    expect(rechecks).toHaveLength(180);
    const originals = new Map(
      (await alertsWhere(pool, corp.id, 'a.id = ANY ($2::bigint[])', [rechecks.map((r) => r.recheckOf)])).map(
        (a) => [a.id, a],
      ),
    );
    const kindsDrawn = new Set<number>();
    for (const r of rechecks) {
      expect(eligible.has(r.recheckOf!)).toBe(true);
      kindsDrawn.add(eligibleKind.get(r.recheckOf!)!);
      const o = originals.get(r.recheckOf!)!;
      expect(r).toMatchObject({
        source: 'recheck',
        status: 'open',
        queueId: queue.id,
        conversationId: o.conversationId,
        windowStart: o.windowStart,
        windowEnd: o.windowEnd,
        category: o.category,
        severity: o.severity,
        ruleIds: o.ruleIds,
        policyIds: o.policyIds,
        msgids: o.msgids,
        employeeUserids: o.employeeUserids,
      });
      expect(r.firstActionDue.getTime() - r.createdAt.getTime()).toBeCloseTo(48 * HOUR, -4);
    }
    expect(new Set(rechecks.map((r) => r.recheckOf)).size).toBe(180);
    expect([...kindsDrawn].sort()).toEqual([0, 1, 2, 3, 4, 9]);

    expect(await service.run(corp.id, 'recheck', '2025-03-10')).toMatchObject({
      created: false,
      alertsCreated: 0,
    });
    expect(
      await alertsWhere(pool, corp.id, "a.source = 'recheck' AND a.sampling_run_id IS NOT NULL", []),
    ).toHaveLength(180);

    // The next day: the rechecks, now closed as compliant, are never rechecked themselves.
    const nextDay = new Date(DAY.end.getTime() + HOUR);
    await pool.query(
      `UPDATE review_alerts SET status = 'closed', disposition = 'compliant', closed_at = $3
       WHERE corp_id = $1 AND sampling_run_id = $2`,
      [corp.id, run.id, nextDay],
    );
    await seedAlerts(
      pool,
      corp.id,
      convs,
      Array.from({ length: 30 }, () => ({ ...dismissed, closedAt: nextDay })),
    );
    const next = await service.run(corp.id, 'recheck', '2025-03-11');
    // 100 closed at the start of that day + these 30; 13 = 130 × 0.1.
    expect(next.run).toMatchObject({ population: 130, selected: 13 });
    const drawn = await alertsWhere(pool, corp.id, 'a.sampling_run_id = $2', [next.run.id]);
    const ofRechecks = await alertsWhere(
      pool,
      corp.id,
      "a.id = ANY ($2::bigint[]) AND a.source = 'recheck'",
      [drawn.map((d) => d.recheckOf)],
    );
    expect(ofRechecks).toEqual([]);
  });
});
