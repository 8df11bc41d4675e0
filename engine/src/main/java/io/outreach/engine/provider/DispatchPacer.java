package io.outreach.engine.provider;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The last step before a provider call, which makes a sender's rate hold where the provider
 * measures it: no one second at the provider holds more than {@code mps} calls of a sender, however
 * late a call travels (a pause of either process, a slow connection, a cold start).
 *
 * <p>The engine cannot see when a call reaches the provider, only that it reached it by the time
 * its answer came. So a call counts against its sender from when it leaves until one second after
 * its answer (or its failure, or its timeout), and a call may leave only while fewer than {@code
 * mps} calls count. Any {@code mps + 1} calls then span at least a second at the provider, whatever
 * their delays: when the last of them left, one of the others no longer counted, so it had been
 * answered, and had therefore arrived, at least a second before. Calls are also spread over the
 * second: a sender keeps to a schedule of one call per {@code 1 / mps}, and one that fell behind it
 * (a slow answer kept a call counting) catches up by at most a tenth of a second, at no more than
 * twice its rate. The price of the guarantee: a busy sender makes {@code mps} calls per {@code 1 s
 * + the mean answer time} (on loopback about one percent; a provider 150 ms away gets {@code mps /
 * 1.15}) — the one way to keep a limit measured at the other end without that end's clock.
 *
 * <p>Waits are precise ({@link Condition#awaitNanos}, no timer ticks) and bounded by the caller's
 * deadline; a turn not given within it is not given at all (the call must then not be made). Per
 * node: a sender's calls are made by the node that holds its tenant's throttle.
 */
public final class DispatchPacer {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  /** How far a sender that fell behind its schedule may catch up (at twice its rate at most). */
  private static final long CREDIT = TimeUnit.MILLISECONDS.toNanos(100);

  /** A turn given: its call must say when it ended (answered, failed, or never made); once. */
  @FunctionalInterface
  public interface Turn {
    void ended();
  }

  private final ConcurrentHashMap<String, Sender> senders = new ConcurrentHashMap<>();
  private final LongSupplier nanoTime;

  public DispatchPacer() {
    this(System::nanoTime);
  }

  /** With another monotonic clock (nanoseconds), for tests. */
  DispatchPacer(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /**
   * Waits (blocking the calling thread) until {@code sender} may make one more call at {@code mps};
   * null if that would take longer than {@code maxWait}. A sender without a rate ({@code mps <= 0})
   * is not paced.
   */
  public Turn await(String sender, int mps, Duration maxWait) throws InterruptedException {
    if (mps <= 0) {
      return () -> {};
    }
    Sender s =
        senders.compute(sender, (k, old) -> old != null && old.mps == mps ? old : new Sender(mps));
    return s.take(nanoTime.getAsLong() + Math.max(0, maxWait.toNanos()));
  }

  private static long later(long a, long b) {
    return a - b >= 0 ? a : b;
  }

  /**
   * One sender: its open calls (under way, or answered less than a second ago) and its schedule.
   * Guarded by {@code lock}.
   */
  private final class Sender {
    final int mps;
    final long spacing;
    final ReentrantLock lock = new ReentrantLock();
    final Condition changed = lock.newCondition();
    int underWay;

    /** When each answered call stops counting (its answer plus a second), oldest first. */
    final ArrayDeque<Long> counting = new ArrayDeque<>();

    /** The schedule: when the next call is due. */
    long nextAt;

    long lastLeft;

    Sender(int mps) {
      this.mps = mps;
      this.spacing = SECOND / mps;
      this.nextAt = nanoTime.getAsLong();
      this.lastLeft = nextAt - spacing;
    }

    Turn take(long deadline) throws InterruptedException {
      lock.lockInterruptibly();
      try {
        while (true) {
          long now = nanoTime.getAsLong();
          while (!counting.isEmpty() && counting.peekFirst() - now <= 0) {
            counting.pollFirst();
          }
          boolean full = underWay + counting.size() >= mps;
          // Only an answer can make room when every open call is still under way.
          boolean waitForAnswer = full && counting.isEmpty();
          long at = later(nextAt, lastLeft + spacing / 2);
          if (full && !waitForAnswer) {
            at = later(at, counting.peekFirst());
          }
          if (!waitForAnswer && at - now <= 0) {
            underWay++;
            lastLeft = now;
            nextAt = later(nextAt + spacing, now - CREDIT);
            AtomicBoolean ended = new AtomicBoolean();
            return () -> {
              if (ended.compareAndSet(false, true)) {
                end();
              }
            };
          }
          if (deadline - now <= 0 || (!waitForAnswer && at - deadline > 0)) {
            return null;
          }
          changed.awaitNanos(waitForAnswer ? deadline - now : at - now);
        }
      } finally {
        lock.unlock();
      }
    }

    void end() {
      lock.lock();
      try {
        underWay--;
        counting.addLast(nanoTime.getAsLong() + SECOND);
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }
}
