-- Human review (人工复核) of automatic findings: queues with SLAs, alerts, decisions with dual review
-- (双人复核), cases with legal hold, employee notices and appeals (申诉).

CREATE TABLE review_queues (
  corp_id integer NOT NULL REFERENCES corps (id),
  id bigint GENERATED ALWAYS AS IDENTITY,
  name text NOT NULL,
  -- Routing: the first queue (by position) whose non-NULL filters all match takes an alert.
  position integer NOT NULL DEFAULT 100,
  policy_ids integer[],
  categories text[],
  department_ids bigint[],                 -- subtrees, matched on the conversation's employees
  severities text[],
  sources text[],                          -- detection, sampling, recheck
  first_action_hours integer NOT NULL DEFAULT 24 CHECK (first_action_hours > 0),
  resolution_hours integer NOT NULL DEFAULT 24 CHECK (resolution_hours > 0),
  remind_before_hours integer NOT NULL DEFAULT 4 CHECK (remind_before_hours >= 0),
  -- Decisions that need a second reviewer (双人复核): confirming a violation, and closing alerts of
  -- these severities. A queue per policy makes this configurable per policy.
  confirm_needs_second boolean NOT NULL DEFAULT true,
  dual_review_severities text[] NOT NULL DEFAULT '{high,critical}',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id),
  UNIQUE (corp_id, name)
);

CREATE TABLE review_alerts (
  corp_id integer NOT NULL REFERENCES corps (id),
  id bigint GENERATED ALWAYS AS IDENTITY,
  source text NOT NULL CHECK (source IN ('detection', 'sampling', 'recheck')),
  conversation_id bigint NOT NULL,
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  category text NOT NULL,                  -- detection category, or 'sampling'
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  rule_ids text[] NOT NULL DEFAULT '{}',
  policy_ids integer[] NOT NULL DEFAULT '{}',
  msgids text[] NOT NULL DEFAULT '{}',
  employee_userids text[] NOT NULL DEFAULT '{}',  -- the employees the alert is about
  priority double precision NOT NULL DEFAULT 0,
  queue_id bigint,
  status text NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'in_review', 'awaiting_second', 'escalated', 'closed')),
  assignee_id bigint REFERENCES users (id),
  first_action_due timestamptz NOT NULL,
  resolution_due timestamptz NOT NULL,
  first_action_at timestamptz,
  reminded_at timestamptz,
  escalated_at timestamptz,
  breached boolean NOT NULL DEFAULT false,
  -- The pending first decision while a second reviewer is awaited, and the final outcome.
  proposed_disposition text,
  proposed_by bigint REFERENCES users (id),
  disposition text CHECK (disposition IN ('violation_confirmed', 'compliant', 'questionable', 'false_positive', 'escalated')),
  closed_at timestamptz,
  -- A dismissed or low-score alert sent back to people by sampling.
  recheck_of bigint,
  sampling_run_id bigint,
  duplicate_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id),
  FOREIGN KEY (corp_id, queue_id) REFERENCES review_queues (corp_id, id),
  FOREIGN KEY (corp_id, conversation_id) REFERENCES conversations (corp_id, id)
);
CREATE INDEX review_alerts_queue ON review_alerts (corp_id, queue_id, status, priority DESC);
CREATE INDEX review_alerts_assignee ON review_alerts (assignee_id) WHERE status <> 'closed';
CREATE INDEX review_alerts_due ON review_alerts (resolution_due) WHERE status <> 'closed';
CREATE INDEX review_alerts_conversation ON review_alerts (corp_id, conversation_id, category);
CREATE INDEX review_alerts_closed ON review_alerts (corp_id, closed_at) WHERE status = 'closed';
-- One recheck per alert.
CREATE UNIQUE INDEX review_alerts_recheck ON review_alerts (corp_id, recheck_of) WHERE recheck_of IS NOT NULL;

-- Which alert each finding went to: a finding is taken exactly once; a finding that repeats an
-- open alert of the same conversation and category is merged into it (duplicates suppressed).
CREATE TABLE review_alert_findings (
  corp_id integer NOT NULL,
  finding_id bigint NOT NULL,
  alert_id bigint NOT NULL,
  merged boolean NOT NULL DEFAULT false,
  PRIMARY KEY (corp_id, finding_id),
  FOREIGN KEY (corp_id, alert_id) REFERENCES review_alerts (corp_id, id)
);

