package io.outreach.persistence;

import io.outreach.engine.conversation.ConversationEntity;
import io.outreach.engine.conversation.ConversationInbox;
import io.outreach.engine.conversation.ConversationStorage;
import io.outreach.engine.conversation.InboundEffect;
import io.outreach.engine.conversation.InboundMessage;
import io.outreach.engine.conversation.InboxBatch;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What conversations read and write outside their journal. A tenant's inbox: its stored inbound
 * messages, processed a batch at a time in one transaction each (the thread and the conversation
 * rows, the campaigns' reactions, hand-over of the messages that want an answer). A person's
 * answers: the messages handed to their Conversation entity, marked done once it has journaled
 * them.
 */
public final class ConversationStore implements ConversationStorage {
  /** A reply counts for the campaigns whose first message reached the person this recently. */
  static final Duration ATTRIBUTION = Duration.ofDays(30);

  /** The inbox's marker in {@code resumable_work} (entity id: the tenant). */
  public static final String INBOX = ConversationInbox.ENTITY_TYPE_KEY.name();

  /** A person's Conversation marker in {@code resumable_work} (entity id: {@code tenant:phone}). */
  public static final String CONVERSATION = ConversationEntity.ENTITY_TYPE_KEY.name();

  static final int BATCH = 1000;

  private static final String INBOX_WORK =
      "select 1 from webhook_receipts where tenant_id = ? and kind = 'inbound' and status = 'received'";

  /** An inbound message's columns, as {@link #message} reads them. */
  private static final String MESSAGE_COLUMNS =
      "select dedup_key, provider, phone, coalesce(payload->>'To', payload->'data'->>'to'),"
          + " coalesce(payload->>'Body', payload->'data'->>'text'), received_at, coalesce(effect, 'NONE')";

  private static final String ANSWER_WORK =
      "select 1 from webhook_receipts where kind = 'inbound' and phone = ? and status = 'answering'";

  private final TenantJdbc tenantJdbc;
  private final Clock clock;

  public ConversationStore(TenantJdbc tenantJdbc, Clock clock) {
    this.tenantJdbc = tenantJdbc;
    this.clock = clock;
  }

  /**
   * Processes the tenant's oldest stored inbound messages (up to {@value #BATCH}) in one
   * transaction: each is added to its person's thread and conversation row (opt-out state as {@code
   * opt_outs} holds it: the webhook applied it before answering); the person's follow-ups not yet
   * due are cancelled (stop on reply; the gate refuses them at send time too); each campaign whose
   * first message reached the person within {@link #ATTRIBUTION} before the reply counts it once,
   * and an opt-out once. A message that wants an answer (an opt-out's or opt-in's confirmation, the
   * help text) is handed to the person's Conversation, marked for a restart; the others are done.
   * Exactly once: the messages are taken and marked in the same transaction.
   */
  @Override
  public InboxBatch processInbox(String tenantId) {
    return tenantJdbc.inTenant(tenantId, c -> process(c, tenantId, clock.instant()));
  }

  /** Removes the inbox's marker for a restart if no stored message is left to process. */
  @Override
  public void settleInbox(String tenantId) {
    WorkMarkers.removeIfDone(tenantJdbc, tenantId, INBOX, tenantId, INBOX_WORK, tenantId);
  }

  private static InboxBatch process(Connection c, String tenantId, Instant now)
      throws SQLException {
    List<InboundMessage> taken = new ArrayList<>();
    List<Long> seqs = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            MESSAGE_COLUMNS
                + ", seq from webhook_receipts"
                + " where tenant_id = ? and kind = 'inbound' and status = 'received'"
                + " order by seq limit ? for update skip locked")) {
      ps.setString(1, tenantId);
      ps.setInt(2, BATCH);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          taken.add(message(rs));
          seqs.add(rs.getLong(8));
        }
      }
    }
    if (taken.isEmpty()) {
      return new InboxBatch(0, false, List.of(), false);
    }
    TreeSet<String> answering = new TreeSet<>();
    List<Long> answeringSeqs = new ArrayList<>();
    for (int i = 0; i < taken.size(); i++) {
      InboundMessage m = taken.get(i);
      if (wantsAnswer(m.effect())) {
        answering.add(m.from());
        answeringSeqs.add(seqs.get(i));
      }
    }
    // By seq through the inbox's partial index, never a join of the batch with the table: the join
    // (planned on a young table's estimates) took about 4 s a batch of 1,000 at 19,000 rows in the
    // classify benchmark, and the inbox fell behind the webhooks.
    try (PreparedStatement ps =
        c.prepareStatement(
            "update webhook_receipts set status ="
                + " case when seq = any(?) then 'answering' else 'processed' end"
                + " where tenant_id = ? and kind = 'inbound' and status = 'received'"
                + " and seq = any(?)")) {
      ps.setArray(1, c.createArrayOf("bigint", answeringSeqs.toArray()));
      ps.setString(2, tenantId);
      ps.setArray(3, c.createArrayOf("bigint", seqs.toArray()));
      ps.executeUpdate();
    }
    boolean classify = thread(c, tenantId, taken);
    if (classify) {
      WorkMarkers.add(c, GiannaStore.GIANNA, List.of(tenantId));
    }
    // Per person, in key order (concurrent writers of the same rows cannot deadlock): the first
    // and the last message of the batch, and how many.
    SortedMap<String, Instant> firstAt = new TreeMap<>();
    Map<String, InboundMessage> last = new TreeMap<>();
    Map<String, Long> count = new TreeMap<>();
    for (InboundMessage m : taken) {
      firstAt.putIfAbsent(m.from(), m.at());
      last.put(m.from(), m);
      count.merge(m.from(), 1L, Long::sum);
    }
    conversations(c, tenantId, last, count, now);
    MessageRows.cancelFollowUps(c, firstAt);
    MessageRows.countReaction(c, tenantId, taken, MessageRows.Reaction.REPLIED, ATTRIBUTION);
    List<InboundMessage> optOuts =
        taken.stream().filter(m -> m.effect() == InboundEffect.OPTED_OUT).toList();
    if (!optOuts.isEmpty()) {
      MessageRows.countReaction(c, tenantId, optOuts, MessageRows.Reaction.OPTED_OUT, ATTRIBUTION);
    }
    WorkMarkers.add(
        c,
        CONVERSATION,
        answering.stream().map(p -> ConversationEntity.entityId(tenantId, p)).toList());
    return new InboxBatch(taken.size(), taken.size() == BATCH, List.copyOf(answering), classify);
  }

  /** An opt-out's or opt-in's confirmation and the help text are the Conversation's to send. */
  static boolean wantsAnswer(InboundEffect effect) {
    return effect == InboundEffect.OPTED_OUT
        || effect == InboundEffect.OPTED_IN
        || effect == InboundEffect.HELP;
  }

  /** Adds the messages to their threads; answers whether a reply now waits for Gianna. */
  private static boolean thread(Connection c, String tenantId, List<InboundMessage> taken)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into conversation_messages (tenant_id, phone, message_key, at, direction, kind,"
                + " body, status, provider, to_number, classify_state)"
                + " select ?, ph, k, at, 'inbound', kind, body, 'received', pr, tn,"
                // A plain reply with words waits for Gianna.
                + " case when kind = 'none' and coalesce(btrim(body), '') <> '' then 'pending' end"
                + " from unnest(?::text[], ?::text[], ?::timestamptz[], ?::text[], ?::text[],"
                + " ?::text[], ?::text[]) as t(ph, k, at, kind, body, pr, tn)"
                + " on conflict do nothing")) {
      ps.setString(1, tenantId);
      ps.setArray(2, c.createArrayOf("text", taken.stream().map(InboundMessage::from).toArray()));
      ps.setArray(3, c.createArrayOf("text", taken.stream().map(InboundMessage::key).toArray()));
      ps.setArray(
          4,
          c.createArrayOf(
              "timestamptz", taken.stream().map(m -> Timestamp.from(m.at())).toArray()));
      ps.setArray(
          5,
          c.createArrayOf(
              "text",
              taken.stream().map(m -> m.effect().name().toLowerCase(Locale.ROOT)).toArray()));
      ps.setArray(6, c.createArrayOf("text", taken.stream().map(InboundMessage::body).toArray()));
      ps.setArray(
          7, c.createArrayOf("text", taken.stream().map(InboundMessage::provider).toArray()));
      ps.setArray(8, c.createArrayOf("text", taken.stream().map(InboundMessage::to).toArray()));
      return ps.executeUpdate() > 0 && taken.stream().anyMatch(ConversationStore::forGianna);
    }
  }

  /** Whether Gianna classifies {@code m}: a plain reply with words (as the insert above says). */
  static boolean forGianna(InboundMessage m) {
    return m.effect() == InboundEffect.NONE && m.body() != null && !m.body().isBlank();
  }

  /**
   * One row per person: counts add up, the latest message wins (also against a batch processed out
   * of order), and consent is what {@code opt_outs} holds now.
   */
  private static void conversations(
      Connection c,
      String tenantId,
      Map<String, InboundMessage> last,
      Map<String, Long> count,
      Instant now)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into conversations (tenant_id, phone, opted_out, opted_out_at, inbound_count, last_inbound_at,"
                + " last_body, updated_at)"
                + " select ?, t.ph, o.phone is not null, o.opted_out_at, t.n, t.at, t.body, ?"
                + " from unnest(?::text[], ?::bigint[], ?::timestamptz[], ?::text[]) as t(ph, n, at, body)"
                + " left join opt_outs o on o.tenant_id = ? and o.phone = t.ph"
                // Rows are locked in the order they are upserted: the join may hash the array (a
                // generic plan does), so key order is asked for, as Gianna locks them.
                + " order by t.ph collate \"C\""
                + " on conflict (tenant_id, phone) do update set"
                + " inbound_count = conversations.inbound_count + excluded.inbound_count,"
                + " last_body = case when excluded.last_inbound_at >= conversations.last_inbound_at"
                + "   or conversations.last_inbound_at is null then excluded.last_body else conversations.last_body end,"
                + " last_inbound_at = greatest(conversations.last_inbound_at, excluded.last_inbound_at),"
                + " opted_out = excluded.opted_out, opted_out_at = excluded.opted_out_at,"
                + " updated_at = excluded.updated_at")) {
      ps.setString(1, tenantId);
      ps.setTimestamp(2, Timestamp.from(now));
      ps.setArray(3, c.createArrayOf("text", last.keySet().toArray()));
      ps.setArray(4, c.createArrayOf("bigint", last.keySet().stream().map(count::get).toArray()));
      ps.setArray(
          5,
          c.createArrayOf(
              "timestamptz", last.values().stream().map(m -> Timestamp.from(m.at())).toArray()));
      ps.setArray(
          6, c.createArrayOf("text", last.values().stream().map(InboundMessage::body).toArray()));
      ps.setString(7, tenantId);
      ps.executeUpdate();
    }
  }

  /** The person's inbound messages handed to their Conversation to answer, oldest first. */
  @Override
  public List<InboundMessage> toAnswer(String tenantId, String phone) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  MESSAGE_COLUMNS
                      + " from webhook_receipts where kind = 'inbound' and phone = ? and status = 'answering'"
                      + " order by seq limit 500")) {
            ps.setString(1, phone);
            List<InboundMessage> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(message(rs));
              }
            }
            return out;
          }
        });
  }

  /**
   * These messages are answered (their replies journaled by the Conversation); with none left to
   * answer, the person needs no waking at the next start.
   */
  @Override
  public void answered(String tenantId, String phone, List<InboundMessage> messages) {
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "update webhook_receipts set status = 'processed' where kind = 'inbound' and phone = ?"
                      + " and dedup_key = any(?) and status = 'answering'")) {
            ps.setString(1, phone);
            ps.setArray(
                2, c.createArrayOf("text", messages.stream().map(InboundMessage::key).toArray()));
            ps.executeUpdate();
          }
          return null;
        });
    WorkMarkers.removeIfDone(
        tenantJdbc,
        tenantId,
        CONVERSATION,
        ConversationEntity.entityId(tenantId, phone),
        ANSWER_WORK,
        phone);
  }

  private static InboundMessage message(ResultSet rs) throws SQLException {
    return new InboundMessage(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getTimestamp(6).toInstant(),
        InboundEffect.valueOf(rs.getString(7)));
  }
}
