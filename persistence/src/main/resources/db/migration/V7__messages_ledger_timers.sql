-- Campaign read models, the per-person contact ledger, opt-outs and durable wake-up times.
-- Every tenant table carries tenant_id with the forced tenant_isolation policy (see V3).

-- One row per recipient and step a campaign decided on. Written by the Block projection (plans
-- and outcomes) and by delivery receipts, both as forward-only upserts: status_rank never goes
-- down (0 pending/deferred, 1 queued, 2 sent, 3 terminal: delivered, undelivered, failed,
-- blocked, cancelled), so the first terminal status sticks whatever order writes arrive in.
CREATE TABLE messages (
  tenant_id text COLLATE "C" NOT NULL,
  campaign_id text COLLATE "C" NOT NULL,
  recipient_no bigint NOT NULL,
  step int NOT NULL,
  phone text COLLATE "C",
  status text NOT NULL,
  status_rank smallint NOT NULL,
  reason text,
  sender text,
  provider_message_id text,
  segments int,
  due_at timestamptz,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, campaign_id, recipient_no, step)
);

ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON messages FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Counters that receipts and replies move (the campaign entity counts sends and blocks): each
-- is incremented in the transaction that makes the transition, so it is exact.
CREATE TABLE campaign_stats (
  tenant_id text COLLATE "C" NOT NULL,
  campaign_id text COLLATE "C" NOT NULL,
  delivered bigint NOT NULL DEFAULT 0,
  undelivered bigint NOT NULL DEFAULT 0,
  replied bigint NOT NULL DEFAULT 0,
  opted_out bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, campaign_id)
);

ALTER TABLE campaign_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaign_stats FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON campaign_stats FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- The campaign list (GET /v1/campaigns), projected from Campaign events; seq orders the pages.
CREATE TABLE campaigns (
  tenant_id text COLLATE "C" NOT NULL,
  campaign_id text COLLATE "C" NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  name text NOT NULL,
  channel text NOT NULL,
  state text NOT NULL,
  recipients bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  start_at timestamptz,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, campaign_id)
);
CREATE UNIQUE INDEX campaigns_seq_idx ON campaigns (tenant_id, seq);

ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaigns FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON campaigns FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Every outbound contact made, by person, across campaigns and agents: what frequency caps
-- count. Written in the transaction that reserves the contact under the person's advisory lock,
-- keyed by the idempotency key so a resend after a crash is counted once. Rows older than the
-- longest cap window are purged.
CREATE TABLE contact_ledger (
  tenant_id text COLLATE "C" NOT NULL,
  phone text COLLATE "C" NOT NULL,
  contact_key text COLLATE "C" NOT NULL,
  at timestamptz NOT NULL,
  sender text,
  purpose text NOT NULL,
  PRIMARY KEY (tenant_id, phone, contact_key)
);

ALTER TABLE contact_ledger ENABLE ROW LEVEL SECURITY;
ALTER TABLE contact_ledger FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contact_ledger FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- People who revoked consent, for the whole tenant (every channel, campaign and agent). Written
-- before the inbound webhook that carried the opt-out is answered; an opt-in deletes the row
-- (the audit trail keeps both).
CREATE TABLE opt_outs (
  tenant_id text COLLATE "C" NOT NULL,
  phone text COLLATE "C" NOT NULL,
  opted_out_at timestamptz NOT NULL,
  source text NOT NULL,
  detail text,
  PRIMARY KEY (tenant_id, phone)
);

ALTER TABLE opt_outs ENABLE ROW LEVEL SECURITY;
ALTER TABLE opt_outs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON opt_outs FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Receipts name the message they are about (the ref our callback URL carries,
-- campaignId:recipient:step) and the other party's number.
ALTER TABLE webhook_receipts ADD COLUMN ref text COLLATE "C";
ALTER TABLE webhook_receipts ADD COLUMN phone text COLLATE "C";
ALTER TABLE webhook_receipts ADD COLUMN message_status text;

-- Durable wake-up times: an entity waiting for a time (a deferred recipient, a follow-up step,
-- a scheduled start) is woken when wake_at passes, also after a restart; null means at start.
ALTER TABLE resumable_work ADD COLUMN wake_at timestamptz;
CREATE INDEX resumable_work_wake_idx ON resumable_work (wake_at) WHERE wake_at IS NOT NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON
  messages, campaign_stats, campaigns, contact_ledger, opt_outs
  TO ${appRole};

-- A recipient's legal hours are judged in its lead's time zones and US state.
ALTER TABLE recipients ADD COLUMN timezones text[];
ALTER TABLE recipients ADD COLUMN state text;
