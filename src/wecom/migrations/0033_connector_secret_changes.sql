-- When each WeCom secret of a corp was last replaced through the API, and by whom. The secrets
-- themselves live in the keyring only; this table never holds a value or a digest of one.
CREATE TABLE wecom_secret_changes (
  corp_id integer NOT NULL REFERENCES corps (id),
  -- archive, contacts, externalcontact, app, callback_token, callback_aeskey
  kind text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by text NOT NULL,
  PRIMARY KEY (corp_id, kind)
);
