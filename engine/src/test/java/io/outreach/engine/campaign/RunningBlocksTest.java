package io.outreach.engine.campaign;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.campaign.CampaignEntity.BlockCompleted;
import io.outreach.engine.campaign.CampaignEntity.BlockParked;
import io.outreach.engine.campaign.CampaignEntity.BlockResumed;
import io.outreach.engine.campaign.CampaignEntity.BlockSettled;
import io.outreach.engine.campaign.CampaignEntity.BlockStarted;
import io.outreach.engine.campaign.CampaignEntity.Completed;
import io.outreach.engine.campaign.CampaignEntity.State;
import io.outreach.engine.campaign.CampaignEntity.Status;
import io.outreach.engine.compliance.BlockReason;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** What block reports make a campaign journal, and who gets a free slot, without actors. */
class RunningBlocksTest {
  private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");

  private final RunningBlocks blocks = new RunningBlocks(2);

  /** A campaign of {@code total} blocks, {@code started} of them started. */
  private static State campaign(
      Status status,
      int total,
      int started,
      Set<Integer> finished,
      Set<Integer> settled,
      Map<Integer, BlockOutcome> waiting) {
    return new State(
        "cmp_1",
        null,
        status,
        T0,
        null,
        total,
        started,
        new TreeSet<>(finished),
        new TreeSet<>(settled),
        new TreeMap<>(waiting),
        CampaignCounts.of(total * 500L));
  }

  private static BlockOutcome outcome(int block, long sent) {
    return BlockOutcome.of(block, sent, 0, Map.of(BlockReason.DNC, 1L), 0, 0);
  }

  private static BlockOutcome waitingUntil(int block, Instant at) {
    return new BlockOutcome(block, 3, 0, Map.of(), 2, Map.of("hours", 2L), at, 0, 0);
  }

  @Test
  void aBlockNotStartedYetGetsAFreeSlotUntilTheLimit() {
    State none = campaign(Status.RUNNING, 5, 0, Set.of(), Set.of(), Map.of());
    State two = campaign(Status.RUNNING, 5, 2, Set.of(), Set.of(), Map.of());
    State allStarted = campaign(Status.RUNNING, 2, 2, Set.of(0), Set.of(), Map.of());

    assertThat(blocks.wantSlot(none)).isTrue();
    assertThat(blocks.next(none)).containsExactly(new BlockStarted(0));
    assertThat(blocks.wantSlot(two)).as("two of two slots taken").isFalse();
    assertThat(blocks.next(two)).isEmpty();
    assertThat(blocks.wantSlot(allStarted)).as("a slot, but no block left").isFalse();
    assertThat(blocks.next(allStarted)).isEmpty();
    assertThat(blocks.next(campaign(Status.PAUSED, 5, 0, Set.of(), Set.of(), Map.of()))).isEmpty();
  }

  @Test
  void aWaitingBlockThatAskedGoesBeforeBlocksNotStartedInTheOrderTheyAsked() {
    Map<Integer, BlockOutcome> waiting =
        Map.of(0, waitingUntil(0, T0), 1, waitingUntil(1, T0), 2, waitingUntil(2, T0));
    State s = campaign(Status.RUNNING, 6, 4, Set.of(), Set.of(), waiting);
    blocks.asked(2);
    blocks.asked(0);

    assertThat(blocks.wantSlot(s)).isTrue();
    assertThat(blocks.next(s)).containsExactly(new BlockResumed(2));
    assertThat(blocks.next(s)).containsExactly(new BlockResumed(0));
    assertThat(blocks.next(s)).as("block 1 did not ask").containsExactly(new BlockStarted(4));
  }

  @Test
  void aBlockThatAskedButNoLongerWaitsIsForgotten() {
    State s = campaign(Status.RUNNING, 2, 2, Set.of(0), Set.of(), Map.of());
    blocks.asked(1);

    assertThat(blocks.wantSlot(s)).isFalse();
    assertThat(blocks.next(s)).isEmpty();
  }

  @Test
  void aFinishedBlockIsCountedOnceAndItsLiveCountsAreDropped() {
    State s = campaign(Status.RUNNING, 3, 2, Set.of(), Set.of(), Map.of());
    blocks.progress(s, outcome(1, 4));
    blocks.progress(s, outcome(2, 9));
    assertThat(blocks.latest()).as("block 2 is not started").containsOnlyKeys(1);

    assertThat(blocks.finished(s, outcome(1, 5)))
        .containsExactly(new BlockCompleted(outcome(1, 5)));
    assertThat(blocks.latest()).isEmpty();
    State finished = campaign(Status.RUNNING, 3, 2, Set.of(1), Set.of(), Map.of());
    assertThat(blocks.finished(finished, outcome(1, 5))).as("a repeat").isEmpty();
    assertThat(blocks.finished(s, outcome(7, 5))).as("no such block").isEmpty();
  }

  @Test
  void aWaitingBlockIsParkedOnceWithTheCountsItReported() {
    State s = campaign(Status.RUNNING, 3, 2, Set.of(), Set.of(), Map.of());
    BlockOutcome w = waitingUntil(1, T0.plusSeconds(3600));

    assertThat(blocks.waiting(s, w)).containsExactly(new BlockParked(w));
    assertThat(blocks.latest()).containsExactly(Map.entry(1, w));
    State parked = campaign(Status.RUNNING, 3, 2, Set.of(), Set.of(), Map.of(1, w));
    assertThat(blocks.waiting(parked, w)).as("a repeat").isEmpty();
    assertThat(blocks.waiting(s, waitingUntil(2, T0))).as("not started").isEmpty();
  }

  @Test
  void theLastBlockDoneCompletesTheCampaignUnlessItWasCancelled() {
    State running = campaign(Status.RUNNING, 2, 2, Set.of(0, 1), Set.of(0), Map.of());
    State cancelled = campaign(Status.CANCELLED, 2, 2, Set.of(0), Set.of(0), Map.of());
    blocks.progress(cancelled, outcome(1, 1));

    assertThat(blocks.done(running, outcome(1, 3), T0))
        .containsExactly(new BlockSettled(outcome(1, 3)), new Completed(T0));
    assertThat(blocks.done(cancelled, outcome(1, 1), T0))
        .as("cancelled before it reported its first step: counted now, and no completion")
        .containsExactly(new BlockCompleted(outcome(1, 1)), new BlockSettled(outcome(1, 1)));
    assertThat(blocks.latest()).isEmpty();
    State settled = campaign(Status.RUNNING, 2, 2, Set.of(0, 1), Set.of(0, 1), Map.of());
    assertThat(blocks.done(settled, outcome(1, 3), T0)).as("a repeat").isEmpty();
  }

  @Test
  void noBlockReportsAgainOnceTheCampaignCompletedOrEveryStartedBlockOfACancelledOneSettled() {
    assertThat(
            RunningBlocks.over(
                campaign(Status.COMPLETED, 2, 2, Set.of(0, 1), Set.of(0, 1), Map.of())))
        .isTrue();
    assertThat(
            RunningBlocks.over(campaign(Status.CANCELLED, 5, 2, Set.of(0), Set.of(0, 1), Map.of())))
        .as("blocks never started never report")
        .isTrue();
    assertThat(RunningBlocks.over(campaign(Status.CANCELLED, 5, 2, Set.of(0), Set.of(0), Map.of())))
        .isFalse();
    assertThat(
            RunningBlocks.over(
                campaign(Status.RUNNING, 2, 2, Set.of(0, 1), Set.of(0, 1), Map.of())))
        .isFalse();
  }
}
