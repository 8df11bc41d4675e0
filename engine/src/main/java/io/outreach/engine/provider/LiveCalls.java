package io.outreach.engine.provider;

import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The voice calls of one provider account that are live, for its {@link ProviderThrottle}: those
 * being placed (a permit granted, the provider's answer not in yet) and those placed and not
 * reported over. A call placed stays live until its final status arrives ({@link #over}) or, if
 * that never comes (a lost callback, a restart in between), until {@code maxCallLength} after it
 * was placed. A final status that arrives before the provider's answer reached the throttle is
 * remembered for as long, so the call is not counted live afterwards. In memory only: after a
 * restart the account starts with none live (the calls of before end on their own, unseen).
 */
final class LiveCalls {
  private final int max;
  private final long maxLengthNanos;
  private int placing;
  // Live calls by key, with the instant (nanos) they stop counting whatever happens.
  private final Map<String, Long> live = new HashMap<>();
  // Calls reported over before they were reported placed, until when that is remembered.
  private final Map<String, Long> overEarly = new HashMap<>();

  LiveCalls(int max, Duration maxCallLength) {
    this.max = max;
    this.maxLengthNanos = maxCallLength.toNanos();
  }

  /** How many more calls may start now. */
  int room(long now) {
    expire(now);
    return max - placing - live.size();
  }

  /** {@code n} permits for calls were granted. */
  void placing(int n) {
    placing += n;
  }

  /** A permitted call ended at the provider's answer (placed or not). */
  void placed() {
    placing = Math.max(0, placing - 1);
  }

  /** The call {@code key} was placed: it is live until reported over. */
  void live(String key, long now) {
    if (overEarly.remove(key) == null) {
      live.put(key, now + maxLengthNanos);
    }
  }

  /** The call {@code key} is over. */
  void over(String key, long now) {
    if (live.remove(key) == null) {
      overEarly.put(key, now + maxLengthNanos);
    }
  }

  /** Live calls now (for tests). */
  int live() {
    return live.size();
  }

  private void expire(long now) {
    expire(live, now);
    expire(overEarly, now);
  }

  private static void expire(Map<String, Long> calls, long now) {
    for (Iterator<Long> it = calls.values().iterator(); it.hasNext(); ) {
      if (it.next() - now <= 0) {
        it.remove();
      }
    }
  }
}
