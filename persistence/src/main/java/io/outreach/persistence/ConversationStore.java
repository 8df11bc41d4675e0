package io.outreach.persistence;

import io.outreach.engine.conversation.InboundEffect;
import io.outreach.engine.conversation.InboundMessage;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What conversations read and write outside their journal: the inbound messages stored by the
 * webhooks and not processed yet, and the campaigns' reactions to a reply (counted once per
 * campaign that wrote to the person within {@link #ATTRIBUTION}, and their follow-ups not yet due
 * cancelled).
 */
public final class ConversationStore {
  /** A reply counts for the campaigns whose first message reached the person this recently. */
  static final Duration ATTRIBUTION = Duration.ofDays(30);

  private final TenantJdbc tenantJdbc;

  public ConversationStore(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  /** The person's inbound messages not processed yet, oldest first. */
  public List<InboundMessage> pending(String tenantId, String phone) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select dedup_key, provider, phone, coalesce(payload->>'To', payload->'data'->>'to'),"
                      + " coalesce(payload->>'Body', payload->'data'->>'text'), received_at, coalesce(effect, 'NONE')"
                      + " from webhook_receipts where kind = 'inbound' and phone = ? and status = 'received'"
                      + " order by received_at, dedup_key limit 500")) {
            ps.setString(1, phone);
            List<InboundMessage> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new InboundMessage(
                        rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getTimestamp(6).toInstant(), InboundEffect.valueOf(rs.getString(7))));
              }
            }
            return out;
          }
        });
  }

  /**
   * Marks these inbound messages processed and applies, for each one this marks (not one marked
   * before), its effect on campaigns, in the same transaction, so each message has it exactly
   * once: follow-ups not yet due are cancelled (stop on reply; the gate refuses them at send time
   * too), and each campaign whose first message reached the person within {@link #ATTRIBUTION}
   * counts the reply once, and the opt-out once. With none left the conversation needs no waking.
   */
  public void processed(String tenantId, String phone, List<InboundMessage> messages) {
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          java.util.Set<String> marked = new java.util.HashSet<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "update webhook_receipts set status = 'processed' where kind = 'inbound' and phone = ?"
                      + " and dedup_key = any(?) and status = 'received' returning dedup_key")) {
            ps.setString(1, phone);
            ps.setArray(2, c.createArrayOf("text", messages.stream().map(InboundMessage::key).toArray()));
            try (java.sql.ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                marked.add(rs.getString(1));
              }
            }
          }
          for (InboundMessage m : messages) {
            if (marked.remove(m.key())) {
              afterInbound(c, tenantId, m);
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "delete from resumable_work where entity_type = 'Conversation' and entity_id = ? and not exists"
                      + " (select 1 from webhook_receipts where kind = 'inbound' and phone = ? and status = 'received')")) {
            ps.setString(1, tenantId + ":" + phone);
            ps.setString(2, phone);
            ps.executeUpdate();
          }
          return null;
        });
  }

  private static void afterInbound(java.sql.Connection c, String tenantId, InboundMessage m) throws java.sql.SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "update messages set status = 'cancelled', status_rank = 3, reason = 'stop-on-reply', updated_at = ?"
                + " where phone = ? and status = 'scheduled'")) {
      ps.setTimestamp(1, Timestamp.from(m.at()));
      ps.setString(2, m.from());
      ps.executeUpdate();
    }
    count(c, tenantId, m, "replied_at", "replied");
    if (m.effect() == InboundEffect.OPTED_OUT) {
      count(c, tenantId, m, "opted_out_at", "opted_out");
    }
  }

  private static void count(java.sql.Connection c, String tenantId, InboundMessage m, String flag, String counter)
      throws java.sql.SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "with marked as (update messages set " + flag + " = ? where phone = ? and step = 0 and " + flag + " is null"
                + " and sent_at is not null and sent_at > ? and sent_at <= ? returning campaign_id)"
                + " insert into campaign_stats (tenant_id, campaign_id, " + counter + ")"
                + " select ?, campaign_id, count(*) from marked group by campaign_id"
                + " on conflict (tenant_id, campaign_id) do update set " + counter + " = campaign_stats." + counter
                + " + excluded." + counter)) {
      ps.setTimestamp(1, Timestamp.from(m.at()));
      ps.setString(2, m.from());
      ps.setTimestamp(3, Timestamp.from(m.at().minus(ATTRIBUTION)));
      ps.setTimestamp(4, Timestamp.from(m.at()));
      ps.setString(5, tenantId);
      ps.executeUpdate();
    }
  }
}
