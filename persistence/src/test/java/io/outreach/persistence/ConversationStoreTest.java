package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.conversation.InboundEffect;
import io.outreach.engine.conversation.InboundMessage;
import io.outreach.engine.conversation.InboxBatch;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A tenant's inbox on real PostgreSQL: stored inbound messages are processed once each, in batches,
 * into the thread, the conversation rows and the campaigns' counts; the ones that want an answer
 * are handed to their Conversation; the markers that make a crash resume the work are there exactly
 * while work is left.
 */
class ConversationStoreTest {
  @RegisterExtension static final EmbeddedDatabaseExtension DB = new EmbeddedDatabaseExtension();

  private static final Instant T0 = Instant.parse("2026-11-25T16:00:00Z");
  private static StoredInbound inbound;
  private static WebhookReceipts receipts;

  @BeforeAll
  static void start() {
    inbound = new StoredInbound(DB);
    receipts = inbound.receipts();
  }

  @AfterAll
  static void stop() {
    inbound.close();
  }

  private static ConversationStore store() {
    return new ConversationStore(DB.database().tenantJdbc(), Clock.fixed(T0, ZoneOffset.UTC));
  }

  /** Stores an inbound SMS from {@code from} as the webhook does; what it did to consent. */
  private static InboundEffect inbound(String tenant, String from, String body) throws Exception {
    return inbound.store(tenant, from, body);
  }

  private static long markers(String type, String id) {
    try (var c = DB.database().dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select count(*) from resumable_work where entity_type = ? and entity_id = ?")) {
      ps.setString(1, type);
      ps.setString(2, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A campaign message to {@code phone}: a first message sent at {@code sentAt}, or a follow-up
   * still scheduled.
   */
  private static void message(
      String tenant,
      String campaign,
      long recipient,
      int step,
      String phone,
      String status,
      Instant sentAt) {
    DB.database()
        .tenantJdbc()
        .inTenant(
            tenant,
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "insert into messages (tenant_id, campaign_id, recipient_no, step, phone, status, status_rank, updated_at, sent_at, due_at)"
                          + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, tenant);
                ps.setString(2, campaign);
                ps.setLong(3, recipient);
                ps.setInt(4, step);
                ps.setString(5, phone);
                ps.setString(6, status);
                ps.setShort(7, (short) (status.equals("scheduled") ? 0 : 2));
                ps.setTimestamp(8, Timestamp.from(T0));
                ps.setTimestamp(9, sentAt == null ? null : Timestamp.from(sentAt));
                ps.setTimestamp(
                    10,
                    status.equals("scheduled")
                        ? Timestamp.from(T0.plus(Duration.ofDays(2)))
                        : null);
                ps.executeUpdate();
              }
              return null;
            });
  }

  @Test
  void aBatchProcessesEachMessageOnceIntoTheThreadTheConversationAndTheCounts() throws Exception {
    String t = "inbox1";
    String alice = "+12125550101";
    String bob = "+12125550102";
    Instant sent = Instant.now().minus(Duration.ofHours(1));
    message(t, "cmp_aaaaaaaa", 0, 0, alice, "delivered", sent);
    message(t, "cmp_aaaaaaaa", 0, 1, alice, "scheduled", null);
    message(t, "cmp_bbbbbbbb", 3, 0, alice, "delivered", sent);
    message(t, "cmp_bbbbbbbb", 4, 0, bob, "delivered", sent);
    // A campaign that wrote to Alice after she replied does not count her reply.
    message(t, "cmp_cccccccc", 0, 0, alice, "delivered", Instant.now().plus(Duration.ofHours(1)));

    inbound(t, alice, "hello");
    inbound(t, alice, "are you there");
    assertThat(inbound(t, bob, "STOP")).isEqualTo(InboundEffect.OPTED_OUT);
    assertThat(markers(ConversationStore.INBOX, t)).isEqualTo(1);

    InboxBatch batch = store().processInbox(t);
    assertThat(batch.processed()).isEqualTo(3);
    assertThat(batch.full()).isFalse();
    // Bob's STOP wants its confirmation: handed to his Conversation, marked for a restart.
    assertThat(batch.toAnswer()).containsExactly(bob);
    assertThat(markers(ConversationStore.CONVERSATION, t + ":" + bob)).isEqualTo(1);
    // The inbox's marker stays until the idle inbox settles it, with nothing left.
    assertThat(markers(ConversationStore.INBOX, t)).isEqualTo(1);
    store().settleInbox(t);
    assertThat(markers(ConversationStore.INBOX, t)).isZero();

    assertThat(
            DB.count(
                t,
                "select count(*) from conversation_messages where phone = ? and direction = 'inbound'",
                alice))
        .isEqualTo(2);
    assertThat(DB.count(t, "select inbound_count from conversations where phone = ?", alice))
        .isEqualTo(2);
    assertThat(
            DB.count(
                t,
                "select count(*) from conversations where phone = ? and last_body = 'are you there' and not opted_out",
                alice))
        .isEqualTo(1);
    assertThat(
            DB.count(
                t,
                "select count(*) from conversations where phone = ? and opted_out and opted_out_at is not null",
                bob))
        .isEqualTo(1);
    // Stop on reply; each campaign counts Alice's two replies once; Bob's STOP is a reply and an
    // opt-out.
    assertThat(
            DB.count(
                t,
                "select count(*) from messages where phone = ? and step = 1 and status = 'cancelled'",
                alice))
        .isEqualTo(1);
    assertThat(DB.count(t, "select replied from campaign_stats where campaign_id = 'cmp_aaaaaaaa'"))
        .isEqualTo(1);
    assertThat(DB.count(t, "select replied from campaign_stats where campaign_id = 'cmp_bbbbbbbb'"))
        .isEqualTo(2);
    assertThat(
            DB.count(t, "select opted_out from campaign_stats where campaign_id = 'cmp_bbbbbbbb'"))
        .isEqualTo(1);
    assertThat(
            DB.count(t, "select count(*) from campaign_stats where campaign_id = 'cmp_cccccccc'"))
        .isZero();

    // Again: nothing left, nothing counted twice.
    assertThat(store().processInbox(t).processed()).isZero();
    inbound(t, alice, "one more");
    assertThat(store().processInbox(t).processed()).isEqualTo(1);
    assertThat(DB.count(t, "select inbound_count from conversations where phone = ?", alice))
        .isEqualTo(3);
    assertThat(DB.count(t, "select replied from campaign_stats where campaign_id = 'cmp_aaaaaaaa'"))
        .isEqualTo(1);

    // The Conversation answers Bob once; then he needs no waking.
    List<InboundMessage> toAnswer = store().toAnswer(t, bob);
    assertThat(toAnswer)
        .extracting(InboundMessage::effect)
        .containsExactly(InboundEffect.OPTED_OUT);
    store().answered(t, bob, toAnswer);
    assertThat(store().toAnswer(t, bob)).isEmpty();
    assertThat(markers(ConversationStore.CONVERSATION, t + ":" + bob)).isZero();
    // Another tenant's inbox is its own.
    assertThat(store().processInbox("inbox-other").processed()).isZero();
  }

