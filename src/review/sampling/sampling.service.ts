import type { AuditLog } from '../../audit/audit-log.js';
import { withTransaction, type Pool } from '../../platform/db/pool.js';
import { AppError, notFound } from '../../platform/http/errors.js';
import { createAlerts } from '../alerts/create-alerts.js';
import type { ReviewConfig } from '../config.js';
import { localDay, parsePeriod, previousPeriod, type LocalPeriod } from './periods.js';
import { PLANS } from './plans.js';
import { buildSamplingReport } from './sampling-report.js';
import { SamplingRepository } from './sampling.repository.js';
import type { SamplingKind, SamplingReport, SamplingRunResult } from './types.js';

export interface SamplingDeps {
  pool: Pool;
  config: ReviewConfig;
  audit?: AuditLog;
  now?: () => Date;
}

/** Sampling runs (monthly random, weekly sensitive posts, rechecks) and the sampling report. */
export class SamplingService {
  private readonly now: () => Date;

  constructor(private readonly deps: SamplingDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Runs one kind for one period (`YYYY-MM`, `YYYY-Www` or `YYYY-MM-DD` in the corp's zone) in
   * one transaction. A period runs once: a repeat, even a concurrent one, creates nothing.
   */
  async run(
    corpId: number,
    kind: SamplingKind,
    period: string,
    actor = 'system',
  ): Promise<SamplingRunResult> {
    let local: LocalPeriod;
    try {
      local = parsePeriod(kind, period);
    } catch (err) {
      throw new AppError(400, 'invalid_period', (err as Error).message);
    }
    return this.runPeriod(corpId, local, actor);
  }

  /** Runs the last period of this kind that had ended, in the corp's zone, by `at`. */
  async runPrevious(
    corpId: number,
    kind: SamplingKind,
    at: Date,
    actor = 'system',
  ): Promise<SamplingRunResult> {
    const timezone = await new SamplingRepository(this.deps.pool).timezoneOf(corpId);
    if (!timezone) throw notFound('corp');
    return this.runPeriod(corpId, previousPeriod(kind, localDay(at, timezone)), actor);
  }

  async samplingReport(corpId: number, from: string, to: string): Promise<SamplingReport> {
    try {
      return await buildSamplingReport(
        this.deps.pool,
        this.deps.config.sampling,
        corpId,
        { from, to },
        this.now(),
      );
    } catch (err) {
      if (err instanceof RangeError) throw new AppError(400, 'invalid_range', err.message);
      throw err;
    }
  }

  private async runPeriod(corpId: number, period: LocalPeriod, actor: string): Promise<SamplingRunResult> {
    const { kind } = period;
    return withTransaction(this.deps.pool, async (client) => {
      const repo = new SamplingRepository(client);
      if (!(await repo.timezoneOf(corpId))) throw notFound('corp');
      const { start, end } = await repo.bounds(corpId, period);
      if (end > this.now())
        throw new AppError(409, 'period_not_over', `${period.label} has not ended yet: sample it afterwards`);
      const existing = await repo.findRun(corpId, kind, start);
      if (existing) return { run: existing, created: false, alertsCreated: 0 };

      const plan = await PLANS[kind]({ repo, corpId, start, end, sampling: this.deps.config.sampling });
      const run = await repo.insertRun(corpId, {
        kind,
        periodStart: start,
        periodEnd: end,
        rate: plan.rate,
        population: plan.population,
        selected: plan.selected,
        seed: plan.seed,
      });
      if (!run) return { run: (await repo.findRun(corpId, kind, start))!, created: false, alertsCreated: 0 };

      const alerts = await createAlerts(client, corpId, plan.drafts(run.id));
      await this.deps.audit?.record(client, {
        corpId,
        actor,
        action: 'review.sampling.run',
        resourceType: 'review_sampling_run',
        resourceIds: [run.id],
        result: 'allowed',
        details: {
          kind,
          period: period.label,
          rate: run.rate,
          population: run.population,
          selected: run.selected,
        },
      });
      return { run, created: true, alertsCreated: alerts.length };
    });
  }
}
