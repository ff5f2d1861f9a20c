-- Dual control over message content: access grants (requested, approved by a different
-- compliance lead, limited in time and scope, revocable; break-glass ones reviewed afterwards),
-- standing grants for sensitive data categories, and the categories conversations carry.

CREATE TABLE access_grants (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  corp_id integer NOT NULL REFERENCES corps (id),
  requester_id bigint NOT NULL REFERENCES users (id),
  -- search: full-text search and reading the results; view: open conversations; export: export;
  -- reveal: see real identities behind pseudonyms.
  actions text[] NOT NULL CHECK (actions <@ ARRAY['search', 'view', 'export', 'reveal'] AND cardinality(actions) > 0),
  -- Scope; NULL means "any". Departments cover their subtrees; the period bounds message time.
  department_ids bigint[],
  employee_userids text[],
  conversation_ids bigint[],
  period_from timestamptz,
  period_to timestamptz,
  -- Sensitive data categories the grant opens (still subject to the viewer's training).
  categories text[] NOT NULL DEFAULT '{}',
  reason text NOT NULL CHECK (length(btrim(reason)) >= 10),
  duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 10080),
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'active', 'rejected', 'revoked', 'cancelled')),
  break_glass boolean NOT NULL DEFAULT false,
  requested_at timestamptz NOT NULL DEFAULT now(),
  decided_by bigint REFERENCES users (id),
  decided_at timestamptz,
  decision_note text,
  valid_until timestamptz,                -- set when the grant becomes active
  revoked_by bigint REFERENCES users (id),
  revoked_at timestamptz,
  revoke_reason text,
  -- Break-glass access is reviewed afterwards by another lead.
  reviewed_by bigint REFERENCES users (id),
  reviewed_at timestamptz,
  review_outcome text CHECK (review_outcome IN ('justified', 'unjustified')),
  review_note text,
  CHECK (period_from IS NULL OR period_to IS NULL OR period_from < period_to),
  -- Nobody approves or reviews their own request, whatever the application does.
  CHECK (decided_by IS NULL OR decided_by <> requester_id),
  CHECK (reviewed_by IS NULL OR reviewed_by <> requester_id),
  CHECK (status <> 'active' OR valid_until IS NOT NULL)
);
CREATE INDEX access_grants_requester ON access_grants (requester_id, corp_id) WHERE status = 'active';
CREATE INDEX access_grants_pending ON access_grants (corp_id, requested_at) WHERE status = 'pending';

-- Standing permission to see one sensitive category (HR, legal…) within one's normal scope.
CREATE TABLE category_grants (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  corp_id integer NOT NULL REFERENCES corps (id),
  user_id bigint NOT NULL REFERENCES users (id),
  category text NOT NULL CHECK (category ~ '^[a-z][a-z0-9_-]{0,39}$'),
  granted_by bigint NOT NULL REFERENCES users (id),
  reason text NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  revoked_by bigint REFERENCES users (id),
  CHECK (granted_by <> user_id)
);
CREATE INDEX category_grants_user ON category_grants (user_id, corp_id) WHERE revoked_at IS NULL;

-- Categories set on a conversation by hand (a reviewer or lead).
CREATE TABLE conversation_categories (
  corp_id integer NOT NULL,
  conversation_id bigint NOT NULL,
  category text NOT NULL CHECK (category ~ '^[a-z][a-z0-9_-]{0,39}$'),
  set_by bigint REFERENCES users (id),
  set_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, conversation_id, category),
  FOREIGN KEY (corp_id, conversation_id) REFERENCES conversations (corp_id, id)
);

-- Which data category a detection category implies (a harassment finding makes a conversation HR).
CREATE TABLE detection_data_categories (
  detection_category text PRIMARY KEY,
  data_category text NOT NULL CHECK (data_category ~ '^[a-z][a-z0-9_-]{0,39}$')
);
INSERT INTO detection_data_categories VALUES
  ('harassment', 'hr'),
  ('insider_info', 'legal'),
  ('data_leak', 'customer'),
  ('bribery', 'finance'),
  ('return_promise', 'finance'),
  ('private_deal', 'finance');

-- A conversation's data categories: set by hand, from its employees' departments, from detection.
CREATE VIEW conversation_data_categories AS
  SELECT corp_id, conversation_id, category, 'manual' AS source FROM conversation_categories
  UNION ALL
  SELECT cm.corp_id, cm.conversation_id, unnest(d.categories), 'department'
  FROM conversation_members cm
  JOIN employees e ON e.corp_id = cm.corp_id AND e.userid = cm.member_id
  JOIN departments d ON d.corp_id = e.corp_id AND d.id = ANY (e.department_ids)
  UNION ALL
  SELECT f.corp_id, f.conversation_id, x.data_category, 'detection'
  FROM detection_findings f
  JOIN detection_data_categories x ON x.detection_category = f.category;

-- Pseudonyms per corp: none, external contacts only, or everyone but the viewer.
ALTER TABLE corps ADD COLUMN pseudonyms text NOT NULL DEFAULT 'none'
  CHECK (pseudonyms IN ('none', 'external', 'all'));
CREATE INDEX detection_findings_conversation ON detection_findings (corp_id, conversation_id);
