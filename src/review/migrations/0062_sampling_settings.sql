-- Sampling settings of one corp, set in the console's administration page. A NULL column falls
-- back to the configuration file (review.sampling.*), so a corp without a row samples as before.
CREATE TABLE review_sampling_settings (
  corp_id integer PRIMARY KEY REFERENCES corps (id),
  -- Share of ordinary posts' active conversations drawn each month.
  monthly_rate double precision CHECK (monthly_rate BETWEEN 0 AND 1),
  -- Share of dismissed and low-score alerts sent back to people each day.
  recheck_rate double precision CHECK (recheck_rate BETWEEN 0 AND 1),
  low_score_below double precision CHECK (low_score_below >= 0),
  human_review_target double precision CHECK (human_review_target BETWEEN 0 AND 1),
  -- The weekly full review of sensitive posts' conversations by the review.sampling.weekly job.
  weekly_sensitive boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL
);
