package io.outreach.http.sandbox;

/**
 * The twins' rate limit: {@code perSecond} tokens, refilled continuously, starting full, as
 * providers' per-number throughput limits behave.
 */
final class TokenBucket {
  private final int perSecond;
  private double tokens;
  private long lastNanos;

  TokenBucket(int perSecond) {
    this.perSecond = perSecond;
    this.tokens = perSecond;
    this.lastNanos = System.nanoTime();
  }

  /** Takes one token; false when the bucket is empty (the caller answers 429). */
  synchronized boolean tryTake() {
    long now = System.nanoTime();
    tokens = Math.min(perSecond, tokens + (now - lastNanos) / 1e9 * perSecond);
    lastNanos = now;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
