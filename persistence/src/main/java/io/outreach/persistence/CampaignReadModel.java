package io.outreach.persistence;

import io.outreach.engine.campaign.ContactHistory;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads of the campaign read models: the campaign list, a campaign's messages (one per recipient
 * and step, with status and reason), and the counts receipts and replies move.
 */
public final class CampaignReadModel implements ContactHistory {
  private final TenantJdbc tenantJdbc;

  public CampaignReadModel(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  /** A campaign in the list. */
  public record CampaignRow(
      long seq,
      String id,
      String name,
      String channel,
      String state,
      long recipients,
      Instant createdAt,
      Instant startAt) {}

  /** One recipient's step of a campaign. */
  public record MessageRow(
      long recipient,
      int step,
      String phone,
      String status,
      String reason,
      String sender,
      String providerMessageId,
      Integer segments,
      Instant dueAt,
      Instant updatedAt) {
    /** The paging position of this row. */
    public long position() {
      return recipient * 16 + step;
    }
  }

  /**
   * One scheduled execution: a campaign's start, or a number of its recipients' deferred sends or
   * follow-ups (step) due within an hour from {@code at}.
   */
  public record CalendarEntry(
      String kind, String campaignId, String campaignName, Integer step, Instant at, long count) {}

  /** Every scheduled execution of the tenant in [from, to), in time order. */
  public List<CalendarEntry> calendar(String tenantId, Instant from, Instant to) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select 'campaign-start', campaign_id, name, null::int, start_at, 1::bigint from campaigns"
                      + " where state = 'scheduled' and start_at >= ? and start_at < ?"
                      + " union all"
                      + " select case m.status when 'deferred' then 'deferred' else 'follow-up' end, m.campaign_id,"
                      + " k.name, m.step, date_trunc('hour', m.due_at), count(*) from messages m"
                      + " left join campaigns k on k.campaign_id = m.campaign_id"
                      + " where m.status in ('deferred', 'scheduled') and m.due_at >= ? and m.due_at < ?"
                      + " group by 1, 2, 3, 4, 5"
                      + " order by 5, 2, 4 limit 10000")) {
            ps.setTimestamp(1, Timestamp.from(from));
            ps.setTimestamp(2, Timestamp.from(to));
            ps.setTimestamp(3, Timestamp.from(from));
            ps.setTimestamp(4, Timestamp.from(to));
            List<CalendarEntry> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new CalendarEntry(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        (Integer) rs.getObject(4),
                        rs.getTimestamp(5).toInstant(),
                        rs.getLong(6)));
              }
            }
            return out;
          }
        });
  }

  /** Which of these numbers the tenant has sent a campaign message to before. */
  @Override
  public java.util.Set<String> contacted(String tenantId, List<String> phones) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select distinct phone from messages where phone = any(?) and sent_at is not null")) {
            ps.setArray(1, c.createArrayOf("text", phones.toArray()));
            java.util.Set<String> out = new java.util.HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(rs.getString(1));
              }
            }
            return out;
          }
        });
  }

  /** The counters receipts and replies move. */
  public record Stats(
      long delivered, long undelivered, long replied, long optedOut, long callsSpentMicros) {
    public static final Stats NONE = new Stats(0, 0, 0, 0, 0);

    public Stats(long delivered, long undelivered, long replied, long optedOut) {
      this(delivered, undelivered, replied, optedOut, 0);
    }
  }

  /**
   * Campaigns newest first, continuing below {@code beforeSeq}; one more than {@code limit} tells
   * there is more.
   */
  public List<CampaignRow> campaigns(String tenantId, Optional<Long> beforeSeq, int limit) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select seq, campaign_id, name, channel, state, recipients, created_at, start_at from campaigns"
                      + " where (?::bigint is null or seq < ?) order by seq desc limit ?")) {
            ps.setObject(1, beforeSeq.orElse(null));
            ps.setObject(2, beforeSeq.orElse(null));
            ps.setInt(3, limit + 1);
            List<CampaignRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                rows.add(
                    new CampaignRow(
                        rs.getLong(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getLong(6),
                        rs.getTimestamp(7).toInstant(),
                        instant(rs.getTimestamp(8))));
              }
            }
            return rows;
          }
        });
  }

  /**
   * A campaign's messages in recipient and step order after position {@code after}, optionally of
   * one status; one more than {@code limit} tells there is more.
   */
  public List<MessageRow> messages(
      String tenantId,
      String campaignId,
      Optional<String> status,
      Optional<Long> after,
      int limit) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select recipient_no, step, phone, status, reason, sender, provider_message_id, segments, due_at,"
                      + " updated_at from messages where campaign_id = ? and (?::text is null or status = ?)"
                      + " and (?::bigint is null or (recipient_no, step) > (?, ?))"
                      + " order by recipient_no, step limit ?")) {
            ps.setString(1, campaignId);
            ps.setString(2, status.orElse(null));
            ps.setString(3, status.orElse(null));
            ps.setObject(4, after.orElse(null));
            ps.setLong(5, after.map(p -> p / 16).orElse(0L));
            ps.setInt(6, after.map(p -> (int) (p % 16)).orElse(0));
            ps.setInt(7, limit + 1);
            List<MessageRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                rows.add(
                    new MessageRow(
                        rs.getLong(1),
                        rs.getInt(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getString(7),
                        (Integer) rs.getObject(8),
                        instant(rs.getTimestamp(9)),
                        rs.getTimestamp(10).toInstant()));
              }
            }
            return rows;
          }
        });
  }

  /** The receipt and reply counters of a campaign. */
  public Stats stats(String tenantId, String campaignId) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  // Calls are charged at their final status: what the ledger holds for them.
                  "select s.delivered, s.undelivered, s.replied, s.opted_out, c.micros"
                      + " from (select ?::text as campaign_id) k"
                      + " left join campaign_stats s on s.campaign_id = k.campaign_id"
                      + " cross join lateral (select coalesce(sum(amount_micros), 0) as micros"
                      + " from spend_entries where campaign_id = k.campaign_id and kind = 'commit'"
                      + " and entry_key like 'call:%') c")) {
            ps.setString(1, campaignId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? new Stats(
                      rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5))
                  : Stats.NONE;
            }
          }
        });
  }

  private static Instant instant(Timestamp t) {
    return t == null ? null : t.toInstant();
  }
}
