-- The signature algorithm of each checkpoint (audit.signature): 'ed25519' (all earlier
-- checkpoints) or 'sm2' (GB/T 32918.2 over SM3). The note binds it too, through its key id; the
-- column lets verification insist that the signature that verified is of the recorded kind.
-- Adding a column with a constant default rewrites no rows, so the append-only triggers are not
-- involved.
ALTER TABLE audit_checkpoints
  ADD COLUMN signature_alg text NOT NULL DEFAULT 'ed25519' CHECK (signature_alg IN ('ed25519', 'sm2'));
