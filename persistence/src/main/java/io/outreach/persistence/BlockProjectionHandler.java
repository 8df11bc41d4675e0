package io.outreach.persistence;

import io.outreach.engine.campaign.BlockEntity;
import io.outreach.engine.campaign.Send;
import io.outreach.engine.message.MessageStatus;
import io.outreach.engine.message.Segments;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;

/**
 * Writes Block events into {@code messages}: every decision of a plan (blocked and why, or a
 * pending send) and every outcome (queued with the provider's id, failed, blocked or deferred at
 * the moment of sending). Rows are upserted forward-only (see {@link MessageStatus}), so receipts
 * that got there first are not overwritten.
 */
public final class BlockProjectionHandler
    extends JdbcHandler<EventEnvelope<BlockEntity.Event>, HikariJdbcSession> {

  /** One row to upsert. */
  record Row(
      long recipient,
      int step,
      String phone,
      MessageStatus status,
      String reason,
      String sender,
      String providerMessageId,
      Integer segments,
      Instant dueAt,
      String body,
      Instant sentAt) {}

  @Override
  public void process(HikariJdbcSession session, EventEnvelope<BlockEntity.Event> envelope)
      throws Exception {
    String campaignId = envelope.persistenceId().split(":")[1];
    List<Row> rows = new ArrayList<>(rows(envelope.event()));
    // Key order, as the receipt writer uses: concurrent upserts of the same rows cannot deadlock.
    rows.sort(java.util.Comparator.comparingLong(Row::recipient).thenComparingInt(Row::step));
    if (rows.isEmpty()) {
      return;
    }
    Instant at = Instant.ofEpochMilli(envelope.timestamp());
    List<BlockEntity.Outcome> withNextStep =
        envelope.event() instanceof BlockEntity.Outcomes o
            ? o.outcomes().stream().filter(x -> x.nextStepAt() != null).toList()
            : List.of();
    Projections.inTenantOf(
        session,
        envelope.persistenceId(),
        (c, tenantId) -> {
          upsert(c, tenantId, campaignId, rows, at);
          scheduleNextSteps(c, campaignId, withNextStep, at);
        });
  }

  /** The follow-up of each sent message, shown as scheduled until it falls due. */
  private static void scheduleNextSteps(
      Connection c, String campaignId, List<BlockEntity.Outcome> sent, Instant at)
      throws SQLException {
    if (sent.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into messages (tenant_id, campaign_id, recipient_no, step, phone, sender, status, status_rank,"
                + " due_at, updated_at)"
                + " select m.tenant_id, m.campaign_id, m.recipient_no, t.stp, m.phone, m.sender, 'scheduled', 0, t.due, ?"
                + " from unnest(?::bigint[], ?::int[], ?::timestamptz[]) as t(rcp, stp, due)"
                + " join messages m on m.campaign_id = ? and m.recipient_no = t.rcp and m.step = t.stp - 1"
                + " on conflict do nothing")) {
      ps.setTimestamp(1, Timestamp.from(at));
      ps.setArray(
          2,
          c.createArrayOf("bigint", sent.stream().map(BlockEntity.Outcome::recipient).toArray()));
      ps.setArray(3, c.createArrayOf("integer", sent.stream().map(o -> o.step() + 1).toArray()));
      ps.setArray(
          4,
          c.createArrayOf(
              "timestamptz", sent.stream().map(o -> Timestamp.from(o.nextStepAt())).toArray()));
      ps.setString(5, campaignId);
      ps.executeUpdate();
    }
  }

  static List<Row> rows(BlockEntity.Event event) {
    List<Row> rows = new ArrayList<>();
    if (event instanceof BlockEntity.Planned p) {
      p.blocked()
          .forEach(
              b ->
                  rows.add(
                      new Row(
                          b.recipient(),
                          0,
                          null,
                          MessageStatus.BLOCKED,
                          b.rule(),
                          null,
                          null,
                          null,
                          null,
                          null,
                          null)));
      p.sends().forEach(x -> rows.add(pending(x)));
    } else if (event instanceof BlockEntity.StepPlanned p) {
      p.sends().forEach(x -> rows.add(pending(x)));
    } else if (event instanceof BlockEntity.Outcomes o) {
      for (BlockEntity.Outcome x : o.outcomes()) {
        rows.add(
            switch (x.kind()) {
              case SENT ->
                  new Row(
                      x.recipient(),
                      x.step(),
                      null,
                      MessageStatus.QUEUED,
                      null,
                      null,
                      x.providerMessageId(),
                      null,
                      null,
                      null,
                      x.at());
              case FAILED ->
                  new Row(
                      x.recipient(),
                      x.step(),
                      null,
                      MessageStatus.FAILED,
                      x.reason(),
                      null,
                      null,
                      null,
                      null,
                      null,
                      null);
              case BLOCKED ->
                  new Row(
                      x.recipient(),
                      x.step(),
                      null,
                      x.reason() != null && x.reason().equals("stop-on-reply")
                          ? MessageStatus.CANCELLED
                          : MessageStatus.BLOCKED,
                      x.reason(),
                      null,
                      null,
                      null,
                      null,
                      null,
                      null);
              case DEFERRED ->
                  new Row(
                      x.recipient(),
                      x.step(),
                      null,
                      MessageStatus.DEFERRED,
                      x.reason(),
                      null,
                      null,
                      null,
                      x.until(),
                      null,
                      null);
            });
      }
    }
    return rows;
  }

  private static Row pending(Send x) {
    return new Row(
        x.recipient(),
        x.step(),
        x.to(),
        MessageStatus.PENDING,
        null,
        x.from(),
        null,
        Segments.count(x.body()).segments(),
        null,
        x.body(),
        null);
  }

  private static void upsert(
      Connection c, String tenantId, String campaignId, List<Row> rows, Instant at)
      throws SQLException {
    // Equal ranks replace each other only below "queued" (pending <-> deferred); from then on a
    // status moves only up, and the first terminal one stays.
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into messages (tenant_id, campaign_id, recipient_no, step, phone, status, status_rank,"
                + " reason, sender, provider_message_id, segments, due_at, body, sent_at, updated_at)"
                + " select ?, ?, rcp, stp, ph, st, rk, rsn, snd, pid, seg, due, bdy, snt, ?"
                + " from unnest(?::bigint[], ?::int[], ?::text[], ?::text[], ?::smallint[], ?::text[], ?::text[],"
                + " ?::text[], ?::int[], ?::timestamptz[], ?::text[], ?::timestamptz[])"
                + " as t(rcp, stp, ph, st, rk, rsn, snd, pid, seg, due, bdy, snt)"
                + " on conflict (tenant_id, campaign_id, recipient_no, step) do update set"
                + " phone = coalesce(messages.phone, excluded.phone),"
                + " body = coalesce(messages.body, excluded.body),"
                + " sent_at = coalesce(messages.sent_at, excluded.sent_at),"
                + " sender = coalesce(messages.sender, excluded.sender),"
                + " segments = coalesce(messages.segments, excluded.segments),"
                + " provider_message_id = coalesce(messages.provider_message_id, excluded.provider_message_id),"
                + " status = case when excluded.status_rank > messages.status_rank"
                + "   or (excluded.status_rank = 0 and messages.status_rank = 0) then excluded.status else messages.status end,"
                + " reason = case when excluded.status_rank > messages.status_rank"
                + "   or (excluded.status_rank = 0 and messages.status_rank = 0) then excluded.reason else messages.reason end,"
                + " due_at = case when excluded.status_rank = 0 and messages.status_rank = 0 then excluded.due_at"
                + "   else messages.due_at end,"
                + " status_rank = greatest(messages.status_rank, excluded.status_rank),"
                + " updated_at = excluded.updated_at")) {
      ps.setString(1, tenantId);
      ps.setString(2, campaignId);
      ps.setTimestamp(3, Timestamp.from(at));
      ps.setArray(4, c.createArrayOf("bigint", rows.stream().map(Row::recipient).toArray()));
      ps.setArray(5, c.createArrayOf("integer", rows.stream().map(Row::step).toArray()));
      ps.setArray(6, c.createArrayOf("text", rows.stream().map(Row::phone).toArray()));
      ps.setArray(7, c.createArrayOf("text", rows.stream().map(r -> r.status().code()).toArray()));
      ps.setArray(
          8,
          c.createArrayOf("smallint", rows.stream().map(r -> (short) r.status().rank()).toArray()));
      ps.setArray(9, c.createArrayOf("text", rows.stream().map(Row::reason).toArray()));
      ps.setArray(10, c.createArrayOf("text", rows.stream().map(Row::sender).toArray()));
      ps.setArray(11, c.createArrayOf("text", rows.stream().map(Row::providerMessageId).toArray()));
      ps.setArray(12, c.createArrayOf("integer", rows.stream().map(Row::segments).toArray()));
      ps.setArray(
          13,
          c.createArrayOf(
              "timestamptz",
              rows.stream()
                  .map(r -> r.dueAt() == null ? null : Timestamp.from(r.dueAt()))
                  .toArray()));
      ps.setArray(14, c.createArrayOf("text", rows.stream().map(Row::body).toArray()));
      ps.setArray(
          15,
          c.createArrayOf(
              "timestamptz",
              rows.stream()
                  .map(r -> r.sentAt() == null ? null : Timestamp.from(r.sentAt()))
                  .toArray()));
      ps.executeUpdate();
    }
  }
}
