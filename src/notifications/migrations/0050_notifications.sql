-- Notifications to Vigil users: always in-app, and sent as a WeCom app message to users whose
-- account is linked to an employee. Titles and bodies describe events ("Break-glass access opened
-- by X"), never message content.

CREATE TABLE notifications (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  corp_id integer REFERENCES corps (id),   -- the corp the event is about; NULL: system-wide
  user_id bigint NOT NULL REFERENCES users (id),
  kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' AND length(kind) <= 100),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body text NOT NULL CHECK (length(body) <= 2000),
  link text CHECK (link ~ '^/([^/\\]|$)'), -- a path inside Vigil, never another site
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz,
  -- WeCom delivery. in_app: not sent through WeCom (no employee link, or the corp has no app;
  -- wecom_error says which); pending: due at next_attempt_at (also the lease of a delivery in
  -- progress); failed: given up, wecom_error says why.
  wecom_state text NOT NULL CHECK (wecom_state IN ('in_app', 'pending', 'delivered', 'failed')),
  delivered_wecom_at timestamptz,
  wecom_error text,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  CHECK ((wecom_state = 'delivered') = (delivered_wecom_at IS NOT NULL)),
  CHECK (wecom_state <> 'pending' OR next_attempt_at IS NOT NULL)
);
CREATE INDEX notifications_mine ON notifications (user_id, id DESC);
CREATE INDEX notifications_my_unread ON notifications (user_id, id DESC) WHERE read_at IS NULL;
CREATE INDEX notifications_wecom_due ON notifications (next_attempt_at) WHERE wecom_state = 'pending';

