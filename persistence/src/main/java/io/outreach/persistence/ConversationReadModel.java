package io.outreach.persistence;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads of conversations: the list, and one person's thread in time order. */
public final class ConversationReadModel {
  private final TenantJdbc tenantJdbc;

  public ConversationReadModel(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  /** A conversation in the list. */
  public record ConversationRow(
      long seq,
      String phone,
      boolean optedOut,
      Instant optedOutAt,
      long inboundCount,
      Instant lastInboundAt,
      String lastBody,
      String lastClassification,
      Instant updatedAt) {}

  /**
   * One message of a thread: inbound, a reply of the engine, or a campaign's message (with its
   * campaign and step). A person's plain reply carries what Gianna made of it ({@link Classified}),
   * null until she has.
   */
  public record ThreadMessage(
      Instant at,
      String direction,
      String kind,
      String body,
      String status,
      String campaignId,
      Integer step,
      Classified classification,
      Call call) {}

  /**
   * A campaign's call in a thread ({@code kind} {@code call}): the provider's id, its latest status
   * ({@code queued, ringing, in-progress, completed, busy, no-answer, failed, canceled}), how long
   * it lasted, the started minutes billed, and who answered (with machine detection).
   */
  public record Call(
      String sid,
      String status,
      Integer durationSeconds,
      Integer billedMinutes,
      String answeredBy) {}

  /**
   * Gianna's reading of a reply: {@code state} (pending, done, failed, skipped), the category and
   * confidence, the classifier that said so, the action taken (opt_out, answer, review, then
   * approved or rejected by a human), why, and the review item.
   */
  public record Classified(
      String state,
      String category,
      Double confidence,
      String classifier,
      String action,
      String detail,
      String reviewId,
      Instant classifiedAt) {}

  /**
   * Conversations newest first, continuing below {@code beforeSeq}; one more than {@code limit}
   * tells there is more.
   */
  public List<ConversationRow> list(String tenantId, Optional<Long> beforeSeq, int limit) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select seq, phone, opted_out, opted_out_at, inbound_count, last_inbound_at, last_body,"
                      + " last_classification, updated_at from conversations"
                      + " where (?::bigint is null or seq < ?) order by seq desc limit ?")) {
            ps.setObject(1, beforeSeq.orElse(null));
            ps.setObject(2, beforeSeq.orElse(null));
            ps.setInt(3, limit + 1);
            List<ConversationRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(row(rs));
              }
            }
            return out;
          }
        });
  }

  /** The person's conversation, if there is one. */
  public Optional<ConversationRow> get(String tenantId, String phone) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  // Consent as it stands (an opt-out by text, keypad or voice), also for a person
                  // who never wrote and was only sent messages or called.
                  "select c.seq, p.phone, o.phone is not null, o.opted_out_at,"
                      + " coalesce(c.inbound_count, 0), c.last_inbound_at, c.last_body,"
                      + " c.last_classification, coalesce(c.updated_at, m.at)"
                      + " from (select ?::text as phone) p"
                      + " left join conversations c on c.phone = p.phone"
                      + " left join opt_outs o on o.phone = p.phone"
                      + " left join lateral (select max(updated_at) as at from messages"
                      + " where phone = p.phone and sent_at is not null) m on true"
                      + " where c.phone is not null or m.at is not null")) {
            ps.setString(1, phone);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
          }
        });
  }

  /** The person's thread, oldest first: the latest {@code limit} messages of every kind. */
  public List<ThreadMessage> thread(String tenantId, String phone, int limit) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select * from (select at, direction, kind, body, status, null::text campaign_id,"
                      + " null::int step, classify_state, category, confidence, classifier,"
                      + " agent_action, agent_detail, review_id, classified_at,"
                      + " null::text call_sid, null::text call_status, null::int call_duration,"
                      + " null::int billed, null::text answered_by from conversation_messages"
                      + " where phone = ? union all select sent_at, 'outbound',"
                      + " case when call_sid is not null or provider_message_id ~ '^CA[0-9a-fA-F]{32}$'"
                      + " then 'call' else 'campaign' end, body,"
                      + " status, campaign_id, step, null, null, null, null, null, null, null, null,"
                      + " coalesce(call_sid, case when provider_message_id ~ '^CA' then"
                      + " provider_message_id end), call_status, call_duration_seconds,"
                      + " call_billed_minutes, answered_by"
                      + " from messages where phone = ? and sent_at is not null"
                      + " order by 1 desc limit ?) t order by 1")) {
            ps.setString(1, phone);
            ps.setString(2, phone);
            ps.setInt(3, limit);
            List<ThreadMessage> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new ThreadMessage(
                        rs.getTimestamp(1).toInstant(),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6),
                        (Integer) rs.getObject(7),
                        rs.getString(8) == null
                            ? null
                            : new Classified(
                                rs.getString(8),
                                rs.getString(9),
                                (Double) rs.getObject(10),
                                rs.getString(11),
                                rs.getString(12),
                                rs.getString(13),
                                rs.getString(14),
                                rs.getTimestamp(15) == null
                                    ? null
                                    : rs.getTimestamp(15).toInstant()),
                        "call".equals(rs.getString(3))
                            ? new Call(
                                rs.getString(16),
                                rs.getString(17),
                                (Integer) rs.getObject(18),
                                (Integer) rs.getObject(19),
                                rs.getString(20))
                            : null));
              }
            }
            return out;
          }
        });
  }

  private static ConversationRow row(ResultSet rs) throws java.sql.SQLException {
    return new ConversationRow(
        rs.getLong(1),
        rs.getString(2),
        rs.getBoolean(3),
        instant(rs.getTimestamp(4)),
        rs.getLong(5),
        instant(rs.getTimestamp(6)),
        rs.getString(7),
        rs.getString(8),
        rs.getTimestamp(9).toInstant());
  }

  private static Instant instant(Timestamp t) {
    return t == null ? null : t.toInstant();
  }
}
