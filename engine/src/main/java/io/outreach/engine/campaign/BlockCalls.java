package io.outreach.engine.campaign;

import io.outreach.engine.campaign.BlockEntity.Answered;
import io.outreach.engine.campaign.BlockEntity.Attempted;
import io.outreach.engine.campaign.BlockEntity.Command;
import io.outreach.engine.campaign.BlockEntity.Permitted;
import io.outreach.engine.campaign.BlockEntity.Rested;
import io.outreach.engine.campaign.BlockEntity.Retry;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.provider.Permits;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The provider calls of one {@link BlockEntity}, made inside its actor: asks the tenant's throttle
 * for permits for the queued sends, hands each permitted batch to the send-time checks and the
 * provider ({@link BlockPorts#attempt}), and sorts what comes back into outcomes to journal and
 * sends to try again, on the block's timers. What is on its way and the rules over it are the
 * {@link SendQueue}'s; journaling the outcomes stays with the entity. Nothing here is journaled.
 */
final class BlockCalls {
  /** How long a send waits after the throttle or the send-time checks could not be reached. */
  static final Duration STORE_RETRY = Duration.ofSeconds(1);

  /** How often sends held by a stale national do-not-call copy look again. */
  static final Duration STALE_COPY_RECHECK = Duration.ofSeconds(10);

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final BlockPorts ports;
  private final Clock clock;
  private final SendQueue queue;
  // The rule holding the block's sends, logged once per hold rather than once per answer.
  private String heldBy;

  BlockCalls(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      BlockPorts ports,
      Clock clock,
      SendQueue queue) {
    this.ctx = ctx;
    this.timers = timers;
    this.ports = ports;
    this.clock = clock;
    this.queue = queue;
  }

  /**
   * Asks the throttle for permits for the queued sends, one request per sender at a time (in the
   * queue's order of senders), within the block's room for calls; none while the block is paused.
   */
  void pump(BlockState s) {
    if (s.paused()) {
      return;
    }
    queue
        .permitRequests(s.sends(), s.spec()::lane)
        .forEach(
            (sender, wanted) ->
                ctx.pipeToSelf(
                    ports.permits(s.spec(), sender, wanted),
                    (p, err) -> new Permitted(sender, p, message(err))));
  }

  /** The throttle answered: a hold or a full rate asks again later; a grant sends a batch. */
  void permitted(BlockState s, Permitted c) {
    queue.permitsAnswered(c.sender());
    Permits p = c.permits();
    if (c.error() != null || p == null) {
      ctx.getLog()
          .warn(
              "block {}: no answer from the throttle ({}); asking again",
              s.spec().entityId(),
              c.error());
      rest(c.sender(), STORE_RETRY);
      return;
    }
    if (p.heldBy().isPresent()) {
      if (isNewHold(p.heldBy().get())) {
        ctx.getLog().info("block {} held by {}", s.spec().entityId(), heldBy);
      }
      rest(c.sender(), p.askAgainIn());
      return;
    }
    heldBy = null;
    if (p.granted() == 0) {
      rest(c.sender(), p.askAgainIn());
      pump(s);
      return;
    }
    List<Send> batch = queue.take(c.sender(), p.granted(), p.trial(), s);
    List<Long> slots = batch.stream().map(Send::slot).toList();
    List<Attempt.Request> requests =
        batch.stream().map(x -> new Attempt.Request(x, s.contact(x))).toList();
    // Called with an empty batch too, so permits the queue no longer needs go back.
    ctx.pipeToSelf(
        ports.attempt(s.spec(), requests, p),
        (attempts, err) -> new Attempted(slots, attempts, message(err)));
    pump(s);
  }

  /**
   * A permitted batch went through the send-time checks: dispatched calls are awaited, returned
   * sends queued again, stopped ones collected or held. False when the checks could not run
   * (nothing was sent, nothing was collected; the batch is tried again).
   */
  boolean attempted(BlockState s, Attempted c) {
    if (c.error() != null) {
      ctx.getLog()
          .warn("block {}: send-time checks failed ({}); retrying", s.spec().entityId(), c.error());
      c.slots().forEach(queue::notChecked);
      c.slots().forEach(k -> retryIn(k, STORE_RETRY));
      return false;
    }
    Instant now = clock.instant();
    for (Attempt a : c.attempts()) {
      long slot = Send.slot(a.recipient(), a.step());
      if (a instanceof Attempt.Dispatched d) {
        ctx.pipeToSelf(d.answer(), (r, err) -> new Answered(slot, r, message(err)));
      } else if (a instanceof Attempt.Returned) {
        queue.returned(slot);
      } else {
        Decision decision = ((Attempt.Stopped) a).decision();
        Optional<String> hold = queue.stopped(s.sends().get(slot), decision, now);
        if (hold.isPresent()) {
          // Like a kill switch a stale copy holds the send, and it goes by itself once fresh.
          if (isNewHold(hold.get())) {
            ctx.getLog().warn("block {} held by {}", s.spec().entityId(), heldBy);
          }
          retryIn(slot, STALE_COPY_RECHECK);
        }
      }
    }
    pump(s);
    return true;
  }

  /**
   * A provider answered a call (or the call failed): true when its outcome was collected, false
   * when it is tried again or needs no outcome (it has one already).
   */
  boolean answered(BlockState s, Answered a) {
    boolean trial = queue.callEnded(a.slot());
    Send x = s.sends().get(a.slot());
    if (x == null || s.hasFinalOutcome(a.slot()) || queue.isCollected(a.slot())) {
      pump(s);
      return false;
    }
    Instant now = clock.instant();
    Optional<Duration> retry =
        queue.answered(x, a.result(), a.error(), trial, now, s.nextStepAt(x, now));
    pump(s);
    retry.ifPresent(wait -> retryIn(a.slot(), wait));
    return retry.isEmpty();
  }

  /** A send's wait is over: it goes first in the queue, unless it has no need to. */
  void retryDue(BlockState s, Retry r) {
    if (queue.retryDue(r.slot(), s.active() && !s.hasFinalOutcome(r.slot()))) {
      pump(s);
    }
  }

  /** A sender's rest is over: it may ask for permits again. */
  void rested(BlockState s, Rested r) {
    queue.rested(r.sender());
    pump(s);
  }

  private void retryIn(long slot, Duration wait) {
    queue.retryLater(slot);
    timers.startSingleTimer("retry-" + slot, new Retry(slot), wait);
  }

  /** {@code sender} asks again after {@code wait}. */
  private void rest(String sender, Duration wait) {
    queue.rest(sender);
    timers.startSingleTimer("pump-" + sender, new Rested(sender), wait);
  }

  private boolean isNewHold(String rule) {
    boolean isNew = !rule.equals(heldBy);
    heldBy = rule;
    return isNew;
  }

  private static String message(Throwable err) {
    return err == null ? null : String.valueOf(err.getMessage());
  }
}
