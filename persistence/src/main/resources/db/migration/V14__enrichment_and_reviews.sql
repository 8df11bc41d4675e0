-- LUCI's enrichment jobs, the tenant's enrichment cache and the review queue (issue 15).
--
-- A job is accepted with its leads copied in (enrichment_job_leads, numbered in lead order), its
-- estimate and whether it waits for a human. The Luci actor of the tenant runs jobs one at a time
-- from these rows; its resumable_work marker ('Luci', tenant id) stays while a job is unfinished,
-- so a crash loses nothing accepted. Each provider call's outcome (enrichment_batches) is written
-- in one transaction with the leads it filled and the cache rows it added, so a batch counts once.

CREATE TABLE enrichment_jobs (
  tenant_id text NOT NULL,
  job_id text NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  status text NOT NULL
    CHECK (status IN ('awaiting_approval', 'queued', 'running', 'completed', 'failed', 'rejected')),
  import_id text,
  leads int NOT NULL,
  uncached int NOT NULL,
  estimate_micros bigint NOT NULL,
  matched int NOT NULL DEFAULT 0,
  not_found int NOT NULL DEFAULT 0,
  cached int NOT NULL DEFAULT 0,
  skipped int NOT NULL DEFAULT 0,
  batches int NOT NULL DEFAULT 0,
  credits numeric(14, 2) NOT NULL DEFAULT 0,
  cost_micros bigint NOT NULL DEFAULT 0,
  review_id text,
  held_by text,
  reason text,
  detail text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (tenant_id, job_id)
);
CREATE UNIQUE INDEX enrichment_jobs_seq_idx ON enrichment_jobs (tenant_id, seq);
CREATE INDEX enrichment_jobs_unfinished_idx ON enrichment_jobs (tenant_id, seq)
  WHERE status IN ('awaiting_approval', 'queued', 'running');

-- outcome: pending (not handled yet), matched / not_found (asked of the provider by this job),
-- cached / cached_not_found (answered by the cache, no call), skipped (the lead was erased, or has
-- nothing the provider matches by: no email, and not first name, last name and company).
CREATE TABLE enrichment_job_leads (
  tenant_id text NOT NULL,
  job_id text NOT NULL,
  seq int NOT NULL,
  lead_id uuid NOT NULL,
  outcome text NOT NULL DEFAULT 'pending'
    CHECK (outcome IN ('pending', 'matched', 'not_found', 'cached', 'cached_not_found', 'skipped')),
  PRIMARY KEY (tenant_id, job_id, seq)
);
CREATE INDEX enrichment_job_leads_pending_idx ON enrichment_job_leads (tenant_id, job_id, seq)
  WHERE outcome = 'pending';

CREATE TABLE enrichment_batches (
  tenant_id text NOT NULL,
  job_id text NOT NULL,
  batch_no int NOT NULL,
  people int NOT NULL,
  matched int NOT NULL,
  credits numeric(14, 2) NOT NULL,
  cost_micros bigint NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, job_id, batch_no)
);

-- What the provider answered for a person, by the lead's identity (its E.164 phone, or its email
-- when it has none: 'p:+12125550100', 'e:ann@example.com'), also when it found nobody. A lead whose
-- identity was enriched within the TTL is never sent again.
CREATE TABLE enrichment_cache (
  tenant_id text COLLATE "C" NOT NULL,
  identity text COLLATE "C" NOT NULL,
  provider text NOT NULL,
  found boolean NOT NULL,
  person jsonb,
  enriched_at timestamptz NOT NULL,
  job_id text NOT NULL,
  PRIMARY KEY (tenant_id, identity)
);

-- The review queue: work an agent may not do without a human (an enrichment above the approval
-- threshold; later drafted answers). Each kind registers what approving and rejecting do.
CREATE TABLE reviews (
  tenant_id text NOT NULL,
  review_id text NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  kind text NOT NULL,
  subject text NOT NULL,
  summary text NOT NULL,
  draft jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  created_at timestamptz NOT NULL,
  decided_by text,
  decided_at timestamptz,
  PRIMARY KEY (tenant_id, review_id)
);
CREATE UNIQUE INDEX reviews_seq_idx ON reviews (tenant_id, seq);
CREATE INDEX reviews_subject_idx ON reviews (tenant_id, kind, subject);

ALTER TABLE enrichment_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE enrichment_jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON enrichment_jobs FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE enrichment_job_leads ENABLE ROW LEVEL SECURITY;
ALTER TABLE enrichment_job_leads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON enrichment_job_leads FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE enrichment_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE enrichment_batches FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON enrichment_batches FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE enrichment_cache ENABLE ROW LEVEL SECURITY;
ALTER TABLE enrichment_cache FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON enrichment_cache FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE reviews ENABLE ROW LEVEL SECURITY;
ALTER TABLE reviews FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reviews FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON
  enrichment_jobs, enrichment_job_leads, enrichment_batches, enrichment_cache, reviews
  TO ${appRole};
