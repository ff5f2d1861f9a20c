import type { AlertDraft, ReviewQueue } from '../types.js';

/** The default SLA when no queue matches: 24 hours to first action and to resolution. */
export const DEFAULT_SLA = { firstActionHours: 24, resolutionHours: 24 };

/**
 * The queue that takes an alert: the first (by position, then id) whose set filters all match.
 * `departmentsOf` lists the departments (with their ancestors) of the alert's employees.
 */
export function routeAlert(
  queues: readonly ReviewQueue[],
  draft: AlertDraft,
  departmentsOf: ReadonlySet<number>,
): ReviewQueue | undefined {
  const ordered = [...queues].sort((a, b) => a.position - b.position || Number(a.id) - Number(b.id));
  return ordered.find(
    (q) =>
      (!q.policyIds || (draft.policyIds ?? []).some((p) => q.policyIds!.includes(p))) &&
      (!q.categories || q.categories.includes(draft.category)) &&
      (!q.severities || q.severities.includes(draft.severity)) &&
      (!q.sources || q.sources.includes(draft.source)) &&
      (!q.departmentIds || q.departmentIds.some((d) => departmentsOf.has(d))),
  );
}

const SEVERITY_WEIGHT = { low: 1, medium: 2, high: 4, critical: 8 } as const;

/**
 * Queue order: severity, times the measured precision of the alert's best rule (learned from
 * dispositions; 0.5 while a rule has too few decisions), times a little for repeated hits.
 */
export function priorityOf(
  draft: Pick<AlertDraft, 'severity' | 'msgids'>,
  precisions: ReadonlyArray<number | null>,
): number {
  const known = precisions.filter((p): p is number => p !== null);
  const precision = known.length ? Math.max(...known) : 0.5;
  const repeats = 1 + Math.log2(Math.max(1, draft.msgids?.length ?? 1)) / 4;
  return Math.round(SEVERITY_WEIGHT[draft.severity] * (0.25 + precision) * repeats * 1000) / 1000;
}
