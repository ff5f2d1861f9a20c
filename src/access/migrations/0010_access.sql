-- Identity: local accounts, role assignments, server-side sessions, API tokens and sign-in
-- attempts (lockout and rate limits across instances). Secrets are stored only as hashes
-- (passwords: argon2id; session and API tokens: SHA-256 of 256 random bits) or encrypted (TOTP).
CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'),
  display_name text,
  -- Optional link to the WeCom employee this account belongs to (own-content access, SSO later).
  corp_id integer REFERENCES corps (id),
  employee_userid text,
  password_hash text,                     -- argon2id PHC string; NULL: no password sign-in
  password_changed_at timestamptz,
  totp_secret bytea,                      -- sealed by the secret box (AES-256-GCM)
  totp_enabled_at timestamptz,
  totp_pending bytea,                     -- enrolment not yet confirmed
  totp_last_step bigint,                  -- last accepted time step: a code is single-use
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  disabled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((corp_id IS NULL) = (employee_userid IS NULL)),
  FOREIGN KEY (corp_id, employee_userid) REFERENCES employees (corp_id, userid),
  UNIQUE (corp_id, employee_userid)
);

CREATE TABLE role_assignments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  role text NOT NULL CHECK (role IN ('employee', 'department_manager', 'compliance_officer',
    'compliance_lead', 'auditor', 'privacy_officer', 'system_admin')),
  corp_id integer REFERENCES corps (id),  -- NULL: every corp (system_admin, auditor)
  department_id bigint,                   -- NULL: the whole corp; else that department's subtree
  granted_by bigint REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (department_id IS NULL OR corp_id IS NOT NULL),
  FOREIGN KEY (corp_id, department_id) REFERENCES departments (corp_id, id),
  UNIQUE NULLS NOT DISTINCT (user_id, role, corp_id, department_id)
);
CREATE INDEX role_assignments_user ON role_assignments (user_id);

CREATE TABLE sessions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  user_id bigint NOT NULL REFERENCES users (id),
  -- totp: password accepted, code pending; enrol: may only enrol TOTP; full: signed in.
  stage text NOT NULL CHECK (stage IN ('totp', 'enrol', 'full')),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,        -- absolute lifetime
  ended_at timestamptz,
  end_reason text,
  ip text,
  user_agent text
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL;

CREATE TABLE api_tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  name text NOT NULL,
  token_hash bytea NOT NULL UNIQUE,
  hint text NOT NULL,                     -- 'vgl_ab12…' for recognising a token in lists
  permissions text[] NOT NULL,
  corp_id integer REFERENCES corps (id),  -- NULL: wherever the owner holds the permissions
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  last_used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sign_in_attempts (
  ip text NOT NULL,
  username text NOT NULL,
  succeeded boolean NOT NULL,
  attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_attempts_account ON sign_in_attempts (username, ip, attempted_at);
CREATE INDEX sign_in_attempts_ip ON sign_in_attempts (ip, attempted_at);
