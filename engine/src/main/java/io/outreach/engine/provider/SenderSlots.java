package io.outreach.engine.provider;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * When a sender's calls may start, decided in one place for the whole cluster: its tenant's {@link
 * ProviderThrottle}, whichever node makes the calls. Each grant gets a start slot, one every {@code
 * 1 / mps}; the node that holds the grant starts the call no earlier than its slot ({@link
 * Permits#startIn}).
 *
 * <p>The rule is the {@link DispatchPacer}'s, kept centrally: a call counts against its sender from
 * its slot until a second after its answer (a call not yet reported counts on), and a slot is given
 * only while fewer than {@code mps} calls count at that slot. Any {@code mps + 1} calls then span
 * at least a second at the provider: when the last of them got its slot, one of the others no
 * longer counted, so its answer, and therefore its arrival, was more than a second before that
 * slot, and the last call left no earlier than its slot. This holds however the calls are spread
 * over nodes; the price is the pacer's (a busy sender makes {@code mps} calls per {@code 1 s +}
 * answer time).
 *
 * <p>A node that dies with calls under way never reports them: a call not heard of within {@link
 * #ANSWER_DEADLINE} of its slot is taken as answered then (the provider adapters give up on a call
 * after 10 s). Touched only by its throttle's actor.
 */
final class SenderSlots {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  /** How long after its slot a call not reported ended is taken as answered. */
  static final Duration ANSWER_DEADLINE = Duration.ofSeconds(15);

  /**
   * How far ahead of the grant a slot may be: grants come early enough for a call to leave at its
   * slot even when the machine is busy, and are used well within their lease. Requesters are told
   * when to come back for a later slot.
   */
  static final Duration HORIZON = Duration.ofMillis(250);

  /**
   * How far ahead of the grant the first slot of a busy sender is at least: the time a grant takes
   * to reach its node and pass the send-time checks, so calls leave at their slots rather than
   * after them (a call that leaves late is answered late, and holds the rate longer).
   */
  static final Duration LEAD = Duration.ofMillis(30);

  final int mps;
  private final long spacing;
  private final long deadline = ANSWER_DEADLINE.toNanos();
  private final long horizon = HORIZON.toNanos();
  private final long lead = LEAD.toNanos();

  /** The slots of calls not yet reported ended, oldest first. */
  private final ArrayDeque<Long> underWay = new ArrayDeque<>();

  /** When each reported call stops counting (its report plus a second), oldest first. */
  private final ArrayDeque<Long> counting = new ArrayDeque<>();

  /** The earliest time the next slot may be. */
  private long nextSlot;

  /** What {@link #assign} gave: {@code count} slots from {@code first}, or when to ask again. */
  record Assigned(int count, long first, Duration retryIn) {}

  SenderSlots(int mps, long now) {
    this.mps = mps;
    this.spacing = SECOND / mps;
    this.nextSlot = now;
  }

  /**
   * Up to {@code wanted} consecutive slots, {@code 1 / mps} apart, the first as early as the rule
   * allows from {@code now}, all within {@link #HORIZON}.
   */
  Assigned assign(int wanted, long now) {
    forgetAnswered(now);
    int count = 0;
    long first = 0;
    long slot = later(nextSlot, now + leadAt(now));
    while (count < wanted) {
      long allowedAt = firstFreeAt(slot);
      if (allowedAt == Long.MAX_VALUE) {
        break; // every counting call is still under way: only an answer makes room
      }
      if (count > 0 && allowedAt != slot) {
        break; // the grant's slots are consecutive; the rest in a later grant
      }
      slot = allowedAt;
      if (slot - now > horizon) {
        break;
      }
      if (count == 0) {
        first = slot;
      }
      underWay.addLast(slot);
      count++;
      slot += spacing;
    }
    if (count > 0) {
      nextSlot = slot;
      return new Assigned(count, first, Duration.ZERO);
    }
    long allowedAt = firstFreeAt(later(nextSlot, now + leadAt(now)));
    Duration retry =
        allowedAt == Long.MAX_VALUE
            ? Duration.ofMillis(5)
            : Duration.ofNanos(
                Math.max(TimeUnit.MILLISECONDS.toNanos(1), allowedAt - now - horizon));
    return new Assigned(0, 0, retry);
  }

  /**
   * The lead a grant needs: none for a sender with nothing under way or counting (a lone reply goes
   * at once, as before slots), {@link #LEAD} for a busy one, whose calls leave at their slots.
   */
  private long leadAt(long now) {
    return underWay.isEmpty() && counting.isEmpty() ? 0 : lead;
  }

  /**
   * The earliest time at or after {@code slot} when fewer than {@code mps} calls count; {@code
   * Long.MAX_VALUE} when the calls under way alone fill the rate.
   */
  private long firstFreeAt(long slot) {
    int busy = underWay.size();
    if (busy >= mps) {
      return Long.MAX_VALUE;
    }
    if (busy + counting.size() < mps) {
      return slot;
    }
    // Reported calls still counting at slot, oldest ending first: the excess must end first.
    int excess = busy + countingAt(slot) - mps + 1;
    if (excess <= 0) {
      return slot;
    }
    Iterator<Long> ends = counting.iterator();
    long at = slot;
    while (excess > 0 && ends.hasNext()) {
      long end = ends.next();
      if (end - slot > 0) {
        at = end;
        excess--;
      }
    }
    return at;
  }

  private int countingAt(long slot) {
    int n = 0;
    for (Iterator<Long> it = counting.descendingIterator(); it.hasNext(); ) {
      if (it.next() - slot > 0) {
        n++;
      } else {
        break;
      }
    }
    return n;
  }

  /**
   * A call was answered (or failed) at {@code at}: it counts until a second after. False when no
   * call was under way (its slot had passed {@link #ANSWER_DEADLINE} and was already taken as
   * answered).
   */
  boolean answered(long at) {
    if (underWay.pollFirst() == null) {
      return false;
    }
    // Kept in order: an answer reported after a later one counts as long as that one.
    Long last = counting.peekLast();
    counting.addLast(last == null ? at + SECOND : later(at + SECOND, last));
    return true;
  }

  /** A slot was not used: the call never left. False when none was under way. */
  boolean unused() {
    Long slot = underWay.pollLast();
    if (slot == null) {
      return false;
    }
    // The latest slot given, unused, can be given again (calls are counted, not named: which
    // grant's slot it was does not matter to the rule).
    if (nextSlot - spacing == slot) {
      nextSlot = slot;
    }
    return true;
  }

  /**
   * Calls not reported ended within {@link #ANSWER_DEADLINE} of their slot are taken as answered
   * then; answers more than a second old stop counting. Answers how many were taken as answered.
   */
  int forgetAnswered(long now) {
    int lost = 0;
    while (!underWay.isEmpty() && now - (underWay.peekFirst() + deadline) >= 0) {
      underWay.pollFirst();
      // Dated now, not at its deadline: the ends stay in order, and later is only safer.
      Long last = counting.peekLast();
      counting.addLast(last == null ? now + SECOND : later(now + SECOND, last));
      lost++;
    }
    while (!counting.isEmpty() && now - counting.peekFirst() >= 0) {
      counting.pollFirst();
    }
    return lost;
  }

  private static long later(long a, long b) {
    return a - b >= 0 ? a : b;
  }
}
