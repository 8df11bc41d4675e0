-- Arrival order: the deliveries of one group commit share received_at, and a person's STOP and
-- START stored together must be processed in the order they came.
ALTER TABLE webhook_receipts ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;

-- The inbox reads its oldest waiting messages in that order.
DROP INDEX webhook_receipts_inbox_idx;
CREATE INDEX webhook_receipts_inbox_idx ON webhook_receipts (tenant_id, seq)
  WHERE kind = 'inbound' AND status = 'received';
