package io.outreach.engine.conversation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.outreach.engine.EntityTestKits;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tenant's inbox: one batch at a time; wakes during a batch make one more batch, not one each;
 * a full batch is followed by another; a failed one is retried; the people with messages to answer
 * are handed on.
 */
class ConversationInboxTest {
  private static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = EntityTestKits.create();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** Batches the test completes by hand. */
  static final class ScriptedInbox implements InboxPorts {
    final LinkedBlockingQueue<CompletableFuture<InboxBatch>> batches = new LinkedBlockingQueue<>();
    final AtomicInteger concurrent = new AtomicInteger();
    final AtomicInteger maxConcurrent = new AtomicInteger();
    final List<String> answered = new CopyOnWriteArrayList<>();
    final List<String> classified = new CopyOnWriteArrayList<>();
    final List<Long> settledAt = new CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<InboxBatch> processNext(String tenantId) {
      assertThat(tenantId).isEqualTo("acme");
      maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
      CompletableFuture<InboxBatch> f = new CompletableFuture<>();
      batches.add(f);
      return f.whenComplete((ok, err) -> concurrent.decrementAndGet());
    }

    @Override
    public void answer(String tenantId, String phone) {
      answered.add(tenantId + ":" + phone);
    }

    @Override
    public void classify(String tenantId) {
      classified.add(tenantId);
    }

    @Override
    public CompletionStage<Void> settle(String tenantId) {
      settledAt.add(System.nanoTime());
      return CompletableFuture.completedFuture(null);
    }

    CompletableFuture<InboxBatch> next() throws InterruptedException {
      CompletableFuture<InboxBatch> f = batches.poll(5, TimeUnit.SECONDS);
      assertThat(f).as("a batch was asked for").isNotNull();
      return f;
    }
  }

  @Test
  void wakesDuringABatchMakeOneMoreBatchAndAFullBatchIsFollowedByAnother() throws Exception {
    ScriptedInbox ports = new ScriptedInbox();
    ActorRef<ConversationInbox.Command> inbox =
        testKit.spawn(ConversationInbox.create("acme", ports));
    inbox.tell(ConversationInbox.Wake.INSTANCE);
    CompletableFuture<InboxBatch> first = ports.next();
    for (int i = 0; i < 50; i++) {
      inbox.tell(ConversationInbox.Wake.INSTANCE);
    }
    first.complete(new InboxBatch(3, false, List.of("+12125550101"), false));
    // The 50 wakes make exactly one more batch.
    CompletableFuture<InboxBatch> second = ports.next();
    second.complete(new InboxBatch(1000, true, List.of(), true));
    // A full batch: more may wait, so another without a wake.
    ports.next().complete(new InboxBatch(2, false, List.of("+12125550102"), false));
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(2))
        .untilAsserted(() -> assertThat(ports.batches).as("no batch without a wake").isEmpty());
    assertThat(ports.maxConcurrent.get()).isEqualTo(1);
    assertThat(ports.answered).containsExactly("acme:+12125550101", "acme:+12125550102");
    assertThat(ports.classified)
        .as("only the batch with plain replies wakes Gianna")
        .containsExactly("acme");
  }

  @Test
  void theInboxSettlesItsMarkerOnlyAfterBeingIdle() throws Exception {
    ScriptedInbox ports = new ScriptedInbox();
    ActorRef<ConversationInbox.Command> inbox =
        testKit.spawn(ConversationInbox.create("acme", ports));
    inbox.tell(ConversationInbox.Wake.INSTANCE);
    ports.next().complete(new InboxBatch(1, false, List.of(), false));
    // Replies keep coming, closer together than SETTLE: no settling meanwhile.
    ScheduledExecutorService replies = Executors.newSingleThreadScheduledExecutor();
    replies.scheduleAtFixedRate(
        () -> {
          inbox.tell(ConversationInbox.Wake.INSTANCE);
          try {
            CompletableFuture<InboxBatch> batch = ports.batches.poll(1, TimeUnit.SECONDS);
            if (batch != null) {
              batch.complete(new InboxBatch(1, false, List.of(), false));
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        },
        0,
        ConversationInbox.SETTLE.toMillis() / 4,
        TimeUnit.MILLISECONDS);
    await()
        .during(ConversationInbox.SETTLE.multipliedBy(2))
        .atMost(ConversationInbox.SETTLE.multipliedBy(2).plusSeconds(1))
        .untilAsserted(() -> assertThat(ports.settledAt).as("settled while busy").isEmpty());
    replies.shutdown();
    assertThat(replies.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    ports.batches.forEach(b -> b.complete(new InboxBatch(1, false, List.of(), false)));
    long idleFrom = System.nanoTime();
    await()
        .atMost(ConversationInbox.SETTLE.plusSeconds(5))
        .until(() -> ports.settledAt.size() == 1);
    assertThat(Duration.ofNanos(ports.settledAt.get(0) - idleFrom))
        .isGreaterThanOrEqualTo(ConversationInbox.SETTLE.minusMillis(500));
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(2))
        .until(() -> ports.settledAt.size() == 1);
  }

  @Test
  void aFailedBatchIsRetried() throws Exception {
    ScriptedInbox ports = new ScriptedInbox();
    ActorRef<ConversationInbox.Command> inbox =
        testKit.spawn(ConversationInbox.create("acme", ports));
    inbox.tell(ConversationInbox.Wake.INSTANCE);
    ports.next().completeExceptionally(new IllegalStateException("database down"));
    long failedAt = System.nanoTime();
    CompletableFuture<InboxBatch> retry =
        ports.batches.poll(ConversationInbox.RETRY.toMillis() + 5000, TimeUnit.MILLISECONDS);
    assertThat(retry).as("retried without a wake").isNotNull();
    assertThat(Duration.ofNanos(System.nanoTime() - failedAt))
        .isGreaterThanOrEqualTo(ConversationInbox.RETRY.minusMillis(100));
    retry.complete(new InboxBatch(1, false, List.of("+12125550103"), false));
    await().atMost(Duration.ofSeconds(5)).until(() -> ports.answered.contains("acme:+12125550103"));
  }
}
