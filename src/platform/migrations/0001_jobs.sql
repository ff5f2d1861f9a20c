-- Background jobs: a PostgreSQL queue claimed with FOR UPDATE SKIP LOCKED, so any number of
-- `vigil serve` / `vigil worker` processes share it and each job runs once.
CREATE TABLE jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  priority integer NOT NULL DEFAULT 100,
  run_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 5,
  -- Set for jobs created by a schedule: the tick they belong to. Unique per schedule, which is
  -- what makes a scheduled job run once per tick however many processes are scheduling.
  schedule text,
  scheduled_for timestamptz,
  locked_by text,
  locked_until timestamptz,
  progress jsonb,
  result jsonb,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);

CREATE INDEX jobs_claimable ON jobs (priority, run_at) WHERE status = 'queued';
CREATE INDEX jobs_expired_leases ON jobs (locked_until) WHERE status = 'running';
CREATE UNIQUE INDEX jobs_schedule_tick ON jobs (schedule, scheduled_for) WHERE schedule IS NOT NULL;
CREATE INDEX jobs_recent ON jobs (created_at DESC);
