-- Raw CSV uploads (issue 18) live in PostgreSQL, which every node reaches: an import accepted by
-- one node survives that node's loss, and whichever node runs the import reads it. An upload is
-- received under a random id in chunks of at most 1 MiB, each written in a short transaction of its
-- own (a slow client never holds a connection), and becomes its import's upload in one statement
-- (import_id set). Chunks of an upload never committed (the node receiving it died) are removed a
-- day later, when the tenant next uploads.
CREATE TABLE uploads (
  tenant_id text NOT NULL,
  upload_id uuid NOT NULL,
  import_id text,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, upload_id)
);

CREATE UNIQUE INDEX uploads_import_idx ON uploads (tenant_id, import_id)
  WHERE import_id IS NOT NULL;
CREATE INDEX uploads_abandoned_idx ON uploads (tenant_id, received_at)
  WHERE import_id IS NULL;

CREATE TABLE upload_chunks (
  tenant_id text NOT NULL,
  upload_id uuid NOT NULL,
  seq int NOT NULL,
  bytes bytea NOT NULL,
  PRIMARY KEY (tenant_id, upload_id, seq),
  FOREIGN KEY (tenant_id, upload_id) REFERENCES uploads (tenant_id, upload_id) ON DELETE CASCADE
);

ALTER TABLE uploads ENABLE ROW LEVEL SECURITY;
ALTER TABLE uploads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON uploads FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE upload_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE upload_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON upload_chunks FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON uploads, upload_chunks TO ${appRole};
