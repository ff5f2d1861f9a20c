-- Compliance training records, imported from the training system's CSV exports. Access to
-- sensitive data categories can require a valid (completed, not expired) course.

CREATE TABLE training_imports (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  corp_id integer NOT NULL REFERENCES corps (id),
  file_name text,
  source text NOT NULL CHECK (source IN ('csv', 'api')),  -- csv: the CLI; api: the HTTP API
  rows integer NOT NULL DEFAULT 0,                         -- data rows (blank lines excluded)
  accepted integer NOT NULL DEFAULT 0,                     -- inserted + updated + unchanged
  inserted integer NOT NULL DEFAULT 0,
  updated integer NOT NULL DEFAULT 0,                      -- same record, corrected expiry
  rejected integer NOT NULL DEFAULT 0,
  rejects jsonb NOT NULL DEFAULT '[]',                     -- [{line, reason}]
  imported_by text NOT NULL,                               -- audit actor: 'user:<id>', 'cli:<os user>'
  imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX training_imports_corp ON training_imports (corp_id, id DESC);

CREATE TABLE training_completions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  corp_id integer NOT NULL REFERENCES corps (id),
  -- The person: a Vigil account, or a WeCom employee (whose linked account then holds it).
  user_id bigint REFERENCES users (id),
  employee_userid text,
  course text NOT NULL CHECK (length(course) BETWEEN 1 AND 200),
  completed_at timestamptz NOT NULL,
  expires_at timestamptz,                                  -- NULL: never expires
  source text NOT NULL CHECK (source IN ('csv', 'api')),
  import_id bigint REFERENCES training_imports (id),
  imported_by text NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now(),
  CHECK (num_nonnulls(user_id, employee_userid) = 1),
  CHECK (expires_at IS NULL OR expires_at > completed_at),
  FOREIGN KEY (corp_id, employee_userid) REFERENCES employees (corp_id, userid),
  -- One record per person, course and completion: a re-import adds nothing.
  CONSTRAINT training_completions_once
    UNIQUE NULLS NOT DISTINCT (corp_id, course, user_id, employee_userid, completed_at)
);
CREATE INDEX training_completions_employee ON training_completions (corp_id, course, employee_userid)
  WHERE employee_userid IS NOT NULL;
CREATE INDEX training_completions_recent ON training_completions (corp_id, id DESC);
