package io.outreach.persistence;

import io.outreach.engine.conversation.InboundMessage;
import io.outreach.engine.message.MessageStatus;
import io.outreach.persistence.WebhookReceipts.MessageRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * The rows of {@code messages}, one per campaign message: every statement that inserts or updates
 * one is here, because three writers meet on the same rows in any order and must agree on one rule.
 * The Block projection writes what a block decided and what the provider answered, delivery
 * receipts write what the carrier did (often before the projection has written the row), and the
 * inbox cancels follow-ups and marks the messages a reply answers.
 *
 * <p>The rule ({@link #advances}): a status moves only to a higher {@link MessageStatus#rank()}, so
 * a late, repeated or out-of-order write changes nothing and the first terminal status sticks;
 * statuses that wait (rank 0: pending, deferred, scheduled) replace each other, because a block may
 * plan a message again for another time. The other columns only fill in what is missing.
 *
 * <p>The projection and the receipts upsert their batches in key order (campaign, recipient, step),
 * so the two writers, which lock the same rows concurrently, cannot deadlock.
 */
final class MessageRows {
  private MessageRows() {}

  /** The reason of a follow-up cancelled because the person replied, as the gate names it. */
  static final String STOP_ON_REPLY = "stop-on-reply";

  private static final int WAITING = MessageStatus.PENDING.rank();

  /** Both the stored row ({@code messages}) and the proposed one ({@code excluded}) wait. */
  private static final String BOTH_WAITING =
      "excluded.status_rank = " + WAITING + " and messages.status_rank = " + WAITING;

  /** {@link #advances} in SQL, for an upsert of {@code messages}. */
  private static final String ADVANCES =
      "(excluded.status_rank > messages.status_rank or (" + BOTH_WAITING + "))";

  private static final Comparator<Row> ROW_ORDER =
      Comparator.comparingLong(Row::recipient).thenComparingInt(Row::step);

  private static final Comparator<MessageRef> REF_ORDER =
      Comparator.comparing(MessageRef::campaignId)
          .thenComparingLong(MessageRef::recipient)
          .thenComparingInt(MessageRef::step);

  /** One message of a block's campaign as the Block projection saw it; null where unknown. */
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

  /** A follow-up step of a sent message, due at {@code dueAt}. */
  record FollowUp(long recipient, int step, Instant dueAt) {}

  /** A provider's word about a message's delivery. */
  record StatusReceipt(MessageRef message, MessageStatus status) {}

  /** What a reply counts for the campaigns that reached the person: the flag and its counter. */
  enum Reaction {
    /** Any inbound message. */
    REPLIED("replied_at", "replied"),
    /** An inbound message that opted the person out. */
    OPTED_OUT("opted_out_at", "opted_out");

    private final String sql;

    Reaction(String flag, String counter) {
      this.sql = countReactionSql(flag, counter);
    }
  }

  /** Whether a write of {@code next} changes a message whose status is {@code stored}. */
  static boolean advances(MessageStatus stored, MessageStatus next) {
    return next.rank() > stored.rank() || (next.rank() == WAITING && stored.rank() == WAITING);
  }

  private static final String PROJECT =
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
          + " status = case when "
          + ADVANCES
          + " then excluded.status else messages.status end,"
          + " reason = case when "
          + ADVANCES
          + " then excluded.reason else messages.reason end,"
          // Only a waiting message has a time to wait for; a new plan's time replaces the old.
          + " due_at = case when "
          + BOTH_WAITING
          + " then excluded.due_at else messages.due_at end,"
          + " status_rank = greatest(messages.status_rank, excluded.status_rank),"
          + " updated_at = excluded.updated_at";

  /**
   * Upserts the Block projection's rows of one campaign, forward-only: a receipt that got there
   * first keeps its status, and the row gains the projection's other columns.
   */
  static void project(Connection c, String tenantId, String campaignId, List<Row> rows, Instant at)
      throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    List<Row> ordered = new ArrayList<>(rows);
    ordered.sort(ROW_ORDER);
    try (PreparedStatement ps = c.prepareStatement(PROJECT)) {
      ps.setString(1, tenantId);
      ps.setString(2, campaignId);
      ps.setTimestamp(3, Timestamp.from(at));
      ps.setArray(4, c.createArrayOf("bigint", ordered.stream().map(Row::recipient).toArray()));
      ps.setArray(5, c.createArrayOf("integer", ordered.stream().map(Row::step).toArray()));
      ps.setArray(6, c.createArrayOf("text", ordered.stream().map(Row::phone).toArray()));
      ps.setArray(
          7, c.createArrayOf("text", ordered.stream().map(r -> r.status().code()).toArray()));
      ps.setArray(
          8,
          c.createArrayOf(
              "smallint", ordered.stream().map(r -> (short) r.status().rank()).toArray()));
      ps.setArray(9, c.createArrayOf("text", ordered.stream().map(Row::reason).toArray()));
      ps.setArray(10, c.createArrayOf("text", ordered.stream().map(Row::sender).toArray()));
      ps.setArray(
          11, c.createArrayOf("text", ordered.stream().map(Row::providerMessageId).toArray()));
      ps.setArray(12, c.createArrayOf("integer", ordered.stream().map(Row::segments).toArray()));
      ps.setArray(
          13,
          c.createArrayOf(
              "timestamptz",
              ordered.stream()
                  .map(r -> r.dueAt() == null ? null : Timestamp.from(r.dueAt()))
                  .toArray()));
      ps.setArray(14, c.createArrayOf("text", ordered.stream().map(Row::body).toArray()));
      ps.setArray(
          15,
          c.createArrayOf(
              "timestamptz",
              ordered.stream()
                  .map(r -> r.sentAt() == null ? null : Timestamp.from(r.sentAt()))
                  .toArray()));
      ps.executeUpdate();
    }
  }

  private static final String SCHEDULE =
      "insert into messages (tenant_id, campaign_id, recipient_no, step, phone, sender, status, status_rank,"
          + " due_at, updated_at)"
          + " select m.tenant_id, m.campaign_id, m.recipient_no, t.stp, m.phone, m.sender, '"
          + MessageStatus.SCHEDULED.code()
          + "', "
          + MessageStatus.SCHEDULED.rank()
          + ", t.due, ?"
          + " from unnest(?::bigint[], ?::int[], ?::timestamptz[]) as t(rcp, stp, due)"
          + " join messages m on m.campaign_id = ? and m.recipient_no = t.rcp and m.step = t.stp - 1"
          + " on conflict do nothing";

  /**
   * Shows each follow-up as scheduled until it falls due, with its previous step's number and
   * sender; a follow-up that already has a row keeps it.
   */
  static void scheduleFollowUps(
      Connection c, String campaignId, List<FollowUp> followUps, Instant at) throws SQLException {
    if (followUps.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(SCHEDULE)) {
      ps.setTimestamp(1, Timestamp.from(at));
      ps.setArray(
          2, c.createArrayOf("bigint", followUps.stream().map(FollowUp::recipient).toArray()));
      ps.setArray(3, c.createArrayOf("integer", followUps.stream().map(FollowUp::step).toArray()));
      ps.setArray(
          4,
          c.createArrayOf(
              "timestamptz", followUps.stream().map(f -> Timestamp.from(f.dueAt())).toArray()));
      ps.setString(5, campaignId);
      ps.executeUpdate();
    }
  }

  private static final String RECEIPTS =
      "with changed as ("
          + " insert into messages (tenant_id, campaign_id, recipient_no, step, status, status_rank, updated_at)"
          + " select ?, cmp, rcp, stp, st, rk, ? from unnest(?::text[], ?::bigint[], ?::int[], ?::text[], ?::smallint[])"
          + " as t(cmp, rcp, stp, st, rk)"
          + " on conflict (tenant_id, campaign_id, recipient_no, step) do update"
          + " set status = excluded.status, status_rank = excluded.status_rank, updated_at = excluded.updated_at"
          + " where "
          + ADVANCES
          + " returning campaign_id, status)"
          + " insert into campaign_stats (tenant_id, campaign_id, delivered, undelivered)"
          + " select ?, campaign_id, count(*) filter (where status = '"
          + MessageStatus.DELIVERED.code()
          + "'), count(*) filter (where status = '"
          + MessageStatus.UNDELIVERED.code()
          + "') from changed group by campaign_id"
          + " on conflict (tenant_id, campaign_id) do update"
          + " set delivered = campaign_stats.delivered + excluded.delivered,"
          + " undelivered = campaign_stats.undelivered + excluded.undelivered";

  /**
   * Moves each receipt's message forward and counts the transitions to delivered and undelivered in
   * {@code campaign_stats}, in one statement: only the rows it changed are counted, so the counts
   * are exact. A receipt may arrive before the projection has written its message, so this is an
   * upsert. Of several receipts for one message in the batch, the one the rule lets win is written:
   * receipts never wait ({@link MessageStatus#fromProvider} ranks them 1 and up), so that is the
   * highest status, the first of equal rank.
   */
  static void applyReceipts(Connection c, String tenantId, List<StatusReceipt> receipts, Instant at)
      throws SQLException {
    Map<MessageRef, MessageStatus> latest = new LinkedHashMap<>();
    for (StatusReceipt r : receipts) {
      latest.merge(
          r.message(), r.status(), (stored, next) -> advances(stored, next) ? next : stored);
    }
    if (latest.isEmpty()) {
      return;
    }
    List<Map.Entry<MessageRef, MessageStatus>> rows = new ArrayList<>(latest.entrySet());
    rows.sort(Map.Entry.comparingByKey(REF_ORDER));
    try (PreparedStatement ps = c.prepareStatement(RECEIPTS)) {
      ps.setString(1, tenantId);
      ps.setTimestamp(2, Timestamp.from(at));
      ps.setArray(
          3, c.createArrayOf("text", rows.stream().map(e -> e.getKey().campaignId()).toArray()));
      ps.setArray(
          4, c.createArrayOf("bigint", rows.stream().map(e -> e.getKey().recipient()).toArray()));
      ps.setArray(
          5, c.createArrayOf("integer", rows.stream().map(e -> e.getKey().step()).toArray()));
      ps.setArray(
          6, c.createArrayOf("text", rows.stream().map(e -> e.getValue().code()).toArray()));
      ps.setArray(
          7,
          c.createArrayOf(
              "smallint", rows.stream().map(e -> (short) e.getValue().rank()).toArray()));
      ps.setString(8, tenantId);
      ps.executeUpdate();
    }
  }

  private static final String CANCEL =
      "update messages m set status = '"
          + MessageStatus.CANCELLED.code()
          + "', status_rank = "
          + MessageStatus.CANCELLED.rank()
          + ", reason = '"
          + STOP_ON_REPLY
          + "', updated_at = t.at"
          + " from unnest(?::text[], ?::timestamptz[]) as t(ph, at)"
          + " where m.phone = t.ph and m.status = '"
          + MessageStatus.SCHEDULED.code()
          + "'";

  /**
   * Cancels the scheduled follow-ups of each person who replied (stop on reply), at the time of
   * their first reply; persons in key order. Scheduled to cancelled is a move up the rule allows; a
   * follow-up no longer scheduled has fallen due, and the gate's stop on reply decides it.
   */
  static void cancelFollowUps(Connection c, SortedMap<String, Instant> firstReplyAt)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(CANCEL)) {
      ps.setArray(1, c.createArrayOf("text", firstReplyAt.keySet().toArray()));
      ps.setArray(
          2,
          c.createArrayOf(
              "timestamptz", firstReplyAt.values().stream().map(Timestamp::from).toArray()));
      ps.executeUpdate();
    }
  }

  /**
   * Sets {@code reaction}'s flag on each campaign's first message to a person that one of {@code
   * replies} answers (sent within {@code window} before it; the earliest such reply's time) and not
   * flagged before, and counts the flags per campaign in {@code campaign_stats}.
   */
  static void countReaction(
      Connection c,
      String tenantId,
      List<InboundMessage> replies,
      Reaction reaction,
      Duration window)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(reaction.sql)) {
      ps.setArray(1, c.createArrayOf("text", replies.stream().map(InboundMessage::from).toArray()));
      ps.setArray(
          2,
          c.createArrayOf(
              "timestamptz", replies.stream().map(m -> Timestamp.from(m.at())).toArray()));
      ps.setString(3, window.toDays() + " days");
      ps.setString(4, tenantId);
      ps.executeUpdate();
    }
  }

  private static String countReactionSql(String flag, String counter) {
    return "with r as (select * from unnest(?::text[], ?::timestamptz[]) as t(ph, at)),"
        + " hit as (select m.campaign_id, m.recipient_no, min(r.at) at from messages m join r on m.phone = r.ph"
        + "   where m.step = 0 and m."
        + flag
        + " is null and m.sent_at is not null"
        + "   and m.sent_at > r.at - ?::interval and m.sent_at <= r.at group by 1, 2),"
        + " marked as (update messages m set "
        + flag
        + " = hit.at from hit"
        + "   where m.campaign_id = hit.campaign_id and m.recipient_no = hit.recipient_no and m.step = 0"
        + "   and m."
        + flag
        + " is null returning m.campaign_id)"
        + " insert into campaign_stats (tenant_id, campaign_id, "
        + counter
        + ")"
        + " select ?, campaign_id, count(*) from marked group by campaign_id"
        + " on conflict (tenant_id, campaign_id) do update set "
        + counter
        + " = campaign_stats."
        + counter
        + " + excluded."
        + counter;
  }
}
