-- A person's last inbound message (stop on reply, conversations) is looked up by number.
CREATE INDEX webhook_receipts_inbound_idx ON webhook_receipts (tenant_id, phone, received_at)
  WHERE kind = 'inbound';

-- The calendar reads what waits for a time: deferred sends and follow-ups not yet due.
CREATE INDEX messages_due_idx ON messages (tenant_id, due_at) WHERE status IN ('deferred', 'scheduled');

-- What an inbound message did to consent (opt-out, opt-in, help), set in the transaction that
-- stored it, before the webhook is answered; the conversation processes it after.
ALTER TABLE webhook_receipts ADD COLUMN effect text;

-- A message's text, when it was sent, and whether its recipient replied or opted out since (each
-- counted once per campaign); messages are found by number for conversations and replies.
ALTER TABLE messages ADD COLUMN body text;
ALTER TABLE messages ADD COLUMN sent_at timestamptz;
ALTER TABLE messages ADD COLUMN replied_at timestamptz;
ALTER TABLE messages ADD COLUMN opted_out_at timestamptz;
CREATE INDEX messages_phone_idx ON messages (tenant_id, phone);

-- Conversations (projected from Conversation events): one row per number the tenant talks to,
-- and its thread of inbound messages and the engine's replies (campaign messages are in
-- messages).
CREATE TABLE conversations (
  tenant_id text COLLATE "C" NOT NULL,
  phone text COLLATE "C" NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  opted_out boolean NOT NULL DEFAULT false,
  opted_out_at timestamptz,
  inbound_count bigint NOT NULL DEFAULT 0,
  last_inbound_at timestamptz,
  last_body text,
  last_classification text,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, phone)
);
CREATE INDEX conversations_recent_idx ON conversations (tenant_id, updated_at DESC, phone);

ALTER TABLE conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON conversations FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

CREATE TABLE conversation_messages (
  tenant_id text COLLATE "C" NOT NULL,
  phone text COLLATE "C" NOT NULL,
  message_key text COLLATE "C" NOT NULL,
  at timestamptz NOT NULL,
  direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  kind text NOT NULL,
  body text,
  status text,
  PRIMARY KEY (tenant_id, phone, message_key)
);
CREATE INDEX conversation_messages_at_idx ON conversation_messages (tenant_id, phone, at);

ALTER TABLE conversation_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversation_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON conversation_messages FOR ALL
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON conversations, conversation_messages TO ${appRole};
