package io.outreach.persistence;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.outreach.engine.campaign.BlockEntity;
import io.outreach.engine.campaign.Send;
import io.outreach.engine.campaign.SendOutcome;
import io.outreach.engine.message.MessageStatus;
import io.outreach.engine.message.Segments;
import io.outreach.persistence.MessageRows.Row;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;

/**
 * Writes Block events into {@code messages}: every decision of a plan (blocked and why, or a
 * pending send) and every outcome (queued with the provider's id, failed, blocked or deferred at
 * the moment of sending), and shows each sent message's follow-up as scheduled. Rows are upserted
 * forward-only ({@link MessageRows}), so receipts that got there first are not overwritten.
 */
public final class BlockProjectionHandler
    extends JdbcHandler<EventEnvelope<BlockEntity.Event>, HikariJdbcSession> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public void process(HikariJdbcSession session, EventEnvelope<BlockEntity.Event> envelope)
      throws Exception {
    String campaignId = envelope.persistenceId().split(":")[1];
    List<Row> rows = rows(envelope.event());
    if (rows.isEmpty()) {
      return;
    }
    Instant at = Instant.ofEpochMilli(envelope.timestamp());
    List<MessageRows.FollowUp> followUps =
        envelope.event() instanceof BlockEntity.Outcomes o
            ? o.outcomes().stream()
                .filter(x -> x.nextStepAt() != null)
                .map(x -> new MessageRows.FollowUp(x.recipient(), x.step() + 1, x.nextStepAt()))
                .toList()
            : List.of();
    Projections.inTenantOf(
        session,
        envelope.persistenceId(),
        (c, tenantId) -> {
          MessageRows.project(c, tenantId, campaignId, rows, at);
          MessageRows.scheduleFollowUps(c, campaignId, followUps, at);
          if (envelope.event() instanceof BlockEntity.Outcomes o) {
            auditFollowUps(c, tenantId, campaignId, o.outcomes(), at);
          }
        });
  }

  /**
   * Cathy's decisions in the audit trail (actor {@code agent:cathy}, subject the campaign): each
   * follow-up she sent (with the provider's id), that failed, that was stopped (a reply, an
   * opt-out, DNC) or that she put off (her spacing or daily cap; the legal hours' deferrals are the
   * gate's and stay in {@code messages}), with the step and the recipient's slot. The text is the
   * campaign's own step, approved by whoever launched it.
   */
  private static void auditFollowUps(
      Connection c, String tenantId, String campaignId, List<SendOutcome> outcomes, Instant at)
      throws SQLException {
    for (SendOutcome x : outcomes) {
      boolean hers =
          x.kind() != SendOutcome.Kind.DEFERRED
              || (x.reason() != null && x.reason().contains("cathy"));
      if (x.step() == 0 || !hers) {
        continue;
      }
      ObjectNode detail =
          JSON.createObjectNode()
              .put("recipient", x.recipient())
              .put("step", x.step())
              .put("action", x.kind().name().toLowerCase(Locale.ROOT));
      if (x.reason() != null) {
        detail.put("reason", x.reason());
      }
      if (x.providerMessageId() != null) {
        detail.put("providerMessageId", x.providerMessageId());
      }
      if (x.until() != null) {
        detail.put("until", x.until().toString());
      }
      AuditRepository.insert(
          c,
          tenantId,
          x.at() == null ? at : x.at(),
          "agent:cathy",
          "cathy.follow_up." + x.kind().name().toLowerCase(Locale.ROOT),
          campaignId,
          detail.toString());
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
      for (SendOutcome x : o.outcomes()) {
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
                      MessageRows.STOP_ON_REPLY.equals(x.reason())
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
}
