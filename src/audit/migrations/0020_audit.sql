-- The audit log: one hash chain over every access decision and change, with RFC 6962 Merkle
-- checkpoints over the entries' hashes (see src/audit). It is one global chain, not per corp:
-- system events have no corp, and one chain makes "nothing was removed" a single check.
-- `seq` is gapless: writers take an advisory transaction lock and append after the head, so a
-- rolled-back transaction never leaves a hole, and a hole means a removed entry.
CREATE TABLE audit_events (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  kind text NOT NULL DEFAULT 'event' CHECK (kind IN ('event', 'anchor')),
  corp_id integer,                        -- NULL for system events; no FK so corps never block the log
  occurred_at timestamptz NOT NULL,
  actor text NOT NULL,                    -- 'user:<id>', 'token:<id>', 'system', 'anonymous'
  actor_ip text,
  action text NOT NULL,                   -- 'auth.sign_in', 'content.read', 'grant.approve', …
  resource_type text,
  resource_ids text[] NOT NULL DEFAULT '{}',
  reason text,
  result text NOT NULL CHECK (result IN ('allowed', 'denied', 'failed')),
  details jsonb NOT NULL DEFAULT '{}',    -- never message content
  prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
  hash bytea NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_events_corp_time ON audit_events (corp_id, occurred_at);
CREATE INDEX audit_events_time ON audit_events (occurred_at);
CREATE INDEX audit_events_actor ON audit_events (actor, occurred_at);
CREATE INDEX audit_events_hash ON audit_events (hash);

-- Signed tree heads (C2SP checkpoints). `tree_state` is the compact range (perfect subtree roots)
-- at tree_size, so the next checkpoint extends it without re-reading the whole log.
CREATE TABLE audit_checkpoints (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tree_size bigint NOT NULL CHECK (tree_size >= 0),
  root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
  tree_state bytea[] NOT NULL,
  origin text NOT NULL,
  key_name text NOT NULL,
  note text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_checkpoints_size ON audit_checkpoints (tree_size);

-- Append-only. Even the owner's UPDATE/DELETE/TRUNCATE is refused, except for the one purge
-- path: audit_purge() (below) sets a transaction-local flag the trigger checks. In production
-- the application role has only INSERT and SELECT (docs in src/audit/README.md), so it cannot
-- DELETE even with the flag set; a superuser can always disable the trigger, which is what the
-- hash chain and the exported checkpoints detect.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('vigil.audit_purge', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_checkpoints_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate
  BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The only way to remove entries: everything up to `through_seq`, after an anchor entry that
-- records the last purged hash and the tree state, so verification starts from the anchor.
-- Refuses entries younger than `min_age` (the legal minimum for access logs is 180 days).
CREATE FUNCTION audit_purge(through_seq bigint, min_age interval DEFAULT interval '180 days')
  RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  last_hash bytea;
  youngest timestamptz;
  deleted bigint;
BEGIN
  IF min_age < interval '180 days' THEN
    RAISE EXCEPTION 'audit_purge: minimum retention is 180 days';
  END IF;
  SELECT hash INTO last_hash FROM audit_events WHERE seq = through_seq;
  IF last_hash IS NULL THEN
    RAISE EXCEPTION 'audit_purge: entry % does not exist', through_seq;
  END IF;
  SELECT max(occurred_at) INTO youngest FROM audit_events WHERE seq <= through_seq;
  IF youngest > now() - min_age THEN
    RAISE EXCEPTION 'audit_purge: entries up to % are younger than the minimum retention', through_seq;
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM audit_events
     WHERE kind = 'anchor' AND seq > through_seq
       AND details ->> 'purgedThrough' = through_seq::text
       AND details ->> 'lastHash' = encode(last_hash, 'hex')
  ) THEN
    RAISE EXCEPTION 'audit_purge: no anchor entry for %', through_seq;
  END IF;
  PERFORM set_config('vigil.audit_purge', 'on', true);
  DELETE FROM audit_events WHERE seq <= through_seq;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  PERFORM set_config('vigil.audit_purge', 'off', true);
  RETURN deleted;
END;
$$;

REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_checkpoints FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_purge(bigint, interval) FROM PUBLIC;
