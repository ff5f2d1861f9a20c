import type { Alert, Disposition, ReviewQueue } from '../types.js';

/** What a decision does to an alert. */
export type DecisionOutcome =
  | { kind: 'close'; disposition: Disposition; stage: 'first' | 'second' | 'final' }
  | { kind: 'await_second'; proposed: Disposition }
  | { kind: 'escalate'; stage: 'first' | 'second' }
  | { kind: 'refuse'; reason: string };

/** Queue rules when an alert has no queue: confirmations and high-severity closures need two people. */
const DEFAULT_RULES = { confirmNeedsSecond: true, dualReviewSeverities: ['high', 'critical'] as string[] };

/**
 * The dual-review (双人复核) rules. A first decision closes the alert unless it confirms a
 * violation, or closes a high-severity alert, where the queue asks for a second reviewer; the
 * second reviewer is never the first; a disagreement escalates, and an escalated alert is closed
 * by someone who took no part in it yet.
 */
export function decide(
  alert: Pick<Alert, 'status' | 'severity' | 'proposedBy' | 'proposedDisposition'>,
  queue: Pick<ReviewQueue, 'confirmNeedsSecond' | 'dualReviewSeverities'> | undefined,
  reviewerId: string,
  disposition: Disposition,
  earlierReviewers: ReadonlySet<string>,
): DecisionOutcome {
  const rules = queue ?? DEFAULT_RULES;
  switch (alert.status) {
    case 'closed':
      return { kind: 'refuse', reason: 'the alert is closed' };
    case 'awaiting_second':
      if (reviewerId === alert.proposedBy)
        return { kind: 'refuse', reason: 'the second review must be given by someone else (双人复核)' };
      if (disposition === 'escalated') return { kind: 'escalate', stage: 'second' };
      return disposition === alert.proposedDisposition
        ? { kind: 'close', disposition, stage: 'second' }
        : { kind: 'escalate', stage: 'second' };
    case 'escalated':
      if (earlierReviewers.has(reviewerId))
        return {
          kind: 'refuse',
          reason: 'an escalated alert is decided by someone who has not reviewed it yet',
        };
      if (disposition === 'escalated') return { kind: 'refuse', reason: 'the alert is escalated already' };
      return { kind: 'close', disposition, stage: 'final' };
    default: {
      if (disposition === 'escalated') return { kind: 'escalate', stage: 'first' };
      const needsSecond =
        (disposition === 'violation_confirmed' && rules.confirmNeedsSecond) ||
        rules.dualReviewSeverities.includes(alert.severity);
      return needsSecond
        ? { kind: 'await_second', proposed: disposition }
        : { kind: 'close', disposition, stage: 'first' };
    }
  }
}
