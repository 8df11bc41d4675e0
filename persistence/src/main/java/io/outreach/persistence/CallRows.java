package io.outreach.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes calls' progress into their rows of {@code messages}: the call's id, status, duration,
 * billed minutes and who answered, from the status callback with the highest {@code SequenceNumber}
 * seen, so a callback that arrives late or twice changes nothing (the row's status moves forward by
 * rank, as for texts, in {@link MessageRows}). Runs in the transaction that stores the callbacks,
 * after the rows were upserted there.
 */
final class CallRows {
  private static final String APPLY =
      "update messages set call_sid = ?, call_status = ?, call_sequence = ?,"
          + " call_duration_seconds = coalesce(?::int, call_duration_seconds),"
          + " call_billed_minutes = coalesce(?::int, call_billed_minutes),"
          + " answered_by = coalesce(?, answered_by)"
          + " where tenant_id = ? and campaign_id = ? and recipient_no = ? and step = ?"
          + " and (call_sequence is null or call_sequence < ?)";

  private CallRows() {}

  static void apply(Connection c, String tenant, List<WebhookReceipts.Receipt> receipts)
      throws SQLException {
    // In sequence order, so of several callbacks of one call in the batch the highest wins.
    List<WebhookReceipts.Receipt> calls = new ArrayList<>();
    for (WebhookReceipts.Receipt r : receipts) {
      if (r.call().isPresent() && r.ref().isPresent()) {
        calls.add(r);
      }
    }
    if (calls.isEmpty()) {
      return;
    }
    calls.sort(
        java.util.Comparator.comparing((WebhookReceipts.Receipt r) -> r.ref().get().toString())
            .thenComparingInt(r -> r.call().get().sequence()));
    try (PreparedStatement ps = c.prepareStatement(APPLY)) {
      for (WebhookReceipts.Receipt r : calls) {
        WebhookReceipts.CallProgress p = r.call().get();
        WebhookReceipts.MessageRef ref = r.ref().get();
        ps.setString(1, p.sid());
        ps.setString(2, p.status());
        ps.setInt(3, p.sequence());
        ps.setObject(4, p.durationSeconds(), java.sql.Types.INTEGER);
        ps.setObject(5, p.billedMinutes(), java.sql.Types.INTEGER);
        ps.setString(6, p.answeredBy());
        ps.setString(7, tenant);
        ps.setString(8, ref.campaignId());
        ps.setLong(9, ref.recipient());
        ps.setInt(10, ref.step());
        ps.setInt(11, p.sequence());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }
}
