-- The organisation: corps (several per deployment), the department tree, employees and the
-- external contacts (customers) they talk to.
CREATE TABLE corps (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text NOT NULL,
  wecom_corp_id text UNIQUE,
  timezone text NOT NULL DEFAULT 'Asia/Shanghai',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE departments (
  corp_id integer NOT NULL REFERENCES corps (id),
  id bigint NOT NULL,                    -- WeCom department id
  parent_id bigint,                      -- NULL for the root
  name text NOT NULL,
  name_en text,
  sort_order bigint NOT NULL DEFAULT 0,
  sensitive_post boolean NOT NULL DEFAULT false,  -- finance, procurement…: weekly full review
  categories text[] NOT NULL DEFAULT '{}',        -- data categories its conversations carry
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id)
);
CREATE INDEX departments_parent ON departments (corp_id, parent_id);

CREATE TABLE employees (
  corp_id integer NOT NULL REFERENCES corps (id),
  userid text NOT NULL,
  name text NOT NULL,
  department_ids bigint[] NOT NULL DEFAULT '{}',
  main_department bigint,
  leader_of bigint[] NOT NULL DEFAULT '{}',       -- departments this employee leads
  position text,
  -- WeCom status: 1 active, 2 disabled, 4 not activated, 5 left
  status smallint NOT NULL DEFAULT 1,
  sensitive_post boolean NOT NULL DEFAULT false,
  archived boolean NOT NULL DEFAULT false,         -- on WeCom's permit list
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, userid)
);
CREATE INDEX employees_departments ON employees USING gin (department_ids);

CREATE TABLE external_contacts (
  corp_id integer NOT NULL REFERENCES corps (id),
  external_userid text NOT NULL,                   -- wo…/wm… (wb… are robots)
  name text,
  corp_name text,
  kind smallint,                                   -- 1 WeChat user, 2 WeCom user, 3 robot
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, external_userid)
);
