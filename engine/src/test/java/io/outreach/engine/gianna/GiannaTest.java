package io.outreach.engine.gianna;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.typesafe.config.ConfigFactory;
import io.outreach.engine.EntityTestKits;
import io.outreach.engine.compliance.KillSwitches;
import io.outreach.engine.conversation.Reply;
import io.outreach.engine.spend.SpendLedger;
import io.outreach.engine.tenant.AgentPolicy;
import io.outreach.engine.tenant.Tenant;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A tenant's Gianna running several passes at once over replies kept in memory the way her rows
 * keep them (a claim skips the replies in flight): no reply is classified, recorded or handed over
 * twice, at most {@code passes-in-flight} batches are out at once, a batch classified while a
 * switch engaged is dropped and classified again once it is released, and a failure worth another
 * try is tried again after its backoff.
 */
class GiannaTest {
  private static final int BATCH = 8;
  private static final int PASSES = 4;

  private static ActorTestKit testKit;
  private static ExecutorService blocking;
  private static ScheduledExecutorService later;

  @BeforeAll
  static void start() {
    testKit = EntityTestKits.create();
    blocking = Executors.newFixedThreadPool(4);
    later = Executors.newScheduledThreadPool(2);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    blocking.shutdown();
    later.shutdown();
  }

  private static GiannaSettings settings() {
    return GiannaSettings.from(
        ConfigFactory.parseMap(
                Map.of(
                    "outreach.gianna.batch",
                    BATCH,
                    "outreach.gianna.passes-in-flight",
                    PASSES,
                    "outreach.gianna.first-backoff",
                    "100ms",
                    "outreach.gianna.max-attempts",
                    3))
            .withFallback(ConfigFactory.load()));
  }

  /** A tenant with Gianna on, answering by herself. */
  private static Tenant acme() {
    TreeMap<String, AgentPolicy> policies = new TreeMap<>();
    policies.put(Gianna.AGENT, new AgentPolicy(true, false, null, null));
    Instant at = Instant.parse("2026-12-01T00:00:00Z");
    return new Tenant(
        "acme",
        "Acme",
        "UTC",
        0,
        Tenant.Status.ACTIVE,
        null,
        policies,
        new TreeMap<>(),
        KillSwitches.none(),
        List.of(),
        List.of(),
        "Acme",
        null,
        at,
        at,
        null);
  }

  /**
   * Gianna's rows in memory: waiting replies oldest first, what was recorded, the hand-overs; the
   * model answers after a few milliseconds (or when {@link #gate} opens): a question is answered,
   * anything else goes to review, a body with "busy" fails once with a retry.
   */
  static final class Rows implements GiannaPorts, SpendLedger {
    private final Map<String, PendingReply> waiting = new TreeMap<>();
    private final Map<String, Instant> retryAt = new TreeMap<>();
    private final Map<String, Reply> handoffs = new TreeMap<>();
    private int seq;

    final AtomicBoolean platformStopped = new AtomicBoolean();
    volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);
    final Map<String, AtomicInteger> classified = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> recorded = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> handedOver = new ConcurrentHashMap<>();
    final List<String> retried = new CopyOnWriteArrayList<>();
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger maxCalls = new AtomicInteger();
    final AtomicInteger out = new AtomicInteger();
    final AtomicInteger maxOut = new AtomicInteger();
    final AtomicInteger holdChecks = new AtomicInteger();
    final AtomicInteger settled = new AtomicInteger();
    final AtomicInteger caughtUp = new AtomicInteger();
    final AtomicInteger claims = new AtomicInteger();
    final Set<String> reservations = ConcurrentHashMap.newKeySet();
    final List<String> problems = new CopyOnWriteArrayList<>();

