-- A person's last inbound message (stop on reply, conversations) is looked up by number.
CREATE INDEX webhook_receipts_inbound_idx ON webhook_receipts (tenant_id, phone, received_at)
  WHERE kind = 'inbound';

-- The calendar reads what waits for a time: deferred sends and follow-ups not yet due.
CREATE INDEX messages_due_idx ON messages (tenant_id, due_at) WHERE status IN ('deferred', 'scheduled');
