-- PIPL notice and consent (告知同意): the monitoring notices a corp publishes to its employees,
-- and each employee's acknowledgement of a version. Both tables are append-only: a published
-- version is never changed (a new version supersedes it), and an acknowledgement is a consent
-- record kept as evidence.

CREATE TABLE privacy_notices (
  corp_id integer NOT NULL REFERENCES corps (id),
  version integer NOT NULL CHECK (version >= 1),             -- 1, 2, 3… per corp
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 50000), -- zh-CN, the binding text
  title_en text CHECK (length(title_en) BETWEEN 1 AND 200),
  body_en text CHECK (length(body_en) BETWEEN 1 AND 50000),
  effective_on date NOT NULL,                                -- in the corp's time zone
  -- SHA-256 of the canonical text (noticeDigest in src/privacy/privacy.service.ts), also in the
  -- publish audit event: the tamper-evident log pins what was published.
  digest text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
  published_by text NOT NULL,                                -- audit actor: 'user:<id>'
  published_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, version),
  CHECK (title_en IS NULL OR body_en IS NOT NULL)
);

CREATE TABLE privacy_acknowledgements (
  corp_id integer NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  version integer NOT NULL,
  employee_userid text NOT NULL,                             -- the WeCom employee who acknowledged
  user_id bigint NOT NULL REFERENCES users (id),             -- through this account
  acknowledged_at timestamptz NOT NULL DEFAULT now(),
  ip text,
  user_agent text CHECK (length(user_agent) <= 1000),
  PRIMARY KEY (corp_id, id),
  FOREIGN KEY (corp_id, version) REFERENCES privacy_notices (corp_id, version),
  FOREIGN KEY (corp_id, employee_userid) REFERENCES employees (corp_id, userid),
  -- Once per employee and version: acknowledging again records nothing.
  CONSTRAINT privacy_acknowledgements_once UNIQUE (corp_id, version, employee_userid)
);

-- Published notices and consent records are never rewritten or removed by the application.
CREATE FUNCTION privacy_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% refused): publish a new version instead', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER privacy_notices_immutable BEFORE UPDATE OR DELETE ON privacy_notices
  FOR EACH ROW EXECUTE FUNCTION privacy_append_only();
CREATE TRIGGER privacy_notices_no_truncate BEFORE TRUNCATE ON privacy_notices
  FOR EACH STATEMENT EXECUTE FUNCTION privacy_append_only();
CREATE TRIGGER privacy_acknowledgements_immutable BEFORE UPDATE OR DELETE ON privacy_acknowledgements
  FOR EACH ROW EXECUTE FUNCTION privacy_append_only();
CREATE TRIGGER privacy_acknowledgements_no_truncate BEFORE TRUNCATE ON privacy_acknowledgements
  FOR EACH STATEMENT EXECUTE FUNCTION privacy_append_only();
