-- Wrapped data keys (DEKs), one per scope: corp × month × retention class. Only wrapped bytes are
-- stored; the key-encryption key stays in the keyring (file or HSM). A destroyed scope keeps its
-- row as a tombstone (wrapped = NULL) so it can never be given a new key: crypto-shredding.
CREATE TABLE data_keys (
  corp_id text NOT NULL,
  month text NOT NULL CHECK (month ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  retention_class text NOT NULL,
  alg text NOT NULL,
  kek_version integer,
  wrapped bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  rewrapped_at timestamptz,
  destroyed_at timestamptz,
  PRIMARY KEY (corp_id, month, retention_class),
  CHECK ((destroyed_at IS NULL) = (wrapped IS NOT NULL AND kek_version IS NOT NULL))
);
CREATE INDEX data_keys_by_kek ON data_keys (kek_version) WHERE destroyed_at IS NULL;
