import type { Queryable } from '../../platform/db/pool.js';
import { ALERT_COLUMNS, toAlert, type AlertRow } from '../alerts/alerts.repository.js';
import type { Alert } from '../types.js';
import type { LocalPeriod } from './periods.js';
import { ACTIVE_CONVERSATIONS_SQL, type ActiveConversation } from './population.sql.js';
import type { SamplingKind, SamplingRun } from './types.js';

/** Dispositions that dismiss an alert: rechecks look at these again. */
export const DISMISSED = ['compliant', 'false_positive'] as const;

const RUN_COLUMNS = `r.id::text, r.corp_id, r.kind, r.period_start, r.period_end, r.rate, r.population, r.selected,
  r.seed, r.created_at,
  to_char(r.period_start AT TIME ZONE c.timezone,
    CASE r.kind WHEN 'monthly_random' THEN 'YYYY-MM' WHEN 'weekly_sensitive' THEN 'IYYY-"W"IW' ELSE 'YYYY-MM-DD' END
  ) AS period`;

interface RunRow {
  id: string;
  corp_id: number;
  kind: SamplingKind;
  period: string;
  period_start: Date;
  period_end: Date;
  rate: number | null;
  population: number;
  selected: number;
  seed: string;
  created_at: Date;
}

const toRun = (r: RunRow): SamplingRun => ({
  id: r.id,
  corpId: r.corp_id,
  kind: r.kind,
  period: r.period,
  periodStart: r.period_start,
  periodEnd: r.period_end,
  rate: r.rate,
  population: r.population,
  selected: r.selected,
  seed: r.seed,
  createdAt: r.created_at,
});

export interface NewRun {
  kind: SamplingKind;
  periodStart: Date;
  periodEnd: Date;
  rate: number | null;
  population: number;
  selected: number;
  seed: string;
}

/** SQL of sampling runs and of what they draw from. */
export class SamplingRepository {
  constructor(private readonly db: Queryable) {}

  async timezoneOf(corpId: number): Promise<string | undefined> {
    const { rows } = await this.db.query<{ timezone: string }>('SELECT timezone FROM corps WHERE id = $1', [
      corpId,
    ]);
    return rows[0]?.timezone;
  }

  /** The instants of local days [firstDay, endDay) in the corp's time zone. */
  async bounds(
    corpId: number,
    period: Pick<LocalPeriod, 'firstDay' | 'endDay'>,
  ): Promise<{ start: Date; end: Date }> {
    const { rows } = await this.db.query<{ start: Date; end: Date }>(
      `SELECT $2::date::timestamp AT TIME ZONE timezone AS start, $3::date::timestamp AT TIME ZONE timezone AS end
       FROM corps WHERE id = $1`,
      [corpId, period.firstDay, period.endDay],
    );
    if (!rows[0]) throw new RangeError(`no corp ${corpId}`);
    return rows[0];
  }

  async activeConversations(corpId: number, start: Date, end: Date): Promise<ActiveConversation[]> {
    const { rows } = await this.db.query<ActiveConversation>(ACTIVE_CONVERSATIONS_SQL, [corpId, start, end]);
    return rows;
  }

  async findRun(corpId: number, kind: SamplingKind, periodStart: Date): Promise<SamplingRun | undefined> {
    const { rows } = await this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM review_sampling_runs r JOIN corps c ON c.id = r.corp_id
       WHERE r.corp_id = $1 AND r.kind = $2 AND r.period_start = $3`,
      [corpId, kind, periodStart],
    );
    return rows[0] && toRun(rows[0]);
  }

  /**
   * Records a run unless the period has one: a concurrent run of the same period waits on the
   * unique key and then gets undefined, so only one of them creates alerts.
   */
  async insertRun(corpId: number, run: NewRun): Promise<SamplingRun | undefined> {
    const { rows } = await this.db.query<RunRow>(
      `WITH r AS (
         INSERT INTO review_sampling_runs (corp_id, kind, period_start, period_end, rate, population, selected, seed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (corp_id, kind, period_start) DO NOTHING
         RETURNING *
       )
       SELECT ${RUN_COLUMNS} FROM r JOIN corps c ON c.id = r.corp_id`,
      [corpId, run.kind, run.periodStart, run.periodEnd, run.rate, run.population, run.selected, run.seed],
    );
    return rows[0] && toRun(rows[0]);
  }

  /** Runs whose period lies within [start, end), oldest first. */
  async runsWithin(corpId: number, start: Date, end: Date): Promise<SamplingRun[]> {
    const { rows } = await this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM review_sampling_runs r JOIN corps c ON c.id = r.corp_id
       WHERE r.corp_id = $1 AND r.period_start >= $2 AND r.period_end <= $3
       ORDER BY r.period_start, r.kind`,
      [corpId, start, end],
    );
    return rows.map(toRun);
  }

  /**
   * What a recheck draws from: alerts closed in [start, end) as dismissed, or detection alerts
   * closed with a priority below `lowScoreBelow` (whatever closed them, auto-dismissal included).
   * Never rechecks, and never an alert that was rechecked already (it may have been reopened).
   * The score is detection's, so sampling alerts count only when dismissed.
   */
  async recheckCandidates(corpId: number, start: Date, end: Date, lowScoreBelow: number): Promise<Alert[]> {
    const { rows } = await this.db.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM review_alerts a
       WHERE a.corp_id = $1 AND a.status = 'closed' AND a.closed_at >= $2 AND a.closed_at < $3
         AND a.source <> 'recheck'
         AND (a.disposition = ANY ($4::text[]) OR (a.source = 'detection' AND a.priority < $5))
         AND NOT EXISTS (SELECT 1 FROM review_alerts r WHERE r.corp_id = a.corp_id AND r.recheck_of = a.id)
       ORDER BY a.id`,
      [corpId, start, end, DISMISSED, lowScoreBelow],
    );
    return rows.map(toAlert);
  }
}
