-- Messages the streaming capture archives leave no row in wecom_envelopes: the archive itself
-- (message_keys, messages) is their record, and writing a ledger row per message cost a quarter
-- of the database's work per message. The capture's archived count moves to the cursor.
ALTER TABLE wecom_cursors ADD COLUMN archived_total bigint NOT NULL DEFAULT 0;

UPDATE wecom_cursors c
SET archived_total = (SELECT count(*) FROM wecom_envelopes e WHERE e.corp_id = c.corp_id AND e.state = 'archived');