-- Every decision on an alert, in order: the review trail of evidence packages.
CREATE TABLE review_decisions (
  corp_id integer NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  alert_id bigint NOT NULL,
  reviewer_id bigint NOT NULL REFERENCES users (id),
  stage text NOT NULL CHECK (stage IN ('claim', 'assign', 'first', 'second', 'final', 'appeal', 'reminder', 'escalation')),
  disposition text,
  agrees boolean,                           -- second stage: agrees with the first decision
  comment text,
  tags text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id),
  FOREIGN KEY (corp_id, alert_id) REFERENCES review_alerts (corp_id, id)
);
CREATE INDEX review_decisions_alert ON review_decisions (corp_id, alert_id, id);

-- Measured precision per rule (read by detection's back-tests and the queue's ordering).
CREATE VIEW detection_rule_dispositions AS
  SELECT a.corp_id, r.rule_id, a.disposition = 'violation_confirmed' AS confirmed
  FROM review_alerts a CROSS JOIN LATERAL unnest(a.rule_ids) AS r(rule_id)
  WHERE a.status = 'closed' AND a.disposition IN ('violation_confirmed', 'compliant', 'false_positive');

CREATE TABLE review_cases (
  corp_id integer NOT NULL REFERENCES corps (id),
  id bigint GENERATED ALWAYS AS IDENTITY,
  title text NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  legal_hold boolean NOT NULL DEFAULT false,  -- nothing in a held case may be purged
  created_by bigint NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  PRIMARY KEY (corp_id, id)
);

CREATE TABLE review_case_alerts (
  corp_id integer NOT NULL,
  case_id bigint NOT NULL,
  alert_id bigint NOT NULL,
  added_by bigint NOT NULL REFERENCES users (id),
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, case_id, alert_id),
  FOREIGN KEY (corp_id, case_id) REFERENCES review_cases (corp_id, id),
  FOREIGN KEY (corp_id, alert_id) REFERENCES review_alerts (corp_id, id)
);

CREATE TABLE review_case_participants (
  corp_id integer NOT NULL,
  case_id bigint NOT NULL,
  user_id bigint NOT NULL REFERENCES users (id),
  role text NOT NULL DEFAULT 'investigator',
  PRIMARY KEY (corp_id, case_id, user_id),
  FOREIGN KEY (corp_id, case_id) REFERENCES review_cases (corp_id, id)
);

-- The case timeline: notes and everything that happened to it.
CREATE TABLE review_case_events (
  corp_id integer NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  case_id bigint NOT NULL,
  actor_id bigint REFERENCES users (id),
  kind text NOT NULL,                       -- note, alert_added, participant_added, hold_set, hold_released, evidence_exported, closed
  body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id),
  FOREIGN KEY (corp_id, case_id) REFERENCES review_cases (corp_id, id)
);

-- The templated notice an employee gets when a finding about them is confirmed, and their appeal.
CREATE TABLE review_notices (
  corp_id integer NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  alert_id bigint NOT NULL,
  employee_userid text NOT NULL,
  user_id bigint REFERENCES users (id),     -- the employee's account, when linked
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id),
  UNIQUE (corp_id, alert_id, employee_userid),
  FOREIGN KEY (corp_id, alert_id) REFERENCES review_alerts (corp_id, id)
);

CREATE TABLE review_appeals (
  corp_id integer NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  notice_id bigint NOT NULL,
  alert_id bigint NOT NULL,
  appellant_id bigint NOT NULL REFERENCES users (id),
  statement text NOT NULL CHECK (length(btrim(statement)) > 0),
  -- granted: the finding is overturned; dismissed: it stands.
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'granted', 'dismissed')),
  decided_by bigint REFERENCES users (id),
  decision_note text,
  created_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz,
  PRIMARY KEY (corp_id, id),
  UNIQUE (corp_id, notice_id),
  CHECK (decided_by IS NULL OR decided_by <> appellant_id),
  FOREIGN KEY (corp_id, notice_id) REFERENCES review_notices (corp_id, id)
);

-- Sampling runs (monthly random, weekly sensitive posts, rechecks) and what they selected.
CREATE TABLE review_sampling_runs (
  corp_id integer NOT NULL REFERENCES corps (id),
  id bigint GENERATED ALWAYS AS IDENTITY,
  kind text NOT NULL CHECK (kind IN ('monthly_random', 'weekly_sensitive', 'recheck')),
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  rate double precision,                   -- configured share (monthly_random, recheck)
  population integer NOT NULL,
  selected integer NOT NULL,
  seed text NOT NULL,                      -- reproducible selection
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id),
  UNIQUE (corp_id, kind, period_start)
);
