export const SAMPLING_KINDS = ['monthly_random', 'weekly_sensitive', 'recheck'] as const;
/** monthly_random: a share of ordinary posts; weekly_sensitive: every sensitive-post conversation. */
export type SamplingKind = (typeof SAMPLING_KINDS)[number];

/** One sampling run: one per corp, kind and period (a unique constraint). */
export interface SamplingRun {
  id: string;
  corpId: number;
  kind: SamplingKind;
  /** `YYYY-MM` (monthly), `YYYY-Www` (ISO week) or `YYYY-MM-DD` (recheck), in the corp's zone. */
  period: string;
  periodStart: Date;
  periodEnd: Date;
  /** The configured share at run time (null for full coverage). */
  rate: number | null;
  population: number;
  selected: number;
  /** Key of the reproducible selection (see draw.ts). */
  seed: string;
  createdAt: Date;
}

export interface SamplingRunResult {
  run: SamplingRun;
  /** False when the period had been sampled already: nothing new was created. */
  created: boolean;
  alertsCreated: number;
}

export interface KindSummary {
  runs: number;
  population: number;
  selected: number;
  /** selected / population; null without population. */
  achievedRate: number | null;
}

export interface PeriodSummary {
  period: string;
  periodStart: Date;
  periodEnd: Date;
  rate: number | null;
  population: number;
  selected: number;
  achievedRate: number | null;
}

export interface WeekCoverage {
  period: string;
  periodStart: Date;
  periodEnd: Date;
  runId: string | null;
  /** Conversations active that week that involve an employee on a sensitive post (as of now). */
  activeConversations: number;
  /** Of those, the ones with a sensitive-post sampling alert for exactly that week. */
  covered: number;
  /** covered / activeConversations (1 when there was nothing to cover). Must be 1. */
  coverage: number;
}

export interface HumanReviewRatio {
  definition: string;
  automatedDecisions: number;
  humanJudged: number;
  /** humanJudged / automatedDecisions; null when nothing was screened. */
  ratio: number | null;
  target: number;
  meetsTarget: boolean | null;
}

export interface SamplingReport {
  corpId: number;
  from: Date;
  to: Date;
  monthlyRandom: KindSummary & { configuredRate: number; periods: PeriodSummary[] };
  weeklySensitive: KindSummary & { weeks: WeekCoverage[]; minCoverage: number | null };
  recheck: KindSummary & { configuredRate: number };
  humanReview: HumanReviewRatio;
}
