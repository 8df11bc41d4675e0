package io.outreach.engine.campaign;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.provider.SendResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A block's sends on their way, and the rules over them, without actors. */
class SendQueueTest {
  private static final Instant T0 = Instant.parse("2026-11-25T15:00:00Z");
  private static final String A = "+15550100001";
  private static final String B = "+15550100002";
  private static final BlockSpec SPEC =
      new BlockSpec(
          "acme", "cmp_1", 0, Channel.SMS, "twilio", List.of(A, B), "Hi", List.of(), null, null);
  private static final SendResult REFUSED =
      new SendResult.Rejected(400, "invalid To number", false, Optional.empty());
  private static final SendResult UNAVAILABLE =
      new SendResult.Rejected(503, "service unavailable", true, Optional.empty());
  private static final SendResult SLOW_DOWN =
      new SendResult.Rejected(429, "too many requests", true, Optional.of(Duration.ofSeconds(7)));

  private final SendQueue queue = new SendQueue();

  private static Send send(long recipient, String from) {
    return new Send(
        recipient,
        0,
        "+1212555" + (1000 + recipient),
        from,
        "Hi",
        "cmp_1:" + recipient + ":0",
        List.of("America/New_York"),
        "NY");
  }

  /** A block that planned {@code sends}, with those of {@code sent} accepted. */
  private static BlockState planned(List<Send> sends, Send... sent) {
    List<SendOutcome> outcomes = new ArrayList<>();
    for (Send x : sent) {
      outcomes.add(
          new SendOutcome(
              x.recipient(), 0, SendOutcome.Kind.SENT, "SM", null, null, null, T0, null));
    }
    return BlockState.empty()
        .started(SPEC)
        .planned(new BlockEntity.Planned(List.of(), sends, 0))
        .withOutcomes(outcomes);
  }

  @Test
  void aSendIsOnItsWayOnceAndFirstMessagesOfAWaitingBlockWaitForASlot() {
    Send queued = send(0, A);
    Send collected = send(1, A);
    Send retrying = send(2, A);
    Send fresh = send(3, A);
    Send followUp = new Send(4, 1, "+12125551004", A, "Again", "cmp_1:4:1", null, "NY");
    queue.add(queued.slot());
    queue.defer(collected, new Decision.Defer(T0.plusSeconds(60), "hours:federal"), T0);
    queue.retryLater(retrying.slot());
    List<Send> due = List.of(queued, collected, retrying, fresh, followUp);

    assertThat(queue.notUnderWay(due, false)).containsExactly(fresh, followUp);
    assertThat(queue.notUnderWay(due, true)).containsExactly(followUp);
  }

  @Test
  void aSenderWithARequestOpenDoesNotAskAgainWhileOthersMay() {
    Send a0 = send(0, A);
    Send a1 = send(1, A);
    Send b2 = send(2, B);
    BlockState s = planned(List.of(a0, a1, b2));
    queue.add(a0.slot());
    queue.add(a1.slot());

    assertThat(queue.permitRequests(s.sends())).containsExactly(Map.entry(A, 2));
    queue.add(b2.slot());
    assertThat(queue.permitRequests(s.sends())).containsExactly(Map.entry(B, 1));
    assertThat(queue.permitRequests(s.sends())).isEmpty();
  }

  @Test
  void onePermitRequestPerSenderAtATimeWithinThirtyTwoCalls() {
    List<Send> sends = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      sends.add(send(i, A));
    }
    for (int i = 30; i < 40; i++) {
      sends.add(send(i, B));
    }
    BlockState s = planned(sends);
    sends.forEach(x -> queue.add(x.slot()));

    // A's 30 queued first; B gets the 2 calls left.
    assertThat(queue.permitRequests(s.sends())).containsExactly(Map.entry(A, 30), Map.entry(B, 2));
    assertThat(queue.permitRequests(s.sends())).as("both have a request open").isEmpty();

    queue.permitsAnswered(A);
    assertThat(queue.take(A, 5, false, s))
        .extracting(Send::recipient)
        .containsExactly(0L, 1L, 2L, 3L, 4L);
    // 5 in flight and B's 2 asked for: room for 25, all of A's.
    assertThat(queue.permitRequests(s.sends())).containsExactly(Map.entry(A, 25));

