import type { Queryable } from '../../platform/db/pool.js';
import type { ReviewConfig } from '../config.js';

/** Sampling settings a corp may change; `null` in a stored row means "the configuration file's". */
export interface StoredSamplingSettings {
  monthlyRate: number | null;
  recheckRate: number | null;
  lowScoreBelow: number | null;
  humanReviewTarget: number | null;
  weeklySensitive: boolean;
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** What a corp's sampling runs with: its own values where set, else the configuration file's. */
export type EffectiveSamplingSettings = ReviewConfig['sampling'] & {
  /** Whether the weekly job reviews every sensitive-post conversation of this corp. */
  weeklySensitive: boolean;
};

export const RATE_FIELDS = ['monthlyRate', 'recheckRate', 'lowScoreBelow', 'humanReviewTarget'] as const;
export type RateField = (typeof RATE_FIELDS)[number];

interface SettingsRow {
  monthly_rate: number | null;
  recheck_rate: number | null;
  low_score_below: number | null;
  human_review_target: number | null;
  weekly_sensitive: boolean;
  updated_at: Date;
  updated_by: string;
}

export const NO_SETTINGS: StoredSamplingSettings = {
  monthlyRate: null,
  recheckRate: null,
  lowScoreBelow: null,
  humanReviewTarget: null,
  weeklySensitive: true,
  updatedAt: null,
  updatedBy: null,
};

/** The corp's stored sampling settings (`review_sampling_settings`), or none. */
export async function loadSamplingSettings(db: Queryable, corpId: number): Promise<StoredSamplingSettings> {
  const { rows } = await db.query<SettingsRow>('SELECT * FROM review_sampling_settings WHERE corp_id = $1', [
    corpId,
  ]);
  const r = rows[0];
  if (!r) return NO_SETTINGS;
  return {
    monthlyRate: r.monthly_rate,
    recheckRate: r.recheck_rate,
    lowScoreBelow: r.low_score_below,
    humanReviewTarget: r.human_review_target,
    weeklySensitive: r.weekly_sensitive,
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}

export async function saveSamplingSettings(
  db: Queryable,
  corpId: number,
  s: Omit<StoredSamplingSettings, 'updatedAt' | 'updatedBy'>,
  actor: string,
): Promise<void> {
  await db.query(
    `INSERT INTO review_sampling_settings (corp_id, monthly_rate, recheck_rate, low_score_below,
       human_review_target, weekly_sensitive, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (corp_id) DO UPDATE SET monthly_rate = EXCLUDED.monthly_rate,
       recheck_rate = EXCLUDED.recheck_rate, low_score_below = EXCLUDED.low_score_below,
       human_review_target = EXCLUDED.human_review_target, weekly_sensitive = EXCLUDED.weekly_sensitive,
       updated_at = now(), updated_by = EXCLUDED.updated_by`,
    [corpId, s.monthlyRate, s.recheckRate, s.lowScoreBelow, s.humanReviewTarget, s.weeklySensitive, actor],
  );
}

/** The corp's values over the configuration file's defaults. */
export function effectiveSettings(
  defaults: ReviewConfig['sampling'],
  stored: StoredSamplingSettings,
): EffectiveSamplingSettings {
  return {
    monthlyRate: stored.monthlyRate ?? defaults.monthlyRate,
    recheckRate: stored.recheckRate ?? defaults.recheckRate,
    lowScoreBelow: stored.lowScoreBelow ?? defaults.lowScoreBelow,
    humanReviewTarget: stored.humanReviewTarget ?? defaults.humanReviewTarget,
    weeklySensitive: stored.weeklySensitive,
  };
}
