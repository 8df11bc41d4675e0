package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.conversation.Reply;
import io.outreach.engine.gianna.Classification;
import io.outreach.engine.gianna.GiannaOutcome;
import io.outreach.engine.gianna.GiannaPolicy;
import io.outreach.engine.gianna.PendingReply;
import io.outreach.engine.gianna.ReplyCategory;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Gianna's rows on real PostgreSQL, as several passes of one tenant's Gianna use them at once: the
 * replies one pass is classifying are never another's, a reply is recorded once however often its
 * outcome comes, the hand-overs of a pass in flight are left to it, and batches that share people
 * are recorded side by side without deadlocking.
 */
class GiannaStoreTest {
  @RegisterExtension static final EmbeddedDatabaseExtension DB = new EmbeddedDatabaseExtension();

  private static StoredInbound inbound;

  @BeforeAll
  static void start() {
    inbound = new StoredInbound(DB);
  }

  @AfterAll
  static void stop() {
    inbound.close();
  }

  private static GiannaStore store() {
    return new GiannaStore(DB.database().tenantJdbc(), Clock.systemUTC());
  }

  /** A plain reply from {@code from}, stored as the webhook does and put on its thread. */
  private static void reply(String tenant, String from, String body) throws Exception {
    store(tenant, from, body);
    new ConversationStore(DB.database().tenantJdbc(), Clock.systemUTC()).processInbox(tenant);
  }

  /** A plain reply from {@code from}, stored as the webhook does (the inbox has not taken it). */
  private static void store(String tenant, String from, String body) throws Exception {
    inbound.store(tenant, from, body);
  }

  private static List<String> keys(List<PendingReply> replies) {
    return replies.stream().map(PendingReply::key).toList();
  }

  /** Classified {@code category} at 0.95 and decided {@code action}, answering when it answers. */
  private static GiannaOutcome decided(PendingReply r, GiannaPolicy.Action action) {
    Classification c =
        new Classification.Classified(
            ReplyCategory.QUESTION, 0.95, "Yes.", "anthropic", Classification.Usage.NONE);
    Reply answer =
        action == GiannaPolicy.Action.ANSWER
            ? new Reply(
                Reply.key("g", r.key()),
                Reply.Kind.AGENT_ANSWER,
                r.provider(),
                r.to(),
                r.phone(),
                "Yes.",
                r.key())
            : null;
    return GiannaOutcome.decided(
        r, c, new GiannaPolicy.Verdict(action, "Yes.", "test"), answer, Instant.now());
  }

  @Test
  void aPassNeverTakesTheRepliesAnotherIsClassifying() throws Exception {
    String t = "gianna-claims";
    for (int i = 0; i < 5; i++) {
      reply(t, "+1212555020" + i, "hello " + i);
    }
    List<PendingReply> all = store().pending(t, 10, List.of());
    assertThat(all).hasSize(5);
    List<PendingReply> first = store().pending(t, 2, List.of());
    assertThat(keys(first)).isEqualTo(keys(all).subList(0, 2));

    List<PendingReply> second = store().pending(t, 2, keys(first));
    assertThat(keys(second)).isEqualTo(keys(all).subList(2, 4));
    List<String> inFlight = new ArrayList<>(keys(first));
    inFlight.addAll(keys(second));
    assertThat(keys(store().pending(t, 2, inFlight))).isEqualTo(keys(all).subList(4, 5));
    assertThat(store().pending(t, 2, keys(all))).isEmpty();
  }

