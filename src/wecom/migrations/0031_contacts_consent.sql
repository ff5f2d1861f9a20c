-- Groups as WeCom describes them (msgaudit/groupchat/get for internal groups,
-- externalcontact/groupchat/get for customer groups), refreshed by the contacts sync.
CREATE TABLE wecom_groups (
  corp_id integer NOT NULL REFERENCES corps (id),
  room_id text NOT NULL,
  name text,
  owner text,
  kind text NOT NULL CHECK (kind IN ('internal', 'customer')),
  notice text,
  created_at_wecom timestamptz,
  -- [{id, type: 1 member | 2 external, joinedAt}]
  members jsonb NOT NULL DEFAULT '[]',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, room_id)
);

-- Consent of external contacts to archiving (会话存档同意), as an append-only history: each row is
-- one statement from one source; the latest by changed_at is the current state.
CREATE TABLE external_consents (
  corp_id integer NOT NULL REFERENCES corps (id),
  id bigint GENERATED ALWAYS AS IDENTITY,
  external_userid text NOT NULL,
  userid text,                                     -- the employee of a 1:1 consent
  room_id text,                                    -- the group of a room consent
  status text NOT NULL CHECK (status IN ('agree', 'disagree')),
  changed_at timestamptz NOT NULL,                 -- when the customer decided (WeCom's time)
  source text NOT NULL CHECK (source IN ('check_single_agree', 'check_room_agree', 'agree_message',
    'disagree_message', 'msg_audit_approved')),
  msgid text,                                      -- the archived agree/disagree message, if any
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (corp_id, id)
);
-- The same statement seen twice (an hourly re-check, a re-archived message) is stored once.
CREATE UNIQUE INDEX external_consents_identity ON external_consents
  (corp_id, external_userid, coalesce(userid, ''), coalesce(room_id, ''), status, changed_at, source);
CREATE INDEX external_consents_latest ON external_consents (corp_id, external_userid, changed_at DESC);

-- Rows are never rewritten (deletion stays possible for retention and erasure requests).
CREATE FUNCTION wecom_external_consents_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'external_consents is append-only';
END $$;
CREATE TRIGGER external_consents_append_only BEFORE UPDATE ON external_consents
  FOR EACH ROW EXECUTE FUNCTION wecom_external_consents_no_update();
