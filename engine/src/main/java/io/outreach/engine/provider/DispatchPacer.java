package io.outreach.engine.provider;

import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The last step before a provider call: a node spaces each sender's calls at least {@code
 * SPACING / mps} apart at the moment they are dispatched, so a burst of permitted calls that were
 * held up on their way (a slow transaction, a pause) still reaches the provider at the sender's
 * rate, and no one second at the provider holds more than {@code mps} calls. A one-token Bucket4j
 * bucket per sender, refilled at {@code mps} per {@link #SPACING}. Its blocking wait is precise (no
 * timer ticks), so it is what sets a busy sender's rate; the throttle grants a little more, and a
 * grant that waits here beyond its lease goes back unused.
 */
public final class DispatchPacer {
  /**
   * 1.01 s: 50 calls spaced so span 990 ms, so a call may arrive up to 20 ms late (the HTTP client,
   * the network) and no second at the provider holds 51; the rate is 1% under the configured one.
   */
  static final Duration SPACING = Duration.ofMillis(1010);

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
