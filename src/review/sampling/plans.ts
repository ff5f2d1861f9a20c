import type { AlertDraft } from '../types.js';
import type { ReviewConfig } from '../config.js';
import { drawSample, newSeed, roundedSize, stochasticSize } from './draw.js';
import { involvesOrdinaryPost, involvesSensitivePost } from './population.sql.js';
import type { SamplingRepository } from './sampling.repository.js';
import type { SamplingKind } from './types.js';

/** What a run selects, before its row exists; `drafts` takes the run's id. */
export interface SamplingPlan {
  rate: number | null;
  population: number;
  selected: number;
  seed: string;
  drafts(runId: string): AlertDraft[];
}

/** The seed of a run that selects everything: nothing is drawn. */
export const FULL_COVERAGE_SEED = 'full-coverage';

interface PlanInput {
  repo: SamplingRepository;
  corpId: number;
  start: Date;
  end: Date;
  sampling: ReviewConfig['sampling'];
}

/** `round(population × monthlyRate)` of the conversations that involve an ordinary post. */
async function monthlyRandom({ repo, corpId, start, end, sampling }: PlanInput): Promise<SamplingPlan> {
  const population = (await repo.activeConversations(corpId, start, end)).filter(involvesOrdinaryPost);
  const seed = newSeed();
  const picked = drawSample(
    population,
    (c) => c.id,
    roundedSize(population.length, sampling.monthlyRate),
    seed,
  );
  return {
    rate: sampling.monthlyRate,
    population: population.length,
    selected: picked.length,
    seed,
    drafts: (runId) =>
      picked.map((c) => ({
        source: 'sampling',
        conversationId: c.id,
        windowStart: start,
        windowEnd: end,
        category: 'sampling',
        severity: 'low',
        employeeUserids: c.employees,
        samplingRunId: runId,
      })),
  };
}

/** Every conversation that involves a sensitive post; the alert is about those employees. */
async function weeklySensitive({ repo, corpId, start, end }: PlanInput): Promise<SamplingPlan> {
  const population = (await repo.activeConversations(corpId, start, end)).filter(involvesSensitivePost);
  return {
    rate: null,
    population: population.length,
    selected: population.length,
    seed: FULL_COVERAGE_SEED,
    drafts: (runId) =>
      population.map((c) => ({
        source: 'sampling',
        conversationId: c.id,
        windowStart: start,
        windowEnd: end,
        category: 'sensitive_post',
        severity: 'low',
        employeeUserids: c.sensitive,
        samplingRunId: runId,
      })),
  };
}

/** A share of dismissed and low-score alerts, each copied into a new alert for people. */
async function recheck({ repo, corpId, start, end, sampling }: PlanInput): Promise<SamplingPlan> {
  const population = await repo.recheckCandidates(corpId, start, end, sampling.lowScoreBelow);
  const seed = newSeed();
  const size = stochasticSize(population.length, sampling.recheckRate, seed);
  const picked = drawSample(population, (a) => a.id, size, seed);
  return {
    rate: sampling.recheckRate,
    population: population.length,
    selected: picked.length,
    seed,
    drafts: (runId) =>
      picked.map((a) => ({
        source: 'recheck',
        conversationId: a.conversationId,
        windowStart: a.windowStart,
        windowEnd: a.windowEnd,
        category: a.category,
        severity: a.severity,
        ruleIds: a.ruleIds,
        policyIds: a.policyIds,
        msgids: a.msgids,
        employeeUserids: a.employeeUserids,
        recheckOf: a.id,
        samplingRunId: runId,
      })),
  };
}

export const PLANS: Record<SamplingKind, (input: PlanInput) => Promise<SamplingPlan>> = {
  monthly_random: monthlyRandom,
  weekly_sensitive: weeklySensitive,
  recheck,
};
