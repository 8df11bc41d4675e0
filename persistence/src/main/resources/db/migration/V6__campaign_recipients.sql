-- A campaign's audience, snapshotted at launch: recipients numbered 0..n-1 in lead order, with
-- the fields their message template may use. Blocks of 500 read their slice by number.
CREATE TABLE recipients (
  tenant_id text COLLATE "C" NOT NULL,
  campaign_id text COLLATE "C" NOT NULL,
  recipient_no bigint NOT NULL,
  lead_id uuid NOT NULL,
  phone text COLLATE "C",
  fields jsonb NOT NULL,
  PRIMARY KEY (tenant_id, campaign_id, recipient_no)
);

ALTER TABLE recipients ENABLE ROW LEVEL SECURITY;
ALTER TABLE recipients FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON recipients FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON recipients TO ${appRole};
