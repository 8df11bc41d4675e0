package io.outreach.engine.campaign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.outreach.engine.EntityTestKits;
import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.Channel;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CampaignEntityTest {
  private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");
  private static ActorTestKit testKit;

  /** Ports under the test's control. */
  static final class ScriptedPorts implements CampaignPorts {
    final List<CompletableFuture<Long>> snapshots = new CopyOnWriteArrayList<>();
    final List<Integer> started = new CopyOnWriteArrayList<>();
    final List<String> settled = new CopyOnWriteArrayList<>();
    final List<String> told = new CopyOnWriteArrayList<>();

    @Override
    public void tellBlock(
        String tenantId, String campaignId, int block, BlockEntity.Command command) {
      told.add(block + ":" + command);
    }

    @Override
    public void settled(String tenantId, String campaignId) {
      settled.add(campaignId);
    }

    @Override
    public CompletionStage<Long> snapshotAudience(
        String tenantId, String campaignId, CampaignDefinition.Audience audience) {
      CompletableFuture<Long> f = new CompletableFuture<>();
      snapshots.add(f);
      return f;
    }

    @Override
    public void startBlock(
        String tenantId, String campaignId, int block, CampaignDefinition definition) {
      started.add(block);
    }
  }

  private ScriptedPorts ports;
  private EventSourcedBehaviorTestKit<
          CampaignEntity.Command, CampaignEntity.Event, CampaignEntity.State>
      kit;

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
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            CampaignEntity.create("acme:cmp_1", ports, Clock.fixed(T0, ZoneOffset.UTC), 2, 4));
    kit.clear();
  }

  static CampaignDefinition definition(Instant startAt) {
    return new CampaignDefinition(
        "Winter",
        Channel.SMS,
        null,
        new CampaignDefinition.Audience("imp_1", null),
        "Hi {{#first_name}}{{first_name}}{{/first_name}}{{^first_name}}there{{/first_name}}",
        List.of(),
        null,
        null,
        startAt);
  }

  private CampaignView create(CampaignDefinition d) {
    return kit.<StatusReply<CampaignView>>runCommand(r -> new CampaignEntity.Create(d, "ops", r))
        .reply()
        .getValue();
  }

  private StatusReply<CampaignView> launch() {
    return kit.<StatusReply<CampaignView>>runCommand(r -> new CampaignEntity.Launch("ops", r))
        .reply();
  }

  private static BlockOutcome outcome(int block, long sent, long dnc) {
    return BlockOutcome.of(block, sent, 0, Map.of(BlockReason.DNC, dnc), 0, 0);
  }

  @Test
  void invalidDefinitionsAreRefusedNamingEveryProblem() {
    var bad =
        new CampaignDefinition(
            "",
            Channel.VOICE,
            "carrier-pigeon",
            new CampaignDefinition.Audience(null, null),
            "Hi {{first_name",
            List.of(new CampaignDefinition.FollowUpStep(0, "")),
            null,
            -1L,
            T0.minusSeconds(3600));
    var reply =
        kit.<StatusReply<CampaignView>>runCommand(r -> new CampaignEntity.Create(bad, "ops", r))
            .reply();
    assertThat(reply.isError()).isTrue();
    assertThat(reply.getError().getMessage())
        .startsWith("invalid:")
        .contains(
            "name",
            "provider",
            "audience",
            "message",
            "steps[0].afterHours",
            "budgetCents",
            "startAt");
    assertThat(kit.getState().status()).isEqualTo(CampaignEntity.Status.NEW);
  }

  /**
   * Calls go through Twilio: a voice campaign, or a text one with a call step, elsewhere is not.
   */
  @Test
  void aCallNeedsTwilio() {
    var audience = new CampaignDefinition.Audience(null, true);
    var voice =
        new CampaignDefinition(
            "Calls", Channel.VOICE, "signalhouse", audience, "Hi", null, null, null, null);
    var mixed =
        new CampaignDefinition(
            "Mixed",
            Channel.SMS,
            "signalhouse",
            audience,
            "Hi",
            List.of(new CampaignDefinition.FollowUpStep(48, "Calling you", Channel.VOICE)),
            null,
            null,
            null);
    assertThat(voice.problems(T0)).singleElement().asString().contains("twilio");
    assertThat(mixed.problems(T0)).singleElement().asString().contains("twilio");
    assertThat(mixed.channel(1)).isEqualTo(Channel.VOICE);
    assertThat(mixed.channel(0)).isEqualTo(Channel.SMS);
    var twilio =
        new CampaignDefinition(
            "Calls", Channel.VOICE, "twilio", audience, "Hi", null, null, null, null);
    assertThat(twilio.problems(T0)).isEmpty();
  }

  @Test
  void launchSnapshotsPlansBlocksAndKeepsAtMostTwoInFlight() {
    assertThat(create(definition(null)).state()).isEqualTo("draft");
    assertThat(launch().getValue().state()).isEqualTo("running");
    await().until(() -> ports.snapshots.size() == 1);
    ports.snapshots.get(0).complete(1250L);
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1));
    assertThat(kit.getState().blocks()).isEqualTo(3);

    // Running blocks' progress shows in the counts before they finish.
    kit.runCommand(new CampaignEntity.BlockProgress(outcome(0, 100, 3)));
    kit.runCommand(new CampaignEntity.BlockProgress(outcome(1, 50, 0)));
    CampaignView live =
        kit.<StatusReply<CampaignView>>runCommand(CampaignEntity.Get::new).reply().getValue();
    assertThat(live.counts().sent()).isEqualTo(150);
    assertThat(live.counts().blocked()).containsEntry(BlockReason.DNC, 3L);

    kit.runCommand(new CampaignEntity.BlockFinished(outcome(0, 490, 10)));
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1, 2));
    kit.runCommand(new CampaignEntity.BlockFinished(outcome(0, 490, 10)));
    kit.runCommand(new CampaignEntity.BlockFinished(outcome(1, 500, 0)));
    kit.runCommand(new CampaignEntity.BlockFinished(outcome(2, 248, 2)));
    assertThat(kit.getState().status())
        .as("follow-ups may still be due")
        .isEqualTo(CampaignEntity.Status.RUNNING);
    CampaignView finished =
        kit.<StatusReply<CampaignView>>runCommand(CampaignEntity.Get::new).reply().getValue();
    assertThat(finished.counts().sent())
        .as("a finished block's progress is not counted twice")
        .isEqualTo(1238);
    for (int b = 0; b < 3; b++) {
      kit.runCommand(new CampaignEntity.BlockDone(BlockOutcome.of(b, 0, 0, Map.of(), 7, 1)));
    }
    CampaignEntity.State s = kit.getState();
    assertThat(s.status()).isEqualTo(CampaignEntity.Status.COMPLETED);
    CampaignCounts c = s.counts();
    assertThat(c.recipients()).isEqualTo(1250);
    assertThat(c.sent()).isEqualTo(1238);
    assertThat(c.blocked()).containsEntry(BlockReason.DNC, 12L);
    assertThat(c.recipients()).isEqualTo(c.sent() + c.failed() + c.blockedTotal());
    assertThat(c.pending()).isZero();
    assertThat(c.followUpsSent()).isEqualTo(21);
    assertThat(c.followUpsStopped()).isEqualTo(3);
    await().untilAsserted(() -> assertThat(ports.settled).contains("cmp_1"));
  }

  private static BlockOutcome waiting(int block, long sent, long hours, Instant nextDueAt) {
    return new BlockOutcome(
        block, sent, 0, Map.of(), hours, Map.of("hours", hours), nextDueAt, 0, 0);
  }

  private CampaignView view() {
    return kit.<StatusReply<CampaignView>>runCommand(CampaignEntity.Get::new).reply().getValue();
  }

  @Test
  void aWaitingBlockFreesItsSlotAndADueOneGoesBeforeNewBlocks() {
    create(definition(null));
    launch();
    await().until(() -> ports.snapshots.size() == 1);
    ports.snapshots.get(0).complete(2500L); // 5 blocks, 2 in flight
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1));
    Instant opening = T0.plusSeconds(7200);

    // Block 0's remaining first messages all wait: its slot goes to block 2, and so on.
    kit.runCommand(new CampaignEntity.BlockWaiting(waiting(0, 400, 100, opening)));
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1, 2));
    kit.runCommand(new CampaignEntity.BlockWaiting(waiting(0, 400, 100, opening)));
    kit.runCommand(
        new CampaignEntity.BlockWaiting(waiting(1, 300, 200, opening.plusSeconds(3600))));
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1, 2, 3));
    assertThat(kit.getState().inFlight()).isEqualTo(2);
    CampaignView v = view();
    assertThat(v.counts().sent()).isEqualTo(700);
    assertThat(v.counts().deferred()).isEqualTo(300);
    assertThat(v.counts().deferredBy()).containsExactly(Map.entry("hours", 300L));
    assertThat(v.nextDueAt()).isEqualTo(opening);
    assertThat(v.blocksWaiting()).isEqualTo(2);

    // Block 0 falls due while no slot is free: it waits for one, then goes before block 4.
    kit.runCommand(new CampaignEntity.BlockDue(0));
    assertThat(ports.told).isEmpty();
    kit.runCommand(new CampaignEntity.BlockFinished(outcome(2, 500, 0)));
    await().untilAsserted(() -> assertThat(ports.told).containsExactly("0:INSTANCE"));
    assertThat(ports.started).containsExactly(0, 1, 2, 3);
    kit.runCommand(new CampaignEntity.BlockFinished(outcome(3, 500, 0)));
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1, 2, 3, 4));

    // A restart keeps which blocks wait (their counts included) and tells every block again.
    ports.started.clear();
    CampaignEntity.State after = kit.restart().state();
    assertThat(after.waiting()).containsOnlyKeys(1);
    await().untilAsserted(() -> assertThat(ports.started).containsExactlyInAnyOrder(0, 1, 2, 3, 4));
    assertThat(view().counts().deferredBy()).containsExactly(Map.entry("hours", 200L));
    assertThat(view().nextDueAt()).isEqualTo(opening.plusSeconds(3600));

    // A waiting block finishing (cancelled, say) is counted once, and not as waiting.
    kit.runCommand(new CampaignEntity.BlockFinished(outcome(1, 500, 0)));
    assertThat(kit.getState().waiting()).isEmpty();
    assertThat(view().counts().sent()).isEqualTo(1500);
    assertThat(view().counts().deferred()).isZero();
  }

  @Test
  void pauseStopsNewBlocksAndResumeContinues() {
    create(definition(null));
    launch();
    await().until(() -> ports.snapshots.size() == 1);
    ports.snapshots.get(0).complete(1500L);
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1));
    assertThat(
            kit.<StatusReply<CampaignView>>runCommand(r -> new CampaignEntity.Pause("ops", r))
                .reply()
                .getValue()
                .state())
        .isEqualTo("paused");
    assertThat(ports.told).containsExactly("0:INSTANCE", "1:INSTANCE");
    kit.runCommand(new CampaignEntity.BlockFinished(outcome(0, 500, 0)));
    assertThat(ports.started).containsExactly(0, 1);
    kit.<StatusReply<CampaignView>>runCommand(r -> new CampaignEntity.Resume("ops", r));
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1, 2));
    assertThat(ports.told).hasSize(4);
  }

  @Test
  void restartMidRunTellsUnfinishedBlocksAgain() {
    create(definition(null));
    launch();
    await().until(() -> ports.snapshots.size() == 1);
    ports.snapshots.get(0).complete(1500L);
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1));
    kit.runCommand(new CampaignEntity.BlockFinished(outcome(0, 500, 0)));
    kit.runCommand(new CampaignEntity.BlockDone(outcome(0, 500, 0)));
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1, 2));
    kit.runCommand(new CampaignEntity.BlockFinished(outcome(1, 500, 0)));
    ports.started.clear();
    var restarted = kit.restart();
    assertThat(restarted.state().status()).isEqualTo(CampaignEntity.Status.RUNNING);
    // Block 1 finished its first step but is not done (follow-ups); block 2 is running.
    await().untilAsserted(() -> assertThat(ports.started).containsExactlyInAnyOrder(1, 2));
  }

  @Test
  void futureStartIsScheduledAndLifecycleIsGuarded() {
    Instant later = T0.plusSeconds(3600);
    create(definition(later));
    CampaignView v = launch().getValue();
    assertThat(v.state()).isEqualTo("scheduled");
    assertThat(v.startAt()).isEqualTo(later);
    assertThat(ports.snapshots).isEmpty();
    assertThat(launch().getError().getMessage()).startsWith("conflict:");
    assertThat(
            kit.<StatusReply<CampaignView>>runCommand(r -> new CampaignEntity.Cancel("ops", r))
                .reply()
                .getValue()
                .state())
        .isEqualTo("cancelled");
    assertThat(
            kit.<StatusReply<CampaignView>>runCommand(r -> new CampaignEntity.Resume("ops", r))
                .reply()
                .getError()
                .getMessage())
        .startsWith("conflict:");
  }

  /**
   * Follow-ups Cathy drafted wait for their reviews: no launch until each is decided; an approval
   * (edited) gives its step the text, a rejection removes the step; both survive a restart, and a
   * decision repeated or about no waiting step changes nothing.
   */
  @Test
  void draftedFollowUpsHoldTheLaunchUntilEveryReviewIsDecided() {
    var undrafted =
        definition(null)
            .withSteps(
                List.of(
                    CampaignDefinition.FollowUpStep.toDraft(24, "remind them", null),
                    CampaignDefinition.FollowUpStep.toDraft(48, "last call", null),
                    new CampaignDefinition.FollowUpStep(72, "Bye {{first_name}}")));
    assertThat(undrafted.problems(T0)).as("a brief is a valid request").isEmpty();
    var refused =
        kit.<StatusReply<CampaignView>>runCommand(
                r -> new CampaignEntity.Create(undrafted, "ops", r))
            .reply();
    assertThat(refused.getError().getMessage()).startsWith("invalid:").contains("drafted by Cathy");

    List<CampaignDefinition.FollowUpStep> steps = new java.util.ArrayList<>(undrafted.steps());
    steps.set(0, steps.get(0).drafted("Still keen, {{first_name}}?", "anthropic:m", "rev_a"));
    steps.set(1, steps.get(1).drafted("Last chance!", "anthropic:m", "rev_b"));
    create(undrafted.withSteps(steps));
    assertThat(launch().getError().getMessage())
        .startsWith("conflict:")
        .contains("steps[0]", "rev_a");

    assertThat(decide("rev_a", "Still keen on the offer, {{first_name}}?").isSuccess()).isTrue();
    assertThat(launch().getError().getMessage()).contains("steps[1]", "rev_b");
    assertThat(decide("rev_b", null).isSuccess()).isTrue();
    kit.restart();
    assertThat(kit.getState().definition().steps())
        .extracting(CampaignDefinition.FollowUpStep::message)
        .containsExactly("Still keen on the offer, {{first_name}}?", "Bye {{first_name}}");
    assertThat(kit.getState().definition().reviewsPending()).isEmpty();

    var again = kit.<StatusReply<Done>>runCommand(r -> decideCommand("rev_a", "Other", r));
    assertThat(again.reply().isSuccess()).isTrue();
    assertThat(again.events()).as("decided once").isEmpty();
    assertThat(launch().getValue().state()).isEqualTo("running");
  }

  private StatusReply<Done> decide(String review, String text) {
    return kit.<StatusReply<Done>>runCommand(r -> decideCommand(review, text, r)).reply();
  }

  private static CampaignEntity.Command decideCommand(
      String review, String text, org.apache.pekko.actor.typed.ActorRef<StatusReply<Done>> r) {
    return new CampaignEntity.DecideFollowUp(review, text, "reviewer", r);
  }

  /** The campaign under test, asking {@code shard} to passivate it. */
  private void withShard(TestProbe<ClusterSharding.ShardCommand> shard) {
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            CampaignEntity.create(
                "acme:cmp_1", ports, Clock.fixed(T0, ZoneOffset.UTC), 2, 4, shard.ref()));
    kit.clear();
  }

  @Test
  void aCompletedCampaignLeavesMemoryAndAnswersWhenStartedAgain() {
    TestProbe<ClusterSharding.ShardCommand> shard = testKit.createTestProbe();
    withShard(shard);
    create(definition(null));
    launch();
    await().until(() -> ports.snapshots.size() == 1);
    ports.snapshots.get(0).complete(600L);
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1));
    kit.runCommand(new CampaignEntity.BlockDone(outcome(0, 500, 0)));
    shard.expectNoMessage(Duration.ofMillis(200));

    kit.runCommand(new CampaignEntity.BlockDone(outcome(1, 100, 0)));
    assertThat(kit.getState().status()).isEqualTo(CampaignEntity.Status.COMPLETED);
    assertThat(shard.receiveMessage()).isInstanceOf(ClusterSharding.Passivate.class);

    // Restarted by a read, it answers, and goes again.
    kit.restart();
    assertThat(view().state()).isEqualTo("completed");
    assertThat(shard.receiveMessage()).isInstanceOf(ClusterSharding.Passivate.class);
  }

  @Test
  void aCancelledCampaignLeavesMemoryOnceEveryStartedBlockHasSettled() {
    TestProbe<ClusterSharding.ShardCommand> shard = testKit.createTestProbe();
    withShard(shard);
    create(definition(null));
    launch();
    await().until(() -> ports.snapshots.size() == 1);
    ports.snapshots.get(0).complete(1500L);
    await().untilAsserted(() -> assertThat(ports.started).containsExactly(0, 1));
    kit.<StatusReply<CampaignView>>runCommand(r -> new CampaignEntity.Cancel("ops", r));
    kit.runCommand(new CampaignEntity.BlockDone(outcome(0, 500, 0)));
    shard.expectNoMessage(Duration.ofMillis(200));

    kit.runCommand(new CampaignEntity.BlockDone(outcome(1, 20, 0)));
    assertThat(shard.receiveMessage()).isInstanceOf(ClusterSharding.Passivate.class);
    assertThat(kit.getState().status()).isEqualTo(CampaignEntity.Status.CANCELLED);
  }

  @Test
  void unknownCampaignIsNotFound() {
    assertThat(
            kit.<StatusReply<CampaignView>>runCommand(CampaignEntity.Get::new)
                .reply()
                .getError()
                .getMessage())
        .startsWith("not-found:");
    assertThat(launch().getError().getMessage()).startsWith("not-found:");
  }
}
