package io.outreach.persistence;

import io.outreach.engine.conversation.ConversationEntity;
import io.outreach.engine.conversation.InboundEffect;
import io.outreach.engine.conversation.InboundMessage;
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
 * Writes Conversation events into {@code conversations} (one row per person) and their thread
 * {@code conversation_messages} (inbound messages and the engine's replies), and the replies sent
 * into the audit trail (the opt-out confirmation, the help answer).
 */
public final class ConversationProjectionHandler
    extends JdbcHandler<EventEnvelope<ConversationEntity.Event>, HikariJdbcSession> {

  @Override
  public void process(HikariJdbcSession session, EventEnvelope<ConversationEntity.Event> envelope) throws Exception {
    String phone = envelope.persistenceId().substring(envelope.persistenceId().indexOf(':') + 1);
    Instant at = Instant.ofEpochMilli(envelope.timestamp());
    Projections.inTenantOf(session, envelope.persistenceId(), (c, tenantId) -> apply(c, tenantId, phone, envelope.event(), at));
  }

  private static void apply(Connection c, String tenantId, String phone, ConversationEntity.Event event, Instant at)
      throws SQLException {
    if (event instanceof ConversationEntity.InboundReceived e) {
      InboundMessage m = e.message();
      boolean out = m.effect() == InboundEffect.OPTED_OUT || m.effect() == InboundEffect.ALREADY_OPTED_OUT;
      boolean in = m.effect() == InboundEffect.OPTED_IN;
      try (PreparedStatement ps =
          c.prepareStatement(
              "insert into conversations (tenant_id, phone, opted_out, opted_out_at, inbound_count, last_inbound_at,"
                  + " last_body, updated_at) values (?, ?, ?, ?, 1, ?, ?, ?)"
                  + " on conflict (tenant_id, phone) do update set inbound_count = conversations.inbound_count + 1,"
                  + " last_inbound_at = excluded.last_inbound_at, last_body = excluded.last_body,"
                  + " opted_out = case when ? then true when ? then false else conversations.opted_out end,"
                  + " opted_out_at = case when ? then coalesce(conversations.opted_out_at, excluded.opted_out_at)"
                  + "   when ? then null else conversations.opted_out_at end,"
                  + " updated_at = excluded.updated_at")) {
        ps.setString(1, tenantId);
        ps.setString(2, phone);
        ps.setBoolean(3, out);
        ps.setTimestamp(4, out ? Timestamp.from(m.at()) : null);
        ps.setTimestamp(5, Timestamp.from(m.at()));
        ps.setString(6, m.body());
        ps.setTimestamp(7, Timestamp.from(at));
        ps.setBoolean(8, out);
        ps.setBoolean(9, in);
        ps.setBoolean(10, out);
        ps.setBoolean(11, in);
        ps.executeUpdate();
      }
      thread(c, tenantId, phone, m.key(), m.at(), "inbound", m.effect().name().toLowerCase(Locale.ROOT), m.body(), "received");
    } else if (event instanceof ConversationEntity.ReplyPlanned e) {
      Reply r = e.reply();
      thread(c, tenantId, phone, r.key(), at, "outbound", r.kind().name().toLowerCase(Locale.ROOT), r.body(), "pending");
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
                c, tenantId, e.at(), "engine", "reply." + rs.getString(1).replace('_', '-'), phone,
                "{\"key\":\"" + e.key() + "\"}");
          }
        }
      }
    }
  }

  private static void thread(
      Connection c, String tenantId, String phone, String key, Instant at, String direction, String kind, String body,
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
