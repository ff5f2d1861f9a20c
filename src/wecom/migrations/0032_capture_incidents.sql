-- Capture-lag incidents: a corp's capture falling behind WeCom's retention window. At most one
-- open incident per corp (the partial unique index), so its administrators are notified when it
-- opens rather than at every check; it is closed when capture recovers, and a later lag opens a
-- new one. Closed incidents stay as the history of capture outages.
CREATE TABLE wecom_capture_incidents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  corp_id integer NOT NULL REFERENCES corps (id),
  status text NOT NULL CHECK (status IN ('warning', 'critical')),   -- when it opened
  window_remaining_seconds integer,
  last_pull_at timestamptz,
  notified integer NOT NULL DEFAULT 0,                              -- accounts notified
  opened_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz
);
CREATE UNIQUE INDEX wecom_capture_incidents_open ON wecom_capture_incidents (corp_id) WHERE closed_at IS NULL;
