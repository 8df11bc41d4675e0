package io.outreach.engine.campaign;

import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.provider.SendResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A block's sends on their way, kept in memory only: after a restart the block starts with an empty
 * queue (a new one: {@code BlockEntity#forget}) and its journal tells what has no outcome yet. It
 * holds the sends queued for a permit, the calls in flight, outcomes collected but not yet
 * journaled, sends waiting on a timer to be tried again (a transient failure, a stale national
 * copy), and the permit requests open per sender.
 *
 * <p>Its rules: a send is on its way at most once; a block has at most {@link #MAX_IN_FLIGHT} calls
 * open or asked for; each sender has at most one permit request open, so one sender at its rate
 * does not hold back the others; a 429 or a failed call on a half-open breaker's trial permit waits
 * without using up one of the message's {@link #MAX_ATTEMPTS}; other transient failures are tried
 * again after exponential backoff with full jitter. The block's actor ({@link BlockCalls}) makes
 * the calls and runs the timers; this class only keeps the books and says what they are for.
 */
final class SendQueue {

  /** Provider calls one block has open at once; the throttle paces them per sender. */
  static final int MAX_IN_FLIGHT = 32;

  /** Attempts a message gets before it fails (a rate limit or a failed trial call is none). */
  static final int MAX_ATTEMPTS = 5;

  static final Duration BACKOFF_BASE = Duration.ofMillis(500);
  static final Duration BACKOFF_CAP = Duration.ofSeconds(30);

  private final ArrayDeque<Long> queue = new ArrayDeque<>();
  private final Set<Long> inFlight = new HashSet<>();
  private final Map<Long, SendOutcome> collected = new LinkedHashMap<>();
  private final Map<Long, Integer> attempts = new HashMap<>();
  // Calls on a half-open breaker's trial permit: a failure says the provider is still down, not
  // that the message is bad, so it does not count as an attempt.
  private final Set<Long> trials = new HashSet<>();
  private final Set<Long> retrying = new HashSet<>();
  // First messages held by a stale national copy, with its rule (reported as deferred).
  private final Map<Long, String> held = new HashMap<>();
  // Senders with a permit request open, and how many calls each asked for.
  private final Map<String, Integer> asking = new HashMap<>();
  // Senders told to ask again later (their rate is used up, or a hold).
  private final Set<String> resting = new HashSet<>();

  /**
   * The sends of {@code due} to queue now: those not queued, in flight, collected or waiting to be
   * tried again; while the block waits for a slot ({@code waiting}), no first message.
   */
  List<Send> notUnderWay(List<Send> due, boolean waiting) {
    List<Send> fresh = new ArrayList<>();
    for (Send x : due) {
      long slot = x.slot();
      if (!(x.step() == 0 && waiting)
          && !inFlight.contains(slot)
          && !collected.containsKey(slot)
          && !queue.contains(slot)
          && !retrying.contains(slot)) {
        fresh.add(x);
      }
    }
    return fresh;
  }

  /** Queues a send for a permit, behind those already queued. */
  void add(long slot) {
    queue.add(slot);
  }

  /** Drops every queued send (the block is cancelled); calls in flight finish. */
  void dropQueued() {
    queue.clear();
  }

  /** Collects the deferral of {@code x} to {@code defer.until()}, to be journaled. */
  void defer(Send x, Decision.Defer defer, Instant now) {
    collected.put(
        x.slot(),
        new SendOutcome(
            x.recipient(),
            x.step(),
            SendOutcome.Kind.DEFERRED,
            null,
            defer.rule(),
            null,
            defer.until(),
            now,
            null));
  }

  /**
   * The permit requests to open now, sender to calls wanted: one per queued sender (in the queue's
   * order of senders) with no request open and not resting, within the room for calls. They count
   * as open until {@link #permitsAnswered}.
   */
  Map<String, Integer> permitRequests(Map<Long, Send> sends) {
    return permitRequests(sends, Send::from);
  }

  /**
   * The permit requests to open now, by throttle lane ({@code lane}: a message's sender number, or
   * the account's calls lane for a call), as {@link #permitRequests(Map)} does by sender.
   */
  Map<String, Integer> permitRequests(
      Map<Long, Send> sends, java.util.function.Function<Send, String> lane) {
    Map<String, Integer> requests = new LinkedHashMap<>();
    if (queue.isEmpty()) {
      return requests;
    }
    int room =
        MAX_IN_FLIGHT
            - inFlight.size()
            - asking.values().stream().mapToInt(Integer::intValue).sum();
    Map<String, Integer> queued = new LinkedHashMap<>();
    for (long slot : queue) {
      queued.merge(lane.apply(sends.get(slot)), 1, Integer::sum);
    }
    for (Map.Entry<String, Integer> e : queued.entrySet()) {
      String sender = e.getKey();
      if (room <= 0) {
        break;
      }
      if (asking.containsKey(sender) || resting.contains(sender)) {
        continue;
      }
      int wanted = Math.min(room, e.getValue());
      room -= wanted;
      asking.put(sender, wanted);
      requests.put(sender, wanted);
    }
    return requests;
  }

  /** The throttle answered {@code sender}'s request: it may ask again. */
  void permitsAnswered(String sender) {
    asking.remove(sender);
  }

  /** {@code sender} asks again only once {@link #rested}. */
  void rest(String sender) {
    resting.add(sender);
  }

  void rested(String sender) {
    resting.remove(sender);
  }

  /**
   * Takes up to {@code granted} queued sends of {@code sender} that have no final outcome in {@code
   * s}, in queue order, into flight; on a {@code trial} permit they are trial calls.
   */
  List<Send> take(String sender, int granted, boolean trial, BlockState s) {
    List<Send> batch = new ArrayList<>();
    for (Iterator<Long> it = queue.iterator(); it.hasNext() && batch.size() < granted; ) {
      Send x = s.sends().get(it.next());
      if (s.spec().lane(x).equals(sender) && !s.hasFinalOutcome(x.slot())) {
        it.remove();
        batch.add(x);
      }
    }
    batch.forEach(x -> inFlight.add(x.slot()));
    if (trial) {
      batch.forEach(x -> trials.add(x.slot()));
    }
    return batch;
  }

  /** The send-time checks of {@code slot} could not run: nothing was sent. */
  void notChecked(long slot) {
    inFlight.remove(slot);
  }

  /**
   * Not attempted (its permit's lease ran out first): first in the queue again, unless queued
   * already (returned by an attempt of the block's earlier incarnation).
   */
  void returned(long slot) {
    callEnded(slot);
    if (!queue.contains(slot)) {
      queue.addFirst(slot);
    }
  }

  /**
   * The gate stopped {@code x} at the moment of sending: a deferral or a block is collected, except
   * a hold by a stale national copy, a platform condition and not the recipient's, or by Cathy's
   * kill switch over a follow-up, which answers its rule: the block checks it again later (and
   * reports the send as deferred meanwhile).
   */
  Optional<String> stopped(Send x, Decision decision, Instant now) {
    callEnded(x.slot());
    if (decision instanceof Decision.Block b
        && (b.reason() == BlockReason.DNC_STALE || heldFollowUp(x, b))) {
      held.put(x.slot(), b.rule());
      return Optional.of(b.rule());
    }
    if (decision instanceof Decision.Defer defer) {
      defer(x, defer, now);
    } else if (decision instanceof Decision.Block b) {
      collected.put(
          x.slot(),
          new SendOutcome(
              x.recipient(),
              x.step(),
              SendOutcome.Kind.BLOCKED,
              null,
              b.rule(),
              b.reason(),
              null,
              now,
              null));
    }
    return Optional.empty();
  }

  /**
   * Cathy's kill switch (scope agent) caught a follow-up on its way: held, like her timers, and
   * sent once she is released, not dropped.
   */
  private static boolean heldFollowUp(Send x, Decision.Block b) {
    return x.step() > 0
        && b.reason() == BlockReason.KILL_SWITCH
        && b.rule().equals("kill-switch:agent");
  }

  /** {@code slot}'s call is over; answers whether it was a trial call. */
  boolean callEnded(long slot) {
    inFlight.remove(slot);
    return trials.remove(slot);
  }

  /**
   * The provider's answer to {@code x} (or the {@code error} of its call): collects its outcome
   * (sent, with {@code nextStepAt}; or failed), or answers how long to wait before it is tried
   * again. {@code trial}: the call was a trial call ({@link #callEnded}).
   */
  Optional<Duration> answered(
      Send x, SendResult result, String error, boolean trial, Instant now, Instant nextStepAt) {
    boolean retryable = error != null || (result instanceof SendResult.Rejected r && r.retryable());
    Optional<Duration> retryAfter =
        result instanceof SendResult.Rejected r ? r.retryAfter() : Optional.empty();
    if (result instanceof SendResult.Accepted ok) {
      collected.put(
          x.slot(),
          new SendOutcome(
              x.recipient(),
              x.step(),
              SendOutcome.Kind.SENT,
              ok.providerMessageId(),
              null,
              null,
              null,
              now,
              nextStepAt));
      return Optional.empty();
    }
    if (result instanceof SendResult.Rejected r && r.status() == 429 || trial && retryable) {
      // "Slow down" (the throttle pauses the account) or a provider still down: wait, but keep
      // the message's attempts for real failures.
      return Optional.of(retryAfter.orElseGet(() -> fullJitter(1)));
    }
    int n = attempts.merge(x.slot(), 1, Integer::sum);
    if (retryable && n < MAX_ATTEMPTS) {
      return Optional.of(retryAfter.orElseGet(() -> fullJitter(n)));
    }
    String reason = error != null ? error : ((SendResult.Rejected) result).reason();
    collected.put(
        x.slot(),
        new SendOutcome(
            x.recipient(), x.step(), SendOutcome.Kind.FAILED, null, reason, null, null, now, null));
    return Optional.empty();
  }

  /** Exponential backoff with full jitter: uniformly random in [0, min(cap, base * 2^attempt)). */
  static Duration fullJitter(int attempt) {
    long ceiling =
        Math.min(BACKOFF_CAP.toMillis(), BACKOFF_BASE.toMillis() << Math.min(attempt, 16));
    return Duration.ofMillis(ThreadLocalRandom.current().nextLong(Math.max(1, ceiling)));
  }

  /** {@code slot} waits on a timer to be tried again. */
  void retryLater(long slot) {
    retrying.add(slot);
  }

  /**
   * {@code slot}'s timer fired: it no longer waits (nor is held); answers whether it went back to
   * the head of the queue, which it does unless already in flight or queued.
   */
  boolean retryDue(long slot, boolean stillOpen) {
    retrying.remove(slot);
    held.remove(slot);
    if (stillOpen && !inFlight.contains(slot) && !queue.contains(slot)) {
      queue.addFirst(slot);
      return true;
    }
    return false;
  }

  /** Whether an outcome of {@code slot} is collected and not yet journaled. */
  boolean isCollected(long slot) {
    return collected.containsKey(slot);
  }

  boolean hasCollected() {
    return !collected.isEmpty();
  }

  /**
   * Whether the collected outcomes should be journaled now: {@code batch} of them, or some with
   * nothing queued or in flight (no more are coming soon).
   */
  boolean batchReady(int batch) {
    return collected.size() >= batch
        || (inFlight.isEmpty() && queue.isEmpty() && !collected.isEmpty());
  }

  /** The collected outcomes, in the order they came, handed over for the journal. */
  List<SendOutcome> drainCollected() {
    List<SendOutcome> batch = List.copyOf(collected.values());
    collected.clear();
    return batch;
  }

  /** First messages held by a stale national copy, slot to rule. */
  Map<Long, String> held() {
    return held;
  }

  /** Nothing queued, in flight, collected or waiting to be tried again. */
  boolean idle() {
    return queue.isEmpty() && inFlight.isEmpty() && collected.isEmpty() && retrying.isEmpty();
  }

  /** Idle, and no permit request open either: nothing at all is being done. */
  boolean quiet() {
    return idle() && asking.isEmpty();
  }

  /**
   * Whether a block sending its first messages may give its campaign slot back: nothing is being
   * done, and every first message it has left waits for a later time (none is due, {@code
   * firstDue}, and none waits for a slot already or is held by a pause).
   */
  boolean mayGiveSlotBack(BlockState s, boolean firstDue) {
    return s.status() == BlockEntity.Status.SENDING
        && !s.waiting()
        && !s.paused()
        && !firstDue
        && quiet()
        && s.firstStepOpen();
  }
}
