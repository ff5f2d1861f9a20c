import type { AuditLog } from '../../audit/audit-log.js';
import { withTransaction, type Pool } from '../../platform/db/pool.js';
import { AppError, notFound } from '../../platform/http/errors.js';
import { createAlerts } from '../alerts/create-alerts.js';
import type { ReviewConfig } from '../config.js';
import { localDay, parsePeriod, previousPeriod, type LocalPeriod } from './periods.js';
import { PLANS } from './plans.js';
import { buildSamplingReport } from './sampling-report.js';
import { SamplingRepository } from './sampling.repository.js';
import {
  effectiveSettings,
  loadSamplingSettings,
  RATE_FIELDS,
  saveSamplingSettings,
  type EffectiveSamplingSettings,
  type StoredSamplingSettings,
} from './settings.js';
import type { SamplingKind, SamplingReport, SamplingRunResult } from './types.js';

/** A corp's sampling settings as the administration page shows them. */
export interface SamplingSettingsView {
  /** The corp's own values; null where the configuration file's default applies. */
  stored: StoredSamplingSettings;
  /** The configuration file's values (review.sampling.*). */
  defaults: ReviewConfig['sampling'];
  /** What runs use. */
  effective: EffectiveSamplingSettings;
}

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

  /** The corp's sampling settings: its own values over the configuration file's. */
  async settings(corpId: number): Promise<SamplingSettingsView> {
    const stored = await loadSamplingSettings(this.deps.pool, corpId);
    const defaults = this.deps.config.sampling;
    return { stored, defaults, effective: effectiveSettings(defaults, stored) };
  }

  /** Replaces the corp's sampling settings (null = the configuration file's value); audited. */
  async saveSettings(
    corpId: number,
    next: Omit<StoredSamplingSettings, 'updatedAt' | 'updatedBy'>,
    actor: string,
  ): Promise<SamplingSettingsView> {
    await withTransaction(this.deps.pool, async (client) => {
      const before = await loadSamplingSettings(client, corpId);
      await saveSamplingSettings(client, corpId, next, actor);
      const changed = [...RATE_FIELDS, 'weeklySensitive' as const].filter((f) => before[f] !== next[f]);
      await this.deps.audit?.record(client, {
        corpId,
        actor,
        action: 'review.sampling.settings',
        resourceType: 'corp',
        resourceIds: [String(corpId)],
        result: 'allowed',
        details: {
          changed,
          before: Object.fromEntries(changed.map((f) => [f, before[f]])),
          after: Object.fromEntries(changed.map((f) => [f, next[f]])),
        },
      });
    });
    return this.settings(corpId);
  }

  async samplingReport(corpId: number, from: string, to: string): Promise<SamplingReport> {
    try {
      return await buildSamplingReport(
        this.deps.pool,
        (await this.settings(corpId)).effective,
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

      const sampling = effectiveSettings(
        this.deps.config.sampling,
        await loadSamplingSettings(client, corpId),
      );
      const plan = await PLANS[kind]({ repo, corpId, start, end, sampling });
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
