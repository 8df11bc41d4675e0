-- Each tenant's provider accounts (Twilio, SignalHouse, Apollo, Anthropic). Their fields are
-- sealed with AES-256-GCM under the engine's secrets key (SecretBox: key id, nonce, ciphertext and
-- tag, bound to the tenant and provider), so neither a dump nor the journal holds them in clear:
-- they never enter the journal at all.

CREATE TABLE provider_accounts (
  tenant_id text NOT NULL,
  provider text NOT NULL,
  sealed bytea NOT NULL,
  updated_at timestamptz NOT NULL,
  updated_by text NOT NULL,
  PRIMARY KEY (tenant_id, provider)
);

ALTER TABLE provider_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE provider_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON provider_accounts FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON provider_accounts TO ${appRole};
