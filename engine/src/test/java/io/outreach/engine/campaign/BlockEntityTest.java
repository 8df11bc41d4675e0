package io.outreach.engine.campaign;

import io.outreach.engine.EntityTestKits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.dnc.DncRegistry.Listing;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BlockEntityTest {
  private static final BlockSpec SPEC =
      new BlockSpec("acme", "cmp_1", 0, Channel.SMS, "twilio", "+15550100001", "Hi {{first_name}}");
  private static ActorTestKit testKit;

  /** Ports under the test's control: sends wait until the test answers them. */
  static final class ScriptedPorts implements BlockPorts {
    final List<Recipient> recipients = new ArrayList<>();
    GateFacts facts = new GateFacts(List.of(), false, Map.of(), Set.of());
    Set<String> contacted = Set.of();
    final Map<String, CompletableFuture<SendResult>> sends = new ConcurrentHashMap<>();
    final List<SmsRequest> requests = new CopyOnWriteArrayList<>();
    final List<BlockOutcome> finished = new CopyOnWriteArrayList<>();

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

    volatile Optional<String> stop = Optional.empty();

    @Override
    public CompletionStage<Optional<String>> stopped(BlockSpec spec) {
      return CompletableFuture.completedFuture(stop);
    }

    @Override
    public CompletionStage<SendResult> send(BlockSpec spec, SmsRequest request) {
      requests.add(request);
      CompletableFuture<SendResult> f = new CompletableFuture<>();
      sends.put(request.idempotencyKey() + "#" + requests.size(), f);
      return f;
    }

    @Override
    public void finished(BlockSpec spec, BlockOutcome outcome) {
      finished.add(outcome);
    }

    /** Answers every open send of {@code key} with {@code result}. */
    void answer(String key, SendResult result) {
      sends.forEach((k, f) -> {
        if (k.startsWith(key + "#") && !f.isDone()) {
          f.complete(result);
        }
      });
    }
  }

  private ScriptedPorts ports;
  private EventSourcedBehaviorTestKit<BlockEntity.Command, BlockEntity.Event, BlockEntity.State> kit;

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
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), BlockEntity.create(SPEC.entityId(), ports));
    kit.clear();
  }

  private static Recipient r(long no, String phone, String firstName) {
    return new Recipient(no, "lead-" + no, phone, firstName == null ? Map.of() : Map.of("first_name", firstName));
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
        new GateFacts(List.of(), false, Map.of("+12125550101", Listing.TENANT, "+12125550102", Listing.NATIONAL), Set.of());
    ports.contacted = Set.of("+12125550105");
  }

  @Test
  void decidesEveryRecipientJournalsIntentsThenSendsOnce() {
    tenRecipients();
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().until(() -> ports.requests.size() == 6);
    BlockEntity.State s = kit.getState();
    assertThat(s.status()).isEqualTo(BlockEntity.Status.SENDING);
    assertThat(s.blocked()).extracting(BlockEntity.Blocked::rule)
        .containsExactly("dnc:tenant", "dnc:national", "invalid:missing-field:first_name", "invalid:no-phone");
    assertThat(ports.requests).extracting(SmsRequest::idempotencyKey)
        .containsExactlyInAnyOrder("cmp_1:0:0", "cmp_1:5:0", "cmp_1:6:0", "cmp_1:7:0", "cmp_1:8:0", "cmp_1:9:0");
    SmsRequest ann = ports.requests.stream().filter(q -> q.to().equals("+12125550100")).findFirst().orElseThrow();
    assertThat(ann.body()).isEqualTo("Hi Ann\nReply STOP to opt out");
    SmsRequest ed = ports.requests.stream().filter(q -> q.to().equals("+12125550105")).findFirst().orElseThrow();
    assertThat(ed.body()).as("a number contacted before gets no second disclosure").isEqualTo("Hi Ed");

    for (SmsRequest q : ports.requests) {
      ports.answer(q.idempotencyKey(), new SendResult.Accepted("SM-" + q.idempotencyKey()));
    }
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    BlockOutcome o = ports.finished.get(0);
    assertThat(o.sent()).isEqualTo(6);
    assertThat(o.failed()).isZero();
    assertThat(o.blocked()).containsEntry(BlockReason.DNC, 2L).containsEntry(BlockReason.INVALID, 2L);
    assertThat(o.sent() + o.failed() + o.blocked().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(10);
    assertThat(kit.getState().status()).isEqualTo(BlockEntity.Status.FINISHED);
    // Asked again (a campaign restarting), a finished block only reports again.
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(2));
    assertThat(ports.requests).hasSize(6);
  }

  @Test
  void restartResendsOnlyWhatHasNoOutcomeWithTheSameKeys() {
    tenRecipients();
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().until(() -> ports.requests.size() == 6);
    List<SmsRequest> first = List.copyOf(ports.requests);
    for (int i = 0; i < 3; i++) {
      ports.answer(first.get(i).idempotencyKey(), new SendResult.Accepted("SM-" + i));
    }
    await().untilAsserted(() -> assertThat(kit.getState().outcomes()).hasSize(3));
    ports.requests.clear();
    kit.restart();
    await().until(() -> ports.requests.size() == 3);
    assertThat(ports.requests).extracting(SmsRequest::idempotencyKey)
        .containsExactlyInAnyOrderElementsOf(first.subList(3, 6).stream().map(SmsRequest::idempotencyKey).toList());
  }

  @Test
  void transientRejectionsAreRetriedAndFinalOnesFail() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().until(() -> ports.requests.size() == 2);
    ports.answer("cmp_1:0:0", new SendResult.Rejected(429, "too many requests", true, Optional.of(Duration.ofMillis(10))));
    ports.answer("cmp_1:1:0", new SendResult.Rejected(400, "invalid To number", false, Optional.empty()));
    await().until(() -> ports.requests.size() == 3);
    ports.answer("cmp_1:0:0", new SendResult.Accepted("SM-1"));
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    assertThat(ports.finished.get(0).sent()).isEqualTo(1);
    assertThat(ports.finished.get(0).failed()).isEqualTo(1);
    assertThat(kit.getState().outcomes().get(1L).reason()).isEqualTo("invalid To number");
  }

  @Test
  void aKillSwitchHoldsSendsUntilReleased() {
    ports.recipients.add(r(0, "+12125550100", "Ann"));
    ports.recipients.add(r(1, "+12125550101", "Bob"));
    ports.stop = Optional.of("kill-switch:tenant");
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> ports.requests.isEmpty());
    assertThat(kit.getState().status()).isEqualTo(BlockEntity.Status.SENDING);
    ports.stop = Optional.empty();
    await().atMost(Duration.ofSeconds(5)).until(() -> ports.requests.size() == 2);
    ports.requests.forEach(q -> ports.answer(q.idempotencyKey(), new SendResult.Accepted("SM")));
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    assertThat(ports.finished.get(0).sent()).isEqualTo(2);
  }

  @Test
  void aBlockWithNothingToSendFinishesAtOnce() {
    ports.recipients.add(r(0, null, "Ann"));
    kit.runCommand(new BlockEntity.Start(SPEC));
    await().untilAsserted(() -> assertThat(ports.finished).hasSize(1));
    assertThat(ports.finished.get(0).blocked()).containsEntry(BlockReason.INVALID, 1L);
    assertThat(ports.requests).isEmpty();
  }
}
