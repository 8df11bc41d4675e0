package io.outreach.engine.provider;

import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The last step before a provider call: a node spaces each sender's calls at least {@code
 * SPACING / mps} apart at the moment they are dispatched, so a burst of permitted calls that were
 * held up on their way (a slow transaction, a pause) still reaches the provider at the sender's
 * rate, and no one second at the provider holds more than {@code mps} calls. A one-token Bucket4j
 * bucket per sender, refilled at {@code mps} per {@link #SPACING}: a little faster than the
 * throttle's grants ({@link ProviderThrottle#WINDOW}), so a backlog drains.
 */
public final class DispatchPacer {
  /** 1.005 s: 50 calls spaced so span 985 ms, 51 would span 1005 ms, leaving 5 ms for jitter. */
  static final Duration SPACING = Duration.ofMillis(1005);

  private record Rate(int mps, Bucket bucket) {}

  private final ConcurrentHashMap<String, Rate> rates = new ConcurrentHashMap<>();

  /**
   * Waits (blocking the calling thread) until {@code sender} may make one more call at {@code
   * mps}; false if that would take longer than {@code maxWait} (the call must then not be made).
   */
  public boolean await(String sender, int mps, Duration maxWait) throws InterruptedException {
    if (mps <= 0) {
      return true;
    }
    Rate rate =
        rates.compute(
            sender,
            (s, r) ->
                r != null && r.mps() == mps
                    ? r
                    : new Rate(
                        mps,
                        Bucket.builder()
                            .addLimit(l -> l.capacity(1).refillGreedy(mps, SPACING).initialTokens(1))
                            .withNanosecondPrecision()
                            .build()));
    return rate.bucket().tryConsume(1) || (!maxWait.isNegative() && rate.bucket().asBlocking().tryConsume(1, maxWait));
  }
}