  @Test
  void aStopAndAStartStoredTogetherAreAnsweredInTheOrderTheyCame() throws Exception {
    String t = "inbox3";
    String dan = "+12125550104";
    // Not awaited one by one: the writers may store them in one transaction, with one received_at.
    List<java.util.concurrent.CompletableFuture<WebhookReceipts.Stored>> stored = new ArrayList<>();
    for (String body : List.of("STOP", "START", "HELP")) {
      String key = "SMO" + body;
      stored.add(receipts.store(StoredInbound.receipt(t, key, dan, body)).toCompletableFuture());
    }
    for (var f : stored) {
      f.get(10, TimeUnit.SECONDS);
    }
    assertThat(store().processInbox(t).toAnswer()).containsExactly(dan);
    assertThat(store().toAnswer(t, dan))
        .extracting(InboundMessage::body)
        .containsExactly("STOP", "START", "HELP");
    assertThat(store().toAnswer(t, dan))
        .extracting(InboundMessage::effect)
        .containsExactly(InboundEffect.OPTED_OUT, InboundEffect.OPTED_IN, InboundEffect.HELP);
  }

  @Test
  void aBurstIsProcessedInFullBatchesInArrivalOrder() throws Exception {
    String t = "inbox2";
    String carol = "+12125550103";
    int n = ConversationStore.BATCH + 5;
    List<java.util.concurrent.CompletableFuture<WebhookReceipts.Stored>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String key = "SMB" + i;
      String from = i % 2 == 0 ? carol : "+1212556" + String.format("%04d", i);
      all.add(receipts.store(StoredInbound.receipt(t, key, from, "m" + i)).toCompletableFuture());
      // One at a time, so each arrives after the one before.
      all.get(i).get(10, TimeUnit.SECONDS);
    }
    InboxBatch first = store().processInbox(t);
    assertThat(first.processed()).isEqualTo(ConversationStore.BATCH);
    assertThat(first.full()).isTrue();
    // Settling with messages left keeps the marker.
    store().settleInbox(t);
    assertThat(markers(ConversationStore.INBOX, t)).isEqualTo(1);
    InboxBatch rest = store().processInbox(t);
    assertThat(rest.processed()).isEqualTo(5);
    store().settleInbox(t);
    assertThat(markers(ConversationStore.INBOX, t)).isZero();
    assertThat(DB.count(t, "select inbound_count from conversations where phone = ?", carol))
        .isEqualTo((n + 1) / 2);
    assertThat(
            DB.count(
                t,
                "select count(*) from conversations where phone = ? and last_body = ?",
                carol,
                "m" + (n - 1 - (n - 1) % 2)))
        .isEqualTo(1);
    assertThat(
            DB.count(
                t,
                "select count(*) from webhook_receipts where kind = 'inbound' and status = 'processed'"))
        .isEqualTo(n);
  }
}
