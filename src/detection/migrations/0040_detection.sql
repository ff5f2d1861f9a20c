-- Detection policies (versioned rule-language documents), hits, findings and back-tests.
-- Policies are configuration (a reference table when distributed); hits and findings carry
-- corp_id first in every key.

-- Every change to a policy row takes a fresh value: the sum of a corp's revisions changes with
-- any committed change, even one whose transaction started before a concurrent one committed.
CREATE SEQUENCE detection_policy_revision;

CREATE TABLE detection_policies (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  corp_id integer REFERENCES corps (id),       -- NULL: applies to every corp
  policy_key text NOT NULL,                    -- the document's id (policy set id)
  name text NOT NULL,
  enabled boolean NOT NULL DEFAULT false,
  current_version integer NOT NULL DEFAULT 1,
  template text,                               -- bundled template it was installed from
  revision bigint NOT NULL DEFAULT nextval('detection_policy_revision'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX detection_policies_key ON detection_policies (coalesce(corp_id, 0), policy_key);

CREATE TABLE detection_policy_versions (
  policy_id integer NOT NULL REFERENCES detection_policies (id),
  version integer NOT NULL,
  document jsonb NOT NULL,                     -- the rule-language document, as parsed
  source text,                                 -- the YAML it was parsed from, comments included
  rule_ids text[] NOT NULL,                    -- for conflict checks without compiling
  author text NOT NULL,
  comment text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (policy_id, version)
);

-- One rule firing on one message. The matched text is message content: only offsets are kept;
-- the UI re-derives the snippet after decrypting the message through the access path.
CREATE TABLE detection_hits (
  corp_id integer NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  msg_time timestamptz NOT NULL,
  msgid text NOT NULL,
  message_id bigint NOT NULL,
  conversation_id bigint NOT NULL,
  rule_id text NOT NULL,
  policy_id integer,
  policy_version integer,
  category text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  term text NOT NULL,                          -- lexicon term, regex source, PII kind or behaviour
  start_offset integer,                        -- UTF-16 code units into the canonical text
  end_offset integer,
  method text NOT NULL,
  methods text[] NOT NULL DEFAULT '{}',
  related_msgids text[] NOT NULL DEFAULT '{}', -- conversation rules: the other messages involved
  finding_id bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id)
);
-- Idempotence of ingest retries and rescans: a rule fires once per message, term and position.
CREATE UNIQUE INDEX detection_hits_once
  ON detection_hits (corp_id, msgid, rule_id, term, coalesce(start_offset, -1));
CREATE INDEX detection_hits_time ON detection_hits (corp_id, msg_time);
CREATE INDEX detection_hits_finding ON detection_hits (corp_id, finding_id);

-- Hits of one category in one conversation within one window, for review.
CREATE TABLE detection_findings (
  corp_id integer NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  conversation_id bigint NOT NULL,
  category text NOT NULL,
  window_start timestamptz NOT NULL,           -- first hit
  window_end timestamptz NOT NULL,             -- last hit
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  rule_ids text[] NOT NULL,
  hit_count integer NOT NULL,
  msgids text[] NOT NULL,
  status text NOT NULL DEFAULT 'open',         -- the review workflow adds its states
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id)
);
CREATE INDEX detection_findings_open
  ON detection_findings (corp_id, conversation_id, category, window_start) WHERE status = 'open';
CREATE INDEX detection_findings_recent ON detection_findings (corp_id, window_start DESC, id DESC);

CREATE TABLE detection_backtests (
  corp_id integer NOT NULL REFERENCES corps (id),
  id bigint GENERATED ALWAYS AS IDENTITY,
  policy_id integer,
  policy_version integer,
  document jsonb NOT NULL,
  scope jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  progress jsonb,
  result jsonb,
  error text,
  job_id bigint,
  requested_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (corp_id, id)
);
CREATE UNIQUE INDEX detection_backtests_id ON detection_backtests (id);
