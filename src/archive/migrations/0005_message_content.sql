-- Message content is stored only encrypted (envelope encryption, see src/crypto), beside a blind
-- search index: keyed hashes of CJK unigrams/bigrams and words with positions, as a tsvector, so
-- PostgreSQL's GIN index and phrase operator answer Chinese queries without plaintext.
ALTER TABLE messages
  ADD COLUMN retention_class text NOT NULL DEFAULT 'standard',
  ADD COLUMN content bytea,            -- ciphertext of the decrypted WeCom JSON (self-describing header)
  ADD COLUMN search tsvector,          -- blind index; NULL for messages without text
  ADD COLUMN search_lossy boolean NOT NULL DEFAULT false,
  -- What normalization noticed: unknown_type (kept, never dropped), control_chars_stripped…
  ADD COLUMN flags text[] NOT NULL DEFAULT '{}';

CREATE INDEX messages_search ON messages USING gin (search);
