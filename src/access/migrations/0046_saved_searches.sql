-- A user's saved archive searches (query text and filters), private to that user in that corp.
-- They hold no message content; running one goes through the content choke point like any search.
CREATE TABLE saved_searches (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  corp_id integer NOT NULL REFERENCES corps (id),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  query text NOT NULL,
  filters jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, corp_id, name)
);
