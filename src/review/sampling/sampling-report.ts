import type { Queryable } from '../../platform/db/pool.js';
import type { ReviewConfig } from '../config.js';
import { parseDay, weeksWithin } from './periods.js';
import { involvesSensitivePost } from './population.sql.js';
import { SamplingReportRepository } from './report.repository.js';
import { SamplingRepository } from './sampling.repository.js';
import type { KindSummary, SamplingReport, SamplingRun, WeekCoverage } from './types.js';

export const HUMAN_REVIEW_DEFINITION =
  'automated decisions = conversations with at least one message in the period (every archived message ' +
  'is screened by detection at ingest); human judgement = those of them with an alert (any source) whose ' +
  'window overlaps the period and that a person acted on (first action recorded, or a first, second, ' +
  'final or appeal decision); ratio = human judgement / automated decisions';

const share = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

function summarise(runs: SamplingRun[]): KindSummary {
  const population = runs.reduce((n, r) => n + r.population, 0);
  const selected = runs.reduce((n, r) => n + r.selected, 0);
  return { runs: runs.length, population, selected, achievedRate: share(selected, population) };
}

/** Coverage of each ISO week within the report that has ended by `now`. */
async function weekCoverage(
  db: Queryable,
  corpId: number,
  from: string,
  to: string,
  weeklyRuns: SamplingRun[],
  now: Date,
): Promise<WeekCoverage[]> {
  const repo = new SamplingRepository(db);
  const reports = new SamplingReportRepository(db);
  const weeks: WeekCoverage[] = [];
  for (const week of weeksWithin(from, to)) {
    const { start, end } = await repo.bounds(corpId, week);
    if (end > now) break;
    const active = (await repo.activeConversations(corpId, start, end)).filter(involvesSensitivePost);
    const covered = await reports.coveredSensitive(corpId, start, end);
    const coveredCount = active.filter((c) => covered.has(c.id)).length;
    weeks.push({
      period: week.label,
      periodStart: start,
      periodEnd: end,
      runId: weeklyRuns.find((r) => r.periodStart.getTime() === start.getTime())?.id ?? null,
      activeConversations: active.length,
      covered: coveredCount,
      coverage: share(coveredCount, active.length) ?? 1,
    });
  }
  return weeks;
}

/**
 * The sampling report over the local days [from, to) of the corp: what each kind drew against its
 * configured rate, the weekly coverage of sensitive posts, and the human-review ratio.
 */
export async function buildSamplingReport(
  db: Queryable,
  sampling: ReviewConfig['sampling'],
  corpId: number,
  range: { from: string; to: string },
  now: Date,
): Promise<SamplingReport> {
  const { from, to } = range;
  if (parseDay(from) >= parseDay(to)) throw new RangeError('from must be before to');
  const repo = new SamplingRepository(db);
  const { start, end } = await repo.bounds(corpId, { firstDay: from, endDay: to });
  const runs = await repo.runsWithin(corpId, start, end);
  const ofKind = (kind: SamplingRun['kind']) => runs.filter((r) => r.kind === kind);

  const monthly = ofKind('monthly_random');
  const weekly = ofKind('weekly_sensitive');
  const weeks = await weekCoverage(db, corpId, from, to, weekly, now);
  const human = await new SamplingReportRepository(db).humanReview(corpId, start, end);
  const ratio = share(human.judged, human.automated);

  return {
    corpId,
    from: start,
    to: end,
    monthlyRandom: {
      configuredRate: sampling.monthlyRate,
      ...summarise(monthly),
      periods: monthly.map((r) => ({
        period: r.period,
        periodStart: r.periodStart,
        periodEnd: r.periodEnd,
        rate: r.rate,
        population: r.population,
        selected: r.selected,
        achievedRate: share(r.selected, r.population),
      })),
    },
    weeklySensitive: {
      ...summarise(weekly),
      weeks,
      minCoverage: weeks.length ? Math.min(...weeks.map((w) => w.coverage)) : null,
    },
    recheck: { configuredRate: sampling.recheckRate, ...summarise(ofKind('recheck')) },
    humanReview: {
      definition: HUMAN_REVIEW_DEFINITION,
      automatedDecisions: human.automated,
      humanJudged: human.judged,
      ratio,
      target: sampling.humanReviewTarget,
      meetsTarget: ratio === null ? null : ratio >= sampling.humanReviewTarget,
    },
  };
}
