-- Provider webhooks (delivery receipts now, inbound replies later) are stored before the engine
-- answers 2xx, deduplicated on the provider's own key, and processed after.
CREATE TABLE webhook_receipts (
  tenant_id text COLLATE "C" NOT NULL,
  provider text NOT NULL,
  dedup_key text COLLATE "C" NOT NULL,
  kind text NOT NULL,
  received_at timestamptz NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'orphan')),
  PRIMARY KEY (tenant_id, provider, dedup_key)
);
CREATE INDEX webhook_receipts_pending_idx ON webhook_receipts (tenant_id, received_at)
  WHERE status = 'received';

ALTER TABLE webhook_receipts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_receipts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_receipts FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_receipts TO ${appRole};