    /** {@code n} replies arrive; answers their keys. */
    synchronized List<String> arrive(int n, String body) {
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String key = String.format("SM%05d", ++seq);
        waiting.put(
            key,
            new PendingReply(
                key,
                "twilio",
                "+1212555" + String.format("%04d", seq % 50),
                "+15550100001",
                body + " [" + key + "]",
                Instant.now(),
                0,
                List.of()));
        keys.add(key);
      }
      return keys;
    }

    synchronized int waiting() {
      return waiting.size();
    }

    private static int count(Map<String, AtomicInteger> m, String key) {
      AtomicInteger n = m.get(key);
      return n == null ? 0 : n.get();
    }

    @Override
    public CompletionStage<Tenant> tenant(String tenantId) {
      holdChecks.incrementAndGet();
      return CompletableFuture.completedFuture(acme());
    }

    @Override
    public CompletionStage<Boolean> platformStopped() {
      return CompletableFuture.completedFuture(platformStopped.get());
    }

    @Override
    public CompletionStage<List<PendingReply>> pending(
        String tenantId, int limit, Collection<String> inFlight) {
      claims.incrementAndGet();
      return CompletableFuture.supplyAsync(
          () -> {
            synchronized (this) {
              Instant now = Instant.now();
              List<PendingReply> batch =
                  waiting.values().stream()
                      .filter(r -> !inFlight.contains(r.key()))
                      .filter(
                          r -> !retryAt.containsKey(r.key()) || !retryAt.get(r.key()).isAfter(now))
                      .sorted(Comparator.comparing(PendingReply::key))
                      .limit(limit)
                      .toList();
              maxOut.accumulateAndGet(out.addAndGet(batch.size()), Math::max);
              return batch;
            }
          },
          blocking);
    }

    @Override
    public synchronized CompletionStage<Optional<Instant>> nextRetry(String tenantId) {
      return CompletableFuture.completedFuture(
          retryAt.values().stream().min(Comparator.naturalOrder()));
    }

    @Override
    public CompletionStage<Optional<String>> model(String tenantId) {
      return CompletableFuture.completedFuture(Optional.of("twin"));
    }

    @Override
    public CompletionStage<Classification> classify(
        String tenantId, ReplyClassifier.Request request) {
      String body = request.body();
      String key = body.substring(body.lastIndexOf('[') + 1, body.lastIndexOf(']'));
      classified.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      maxCalls.accumulateAndGet(calls.incrementAndGet(), Math::max);
      CompletableFuture<Classification> answer = new CompletableFuture<>();
      gate.thenRun(
          () ->
              later.schedule(
                  () -> answer.complete(answer(request)),
                  ThreadLocalRandom.current().nextInt(1, 15),
                  TimeUnit.MILLISECONDS));
      return answer.whenComplete((c, err) -> calls.decrementAndGet());
    }

    private Classification answer(ReplyClassifier.Request request) {
      String body = request.body();
      if (body.contains("busy") && retried.stream().noneMatch(body::equals)) {
        retried.add(body);
        return new Classification.Failed("429 rate_limit_error", Duration.ZERO, "twin", null);
      }
      return body.contains("?")
          ? new Classification.Classified(
              ReplyCategory.QUESTION, 0.95, "Yes.", "twin", Classification.Usage.NONE)
          : new Classification.Classified(
              ReplyCategory.OTHER, 0.6, "", "twin", Classification.Usage.NONE);
    }

    @Override
    public long worstCost(String model, ReplyClassifier.Request request) {
      return 10;
    }

    @Override
    public long cost(Classification.Usage usage) {
      return 0;
    }

    @Override
    public SpendLedger ledger() {
      return this;
    }

    @Override
    public CompletionStage<List<Reply>> record(String tenantId, List<GiannaOutcome> outcomes) {
      return CompletableFuture.supplyAsync(
          () -> {
            synchronized (this) {
              List<Reply> handOver = new ArrayList<>();
              for (GiannaOutcome o : outcomes) {
                String key = o.reply().key();
                if (!waiting.containsKey(key)) {
                  problems.add(key + " recorded but no longer waiting");
                  continue;
                }
                out.decrementAndGet();
                if (o.retryAt() != null) {
                  PendingReply r = o.reply();
                  waiting.put(
                      key,
                      new PendingReply(
                          key,
                          r.provider(),
                          r.phone(),
                          r.to(),
                          r.body(),
                          r.at(),
                          r.attempts() + 1,
                          r.thread()));
                  retryAt.put(key, o.retryAt());
                  continue;
                }
                waiting.remove(key);
                retryAt.remove(key);
                recorded.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                if (o.handOver() != null) {
                  handoffs.put(o.handOver().key(), o.handOver());
                  handOver.add(o.handOver());
                }
              }
              return handOver;
            }
          },
          blocking);
    }

    @Override
    public synchronized CompletionStage<List<Reply>> notHandedOver(
        String tenantId, Collection<String> inFlight) {
      return CompletableFuture.completedFuture(
          handoffs.values().stream().filter(r -> !inFlight.contains(r.inReplyTo())).toList());
    }

    @Override
    public CompletionStage<Void> catchUp(String tenantId) {
      caughtUp.incrementAndGet();
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> handOver(String tenantId, Reply reply) {
      handedOver.computeIfAbsent(reply.inReplyTo(), k -> new AtomicInteger()).incrementAndGet();
      // The Conversation takes a moment: claims meanwhile must leave this one alone.
      CompletableFuture<Void> done = new CompletableFuture<>();
      later.schedule(() -> done.complete(null), 5, TimeUnit.MILLISECONDS);
      return done;
    }

    @Override
    public synchronized CompletionStage<Void> handedOver(String tenantId, List<String> replyKeys) {
      replyKeys.forEach(handoffs::remove);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> settle(String tenantId) {
      settled.incrementAndGet();
      return CompletableFuture.completedFuture(null);
    }

    // ---- the ledger: every reservation is granted in full ----

    @Override
    public Grant reserve(
        String tenantId,
        String reservationId,
        String requestKey,
        List<Budget> budgets,
        long wantedMicros,
        String campaignId,
        String agent) {
      if (!reservations.add(reservationId)) {
        problems.add("reservation " + reservationId + " taken by two batches at once");
      }
      return new Grant(wantedMicros, Optional.empty());
    }

    @Override
    public List<Alert> commit(String tenantId, String reservationId, List<Charge> charges) {
      return List.of();
    }

    @Override
    public void release(String tenantId, String reservationId, List<Charge> holds) {
      reservations.remove(reservationId);
    }
  }

  private static ActorRef<Gianna.Command> gianna(Rows rows) {
    return testKit.spawn(Gianna.create("acme", rows, settings(), blocking, Clock.systemUTC()));
  }

  @Test
  void overlappingPassesNeverClassifyRecordOrHandOverAReplyTwice() {
    Rows rows = new Rows();
    List<String> keys = new ArrayList<>(rows.arrive(150, "tell me more"));
    keys.addAll(rows.arrive(50, "what does it cost?"));
    ActorRef<Gianna.Command> gianna = gianna(rows);
    gianna.tell(Gianna.Wake.INSTANCE);
    // More arrive while she works, each with its wake.
    for (int i = 0; i < 20; i++) {
      keys.addAll(rows.arrive(5, "and another?"));
      gianna.tell(Gianna.Wake.INSTANCE);
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> rows.waiting() == 0);

    for (String key : keys) {
      assertThat(Rows.count(rows.classified, key)).as("classified " + key).isEqualTo(1);
      assertThat(Rows.count(rows.recorded, key)).as("recorded " + key).isEqualTo(1);
    }
    assertThat(rows.problems).isEmpty();
    assertThat(rows.handedOver.keySet()).hasSize(150);
    assertThat(rows.handedOver.values()).allMatch(n -> n.get() == 1);
    // Passes overlapped, and never more than passes-in-flight batches were out at once.
    assertThat(rows.maxCalls.get()).isGreaterThan(BATCH);
    assertThat(rows.maxOut.get()).isLessThanOrEqualTo(BATCH * PASSES);
    // Idle at last: the marker settles.
    await().atMost(Duration.ofSeconds(10)).until(() -> rows.settled.get() > 0);
    // Approved reviews are caught up on by her first claim, not by each of them.
    assertThat(rows.claims.get()).isGreaterThan(10);
    assertThat(rows.caughtUp.get()).isEqualTo(1);
  }

  @Test
  void batchesClassifiedWhileASwitchEngagedAreDroppedAndClassifiedAgainWhenReleased() {
    Rows rows = new Rows();
    List<String> keys = rows.arrive(20, "what does it cost?");
    rows.gate = new CompletableFuture<>();
    ActorRef<Gianna.Command> gianna = gianna(rows);
    gianna.tell(Gianna.Wake.INSTANCE);
    // Three passes (8 + 8 + 4) wait for the model.
    await().atMost(Duration.ofSeconds(5)).until(() -> rows.calls.get() == 20);
    rows.platformStopped.set(true);
    int checks = rows.holdChecks.get();
    rows.gate.complete(null);

    // Each pass looks again before recording, finds the switch and drops its batch.
    await().atMost(Duration.ofSeconds(5)).until(() -> rows.holdChecks.get() >= checks + 3);
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(2))
        .untilAsserted(
            () -> {
              assertThat(rows.recorded).isEmpty();
              assertThat(rows.handedOver).isEmpty();
              assertThat(rows.waiting()).isEqualTo(20);
            });
    // Held, she claims nothing: no reply is classified again meanwhile.
    assertThat(keys).allMatch(k -> Rows.count(rows.classified, k) == 1);

    rows.platformStopped.set(false);
    await().atMost(Duration.ofSeconds(10)).until(() -> rows.waiting() == 0);
    for (String key : keys) {
      assertThat(Rows.count(rows.classified, key)).as("classified " + key).isEqualTo(2);
      assertThat(Rows.count(rows.recorded, key)).as("recorded " + key).isEqualTo(1);
      assertThat(Rows.count(rows.handedOver, key)).as("handed over " + key).isEqualTo(1);
    }
    assertThat(rows.problems).isEmpty();
  }

  @Test
  void aFailureWorthAnotherTryIsTriedAgainAfterItsBackoff() {
    Rows rows = new Rows();
    List<String> keys = new ArrayList<>(rows.arrive(30, "tell me more"));
    List<String> busy = rows.arrive(3, "busy now");
    keys.addAll(rows.arrive(30, "tell me more"));
    ActorRef<Gianna.Command> gianna = gianna(rows);
    gianna.tell(Gianna.Wake.INSTANCE);
    // No wake for the retries: her own timer, when the earliest falls due.
    await().atMost(Duration.ofSeconds(10)).until(() -> rows.waiting() == 0);
    for (String key : busy) {
      assertThat(Rows.count(rows.classified, key)).as("classified " + key).isEqualTo(2);
      assertThat(Rows.count(rows.recorded, key)).as("recorded " + key).isEqualTo(1);
    }
    for (String key : keys) {
      assertThat(Rows.count(rows.classified, key)).as("classified " + key).isEqualTo(1);
    }
    assertThat(rows.problems).isEmpty();
  }
}
