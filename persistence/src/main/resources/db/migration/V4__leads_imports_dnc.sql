-- Lead intake: leads, the import ledger (idempotency and exactly-once outcome), do-not-contact.
-- Every tenant table carries tenant_id with the forced tenant_isolation policy (see V3).

-- Identifiers compare byte-wise (COLLATE "C"): their indexes take a million inserts per import
-- and a locale-aware comparison would cost several times more for no meaning.
CREATE TABLE leads (
  tenant_id text COLLATE "C" NOT NULL,
  lead_id uuid NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  phone text COLLATE "C",
  email text COLLATE "C",
  first_name text,
  last_name text,
  company text,
  address text,
  city text,
  state text,
  zip text,
  timezones text[] NOT NULL,
  consent_at timestamptz,
  consent_source text,
  attributes jsonb NOT NULL DEFAULT '{}',
  import_id text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, lead_id),
  CHECK (phone IS NOT NULL OR email IS NOT NULL)
);
-- Dedup: one lead per E.164 phone; one phone-less lead per email.
CREATE UNIQUE INDEX leads_phone_uq ON leads (tenant_id, phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX leads_email_only_uq ON leads (tenant_id, email) WHERE phone IS NULL;
CREATE INDEX leads_email_idx ON leads (tenant_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX leads_seq_idx ON leads (tenant_id, seq);

ALTER TABLE leads ENABLE ROW LEVEL SECURITY;
ALTER TABLE leads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON leads FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- One row per upload: the same content (sha256) or Idempotency-Key answers with the existing
-- import. outcome is written in the same transaction as the leads, so a re-run after a crash
-- finds it instead of importing twice.
CREATE TABLE imports (
  tenant_id text NOT NULL,
  import_id text NOT NULL,
  sha256 text NOT NULL,
  idempotency_key text,
  status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  outcome jsonb,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, import_id)
);
CREATE UNIQUE INDEX imports_sha_uq ON imports (tenant_id, sha256) WHERE status <> 'failed';
CREATE UNIQUE INDEX imports_idempotency_uq ON imports (tenant_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL AND status <> 'failed';

ALTER TABLE imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE imports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON imports FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Work that must resume by itself after a crash (an import still running, later campaigns and
-- timers), across all tenants. It holds entity ids only (they carry the tenant id, no personal
-- data), so like the journal it has no row-level security: the engine reads it at start and
-- wakes each entity.
CREATE TABLE resumable_work (
  entity_type text NOT NULL,
  entity_id text NOT NULL,
  since timestamptz NOT NULL,
  PRIMARY KEY (entity_type, entity_id)
);

-- A tenant's own do-not-contact list. source: 'api' (POST /v1/dnc), 'erasure' (a lead erased
-- for a privacy request keeps its number suppressed), later 'opt-out'.
CREATE TABLE dnc_numbers (
  tenant_id text NOT NULL,
  phone text NOT NULL,
  reason text,
  source text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, phone)
);

ALTER TABLE dnc_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE dnc_numbers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dnc_numbers FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- The national registry copy, shared by all tenants and stored once: numbers only, no tenant.
CREATE TABLE national_dnc (
  phone text PRIMARY KEY
);
CREATE TABLE national_dnc_copy (
  id int PRIMARY KEY CHECK (id = 1),
  as_of date NOT NULL,
  loaded_at timestamptz NOT NULL,
  numbers bigint NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON
  leads, imports, resumable_work, dnc_numbers, national_dnc, national_dnc_copy
  TO ${appRole};
-- Imports stage rows in a session-local temporary table: COPY is not allowed into tables under
-- row-level security, and a temporary table is visible to its own session only.
GRANT TEMPORARY ON DATABASE ${flyway:database} TO ${appRole};
