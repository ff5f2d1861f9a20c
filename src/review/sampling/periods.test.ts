import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import { drawSample, stochasticSize } from './draw.js';
import { localDay, parsePeriod, previousPeriod, weeksWithin } from './periods.js';
import { SamplingRepository } from './sampling.repository.js';

afterAll(closeTestPool);

describe('sampling periods', () => {
  it('parses months, ISO weeks and days into local days [firstDay, endDay)', () => {
    expect(parsePeriod('monthly_random', '2025-12')).toEqual({
      kind: 'monthly_random',
      label: '2025-12',
      firstDay: '2025-12-01',
      endDay: '2026-01-01',
    });
    expect(parsePeriod('weekly_sensitive', '2025-W01')).toMatchObject({
      firstDay: '2024-12-30',
      endDay: '2025-01-06',
    });
    expect(parsePeriod('weekly_sensitive', '2020-W53')).toMatchObject({
      firstDay: '2020-12-28',
      endDay: '2021-01-04',
    });
    expect(parsePeriod('recheck', '2024-02-29')).toMatchObject({
      firstDay: '2024-02-29',
      endDay: '2024-03-01',
    });
    for (const [kind, text] of [
      ['monthly_random', '2025-13'],
      ['monthly_random', '0050-03'],
      ['monthly_random', '2025-03-01'],
      ['weekly_sensitive', '2021-W53'],
      ['weekly_sensitive', '2025-W00'],
      ['weekly_sensitive', '2025-10'],
      ['recheck', '2025-02-29'],
      ['recheck', '2025-3-1'],
    ] as const)
      expect(() => parsePeriod(kind, text), text).toThrow(RangeError);
  });

  it('finds the last ended period from a local day', () => {
    expect(previousPeriod('monthly_random', '2025-01-01').label).toBe('2024-12');
    expect(previousPeriod('monthly_random', '2025-03-31').label).toBe('2025-02');
    expect(previousPeriod('weekly_sensitive', '2025-03-17').label).toBe('2025-W11'); // a Monday
    expect(previousPeriod('weekly_sensitive', '2025-03-23').label).toBe('2025-W11'); // a Sunday
    expect(previousPeriod('weekly_sensitive', '2025-01-01').label).toBe('2024-W52');
    expect(previousPeriod('recheck', '2025-03-01').label).toBe('2025-02-28');
    // 12:00 UTC on 1 April is 1 April at UTC−12 and 2 April at UTC+14: March has ended everywhere.
    const tick = new Date('2025-04-01T12:00:00Z');
    expect(localDay(tick, 'Pacific/Kiritimati')).toBe('2025-04-02');
    expect(localDay(tick, 'Etc/GMT+12')).toBe('2025-04-01');
    expect(localDay(new Date('2025-02-28T16:00:00Z'), 'Asia/Shanghai')).toBe('2025-03-01');
  });

  it('lists the ISO weeks that lie within a range', () => {
    expect(weeksWithin('2025-03-01', '2025-04-01').map((w) => w.label)).toEqual([
      '2025-W10',
      '2025-W11',
      '2025-W12',
      '2025-W13',
    ]);
    expect(weeksWithin('2025-03-03', '2025-03-10').map((w) => w.label)).toEqual(['2025-W10']);
    expect(weeksWithin('2025-03-04', '2025-03-10')).toEqual([]);
  });

  it('resolves local days in the corp’s time zone, across daylight saving', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'tz');
    await pool.query(`UPDATE corps SET timezone = 'America/New_York' WHERE id = $1`, [corp.id]);
    const bounds = await new SamplingRepository(pool).bounds(
      corp.id,
      parsePeriod('monthly_random', '2025-03'),
    );
    expect(bounds).toEqual({
      start: new Date('2025-03-01T05:00:00Z'),
      end: new Date('2025-04-01T04:00:00Z'),
    });
  });
});

describe('seeded draws', () => {
  const ids = Array.from({ length: 1000 }, (_, i) => String(i + 1));

  it('draws the same subset from the same seed, whatever the order', () => {
    const a = drawSample(ids, (id) => id, 50, 'seed-a');
    expect(a).toHaveLength(50);
    expect(new Set(drawSample([...ids].reverse(), (id) => id, 50, 'seed-a'))).toEqual(new Set(a));
    expect(new Set(drawSample(ids, (id) => id, 50, 'seed-b'))).not.toEqual(new Set(a));
    expect(drawSample(ids, (id) => id, 5000, 'seed-a')).toHaveLength(1000);
  });

  it('draws every item about equally often', () => {
    const hits = new Map<string, number>();
    for (let s = 0; s < 400; s++)
      for (const id of drawSample(ids.slice(0, 20), (x) => x, 5, `s${s}`))
        hits.set(id, (hits.get(id) ?? 0) + 1);
    // Expected 100 each (400 × 5/20); a 3-sigma band is ±26.
    for (const n of hits.values()) expect(Math.abs(n - 100)).toBeLessThan(30);
  });

  it('rounds small populations up or down so the share holds on average', () => {
    expect(stochasticSize(1800, 0.1, 'x')).toBe(180);
    expect(stochasticSize(30, 0.1, 'x')).toBe(3);
    let total = 0;
    for (let s = 0; s < 10_000; s++) total += stochasticSize(7, 0.1, `day-${s}`);
    expect(Math.abs(total / 70_000 - 0.1)).toBeLessThan(0.005);
  });
});
