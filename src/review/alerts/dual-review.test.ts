import { describe, expect, it } from 'vitest';
import type { Severity } from '../types.js';
import { decide } from './dual-review.js';

const queue = { confirmNeedsSecond: true, dualReviewSeverities: ['high', 'critical'] as Severity[] };
const open = {
  status: 'in_review' as const,
  severity: 'medium' as const,
  proposedBy: null,
  proposedDisposition: null,
};

describe('dual review (双人复核)', () => {
  it('closes ordinary decisions at once and holds confirmations and high-severity closures for a second person', () => {
    expect(decide(open, { ...queue, dualReviewSeverities: [] }, 'a', 'false_positive', new Set())).toEqual({
      kind: 'close',
      disposition: 'false_positive',
      stage: 'first',
    });
    expect(decide(open, queue, 'a', 'violation_confirmed', new Set())).toEqual({
      kind: 'await_second',
      proposed: 'violation_confirmed',
    });
    expect(decide({ ...open, severity: 'high' }, queue, 'a', 'compliant', new Set())).toEqual({
      kind: 'await_second',
      proposed: 'compliant',
    });
    expect(
      decide(open, { ...queue, confirmNeedsSecond: false }, 'a', 'violation_confirmed', new Set()).kind,
    ).toBe('close');
  });

  it('never lets the first reviewer give the second review; disagreement escalates to someone new', () => {
    const awaiting = {
      status: 'awaiting_second' as const,
      severity: 'medium' as const,
      proposedBy: 'a',
      proposedDisposition: 'violation_confirmed' as const,
    };
    expect(decide(awaiting, queue, 'a', 'violation_confirmed', new Set(['a'])).kind).toBe('refuse');
    expect(decide(awaiting, queue, 'b', 'violation_confirmed', new Set(['a']))).toEqual({
      kind: 'close',
      disposition: 'violation_confirmed',
      stage: 'second',
    });
    expect(decide(awaiting, queue, 'b', 'false_positive', new Set(['a']))).toEqual({
      kind: 'escalate',
      stage: 'second',
    });
    const escalated = { ...awaiting, status: 'escalated' as const };
    for (const reviewer of ['a', 'b'])
      expect(decide(escalated, queue, reviewer, 'compliant', new Set(['a', 'b'])).kind).toBe('refuse');
    expect(decide(escalated, queue, 'c', 'compliant', new Set(['a', 'b']))).toEqual({
      kind: 'close',
      disposition: 'compliant',
      stage: 'final',
    });
    expect(decide({ ...open, status: 'closed' }, queue, 'c', 'compliant', new Set()).kind).toBe('refuse');
  });
});
