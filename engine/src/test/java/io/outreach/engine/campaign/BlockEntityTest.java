package io.outreach.engine.campaign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.outreach.engine.EntityTestKits;
import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.DailyHours;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.compliance.Purpose;
import io.outreach.engine.dnc.DncRegistry.Listing;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.spend.Budgets;
import io.outreach.engine.spend.SpendLedger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BlockEntityTest {
  private static final Instant T0 = Instant.parse("2026-11-25T15:00:00Z");
  private static final BlockSpec SPEC = spec("cmp_1");
  private static ActorTestKit testKit;

  /** Block 0 of {@code campaignId}: one sender, one message, no follow-ups, not budgeted. */
  static BlockSpec spec(String campaignId) {
    return new BlockSpec(
        "acme",
        campaignId,
        0,
        Channel.SMS,
        "twilio",
        List.of("+15550100001"),
        "Hi {{first_name}}",
        List.of(),
        null,
        List.of());
  }

  /** A clock the test moves. */
  static final class TestClock extends Clock {
    final AtomicReference<Instant> now = new AtomicReference<>(T0);

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now.get();
    }

    void advance(Duration d) {
      now.updateAndGet(t -> t.plus(d));
    }
  }

  /** Ports under the test's control: provider calls wait until the test answers them. */
  static final class ScriptedPorts implements BlockPorts {
    final List<Recipient> recipients = new ArrayList<>();
    GateFacts facts = new GateFacts(List.of(), false, Map.of(), Set.of());
    Set<String> contacted = Set.of();
    volatile Permits permits = null;
    final Map<String, Decision> stopAtSend = new ConcurrentHashMap<>();
    volatile boolean storeDown;
    final Map<String, CompletableFuture<SendResult>> calls = new ConcurrentHashMap<>();
    final List<Send> dispatched = new CopyOnWriteArrayList<>();
    final List<Contact> contacts = new CopyOnWriteArrayList<>();
    final List<Permits> grants = new CopyOnWriteArrayList<>();
    final List<BlockOutcome> progress = new CopyOnWriteArrayList<>();
    final List<BlockOutcome> finished = new CopyOnWriteArrayList<>();
    final List<BlockOutcome> completed = new CopyOnWriteArrayList<>();
    final List<Optional<Instant>> wakes = new CopyOnWriteArrayList<>();
    final List<BlockOutcome> waiting = new CopyOnWriteArrayList<>();
    final java.util.concurrent.atomic.AtomicInteger dueAsks =
        new java.util.concurrent.atomic.AtomicInteger();
    // Hours all day unless a test sets the legal ones: the ports' gate decides the hours here.
    ContactRules rules =
        new ContactRules(
            new DailyHours(java.time.LocalTime.MIN, java.time.LocalTime.MAX),
            Map.of(),
            List.of(),
            Duration.ofDays(31),
            ContactRules.Requirement.AUTO);

    @Override
    public ContactRules rules(BlockSpec spec) {
      return rules;
    }

    @Override
    public CompletionStage<List<Recipient>> recipients(BlockSpec spec) {
      return CompletableFuture.completedFuture(List.copyOf(recipients));
    }

    @Override
    public CompletionStage<GateFacts> gateFacts(BlockSpec spec, List<String> phones) {
      return CompletableFuture.completedFuture(facts);
    }

    @Override
    public CompletionStage<Set<String>> contactedBefore(BlockSpec spec, List<String> phones) {
      return CompletableFuture.completedFuture(contacted);
    }

    @Override
    public CompletionStage<Permits> permits(BlockSpec spec, String sender, int wanted) {
      Permits p = permits;
      return CompletableFuture.completedFuture(
          p == null ? Permits.granted(wanted, Instant.now(), 100) : p);
    }

    @Override
    public CompletionStage<List<Attempt>> attempt(
        BlockSpec spec, List<Attempt.Request> batch, Permits granted) {
      grants.add(granted);
      if (storeDown) {
        return CompletableFuture.failedFuture(new IllegalStateException("database down"));
      }
      List<Attempt> out = new ArrayList<>();
      for (Attempt.Request request : batch) {
        Send x = request.send();
        contacts.add(request.contact());
        Decision d = stopAtSend.remove(x.idempotencyKey());
        if (d != null) {
          out.add(new Attempt.Stopped(x.recipient(), x.step(), d));
          continue;
        }
        dispatched.add(x);
        CompletableFuture<SendResult> f = new CompletableFuture<>();
        calls.put(x.idempotencyKey() + "#" + dispatched.size(), f);
        out.add(new Attempt.Dispatched(x.recipient(), x.step(), f));
      }
      return CompletableFuture.completedFuture(out);
    }

    @Override
    public void progress(BlockSpec spec, BlockOutcome outcome) {
      progress.add(outcome);
    }

    @Override
    public void waiting(BlockSpec spec, BlockOutcome outcome) {
      waiting.add(outcome);
    }

    @Override
    public void due(BlockSpec spec) {
      dueAsks.incrementAndGet();
    }

    @Override
    public void finished(BlockSpec spec, BlockOutcome outcome) {
      finished.add(outcome);
    }

    @Override
    public void completed(BlockSpec spec, BlockOutcome outcome) {
      completed.add(outcome);
    }

    // The spend ledger: room left, requests granted once, charges counted once per key.
    volatile long room = Long.MAX_VALUE;
    volatile boolean ledgerDown;
    final Map<String, SpendLedger.Grant> reservations = new ConcurrentHashMap<>();
    final Map<String, Long> charges = new ConcurrentHashMap<>();
    final java.util.concurrent.atomic.AtomicInteger releases =
        new java.util.concurrent.atomic.AtomicInteger();

    volatile Optional<String> followUpsHeld = Optional.empty();

    @Override
    public CompletionStage<Optional<String>> followUpsHeld(BlockSpec spec) {
      return CompletableFuture.completedFuture(followUpsHeld);
    }

    @Override
    public CompletionStage<SpendLedger.Grant> reserve(
        BlockSpec spec, String requestKey, long micros) {
      return CompletableFuture.completedFuture(
          reservations.computeIfAbsent(
              requestKey,
              k -> {
                long granted = Math.min(micros, room);
                room -= granted;
                return new SpendLedger.Grant(
                    granted,
                    granted < micros
                        ? Optional.of("campaign:" + spec.campaignId())
                        : Optional.empty());
              }));
    }

    @Override
    public CompletionStage<Void> charge(BlockSpec spec, List<SpendLedger.Charge> batch) {
      if (ledgerDown) {
        return CompletableFuture.failedFuture(new IllegalStateException("ledger down"));
      }
      batch.forEach(c -> charges.putIfAbsent(c.key(), c.micros()));
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> release(BlockSpec spec, List<SpendLedger.Charge> holds) {
      releases.incrementAndGet();
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void wakeAt(BlockSpec spec, Optional<Instant> at) {
      wakes.add(at);
    }

    /** Answers every open call of {@code key} with {@code result}. */
    void answer(String key, SendResult result) {
      calls.forEach(
          (k, f) -> {
            if (k.startsWith(key + "#") && !f.isDone()) {
              f.complete(result);
            }
          });
    }

    void acceptAll() {
      dispatched.forEach(
          x -> answer(x.idempotencyKey(), new SendResult.Accepted("SM-" + x.idempotencyKey())));
    }

    List<String> keys() {
      return dispatched.stream().map(Send::idempotencyKey).toList();
    }
  }

  private ScriptedPorts ports;
  private TestClock clock;
  private EventSourcedBehaviorTestKit<BlockEntity.Command, BlockEntity.Event, BlockState> kit;

  @BeforeAll
  static void start() {
    testKit = EntityTestKits.create();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    ports = new ScriptedPorts();
    clock = new TestClock();
    kit = kitFor(SPEC);
  }

  private EventSourcedBehaviorTestKit<BlockEntity.Command, BlockEntity.Event, BlockState> kitFor(
      BlockSpec spec) {
    var k =
        EventSourcedBehaviorTestKit.<BlockEntity.Command, BlockEntity.Event, BlockState>create(
            testKit.system(), BlockEntity.create(spec.entityId(), ports, clock, 4, null));
    k.clear();
    return k;
  }

  /** A block whose passivation requests go to {@code shard}. */
  private EventSourcedBehaviorTestKit<BlockEntity.Command, BlockEntity.Event, BlockState>
      kitWithShard(BlockSpec spec, TestProbe<ClusterSharding.ShardCommand> shard) {
    var k =
        EventSourcedBehaviorTestKit.<BlockEntity.Command, BlockEntity.Event, BlockState>create(
            testKit.system(), BlockEntity.create(spec.entityId(), ports, clock, 4, shard.ref()));
    k.clear();
    return k;
  }

  private static void expectPassivate(TestProbe<ClusterSharding.ShardCommand> shard) {
    assertThat(shard.receiveMessage(Duration.ofSeconds(5)))
        .isInstanceOf(ClusterSharding.Passivate.class);
  }

  private static Recipient r(long no, String phone, String firstName) {
    return new Recipient(
        no,
        "lead-" + no,
        phone,
        List.of("America/New_York"),
        "NY",
        firstName == null ? Map.of() : Map.of("first_name", firstName));
  }

  private void tenRecipients() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    ports.recipients.add(r(2, "+12125550102", "Cy"));
    ports.recipients.add(r(3, "+12125550103", null));
    ports.recipients.add(r(4, null, "Di"));
    ports.recipients.add(r(5, "+12125550105", "Ed"));
    ports.recipients.add(r(6, "+12125550106", "Fay"));
    ports.recipients.add(r(7, "+12125550107", "Gus"));
    ports.recipients.add(r(8, "+12125550108", "Hal"));
    ports.recipients.add(r(9, "+12125550109", "Ida"));
    ports.facts =
        new GateFacts(
            List.of(),
            false,
            Map.of("+12125550101", Listing.TENANT, "+12125550102", Listing.NATIONAL),
            Set.of());
    ports.contacted = Set.of("+12125550105");
  }

  @Test
  void decidesEveryRecipientJournalsIntentsThenSendsOnce() {
    tenRecipients();
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().until(() -> ports.dispatched.size() == 6);
    BlockState s = kit.getState();
    assertThat(s.status()).isEqualTo(BlockEntity.Status.SENDING);
    assertThat(s.blocked())
        .extracting(BlockedRecipient::rule)
        .containsExactly(
            "dnc:tenant", "dnc:national", "invalid:missing-field:first_name", "invalid:no-phone");
    assertThat(s.sends()).hasSize(6);
    assertThat(ports.keys())
        .containsExactlyInAnyOrder(
            "cmp_1:0:0", "cmp_1:5:0", "cmp_1:6:0", "cmp_1:7:0", "cmp_1:8:0", "cmp_1:9:0");
    Send ann =
        ports.dispatched.stream()
            .filter(q -> q.to().equals("+12125550100"))
            .findFirst()
            .orElseThrow();
    assertThat(ann.body()).isEqualTo("Hi Ann\nReply STOP to opt out");
    assertThat(ann.from()).isEqualTo("+15550100001");
    Send ed =
        ports.dispatched.stream()
            .filter(q -> q.to().equals("+12125550105"))
            .findFirst()
            .orElseThrow();
    assertThat(ed.body())
        .as("a number contacted before gets no second disclosure")
        .isEqualTo("Hi Ed");

    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(1));
    assertThat(ports.finished).hasSize(1);
    BlockOutcome o = ports.finished.get(0);
    assertThat(o.sent()).isEqualTo(6);
    assertThat(o.failed()).isZero();
    assertThat(o.blocked())
        .containsEntry(BlockReason.DNC, 2L)
        .containsEntry(BlockReason.INVALID, 2L);
    assertThat(
            o.sent() + o.failed() + o.blocked().values().stream().mapToLong(Long::longValue).sum())
        .isEqualTo(10);
    assertThat(ports.progress).as("the plan is reported before any outcome").isNotEmpty();
    assertThat(ports.progress.get(0).blocked()).containsEntry(BlockReason.DNC, 2L);
    assertThat(kit.getState().status()).isEqualTo(BlockEntity.Status.DONE);
    // Asked again (a campaign restarting), a done block only reports again.
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(2));
    assertThat(ports.dispatched).hasSize(6);
  }

  @Test
  void restartResendsOnlyWhatHasNoOutcomeWithTheSameKeys() {
    tenRecipients();
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().until(() -> ports.dispatched.size() == 6);
    List<Send> first = List.copyOf(ports.dispatched);
    for (int i = 0; i < 3; i++) {
      ports.answer(first.get(i).idempotencyKey(), new SendResult.Accepted("SM-" + i));
    }
    await().untilAsserted(() -> assertThat(kit.getState().outcomes()).hasSize(3));
    ports.dispatched.clear();
    kit.restart();
    await().until(() -> ports.dispatched.size() == 3);
    assertThat(ports.keys())
        .containsExactlyInAnyOrderElementsOf(
            first.subList(3, 6).stream().map(Send::idempotencyKey).toList());
  }

  @Test
  void transientRejectionsAreRetriedAndFinalOnesFail() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().until(() -> ports.dispatched.size() == 2);
    ports.answer(
        "cmp_1:0:0",
        new SendResult.Rejected(
            429, "too many requests", true, Optional.of(Duration.ofMillis(10))));
    ports.answer(
        "cmp_1:1:0", new SendResult.Rejected(400, "invalid To number", false, Optional.empty()));
    await().until(() -> ports.dispatched.size() == 3);
    ports.answer("cmp_1:0:0", new SendResult.Accepted("SM-1"));
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    assertThat(ports.finished.get(0).sent()).isEqualTo(1);
    assertThat(ports.finished.get(0).failed()).isEqualTo(1);
    assertThat(kit.getState().outcomes().get(Send.slot(1, 0)).reason())
        .isEqualTo("invalid To number");
  }

  @Test
  void aStormOf429sAndFailedTrialCallsDoNotUseUpAttempts() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    for (int i = 1; i <= SendQueue.MAX_ATTEMPTS + 3; i++) {
      int n = i;
      await().until(() -> ports.dispatched.size() == n);
      ports.answer(
          "cmp_1:0:0",
          new SendResult.Rejected(
              429, "too many requests", true, Optional.of(Duration.ofMillis(5))));
    }
    // The provider is down: calls on a half-open breaker's trial permit fail.
    ports.permits = Permits.trial(Instant.now(), 100);
    for (int i = 1; i <= SendQueue.MAX_ATTEMPTS + 1; i++) {
      int n = SendQueue.MAX_ATTEMPTS + 3 + i;
      await().until(() -> ports.dispatched.size() == n);
      ports.permits = Permits.trial(Instant.now(), 100);
      ports.answer(
          "cmp_1:0:0", new SendResult.Rejected(503, "service unavailable", true, Optional.empty()));
    }
    int before = ports.dispatched.size();
    ports.permits = null;
    await().atMost(Duration.ofSeconds(10)).until(() -> ports.dispatched.size() == before + 1);
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    assertThat(ports.finished.get(0).sent())
        .as("no failure after %d throttled and failed trial calls", before)
        .isEqualTo(1);
  }

  @Test
  void aHoldOfTheThrottleHoldsSendsUntilReleased() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    ports.permits = Permits.held("kill-switch:tenant", Duration.ofMillis(100));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await()
        .during(Duration.ofMillis(800))
        .atMost(Duration.ofSeconds(3))
        .until(() -> ports.dispatched.isEmpty());
    assertThat(kit.getState().status()).isEqualTo(BlockEntity.Status.SENDING);
    ports.permits = null;
    await().atMost(Duration.ofSeconds(5)).until(() -> ports.dispatched.size() == 2);
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    assertThat(ports.finished.get(0).sent()).isEqualTo(2);
  }

  @Test
  void aBlockWithNothingToSendFinishesAtOnce() {
    ports.recipients.add(r(0, null, "Ann"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(1));
    assertThat(ports.finished.get(0).blocked()).containsEntry(BlockReason.INVALID, 1L);
    assertThat(ports.dispatched).isEmpty();
  }

  @Test
  void theGateAtSendTimeBlocksOrDefersAndADeferredSendGoesWhenItsTimeComes() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    ports.recipients.add(r(2, "+12125550102", "Cy"));
    Instant opening = T0.plus(Duration.ofHours(10));
    ports.stopAtSend.put("cmp_1:0:0", new Decision.Defer(opening, "hours:federal"));
    ports.stopAtSend.put("cmp_1:1:0", new Decision.Block(BlockReason.OPT_OUT, "opt-out"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().until(() -> ports.dispatched.size() == 1);
    ports.acceptAll();
    // Only the deferred recipient is left: the block gives its slot back and asks for a durable
    // wake-up at its opening.
    await().untilAsserted(() -> assertThat(ports.waiting).hasSize(1));
    assertThat(ports.wakes).last().isEqualTo(Optional.of(opening));
    assertThat(kit.getState().waiting()).isTrue();
    assertThat(ports.finished).isEmpty();
    BlockOutcome waiting = ports.waiting.get(0);
    assertThat(waiting.deferred()).isEqualTo(1);
    assertThat(waiting.deferredBy()).containsExactly(Map.entry("hours", 1L));
    assertThat(waiting.nextDueAt()).isEqualTo(opening);
    assertThat(waiting.sent()).isEqualTo(1);
    assertThat(waiting.blocked()).containsEntry(BlockReason.OPT_OUT, 1L);

    // Woken early (an in-memory timer, a poll): nothing goes before its time, nothing is asked.
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    assertThat(ports.dispatched).hasSize(1);
    assertThat(ports.dueAsks).hasValue(0);
    clock.advance(Duration.ofHours(10));
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    // Due, it asks its campaign for a slot once, and sends nothing until it has one; its row
    // says "wake at start" (the campaign grants, the poller does not need to wake it).
    assertThat(ports.dueAsks).hasValue(1);
    assertThat(ports.wakes).last().isEqualTo(Optional.empty());
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    assertThat(ports.dueAsks).hasValue(1);
    assertThat(ports.dispatched).hasSize(1);
    kit.runCommand(BlockEntity.Grant.INSTANCE);
    await().until(() -> ports.dispatched.size() == 2);
    assertThat(kit.getState().waiting()).isFalse();
    assertThat(ports.dispatched.get(1).idempotencyKey())
        .as("the same key as planned")
        .isEqualTo("cmp_1:0:0");
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(1));
    BlockOutcome o = ports.finished.get(0);
    assertThat(o.sent()).isEqualTo(2);
    assertThat(o.blocked()).containsEntry(BlockReason.OPT_OUT, 1L);
    assertThat(o.deferred()).isZero();
    assertThat(o.nextDueAt()).isNull();
  }

  @Test
  void aBlockKeepsItsSlotWhileAnySendIsUnderWayAndWaitsOnlyForDeferredOnes() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    ports.recipients.add(r(2, "+12125550102", "Cy"));
    Instant opening = T0.plus(Duration.ofHours(2));
    Instant capRoom = T0.plus(Duration.ofHours(20));
    ports.stopAtSend.put("cmp_1:0:0", new Decision.Defer(opening, "hours:state:FL"));
    ports.stopAtSend.put("cmp_1:1:0", new Decision.Defer(capRoom, "frequency:tenant:1/24h"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().until(() -> ports.dispatched.size() == 1);
    // Cy's call is under way: the slot stays.
    await().during(Duration.ofMillis(300)).until(() -> ports.waiting.isEmpty());
    ports.answer(
        "cmp_1:2:0", new SendResult.Rejected(503, "service unavailable", true, Optional.empty()));
    // A retry is work being done too; once it is accepted only deferred sends are left.
    await().until(() -> ports.dispatched.size() == 2);
    assertThat(ports.waiting).isEmpty();
    ports.answer("cmp_1:2:0", new SendResult.Accepted("SM-2"));
    await().untilAsserted(() -> assertThat(ports.waiting).hasSize(1));
    BlockOutcome w = ports.waiting.get(0);
    assertThat(w.deferredBy()).containsOnly(Map.entry("hours", 1L), Map.entry("frequency", 1L));
    assertThat(w.nextDueAt()).isEqualTo(opening);

    // Ann's opening: granted, she is sent, and the block waits again for Bob's cap.
    clock.advance(Duration.ofHours(2));
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    assertThat(ports.dueAsks).hasValue(1);
    kit.runCommand(BlockEntity.Grant.INSTANCE);
    await().until(() -> ports.dispatched.size() == 3);
    ports.answer("cmp_1:0:0", new SendResult.Accepted("SM-0"));
    await().untilAsserted(() -> assertThat(ports.waiting).hasSize(2));
    assertThat(ports.waiting.get(1).nextDueAt()).isEqualTo(capRoom);
    assertThat(ports.waiting.get(1).deferredBy()).containsExactly(Map.entry("frequency", 1L));

    // A restart keeps the block waiting: told to start again (its campaign restarting), it says so.
    kit.restart();
    kit.runCommand(new BlockEntity.Start(SPEC));
    assertThat(ports.waiting).hasSize(3);
    assertThat(ports.dueAsks).hasValue(1);
    clock.advance(Duration.ofHours(18));
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    assertThat(ports.dueAsks).hasValue(2);
    kit.runCommand(BlockEntity.Grant.INSTANCE);
    await().until(() -> ports.dispatched.size() == 4);
    ports.answer("cmp_1:1:0", new SendResult.Accepted("SM-1"));
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(1));
    assertThat(ports.finished.get(0).sent()).isEqualTo(3);
    assertThat(ports.keys())
        .as("each sent once")
        .containsExactly("cmp_1:2:0", "cmp_1:2:0", "cmp_1:0:0", "cmp_1:1:0");
  }

  @Test
  void sendsHeldByAStaleNationalCopyKeepTheSlotAndCountAsDeferred() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    ports.stopAtSend.put(
        "cmp_1:0:0", new Decision.Block(BlockReason.DNC_STALE, "dnc:national-copy-stale"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().until(() -> ports.dispatched.size() == 1);
    ports.acceptAll();
    // Every campaign contact waits for a fresh copy, so holding the slot holds back no one.
    await()
        .untilAsserted(
            () ->
                assertThat(ports.progress)
                    .last()
                    .satisfies(
                        p ->
                            assertThat(p.deferredBy()).containsExactly(Map.entry("dncStale", 1L))));
    assertThat(ports.progress).last().satisfies(p -> assertThat(p.nextDueAt()).isNull());
    assertThat(ports.waiting).isEmpty();
    // Checked again after STALE_COPY_RECHECK: a fresh copy lets it go.
    await().atMost(Duration.ofSeconds(15)).until(() -> ports.dispatched.size() == 2);
    assertThat(ports.waiting).isEmpty();
  }

  @Test
  void aSendOutsideItsHoursWaitsWithoutTakingAPermit() {
    ports.rules = ContactRules.defaults();
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    clock.advance(Duration.ofHours(14)); // 00:00 in New York; the hours open at 08:00 (13:00Z)
    Instant opening = Instant.parse("2026-11-26T13:00:00Z");
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().untilAsserted(() -> assertThat(ports.waiting).hasSize(1));
    assertThat(ports.grants).as("no permit, no ledger for a send that must wait").isEmpty();
    assertThat(kit.getState().deferred())
        .containsOnly(Map.entry(Send.slot(0, 0), opening), Map.entry(Send.slot(1, 0), opening));
    assertThat(ports.waiting.get(0).deferredBy()).containsExactly(Map.entry("hours", 2L));
    clock.advance(Duration.between(clock.instant(), opening));
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    kit.runCommand(BlockEntity.Grant.INSTANCE);
    await().until(() -> ports.dispatched.size() == 2);
  }

  private static final long SEGMENT = 10_000; // a cent a segment

  private static BlockSpec budgeted() {
    return new BlockSpec(
        "acme",
        "cmp_9",
        0,
        Channel.SMS,
        "twilio",
        List.of("+15550100001"),
        "Hi {{first_name}}",
        List.of(),
        null,
        List.of(),
        new Budgets(100, null, 60L, "America/New_York"),
        SEGMENT);
  }

  @Test
  void sendsTheBudgetDoesNotCoverAreBlockedAndAcceptedOnesChargedOnce() {
    BlockSpec spec = budgeted();
    kit = kitFor(spec);
    for (int i = 0; i < 10; i++) {
      ports.recipients.add(r(i, "+1212555" + String.format("%04d", 100 + i), "R" + i));
    }
    ports.room = 6 * SEGMENT; // room for six one-segment messages
    kit.runCommand(new BlockEntity.Start(spec));
    await().until(() -> ports.dispatched.size() == 6);
    BlockState s = kit.getState();
    assertThat(s.blocked()).hasSize(4);
    assertThat(s.blocked())
        .allSatisfy(
            b -> {
              assertThat(b.reason()).isEqualTo(BlockReason.BUDGET);
              assertThat(b.rule()).isEqualTo("budget:campaign");
            });
    assertThat(s.blocked()).extracting(BlockedRecipient::recipient).containsExactly(6L, 7L, 8L, 9L);
    assertThat(s.estimatedMicros()).as("what all ten would cost").isEqualTo(10 * SEGMENT);

    // The ledger is down when the first answers come: the charges are tried again.
    ports.ledgerDown = true;
    ports.answer("cmp_9:0:0", new SendResult.Accepted("SM-0"));
    ports.answer(
        "cmp_9:1:0", new SendResult.Rejected(400, "invalid To number", false, Optional.empty()));
    await().during(Duration.ofMillis(500)).until(() -> ports.charges.isEmpty());
    ports.ledgerDown = false;
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    await().untilAsserted(() -> assertThat(ports.charges).hasSize(5));
    assertThat(ports.charges).doesNotContainKey("cmp_9:1:0");
    assertThat(ports.charges.values()).allMatch(c -> c == SEGMENT);
    assertThat(ports.releases.get()).as("released when the first step is done").isPositive();
    BlockOutcome o = ports.finished.get(0);
    assertThat(o.blocked()).containsEntry(BlockReason.BUDGET, 4L);
    assertThat(o.spentMicros()).isEqualTo(5 * SEGMENT);
    assertThat(o.estimatedMicros()).isEqualTo(10 * SEGMENT);

    // After a restart every accepted send is charged again, and counts once.
    kit.restart();
    await().untilAsserted(() -> assertThat(ports.charges).hasSize(5));
    assertThat(ports.reservations).as("one request: the plan").containsOnlyKeys("plan");
  }

  @Test
  void aDeferredSendSurvivesARestart() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    Instant opening = T0.plus(Duration.ofHours(3));
    ports.stopAtSend.put("cmp_1:0:0", new Decision.Defer(opening, "hours:federal"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().untilAsserted(() -> assertThat(kit.getState().deferred()).containsValue(opening));
    await().untilAsserted(() -> assertThat(kit.getState().waiting()).isTrue());
    kit.restart();
    assertThat(ports.dispatched).isEmpty();
    clock.advance(Duration.ofHours(3));
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    assertThat(ports.dueAsks).hasValue(1);
    kit.runCommand(BlockEntity.Grant.INSTANCE);
    await().until(() -> ports.dispatched.size() == 1);
  }

  @Test
  void aLongLivedBlockRecoversFromASnapshotAndGoesOn() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    ports.recipients.add(r(2, null, "Cy"));
    Instant opening = T0.plus(Duration.ofHours(10));
    ports.stopAtSend.put("cmp_1:0:0", new Decision.Defer(opening, "hours:federal"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().until(() -> ports.dispatched.size() == 1);
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(kit.getState().waiting()).isTrue());
    // A long life: paused and resumed until its journal is past a snapshot's turn.
    for (int i = 0; i < 50; i++) {
      kit.runCommand(BlockEntity.Pause.INSTANCE);
      kit.runCommand(BlockEntity.Resume.INSTANCE);
    }
    BlockState lived = kit.getState();
    await()
        .untilAsserted(
            () ->
                assertThat(
                        kit.snapshotTestKit()
                            .orElseThrow()
                            .persistedInStorage("Block|" + SPEC.entityId()))
                    .isNotEmpty());
    assertThat(testKit.serializationTestKit().verifySerialization(lived, true)).isEqualTo(lived);

    assertThat(kit.restart().state()).isEqualTo(lived);
    clock.advance(Duration.ofHours(10));
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    kit.runCommand(BlockEntity.Grant.INSTANCE);
    await().until(() -> ports.dispatched.size() == 2);
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(1));
    assertThat(ports.completed.get(0).sent()).isEqualTo(2);
    assertThat(ports.completed.get(0).blocked()).containsEntry(BlockReason.INVALID, 1L);
  }

  @Test
  void aBlockThatOnlyWaitsAsksToBePassivatedOnceItsWakeUpIsStoredAndNotWhileItHasWork() {
    TestProbe<ClusterSharding.ShardCommand> shard = testKit.createTestProbe();
    kit = kitWithShard(SPEC, shard);
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    ports.recipients.add(r(2, "+12125550102", "Cy"));
    Instant opening = T0.plus(Duration.ofHours(10));
    Instant capRoom = T0.plus(Duration.ofHours(20));
    ports.stopAtSend.put("cmp_1:0:0", new Decision.Defer(opening, "hours:federal"));
    ports.stopAtSend.put("cmp_1:2:0", new Decision.Defer(capRoom, "frequency:tenant:1/24h"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().until(() -> ports.dispatched.size() == 1);
    // Bob's call is under way: the block is working.
    shard.expectNoMessage(Duration.ofMillis(300));
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    shard.expectNoMessage(Duration.ofMillis(100));

    ports.acceptAll();
    expectPassivate(shard);
    assertThat(kit.getState().waiting()).isTrue();
    assertThat(ports.waiting).hasSize(1);
    assertThat(ports.wakes).as("stored before it asked").last().isEqualTo(Optional.of(opening));

    // Started again early (its campaign restarting), it goes back to sleep.
    kit.restart();
    expectPassivate(shard);
    // Started again at Ann's opening, it asks for a slot and waits for it in memory, though Cy's
    // time is hours away.
    clock.advance(Duration.ofHours(10));
    kit.restart();
    await().untilAsserted(() -> assertThat(ports.dueAsks).hasValue(1));
    shard.expectNoMessage(Duration.ofMillis(300));
    kit.runCommand(BlockEntity.Grant.INSTANCE);
    await().until(() -> ports.dispatched.size() == 2);
    shard.expectNoMessage(Duration.ofMillis(200));
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.waiting).hasSize(2));
    expectPassivate(shard);
    assertThat(ports.wakes).last().isEqualTo(Optional.of(capRoom));

    // Done and reported: nothing is left to keep in memory.
    clock.advance(Duration.ofHours(10));
    kit.restart();
    kit.runCommand(BlockEntity.Grant.INSTANCE);
    await().until(() -> ports.dispatched.size() == 3);
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(1));
    expectPassivate(shard);
    assertThat(ports.completed.get(0).sent()).isEqualTo(3);
  }

  @Test
  void aBlockWhoseWakeUpIsNearStaysInMemory() {
    TestProbe<ClusterSharding.ShardCommand> shard = testKit.createTestProbe();
    kit = kitWithShard(SPEC, shard);
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    Instant soon = T0.plus(Duration.ofSeconds(50));
    ports.stopAtSend.put("cmp_1:0:0", new Decision.Defer(soon, "frequency:tenant:1/24h"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().untilAsserted(() -> assertThat(ports.waiting).hasSize(1));
    assertThat(ports.wakes).last().isEqualTo(Optional.of(soon));
    shard.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aBlockWaitingDaysForItsFollowUpsIsPassivatedAndADoneOneAsSoonAsItIsWoken() {
    BlockSpec withSteps =
        new BlockSpec(
            "acme",
            "cmp_5",
            0,
            Channel.SMS,
            "twilio",
            List.of("+15550100001"),
            "Hi {{first_name}}",
            List.of(new CampaignDefinition.FollowUpStep(48, "Still keen, {{first_name}}?")),
            null,
            List.of());
    TestProbe<ClusterSharding.ShardCommand> shard = testKit.createTestProbe();
    kit = kitWithShard(withSteps, shard);
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    kit.runCommand(new BlockEntity.Start(withSteps));
    await().until(() -> ports.dispatched.size() == 1);
    shard.expectNoMessage(Duration.ofMillis(200));
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    expectPassivate(shard);
    assertThat(ports.wakes).last().isEqualTo(Optional.of(T0.plus(Duration.ofHours(48))));

    kit.runCommand(BlockEntity.Cancel.INSTANCE);
    expectPassivate(shard);
    kit.restart();
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    expectPassivate(shard);
    assertThat(ports.dispatched).hasSize(1);
  }

  @Test
  void followUpsGoAfterTheirDelayOnlyToRecipientsWhoseMessageWasSent() {
    BlockSpec withSteps =
        new BlockSpec(
            "acme",
            "cmp_2",
            0,
            Channel.SMS,
            "twilio",
            List.of("+15550100001", "+15550100002"),
            "Hi {{first_name}}",
            List.of(new CampaignDefinition.FollowUpStep(48, "Still keen, {{first_name}}?")),
            null,
            List.of());
    kit = kitFor(withSteps);
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    kit.runCommand(new BlockEntity.Start(withSteps));
    await().until(() -> ports.dispatched.size() == 2);
    ports.answer("cmp_2:0:0", new SendResult.Accepted("SM-A"));
    ports.answer(
        "cmp_2:1:0", new SendResult.Rejected(400, "invalid To number", false, Optional.empty()));
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    assertThat(kit.getState().status()).isEqualTo(BlockEntity.Status.FOLLOWING);
    assertThat(ports.completed).isEmpty();
    await()
        .untilAsserted(
            () -> assertThat(ports.wakes).contains(Optional.of(T0.plus(Duration.ofHours(48)))));

    clock.advance(Duration.ofHours(47));
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    assertThat(ports.dispatched).hasSize(2);
    clock.advance(Duration.ofHours(1));
    kit.restart();
    await().until(() -> ports.dispatched.size() == 3);
    Send followUp = ports.dispatched.get(2);
    assertThat(followUp.idempotencyKey()).isEqualTo("cmp_2:0:1");
    assertThat(followUp.body()).isEqualTo("Still keen, Ann?");
    assertThat(followUp.from())
        .as("the sticky sender of the first message")
        .isEqualTo(ports.dispatched.get(0).from());
    Contact asGated = ports.contacts.get(ports.contacts.size() - 1);
    assertThat(asGated.purpose()).isEqualTo(Purpose.FOLLOW_UP);
    assertThat(asGated.firstMessageAt()).isEqualTo(T0);
    assertThat(asGated.zones()).containsExactly(java.time.ZoneId.of("America/New_York"));
    assertThat(asGated.usState()).isEqualTo("NY");
    assertThat(ports.contacts.get(0).purpose()).isEqualTo(Purpose.CAMPAIGN);
    ports.answer("cmp_2:0:1", new SendResult.Accepted("SM-A2"));
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(1));
    assertThat(ports.completed.get(0).followUpsSent()).isEqualTo(1);
    assertThat(kit.getState().status()).isEqualTo(BlockEntity.Status.DONE);
  }

  @Test
  void cathysKillSwitchHoldsFollowUpsAndHerCapEndsThem() {
    BlockSpec withSteps =
        new BlockSpec(
            "acme",
            "cmp_cathy",
            0,
            Channel.SMS,
            "twilio",
            List.of("+15550100001"),
            "Hi {{first_name}}",
            List.of(
                new CampaignDefinition.FollowUpStep(24, "Again, {{first_name}}"),
                new CampaignDefinition.FollowUpStep(24, "Third, {{first_name}}"),
                new CampaignDefinition.FollowUpStep(24, "Fourth, {{first_name}}")),
            null,
            List.of(),
            new io.outreach.engine.spend.Budgets(1_000_000, null, null, "America/New_York"),
            8_300,
            new io.outreach.engine.compliance.FollowUpPolicy(
                1, Duration.ofHours(24), null, "America/New_York"));
    assertThat(withSteps.stepCount()).as("Cathy allows one follow-up of the three").isEqualTo(2);
    kit = kitFor(withSteps);
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    kit.runCommand(new BlockEntity.Start(withSteps));
    await().until(() -> ports.dispatched.size() == 1);
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    ports.followUpsHeld = Optional.of("kill-switch:agent");
    clock.advance(Duration.ofHours(24));
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(2))
        .untilAsserted(() -> assertThat(ports.dispatched).as("held, not sent").hasSize(1));
    // Released: the follow-up goes, and it is the last one.
    ports.followUpsHeld = Optional.empty();
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    await().until(() -> ports.dispatched.size() == 2);
    assertThat(ports.contacts.get(ports.contacts.size() - 1).agent()).isEqualTo("cathy");
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(1));
    assertThat(ports.completed.get(0).followUpsSent()).isEqualTo(1);
    assertThat(kit.getState().status()).isEqualTo(BlockEntity.Status.DONE);
  }

  @Test
  void aReplyStopsTheFollowUpAtSendTime() {
    BlockSpec withSteps =
        new BlockSpec(
            "acme",
            "cmp_3",
            0,
            Channel.SMS,
            "twilio",
            List.of("+15550100001"),
            "Hi {{first_name}}",
            List.of(new CampaignDefinition.FollowUpStep(24, "Again, {{first_name}}")),
            null,
            List.of());
    kit = kitFor(withSteps);
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    kit.runCommand(new BlockEntity.Start(withSteps));
    await().until(() -> ports.dispatched.size() == 1);
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    ports.stopAtSend.put("cmp_3:0:1", new Decision.Block(BlockReason.REPLIED, "stop-on-reply"));
    clock.advance(Duration.ofHours(24));
    kit.runCommand(BlockEntity.Wake.INSTANCE);
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(1));
    assertThat(ports.completed.get(0).followUpsStopped()).isEqualTo(1);
    assertThat(ports.dispatched).hasSize(1);
  }

  @Test
  void pauseHoldsSendsAndCancelEndsTheBlock() {
    for (int i = 0; i < 40; i++) {
      ports.recipients.add(r(i, "+1212555" + String.format("%04d", 100 + i), "R" + i));
    }
    kit.runCommand(BlockEntity.Pause.INSTANCE);
    kit.runCommand(new BlockEntity.Start(SPEC));
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(2))
        .until(() -> ports.dispatched.isEmpty());
    kit.runCommand(BlockEntity.Resume.INSTANCE);
    await().until(() -> ports.dispatched.size() == SendQueue.MAX_IN_FLIGHT);
    kit.runCommand(BlockEntity.Cancel.INSTANCE);
    assertThat(kit.getState().status()).isEqualTo(BlockEntity.Status.DONE);
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(1));
    assertThat(ports.dispatched)
        .as("nothing new starts after the cancel")
        .hasSize(SendQueue.MAX_IN_FLIGHT);
  }

  @Test
  void aFailedSendTimeCheckSendsNothingAndIsRetried() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.storeDown = true;
    kit.runCommand(new BlockEntity.Start(SPEC));
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(2))
        .until(() -> ports.dispatched.isEmpty());
    ports.storeDown = false;
    await().atMost(Duration.ofSeconds(5)).until(() -> ports.dispatched.size() == 1);
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    assertThat(ports.finished.get(0).sent()).isEqualTo(1);
  }

  /**
   * A journal failure restarts the block inside the same object and cancels its timers: what was on
   * its way (here a send waiting to retry its send-time checks) must not be remembered, or it waits
   * for a timer that never fires and the block never ends (the fault suite's database row on CI).
   */
  @Test
  void afterAJournalFailureTheBlockForgetsWhatWasOnItsWayAndGoesOn() {
    BlockSpec spec = spec("cmp_journal_failure");
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.storeDown = true;
    var block = testKit.spawn(BlockEntity.create(spec.entityId(), ports, clock, 4, null));
    block.tell(new BlockEntity.Start(spec));
    await().until(() -> !ports.grants.isEmpty());
    // The send waits a second to be checked again; the journal fails before that.
    PersistenceTestKit.create(testKit.system()).failNextPersisted();
    block.tell(BlockEntity.Pause.INSTANCE);
    ports.storeDown = false;
    await().atMost(Duration.ofSeconds(10)).until(() -> ports.dispatched.size() == 1);
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    assertThat(ports.finished.get(0).sent()).isEqualTo(1);
    assertThat(ports.dispatched).as("sent once").hasSize(1);
  }

  @Test
  void stickySendersAreStableAndSpreadAcrossNumbers() {
    List<String> senders = List.of("+15550100001", "+15550100002", "+15550100003");
    BlockSpec spec =
        new BlockSpec(
            "acme", "cmp_4", 0, Channel.SMS, "twilio", senders, "Hi", List.of(), null, List.of());
    Map<String, Integer> use = new java.util.HashMap<>();
    for (int i = 0; i < 3000; i++) {
      String phone = "+1212555" + String.format("%04d", i);
      String s = spec.senderFor(phone);
      assertThat(spec.senderFor(phone)).isEqualTo(s);
      use.merge(s, 1, Integer::sum);
      // Adding a sender moves a number only to the new sender.
      String after =
          StickySender.choose(
              List.of(senders.get(0), senders.get(1), senders.get(2), "+15550100009"), phone);
      assertThat(after).isIn(s, "+15550100009");
    }
    assertThat(use.values()).allMatch(n -> n > 800);
  }
}
