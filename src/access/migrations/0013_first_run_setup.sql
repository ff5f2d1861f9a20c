-- First-run setup: one-time tokens that let whoever reads the server's start-up log (or the token
-- file in the data directory) create the first administrator in the console. `vigil serve`
-- issues one at start-up while no enabled account holds users.manage; the first successful use
-- consumes it and deletes every other. Only the SHA-256 of a token is stored.
CREATE TABLE setup_tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  consumed_at timestamptz,
  -- The administrator the token created.
  consumed_by bigint REFERENCES users (id),
  CHECK ((consumed_at IS NULL) = (consumed_by IS NULL))
);

-- One setup at a time: a second consumed token cannot commit beside the first, whatever the
-- application's own lock and checks do. A new setup (every administrator gone) clears it first.
CREATE UNIQUE INDEX setup_tokens_one_consumed ON setup_tokens ((true)) WHERE consumed_at IS NOT NULL;
