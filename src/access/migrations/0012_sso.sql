-- Single sign-on: short-lived pre-authentication records (one per started OIDC or WeCom sign-in)
-- and links from an identity provider's subject to a local account. Accounts are never created
-- by sign-in: an identity must map to an existing, enabled user.
CREATE TABLE sso_preauth (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- SHA-256 of the state sent to the provider: a leaked row cannot be replayed as a state.
  state_hash bytea NOT NULL UNIQUE,
  provider text NOT NULL CHECK (provider IN ('oidc', 'wecom')),
  -- SHA-256 of the pre-auth cookie: only the browser that started the sign-in may finish it.
  browser_hash bytea NOT NULL,
  nonce text,                            -- OIDC: expected id_token nonce
  code_verifier text,                    -- OIDC: PKCE (S256) verifier
  corp_id integer REFERENCES corps (id), -- WeCom: whose app the code belongs to
  mode text CHECK (mode IN ('oauth', 'qr')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,                   -- single use: set when a callback consumes it
  CHECK ((provider = 'oidc') = (nonce IS NOT NULL AND code_verifier IS NOT NULL)),
  CHECK ((provider = 'wecom') = (corp_id IS NOT NULL AND mode IS NOT NULL))
);
CREATE INDEX sso_preauth_expires ON sso_preauth (expires_at);

CREATE TABLE user_identities (
  -- 'oidc:<issuer>': an OIDC subject is unique only within its issuer.
  provider text NOT NULL,
  subject text NOT NULL,
  user_id bigint NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  PRIMARY KEY (provider, subject),
  -- One identity per account and provider: a second subject claiming the same username is refused.
  UNIQUE (provider, user_id)
);
