-- Conversations, messages and attachments. Messages are partitioned by month of message time;
-- every key starts with corp_id so the schema can be distributed by corp (Citus).
CREATE TABLE conversations (
  corp_id integer NOT NULL REFERENCES corps (id),
  id bigint GENERATED ALWAYS AS IDENTITY,
  kind text NOT NULL CHECK (kind IN ('internal', 'external', 'group')),
  -- Stable identity: the room id (wr…) for groups, the sorted pair of user ids for 1:1 chats.
  conversation_key text NOT NULL,
  room_id text,
  title text,
  first_message_at timestamptz,
  last_message_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id),
  UNIQUE (corp_id, conversation_key)
);

CREATE TABLE conversation_members (
  corp_id integer NOT NULL,
  conversation_id bigint NOT NULL,
  member_id text NOT NULL,
  member_kind text NOT NULL CHECK (member_kind IN ('employee', 'external', 'robot')),
  PRIMARY KEY (corp_id, conversation_id, member_id),
  FOREIGN KEY (corp_id, conversation_id) REFERENCES conversations (corp_id, id)
);
CREATE INDEX conversation_members_by_member ON conversation_members (corp_id, member_id);

CREATE SEQUENCE messages_id_seq;

CREATE TABLE messages (
  corp_id integer NOT NULL,
  id bigint NOT NULL DEFAULT nextval('messages_id_seq'),
  msg_time timestamptz NOT NULL,
  msgid text NOT NULL,
  -- WeCom's seq is an unsigned 64-bit integer: numeric(20,0), never a JS number.
  seq numeric(20, 0),
  conversation_id bigint NOT NULL,
  action text NOT NULL DEFAULT 'send' CHECK (action IN ('send', 'recall', 'switch')),
  msgtype text NOT NULL,
  sender_id text,
  sender_kind text CHECK (sender_kind IN ('employee', 'external', 'robot')),
  direction text CHECK (direction IN ('internal', 'inbound', 'outbound')),
  has_attachment boolean NOT NULL DEFAULT false,
  recalled_msgid text,                              -- for action = recall: the recalled message
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, msg_time, id)
) PARTITION BY RANGE (msg_time);

CREATE INDEX messages_conversation ON messages (corp_id, conversation_id, msg_time DESC);
CREATE INDEX messages_sender ON messages (corp_id, sender_id, msg_time DESC);

-- Exactly-once: a message id is archived once per corp, whatever partition it lands in.
CREATE TABLE message_keys (
  corp_id integer NOT NULL,
  msgid text NOT NULL,
  msg_time timestamptz NOT NULL,
  message_id bigint NOT NULL,
  PRIMARY KEY (corp_id, msgid)
);

CREATE TABLE attachments (
  corp_id integer NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  message_id bigint NOT NULL,
  msg_time timestamptz NOT NULL,
  kind text NOT NULL,                               -- image, voice, video, file, emotion…
  sdkfileid text,
  md5sum text,
  size_bytes bigint,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'stored', 'failed', 'expired')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id)
);
CREATE INDEX attachments_message ON attachments (corp_id, message_id);

-- Creates the monthly partition holding `ts` if it does not exist yet. Safe to call concurrently:
-- the advisory lock serialises creators, and a creator that lost the race finds the table there.
CREATE FUNCTION vigil_ensure_message_partition(ts timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  month_start timestamptz := date_trunc('month', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  part_name text := 'messages_' || to_char(month_start AT TIME ZONE 'UTC', 'YYYY_MM');
BEGIN
  IF to_regclass(part_name) IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtext('vigil_message_partitions'));
    BEGIN
      EXECUTE format('CREATE TABLE %I PARTITION OF messages FOR VALUES FROM (%L) TO (%L)',
        part_name, month_start, month_start + interval '1 month');
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
      NULL; -- created by a concurrent caller
    END;
  END IF;
  RETURN part_name;
END $$;

SELECT vigil_ensure_message_partition(now() + make_interval(months => m)) FROM generate_series(-1, 2) AS m;
