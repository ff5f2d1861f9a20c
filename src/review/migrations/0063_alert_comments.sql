-- Reviewers' notes on an alert without a decision ("asked the manager", "customer called back"):
-- kept in the same trail as decisions, so history and evidence packages carry them in order.
ALTER TABLE review_decisions DROP CONSTRAINT review_decisions_stage_check;
ALTER TABLE review_decisions ADD CONSTRAINT review_decisions_stage_check
  CHECK (stage IN ('claim', 'assign', 'first', 'second', 'final', 'appeal', 'reminder', 'escalation', 'comment'));
