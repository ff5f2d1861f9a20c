-- The reviewer's queue pages by keyset in its display order: alerts still open before closed ones,
-- highest priority first, then the earliest resolution deadline, then id (unique, so stable).
-- AlertsRepository.page orders by exactly these expressions and compares the row of them to its
-- cursor, so each page is one index range scan however deep the reviewer has scrolled.
CREATE INDEX review_alerts_queue_order
  ON review_alerts (corp_id, (status = 'closed'), (-priority), resolution_due, id);

-- The queue's category filter (a rare category would otherwise walk the whole order index).
CREATE INDEX review_alerts_category ON review_alerts (corp_id, category, status);