    queue.permitsAnswered(A);
    queue.rest(A);
    queue.permitsAnswered(B);
    assertThat(queue.permitRequests(s.sends()))
        .as("a resting sender does not ask; the others do")
        .containsExactly(Map.entry(B, 10));
    queue.rested(A);
    assertThat(queue.permitRequests(s.sends())).containsExactly(Map.entry(A, 17));
  }

  @Test
  void takeMovesOnlyTheSendersOpenSendsIntoFlightInQueueOrder() {
    Send a0 = send(0, A);
    Send b1 = send(1, B);
    Send a2 = send(2, A);
    Send a3 = send(3, A);
    BlockState s = planned(List.of(a0, b1, a2, a3), a2);
    List.of(a3, a0, b1, a2).forEach(x -> queue.add(x.slot()));

    assertThat(queue.take(A, 5, false, s)).containsExactly(a3, a0);
    assertThat(queue.permitRequests(s.sends()))
        .as("B is still queued; A's send with a final outcome stays queued and asks for a call")
        .containsExactly(Map.entry(B, 1), Map.entry(A, 1));
    assertThat(queue.idle()).isFalse();
  }

  @Test
  void anAcceptedCallIsCollectedWithItsNextStepAndARefusalFailsAtOnce() {
    Send ann = send(0, A);
    Send bob = send(1, A);
    Instant next = T0.plus(Duration.ofHours(48));

    assertThat(queue.answered(ann, new SendResult.Accepted("SM-1"), null, false, T0, next))
        .isEmpty();
    assertThat(queue.answered(bob, REFUSED, null, false, T0, next)).isEmpty();

    assertThat(queue.batchReady(100)).as("nothing else is on its way").isTrue();
    assertThat(queue.drainCollected())
        .containsExactly(
            new SendOutcome(0, 0, SendOutcome.Kind.SENT, "SM-1", null, null, null, T0, next),
            new SendOutcome(
                1, 0, SendOutcome.Kind.FAILED, null, "invalid To number", null, null, T0, null));
    assertThat(queue.hasCollected()).isFalse();
  }

  @Test
  void transientFailuresAreTriedAgainUntilTheFifthAttemptFails() {
    Send ann = send(0, A);
    for (int attempt = 1; attempt < SendQueue.MAX_ATTEMPTS; attempt++) {
      Optional<Duration> wait = queue.answered(ann, UNAVAILABLE, null, false, T0, null);
      assertThat(wait).as("attempt %d", attempt).isPresent();
      assertThat(queue.isCollected(ann.slot())).isFalse();
    }
    assertThat(queue.answered(ann, null, "connection reset", false, T0, null)).isEmpty();
    assertThat(queue.drainCollected())
        .containsExactly(
            new SendOutcome(
                0, 0, SendOutcome.Kind.FAILED, null, "connection reset", null, null, T0, null));
  }

  @Test
  void rateLimitsAndFailedTrialCallsWaitWithoutUsingUpAttempts() {
    Send ann = send(0, A);
    for (int i = 0; i < 3 * SendQueue.MAX_ATTEMPTS; i++) {
      assertThat(queue.answered(ann, SLOW_DOWN, null, false, T0, null))
          .as("Retry-After is honoured")
          .contains(Duration.ofSeconds(7));
      assertThat(queue.answered(ann, UNAVAILABLE, null, true, T0, null)).isPresent();
    }
    // Every attempt is still there: four real failures are tried again, the fifth fails.
    for (int attempt = 1; attempt < SendQueue.MAX_ATTEMPTS; attempt++) {
      assertThat(queue.answered(ann, UNAVAILABLE, null, false, T0, null)).isPresent();
    }
    assertThat(queue.answered(ann, UNAVAILABLE, null, false, T0, null)).isEmpty();
    assertThat(queue.drainCollected())
        .extracting(SendOutcome::kind)
        .containsExactly(SendOutcome.Kind.FAILED);
  }

  @Test
  void aCallOnATrialPermitIsATrialCallUntilItEnds() {
    Send ann = send(0, A);
    Send bob = send(1, B);
    BlockState s = planned(List.of(ann, bob));
    queue.add(ann.slot());
    queue.add(bob.slot());
    queue.take(A, 1, true, s);
    queue.take(B, 1, false, s);

    assertThat(queue.callEnded(ann.slot())).isTrue();
    assertThat(queue.callEnded(ann.slot())).as("only once").isFalse();
    assertThat(queue.callEnded(bob.slot())).isFalse();
    assertThat(queue.idle()).isTrue();
  }

  @Test
  void whatTheGateStopsIsCollectedExceptAHoldByAStaleNationalCopy() {
    Send ann = send(0, A);
    Send bob = send(1, A);
    Send cy = send(2, A);
    Instant opening = T0.plus(Duration.ofHours(10));

    assertThat(queue.stopped(ann, new Decision.Defer(opening, "hours:federal"), T0)).isEmpty();
    assertThat(queue.stopped(bob, new Decision.Block(BlockReason.OPT_OUT, "opt-out"), T0))
        .isEmpty();
    assertThat(
            queue.stopped(
                cy, new Decision.Block(BlockReason.DNC_STALE, "dnc:national-copy-stale"), T0))
        .contains("dnc:national-copy-stale");

    assertThat(queue.held()).containsExactly(Map.entry(cy.slot(), "dnc:national-copy-stale"));
    assertThat(queue.drainCollected())
        .containsExactly(
            new SendOutcome(
                0, 0, SendOutcome.Kind.DEFERRED, null, "hours:federal", null, opening, T0, null),
            new SendOutcome(
                1,
                0,
                SendOutcome.Kind.BLOCKED,
                null,
                "opt-out",
                BlockReason.OPT_OUT,
                null,
                T0,
                null));
  }

  @Test
  void aSendWhoseTimerFiresGoesFirstUnlessItIsOnItsWayOrDone() {
    Send ann = send(0, A);
    Send bob = send(1, A);
    Send cy = send(2, A);
    BlockState s = planned(List.of(ann, bob, cy));
    queue.stopped(ann, new Decision.Block(BlockReason.DNC_STALE, "dnc:national-copy-stale"), T0);
    queue.retryLater(ann.slot());
    queue.retryLater(cy.slot());
    queue.add(bob.slot());

    assertThat(queue.retryDue(ann.slot(), true)).isTrue();
    assertThat(queue.held()).as("no longer held").isEmpty();
    assertThat(queue.retryDue(cy.slot(), false)).as("it has a final outcome").isFalse();
    assertThat(queue.retryDue(bob.slot(), true)).as("already queued").isFalse();
    assertThat(queue.take(A, 3, false, s)).containsExactly(ann, bob);
  }

  @Test
  void outcomesAreJournaledInBatchesOrWhenNothingElseIsOnItsWay() {
    List<Send> sends = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      sends.add(send(i, A));
    }
    BlockState s = planned(sends);
    sends.forEach(x -> queue.add(x.slot()));
    queue.take(A, 2, false, s);
    queue.callEnded(sends.get(0).slot());
    queue.answered(sends.get(0), new SendResult.Accepted("SM-0"), null, false, T0, null);

    assertThat(queue.batchReady(100)).as("more are on their way").isFalse();
    assertThat(queue.batchReady(1)).as("a full batch").isTrue();
    queue.callEnded(sends.get(1).slot());
    assertThat(queue.batchReady(100)).as("two still queued").isFalse();
    queue.dropQueued();
    assertThat(queue.batchReady(100)).isTrue();
  }

  @Test
  void idleWhenNothingIsOnItsWayAndQuietWhenNoPermitIsAskedForEither() {
    Send ann = send(0, A);
    BlockState s = planned(List.of(ann));
    assertThat(queue.quiet()).isTrue();

    queue.add(ann.slot());
    assertThat(queue.idle()).isFalse();
    queue.permitRequests(s.sends());
    queue.take(A, 1, false, s);
    assertThat(queue.idle()).as("in flight").isFalse();
    queue.callEnded(ann.slot());
    assertThat(queue.idle()).isTrue();
    assertThat(queue.quiet()).as("its permit request is still open").isFalse();
    queue.permitsAnswered(A);
    assertThat(queue.quiet()).isTrue();

    queue.retryLater(ann.slot());
    assertThat(queue.idle()).as("waiting to be tried again").isFalse();
    queue.retryDue(ann.slot(), false);
    queue.defer(ann, new Decision.Defer(T0.plusSeconds(60), "hours:federal"), T0);
    assertThat(queue.idle()).as("an outcome to journal").isFalse();
    queue.drainCollected();
    assertThat(queue.quiet()).isTrue();
  }

  @Test
  void aBlockGivesItsSlotBackOnlyWhenNothingIsDoneAndItsFirstMessagesAllWait() {
    Send ann = send(0, A);
    Send bob = send(1, A);
    BlockState open = planned(List.of(ann, bob), bob);
    assertThat(queue.mayGiveSlotBack(open, false)).isTrue();

    assertThat(queue.mayGiveSlotBack(open, true)).as("a first message is due").isFalse();
    assertThat(queue.mayGiveSlotBack(open.withFlags(false, true), false))
        .as("it gave it back already")
        .isFalse();
    assertThat(queue.mayGiveSlotBack(open.withFlags(true, false), false)).as("paused").isFalse();
    assertThat(queue.mayGiveSlotBack(planned(List.of(ann, bob), ann, bob), false))
        .as("every first message has an outcome: the block finishes instead")
        .isFalse();
    queue.retryLater(ann.slot());
    assertThat(queue.mayGiveSlotBack(open, false)).as("a send waits to be tried again").isFalse();
  }

  @Test
  void backoffHasFullJitterWithinItsCeiling() {
    for (int attempt = 1; attempt <= 8; attempt++) {
      long ceiling =
          Math.min(SendQueue.BACKOFF_CAP.toMillis(), SendQueue.BACKOFF_BASE.toMillis() << attempt);
      for (int i = 0; i < 200; i++) {
        assertThat(SendQueue.fullJitter(attempt).toMillis()).isBetween(0L, ceiling - 1);
      }
    }
  }
}