  @Test
  void aReplyIsRecordedOnceHoweverOftenItsOutcomeComes() throws Exception {
    String t = "gianna-once";
    reply(t, "+12125550210", "what does it cost");
    reply(t, "+12125550211", "tell me more");
    List<PendingReply> pending = store().pending(t, 10, List.of());
    List<GiannaOutcome> outcomes =
        List.of(
            decided(pending.get(0), GiannaPolicy.Action.ANSWER),
            decided(pending.get(1), GiannaPolicy.Action.REVIEW));

    assertThat(store().record(t, outcomes)).hasSize(1);
    // The same outcomes again (two passes that took the same replies): nothing changes.
    assertThat(store().record(t, outcomes)).isEmpty();

    assertThat(DB.count(t, "select count(*) from reviews")).isEqualTo(1);
    assertThat(DB.count(t, "select count(*) from agent_handoffs")).isEqualTo(1);
    assertThat(DB.count(t, "select count(*) from audit_log where actor = 'gianna'")).isEqualTo(2);
    assertThat(
            DB.count(
                t,
                "select count(*) from conversation_messages where classify_state = 'done'"
                    + " and classify_attempts = 1"))
        .isEqualTo(2);
    assertThat(store().pending(t, 10, List.of())).isEmpty();
  }

  @Test
  void theHandOversOfAPassInFlightAreLeftToIt() throws Exception {
    String t = "gianna-handovers";
    reply(t, "+12125550220", "what does it cost");
    PendingReply r = store().pending(t, 10, List.of()).get(0);
    List<Reply> recorded = store().record(t, List.of(decided(r, GiannaPolicy.Action.ANSWER)));

    assertThat(store().notHandedOver(t, List.of(r.key()))).isEmpty();
    assertThat(store().notHandedOver(t, List.of("SM-another"))).isEqualTo(recorded);
    store().handedOver(t, List.of(recorded.get(0).key()));
    assertThat(store().notHandedOver(t, List.of())).isEmpty();
  }

  @Test
  void anApprovalACrashKeptFromTheHandOversIsCaughtUpOnce() throws Exception {
    String t = "gianna-catch-up";
    reply(t, "+12125550240", "what does it cost");
    PendingReply r = store().pending(t, 10, List.of()).get(0);
    store().record(t, List.of(decided(r, GiannaPolicy.Action.REVIEW)));
    String reviewId =
        DB.database()
            .tenantJdbc()
            .inTenant(
                t,
                c -> {
                  try (PreparedStatement ps =
                      c.prepareStatement(
                          "select review_id from conversation_messages where message_key = ?")) {
                    ps.setString(1, r.key());
                    try (ResultSet rs = ps.executeQuery()) {
                      rs.next();
                      return rs.getString(1);
                    }
                  }
                });
    // The decision is committed; the crash comes before decided() hands the answer over.
    new ReviewRepository(DB.database().tenantJdbc())
        .decide(t, reviewId, true, "ops@acme", null, null, Instant.now());
    assertThat(store().notHandedOver(t, List.of())).isEmpty();

    store().catchUp(t);
    List<Reply> late = store().notHandedOver(t, List.of());
    assertThat(late).singleElement().extracting(Reply::inReplyTo).isEqualTo(r.key());
    assertThat(late.get(0).body()).isEqualTo("Yes.");
    store().catchUp(t);
    assertThat(store().notHandedOver(t, List.of())).isEqualTo(late);
    assertThat(
            DB.count(
                t, "select count(*) from conversation_messages where agent_action = 'approved'"))
        .isEqualTo(1);
  }

