-- The WeCom connector: one per corp. Secrets (会话内容存档 Secret, RSA private keys for every
-- publickey_ver) live in the keyring, never here.
CREATE TABLE wecom_connectors (
  corp_id integer PRIMARY KEY REFERENCES corps (id),
  wecom_corp_id text NOT NULL,
  -- native: libWeWorkFinanceSdk_C.so in a supervised child; emulator: the TypeScript client of
  -- Vigil's WeCom emulator (demo and machines without the vendor library).
  sdk_mode text NOT NULL DEFAULT 'native' CHECK (sdk_mode IN ('native', 'emulator')),
  sdk_library text,
  api_base_url text NOT NULL DEFAULT 'https://qyapi.weixin.qq.com',
  proxy text,
  poll_interval_seconds integer NOT NULL DEFAULT 60 CHECK (poll_interval_seconds >= 5),
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Where the next GetChatData starts: messages after `seq` (exclusive). Advanced in the same
-- transaction that stores the pulled envelopes, so a crash never skips or repeats a batch.
CREATE TABLE wecom_cursors (
  corp_id integer PRIMARY KEY REFERENCES corps (id),
  seq numeric(20, 0) NOT NULL DEFAULT 0,
  pulled_total bigint NOT NULL DEFAULT 0,
  last_pull_at timestamptz,
  last_new_at timestamptz,
  last_error text,
  last_error_at timestamptz
);

-- Encrypted envelopes as WeCom returned them, until they are archived. Quarantined and held ones
-- keep their ciphertext so they can be retried (a key added later, a library fixed).
CREATE TABLE wecom_envelopes (
  corp_id integer NOT NULL REFERENCES corps (id),
  msgid text NOT NULL,
  seq numeric(20, 0) NOT NULL,
  publickey_ver integer,
  encrypt_random_key text,
  encrypt_chat_msg text,
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'archived', 'held_key', 'quarantined')),
  attempts integer NOT NULL DEFAULT 0,
  reason text,
  pulled_at timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz,
  PRIMARY KEY (corp_id, msgid)
);
CREATE INDEX wecom_envelopes_pending ON wecom_envelopes (corp_id, seq) WHERE state = 'pending';
CREATE INDEX wecom_envelopes_attention ON wecom_envelopes (corp_id, state) WHERE state IN ('held_key', 'quarantined');
