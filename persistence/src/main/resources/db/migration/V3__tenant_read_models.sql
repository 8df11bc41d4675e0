-- Tenant read models. Every tenant table carries tenant_id and the same row-level-security
-- policy on the transaction-local setting app.tenant_id (bound by TenantJdbc): a session that
-- has not bound a tenant sees no rows and can write none. FORCE makes the policy apply to the
-- table owner as well, so it still holds when one role both migrates and runs the app.

CREATE TABLE tenants (
  tenant_id text PRIMARY KEY,
  name text NOT NULL,
  timezone text NOT NULL,
  monthly_budget_cents bigint NOT NULL,
  status text NOT NULL,
  settings jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  tenant_id text NOT NULL,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  subject text,
  detail jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_tenant_at_idx ON audit_log (tenant_id, at);

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- The runtime role reads and writes data but owns nothing, so it can neither change the
-- schema nor switch row-level security off. Tables are listed by name, not ON ALL TABLES, so
-- the role never gets write access to Flyway's history table. V1/V2 tables are granted here
-- too: they are keyed by entity id and have no RLS. Each later migration grants its own tables.
GRANT USAGE ON SCHEMA ${flyway:defaultSchema} TO ${appRole};
GRANT SELECT, INSERT, UPDATE, DELETE ON
  event_journal, event_tag, snapshot, durable_state,
  pekko_projection_offset_store, pekko_projection_management,
  tenants, audit_log
  TO ${appRole};
GRANT USAGE, SELECT ON SEQUENCE
  event_journal_ordering_seq, durable_state_global_offset_seq, audit_log_id_seq
  TO ${appRole};