  @Test
  void batchesThatShareThePeopleAreRecordedSideBySide() throws Exception {
    String t = "gianna-side-by-side";
    List<String> people = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      people.add("+1212555023" + i);
    }
    // Four rounds of a reply from everyone: each batch of eight has every person once.
    for (int round = 0; round < 4; round++) {
      for (String p : people) {
        reply(t, p, "round " + round);
      }
    }
    List<PendingReply> pending = store().pending(t, 100, List.of());
    assertThat(pending).hasSize(32);
    List<List<GiannaOutcome>> batches = new ArrayList<>();
    Random random = new Random(16);
    for (int b = 0; b < 4; b++) {
      List<GiannaOutcome> batch = new ArrayList<>();
      for (PendingReply r : pending.subList(b * 8, b * 8 + 8)) {
        batch.add(decided(r, b % 2 == 0 ? GiannaPolicy.Action.ANSWER : GiannaPolicy.Action.REVIEW));
      }
      // Each in its own order of people, as the replies came.
      Collections.shuffle(batch, random);
      batches.add(batch);
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<List<Reply>>> recorded = new ArrayList<>();
      for (List<GiannaOutcome> batch : batches) {
        recorded.add(pool.submit(() -> store().record(t, batch)));
      }
      int handOvers = 0;
      for (Future<List<Reply>> f : recorded) {
        handOvers += f.get(30, TimeUnit.SECONDS).size();
      }
      assertThat(handOvers).isEqualTo(16);
    } finally {
      pool.shutdown();
    }
    assertThat(
            DB.count(t, "select count(*) from conversation_messages where classify_state = 'done'"))
        .isEqualTo(32);
    assertThat(DB.count(t, "select count(*) from reviews")).isEqualTo(16);
    assertThat(
            DB.count(
                t, "select count(*) from conversations where last_classification = 'question'"))
        .isEqualTo(8);
  }

  /**
   * Whether {@code writer} locks the conversations of {@code people} (in key order) in that order:
   * with the middle one's row held, the writer waits there, and the last one's row is then still
   * free (a writer that took them in another order has it by then, and two writers would deadlock).
   */
  private static boolean locksInKeyOrder(String tenant, List<String> people, Runnable writer)
      throws Exception {
    String middle = people.get(people.size() / 2);
    String last = people.get(people.size() - 1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
      Future<Boolean> lastFree =
          pool.submit(
              () ->
                  DB.database()
                      .tenantJdbc()
                      .inTenant(
                          tenant,
                          c -> {
                            lock(c, middle, false);
                            held.countDown();
                            awaitLockWait();
                            try {
                              lock(c, last, true);
                              return true;
                            } catch (java.sql.SQLException e) {
                              if (!"55P03".equals(e.getSQLState())) {
                                throw e;
                              }
                              return false;
                            }
                          }));
      held.await(10, TimeUnit.SECONDS);
      Future<?> written = pool.submit(writer);
      boolean free = lastFree.get(30, TimeUnit.SECONDS);
      written.get(30, TimeUnit.SECONDS);
      return free;
    } finally {
      pool.shutdown();
    }
  }

  private static void lock(java.sql.Connection c, String phone, boolean noWait)
      throws java.sql.SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "select 1 from conversations where phone = ? for update" + (noWait ? " nowait" : ""))) {
      ps.setString(1, phone);
      ps.executeQuery().close();
    }
  }

  /** Waits until a session waits for a row lock. */
  private static void awaitLockWait() throws java.sql.SQLException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    try (var c = DB.ownerConnection();
        PreparedStatement ps =
            c.prepareStatement("select count(*) from pg_locks where not granted")) {
      while (System.nanoTime() < deadline) {
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getLong(1) > 0) {
            return;
          }
        }
        Thread.onSpinWait();
      }
    }
    throw new IllegalStateException("no session waited for the held row");
  }

  @Test
  void theInboxAndGiannaLockThePeopleInKeyOrder() throws Exception {
    String t = "gianna-lock-order";
    List<String> people = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      people.add(String.format("+12125554%03d", i));
    }
    List<String> shuffled = new ArrayList<>(people);
    Collections.shuffle(shuffled, new Random(17));
    for (String p : shuffled) {
      store(t, p, "hello");
    }
    ConversationStore inbox = new ConversationStore(DB.database().tenantJdbc(), Clock.systemUTC());
    inbox.processInbox(t);
    // Another reply from everyone, which the inbox takes while a person's row is held.
    for (String p : shuffled) {
      store(t, p, "again");
    }
    assertThat(locksInKeyOrder(t, people, () -> inbox.processInbox(t))).as("the inbox").isTrue();

    List<GiannaOutcome> outcomes = new ArrayList<>();
    for (PendingReply r : store().pending(t, 1000, List.of())) {
      outcomes.add(decided(r, GiannaPolicy.Action.REVIEW));
    }
    Collections.shuffle(outcomes, new Random(18));
    assertThat(locksInKeyOrder(t, people, () -> store().record(t, outcomes))).as("Gianna").isTrue();
    assertThat(
            DB.count(t, "select count(*) from conversation_messages where classify_state = 'done'"))
        .isEqualTo(200);
  }
}
