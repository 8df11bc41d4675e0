-- A person's last inbound message (stop on reply, conversations) is looked up by number.
CREATE INDEX webhook_receipts_inbound_idx ON webhook_receipts (tenant_id, phone, received_at)
  WHERE kind = 'inbound';
