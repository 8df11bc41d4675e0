-- A tenant's inbox processes its stored inbound messages in batches; the messages that want an
-- answer (a confirmation, the help text) are handed to the person's Conversation ('answering')
-- until it has journaled them. Status receipts are applied in the transaction that stores them
-- and are stored 'processed' from now on.
ALTER TABLE webhook_receipts DROP CONSTRAINT webhook_receipts_status_check;
ALTER TABLE webhook_receipts ADD CONSTRAINT webhook_receipts_status_check
  CHECK (status IN ('received', 'answering', 'processed', 'orphan'));

-- The inbox reads its oldest waiting messages; the old index also held every status receipt.
DROP INDEX webhook_receipts_pending_idx;
CREATE INDEX webhook_receipts_inbox_idx ON webhook_receipts (tenant_id, received_at, dedup_key)
  WHERE kind = 'inbound' AND status = 'received';
