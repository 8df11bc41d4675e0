package io.outreach.persistence;

import io.outreach.engine.conversation.ConversationEntity;
import io.outreach.engine.conversation.Reply;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Locale;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;

/**
 * Writes the engine's replies from Conversation events into the thread {@code
 * conversation_messages}, and the replies sent into the audit trail (the opt-out confirmation, the
 * help answer). The inbound messages and the {@code conversations} rows are written by the tenant's
 * inbox as it processes them ({@link ConversationStore#processInbox}).
 */
public final class ConversationProjectionHandler
    extends JdbcHandler<EventEnvelope<ConversationEntity.Event>, HikariJdbcSession> {

  @Override
  public void process(HikariJdbcSession session, EventEnvelope<ConversationEntity.Event> envelope)
      throws Exception {
    String phone = envelope.persistenceId().substring(envelope.persistenceId().indexOf(':') + 1);
    Instant at = Instant.ofEpochMilli(envelope.timestamp());
    Projections.inTenantOf(
        session,
        envelope.persistenceId(),
        (c, tenantId) -> apply(c, tenantId, phone, envelope.event(), at));
  }

  private static void apply(
      Connection c, String tenantId, String phone, ConversationEntity.Event event, Instant at)
      throws SQLException {
    // An inbound message's own rows (thread, conversation) are the inbox's, written as it processed
    // it.
    if (event instanceof ConversationEntity.ReplyPlanned e) {
      Reply r = e.reply();
      thread(
          c,
          tenantId,
          phone,
          r.key(),
          at,
          "outbound",
          r.kind().name().toLowerCase(Locale.ROOT),
          r.body(),
          "pending");
    } else if (event instanceof ConversationEntity.ReplyDone e) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "update conversation_messages set status = ? where phone = ? and message_key = ? returning kind")) {
        ps.setString(1, e.sent() ? "sent" : "refused");
        ps.setString(2, phone);
        ps.setString(3, e.key());
        try (var rs = ps.executeQuery()) {
          if (rs.next() && e.sent()) {
            AuditRepository.insert(
                c,
                tenantId,
                e.at(),
                "engine",
                "reply." + rs.getString(1).replace('_', '-'),
                phone,
                "{\"key\":\"" + e.key() + "\"}");
          }
        }
      }
    }
  }

  private static void thread(
      Connection c,
      String tenantId,
      String phone,
      String key,
      Instant at,
      String direction,
      String kind,
      String body,
      String status)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into conversation_messages (tenant_id, phone, message_key, at, direction, kind, body, status)"
                + " values (?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing")) {
      ps.setString(1, tenantId);
      ps.setString(2, phone);
      ps.setString(3, key);
      ps.setTimestamp(4, Timestamp.from(at));
      ps.setString(5, direction);
      ps.setString(6, kind);
      ps.setString(7, body);
      ps.setString(8, status);
      ps.executeUpdate();
    }
  }
}
