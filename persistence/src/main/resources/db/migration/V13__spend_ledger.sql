-- The spend ledger: each budget a tenant's work falls under is a bucket (a month or a day of the
-- tenant, a campaign, an agent's day) with its limit, what was spent (committed) and what is held
-- for work under way (reserved), in micro-dollars. A reservation (a block's, an agent job's) holds
-- money in every bucket it falls under at once; commits move it to spent as paid calls are
-- accepted, a release gives back what was not spent. Bucket rows are locked in key order, so
-- racing reservations never together exceed a limit. Entries are the trail, and make every
-- request and charge count once (spend_entries_once). alerted_percent is the highest alert spending
-- raised (50, 80, 100); exhausted that a reservation found the bucket used up, which is its 100%
-- alert when it came first.

CREATE TABLE spend_buckets (
  tenant_id text NOT NULL,
  bucket text NOT NULL,
  limit_micros bigint NOT NULL,
  committed_micros bigint NOT NULL DEFAULT 0,
  reserved_micros bigint NOT NULL DEFAULT 0,
  alerted_percent int NOT NULL DEFAULT 0,
  exhausted boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, bucket),
  CHECK (committed_micros >= 0 AND reserved_micros >= 0)
);

CREATE TABLE spend_reservations (
  tenant_id text NOT NULL,
  reservation_id text NOT NULL,
  buckets text[] NOT NULL,
  campaign_id text,
  agent text,
  reserved_micros bigint NOT NULL DEFAULT 0,
  committed_micros bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, reservation_id)
);

CREATE TABLE spend_entries (
  id bigserial PRIMARY KEY,
  tenant_id text NOT NULL,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  reservation_id text,
  entry_key text,
  campaign_id text,
  agent text,
  amount_micros bigint NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}'
);

CREATE UNIQUE INDEX spend_entries_once ON spend_entries (tenant_id, kind, reservation_id, entry_key)
  WHERE entry_key IS NOT NULL;
CREATE INDEX spend_entries_recent ON spend_entries (tenant_id, id);

ALTER TABLE spend_buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE spend_buckets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON spend_buckets FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE spend_reservations ENABLE ROW LEVEL SECURITY;
ALTER TABLE spend_reservations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON spend_reservations FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE spend_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE spend_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON spend_entries FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON spend_buckets, spend_reservations, spend_entries TO ${appRole};
GRANT USAGE, SELECT ON SEQUENCE spend_entries_id_seq TO ${appRole};
