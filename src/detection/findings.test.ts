import { describe, expect, it } from 'vitest';
import { FindingGrouper } from './findings.js';
import type { Hit } from './types.js';

const hit = (i: number, minute: number, over: Partial<Hit> = {}): Hit => ({
  msgid: `m${i}`,
  conversationId: 'room',
  corpId: 'corp',
  time: minute * 60_000,
  ruleId: 'r',
  ruleName: 'r',
  category: 'c',
  severity: 'low',
  term: '回扣',
  start: 0,
  end: 2,
  matched: '回扣',
  method: 'exact',
  methods: ['exact'],
  ...over,
});

describe('FindingGrouper', () => {
  it('thirty repeats in a group chat within the window make one finding', () => {
    const hits = Array.from({ length: 30 }, (_, i) => hit(i, i));
    const findings = FindingGrouper.group(hits, { windowMs: 30 * 60_000 });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ hitCount: 30, firstTime: 0, lastTime: 29 * 60_000 });
    expect(findings[0]!.msgids).toHaveLength(30);
  });

  it('starts a new finding after the window and per conversation and rule', () => {
    const findings = FindingGrouper.group([
      hit(1, 0),
      hit(2, 31),
      hit(3, 1, { conversationId: 'other' }),
      hit(4, 2, { ruleId: 'r2' }),
    ]);
    expect(findings).toHaveLength(4);
  });

  it('takes the highest severity and can group by category', () => {
    const findings = FindingGrouper.group([hit(1, 0), hit(2, 1, { ruleId: 'r2', severity: 'high' })], {
      by: 'category',
    });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'high', ruleIds: ['r', 'r2'] });
  });

  it('add reports whether a hit opened a finding', () => {
    const g = new FindingGrouper();
    expect(g.add(hit(1, 0)).created).toBe(true);
    expect(g.add(hit(2, 5)).created).toBe(false);
    g.closeBefore(60 * 60_000);
    expect(g.add(hit(3, 61)).created).toBe(true);
  });
});
