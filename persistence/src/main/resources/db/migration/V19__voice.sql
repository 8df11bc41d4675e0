-- Calls (issue 17). A campaign's call is a row of messages like a text; its progress comes from the
-- provider's status callbacks, which may arrive twice or out of order: each carries the call's
-- SequenceNumber, and a callback only moves the call's own columns when its number is higher than
-- the one stored (the row's status keeps its forward-only rank as for texts). call_billed_minutes is
-- the provider's Duration (started minutes), what the call is charged for.
ALTER TABLE messages
  ADD COLUMN call_sid text,
  ADD COLUMN call_status text,
  ADD COLUMN call_sequence int,
  ADD COLUMN call_duration_seconds int,
  ADD COLUMN call_billed_minutes int,
  ADD COLUMN answered_by text;

-- A call is charged at its final status under the key call:<campaign>:<recipient>:<step>; a
-- campaign's calls' spend is read from these entries.
CREATE INDEX spend_entries_calls_idx ON spend_entries (tenant_id, campaign_id)
  WHERE kind = 'commit' AND entry_key LIKE 'call:%';
