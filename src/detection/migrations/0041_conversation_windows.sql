-- Conversation-rule windows at ingest ("these steps within K messages or T minutes of the same
-- conversation"), kept between ingest transactions so that a restart or another worker continues
-- a window instead of starting it afresh. One row per corp, conversation and rule, written in the
-- ingest transaction that stores the hits, under the corp's detection advisory lock.
CREATE TABLE detection_conversation_windows (
  corp_id integer NOT NULL,
  conversation_id bigint NOT NULL,             -- the archive's conversation id
  rule_id text NOT NULL,
  version text NOT NULL,                       -- policy id and version: another version restarts the window
  message_count bigint NOT NULL,               -- messages of the conversation since the window opened
  steps jsonb NOT NULL,                        -- per step: {msgid, time, index} of the latest message satisfying it, or null
  last_time timestamptz NOT NULL,              -- latest message of the conversation seen
  expires_at timestamptz,                      -- every step past the time limit; NULL for message-count windows
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, conversation_id, rule_id)
);
CREATE INDEX detection_conversation_windows_expiry
  ON detection_conversation_windows (corp_id, expires_at) WHERE expires_at IS NOT NULL;
