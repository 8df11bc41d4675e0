-- Gianna, the reply agent. A person's plain reply waits on its thread row for classification
-- (classify_state 'pending', oldest first; classify_after holds a retry back); the row then keeps
-- what Gianna made of it: category, confidence, the classifier that said so, the action taken
-- (opt_out, answer, review) and why, the review item when a human decides. agent_handoffs holds the
-- answers and opt-out confirmations recorded but not yet journaled by the person's Conversation
-- (a crash between the two hands them over again; the Conversation sends each key once).

ALTER TABLE conversation_messages
  ADD COLUMN provider text,
  ADD COLUMN to_number text,
  ADD COLUMN classify_state text CHECK (classify_state IN ('pending', 'done', 'failed', 'skipped')),
  ADD COLUMN classify_attempts int NOT NULL DEFAULT 0,
  ADD COLUMN classify_after timestamptz,
  ADD COLUMN category text,
  ADD COLUMN confidence double precision,
  ADD COLUMN classifier text,
  ADD COLUMN agent_action text,
  ADD COLUMN agent_detail text,
  ADD COLUMN review_id text,
  ADD COLUMN classified_at timestamptz;

CREATE INDEX conversation_messages_classify_idx ON conversation_messages (tenant_id, at)
  WHERE classify_state = 'pending';

CREATE TABLE agent_handoffs (
  tenant_id text COLLATE "C" NOT NULL,
  reply_key text COLLATE "C" NOT NULL,
  phone text NOT NULL,
  kind text NOT NULL,
  provider text NOT NULL,
  from_number text NOT NULL,
  body text NOT NULL,
  in_reply_to text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, reply_key)
);

ALTER TABLE agent_handoffs ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_handoffs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON agent_handoffs FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON agent_handoffs TO ${appRole};

-- Cathy's daily cap counts a tenant's follow-ups since the start of its day.
CREATE INDEX contact_ledger_follow_ups_idx ON contact_ledger (tenant_id, at)
  WHERE purpose = 'follow_up';
