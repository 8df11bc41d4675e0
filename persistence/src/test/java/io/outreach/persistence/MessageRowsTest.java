package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.campaign.BlockEntity;
import io.outreach.engine.campaign.Send;
import io.outreach.engine.campaign.SendOutcome;
import io.outreach.engine.message.MessageStatus;
import io.outreach.persistence.WebhookReceipts.MessageRef;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The forward-only rule of {@code messages} on real PostgreSQL, through the writers that meet on a
 * row: the Block projection and the delivery receipts, in the orders providers and projections
 * really produce (a receipt before the row, a receipt twice, delivered before sent, failed after
 * delivered), and every pair of statuses against {@link MessageRows#advances}.
 */
class MessageRowsTest {
  @RegisterExtension static final EmbeddedDatabaseExtension DB = new EmbeddedDatabaseExtension();

  private static final String CAMPAIGN = "cmp_rule0001";
  private static final Instant T0 = Instant.parse("2026-11-25T16:00:00Z");
  private static final AtomicInteger TENANTS = new AtomicInteger();
  private static final AtomicInteger KEYS = new AtomicInteger();

  private static WebhookReceipts receipts;

  @BeforeAll
  static void start() {
    receipts = new WebhookReceipts(DB.database().tenantJdbc(), Clock.systemUTC(), 2);
  }

  @AfterAll
  static void stop() {
    receipts.close();
  }

  /** A stored message: its status and the columns the projection fills in. */
  private record Stored(
      String status, int rank, String phone, String body, String sender, String providerId) {}

  @Test
  void theRuleMovesOnlyUpAndLetsWaitingStatusesReplaceEachOther() {
    assertThat(MessageRows.advances(MessageStatus.SENT, MessageStatus.DELIVERED)).isTrue();
    assertThat(MessageRows.advances(MessageStatus.PENDING, MessageStatus.QUEUED)).isTrue();
    assertThat(MessageRows.advances(MessageStatus.DELIVERED, MessageStatus.SENT)).isFalse();
    assertThat(MessageRows.advances(MessageStatus.DELIVERED, MessageStatus.FAILED)).isFalse();
    assertThat(MessageRows.advances(MessageStatus.QUEUED, MessageStatus.QUEUED)).isFalse();
    assertThat(MessageRows.advances(MessageStatus.QUEUED, MessageStatus.PENDING)).isFalse();
    assertThat(MessageRows.advances(MessageStatus.PENDING, MessageStatus.DEFERRED)).isTrue();
    assertThat(MessageRows.advances(MessageStatus.DEFERRED, MessageStatus.PENDING)).isTrue();
  }

  @Test
  void aReceiptBeforeTheProjectionsRowKeepsItsStatusAndTheRowGainsTheProjectionsColumns()
      throws Exception {
    String t = newTenant();
    receipt(t, 1, "SM1", MessageStatus.DELIVERED);
    assertThat(stored(t, 1, 0).status()).isEqualTo("delivered");
    assertThat(stored(t, 1, 0).phone()).isNull();

    project(t, new BlockEntity.Planned(List.of(), List.of(send(1)), 0));
    Instant next = T0.plus(Duration.ofDays(2));
    project(
        t,
        new BlockEntity.Outcomes(
            List.of(
                new SendOutcome(
                    1,
                    0,
                    SendOutcome.Kind.SENT,
                    "SM1",
                    null,
                    null,
                    null,
                    T0.plusSeconds(1),
                    next))));

    assertThat(stored(t, 1, 0))
        .isEqualTo(new Stored("delivered", 3, "+12125550101", "hi 1", "+15550100001", "SM1"));
    assertThat(delivered(t)).isEqualTo(1);
    assertThat(undelivered(t)).isZero();
    // The follow-up is shown as scheduled, to the number and from the sender of its step 0.
    assertThat(stored(t, 1, 1))
        .isEqualTo(new Stored("scheduled", 0, "+12125550101", null, "+15550100001", null));
  }

  @Test
  void aReplayedReceiptChangesNothingAndCountsOnce() throws Exception {
    String t = newTenant();
    project(t, new BlockEntity.Planned(List.of(), List.of(send(2)), 0));
    assertThat(receipt(t, 2, "SM2:delivered", MessageStatus.DELIVERED).isNew()).isTrue();
    // The same delivery again is known by its key; the same word in another delivery is not.
    assertThat(receipt(t, 2, "SM2:delivered", MessageStatus.DELIVERED).isNew()).isFalse();
    assertThat(receipt(t, 2, "SM2:delivered:retry", MessageStatus.DELIVERED).isNew()).isTrue();

    assertThat(stored(t, 2, 0).status()).isEqualTo("delivered");
    assertThat(delivered(t)).isEqualTo(1);
  }

  @Test
  void deliveredThenSentStaysDelivered() throws Exception {
    String t = newTenant();
    project(t, new BlockEntity.Planned(List.of(), List.of(send(3)), 0));
    receipt(t, 3, "SM3:delivered", MessageStatus.DELIVERED);
    receipt(t, 3, "SM3:sent", MessageStatus.SENT);
    receipt(t, 3, "SM3:queued", MessageStatus.QUEUED);

    assertThat(stored(t, 3, 0).status()).isEqualTo("delivered");
    assertThat(stored(t, 3, 0).rank()).isEqualTo(3);
    assertThat(delivered(t)).isEqualTo(1);
  }

  @Test
  void failedAfterDeliveredStaysDelivered() throws Exception {
    String t = newTenant();
    project(t, new BlockEntity.Planned(List.of(), List.of(send(4)), 0));
    receipt(t, 4, "SM4:sent", MessageStatus.SENT);
    receipt(t, 4, "SM4:delivered", MessageStatus.DELIVERED);
    receipt(t, 4, "SM4:failed", MessageStatus.FAILED);
    receipt(t, 4, "SM4:undelivered", MessageStatus.UNDELIVERED);
    // The projection's own late word (the provider refused a retry) does not undo it either.
    project(
        t,
        new BlockEntity.Outcomes(
            List.of(
                new SendOutcome(
                    4, 0, SendOutcome.Kind.FAILED, null, "provider-error", null, null, T0, null))));

    assertThat(stored(t, 4, 0).status()).isEqualTo("delivered");
    assertThat(delivered(t)).isEqualTo(1);
    assertThat(undelivered(t)).isZero();
  }

  @Test
  void receiptsOfOneMessageInOneBatchWriteTheOneTheRuleLetsWin() {
    String t = newTenant();
    MessageRef ref = new MessageRef(CAMPAIGN, 5, 0);
    DB.database()
        .tenantJdbc()
        .inTenant(
            t,
            c -> {
              MessageRows.applyReceipts(
                  c,
                  t,
                  List.of(
                      new MessageRows.StatusReceipt(ref, MessageStatus.SENT),
                      new MessageRows.StatusReceipt(ref, MessageStatus.UNDELIVERED),
                      new MessageRows.StatusReceipt(ref, MessageStatus.DELIVERED),
                      new MessageRows.StatusReceipt(ref, MessageStatus.QUEUED)),
                  T0);
              return null;
            });
    // The first terminal word of the batch wins, and only it is counted.
    assertThat(stored(t, 5, 0).status()).isEqualTo("undelivered");
    assertThat(undelivered(t)).isEqualTo(1);
    assertThat(delivered(t)).isZero();
  }

  /**
   * For every stored status and every status written over it, by the projection and by a receipt,
   * the row ends as {@link MessageRows#advances} says, and the receipts count exactly the rows they
   * moved to delivered or undelivered.
   */
  @Test
  void everyPairOfStatusesEndsAsTheRuleSays() {
    String t = newTenant();
    MessageStatus[] all = MessageStatus.values();
    List<MessageRows.Row> before = new ArrayList<>();
    List<MessageRows.Row> after = new ArrayList<>();
    List<MessageRows.StatusReceipt> receiptsAfter = new ArrayList<>();
    List<MessageStatus> expected = new ArrayList<>();
    long expectedDelivered = 0;
    long expectedUndelivered = 0;
    long recipient = 0;
    for (MessageStatus stored : all) {
      for (MessageStatus next : all) {
        before.add(row(recipient, stored));
        after.add(row(recipient, next));
        expected.add(MessageRows.advances(stored, next) ? next : stored);
        recipient++;
      }
      for (MessageStatus word : providerStatuses()) {
        before.add(row(recipient, stored));
        receiptsAfter.add(
            new MessageRows.StatusReceipt(new MessageRef(CAMPAIGN, recipient, 0), word));
        boolean moves = MessageRows.advances(stored, word);
        expected.add(moves ? word : stored);
        expectedDelivered += moves && word == MessageStatus.DELIVERED ? 1 : 0;
        expectedUndelivered += moves && word == MessageStatus.UNDELIVERED ? 1 : 0;
        recipient++;
      }
    }
    DB.database()
        .tenantJdbc()
        .inTenant(
            t,
            c -> {
              MessageRows.project(c, t, CAMPAIGN, before, T0);
              MessageRows.project(c, t, CAMPAIGN, after, T0.plusSeconds(1));
              MessageRows.applyReceipts(c, t, receiptsAfter, T0.plusSeconds(1));
              return null;
            });

    List<String> statuses = new ArrayList<>();
    for (long r = 0; r < recipient; r++) {
      Stored s = stored(t, r, 0);
      statuses.add(s.status() + "/" + s.rank());
    }
    assertThat(statuses).isEqualTo(expected.stream().map(s -> s.code() + "/" + s.rank()).toList());
    assertThat(delivered(t)).isEqualTo(expectedDelivered).isPositive();
    assertThat(undelivered(t)).isEqualTo(expectedUndelivered).isPositive();
  }

  /** The statuses a provider's callback can report. */
  private static List<MessageStatus> providerStatuses() {
    return List.of("queued", "sent", "delivered", "undelivered", "failed").stream()
        .map(w -> MessageStatus.fromProvider(w).orElseThrow())
        .toList();
  }

  private static MessageRows.Row row(long recipient, MessageStatus status) {
    return new MessageRows.Row(
        recipient, 0, null, status, null, null, null, null, null, null, null);
  }

  private static String newTenant() {
    return "msg-rule-" + TENANTS.incrementAndGet();
  }

  private static Send send(long recipient) {
    return new Send(
        recipient,
        0,
        "+1212555010" + recipient,
        "+15550100001",
        "hi " + recipient,
        CAMPAIGN + ":" + recipient + ":0",
        List.of("America/New_York"),
        "NY");
  }

  /** One Block event through the projection's handler, committed as the projection commits. */
  private static void project(String tenant, BlockEntity.Event event) throws Exception {
    HikariJdbcSession session = new HikariJdbcSession(DB.database().dataSource());
    try {
      new BlockProjectionHandler()
          .process(
              session,
              EventEnvelope.create(
                  Offset.sequence(KEYS.incrementAndGet()),
                  "Block|" + tenant + ":" + CAMPAIGN + ":0",
                  KEYS.get(),
                  event,
                  T0.toEpochMilli()));
      session.commit();
    } finally {
      session.close();
    }
  }

  /** A status receipt for recipient {@code recipient}'s first message, stored as the route does. */
  private static WebhookReceipts.Stored receipt(
      String tenant, long recipient, String key, MessageStatus status) throws Exception {
    return receipts
        .store(
            new WebhookReceipts.Receipt(
                tenant,
                "twilio",
                "status",
                key,
                "+1212555010" + recipient,
                key,
                Optional.of(new MessageRef(CAMPAIGN, recipient, 0)),
                Optional.of(status),
                Optional.empty(),
                "{}",
                "{}"))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private static Stored stored(String tenant, long recipient, int step) {
    return DB.database()
        .tenantJdbc()
        .inTenant(
            tenant,
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "select status, status_rank, phone, body, sender, provider_message_id"
                          + " from messages where campaign_id = ? and recipient_no = ? and step = ?")) {
                ps.setString(1, CAMPAIGN);
                ps.setLong(2, recipient);
                ps.setInt(3, step);
                try (ResultSet rs = ps.executeQuery()) {
                  assertThat(rs.next()).as("message %d:%d", recipient, step).isTrue();
                  return new Stored(
                      rs.getString(1),
                      rs.getInt(2),
                      rs.getString(3),
                      rs.getString(4),
                      rs.getString(5),
                      rs.getString(6));
                }
              }
            });
  }

  private static long delivered(String tenant) {
    return stat(tenant, "delivered");
  }

  private static long undelivered(String tenant) {
    return stat(tenant, "undelivered");
  }

  private static long stat(String tenant, String counter) {
    return DB.database()
        .tenantJdbc()
        .inTenant(
            tenant,
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "select coalesce(sum("
                          + counter
                          + "), 0) from campaign_stats"
                          + " where campaign_id = ?")) {
                ps.setString(1, CAMPAIGN);
                try (ResultSet rs = ps.executeQuery()) {
                  rs.next();
                  return rs.getLong(1);
                }
              }
            });
  }
}
