package io.outreach.http.sandbox;

/**
 * Faults the twins inject, set with {@code PUT /sandbox/faults}. A missing member takes its default
 * (0, false, and {@code receipts} true), so {@code {}} clears every fault.
 *
 * @param latencyMs added before each provider answer
 * @param errorRate the share (0..1) of provider calls answered with a random 500
 * @param rateLimitPerSecond provider calls allowed per second (token bucket); 0 is unlimited,
 *     excess calls get 429 with {@code Retry-After: 1}
 * @param outage every provider call gets 503
 * @param undeliveredRate the share (0..1) of accepted messages whose last receipt, after {@code
 *     sent}, is {@code undelivered} (Twilio ErrorCode 30003) instead of {@code delivered}
 * @param receipts whether accepted messages get receipts at all; false accepts them and posts
 *     nothing, as when a provider loses its callbacks
 */
public record SandboxFaults(
    long latencyMs,
    double errorRate,
    int rateLimitPerSecond,
    boolean outage,
    double undeliveredRate,
    boolean receipts) {

  public static final SandboxFaults NONE = new SandboxFaults(0, 0, 0, false, 0, true);

  /**
   * The body of {@code PUT /sandbox/faults}: boxed so a member may be left out (the API's strict
   * mapper refuses a missing primitive).
   */
  record Body(
      Long latencyMs,
      Double errorRate,
      Integer rateLimitPerSecond,
      Boolean outage,
      Double undeliveredRate,
      Boolean receipts) {
    SandboxFaults toFaults() {
      return new SandboxFaults(
          latencyMs == null ? 0 : latencyMs,
          errorRate == null ? 0 : errorRate,
          rateLimitPerSecond == null ? 0 : rateLimitPerSecond,
          outage != null && outage,
          undeliveredRate == null ? 0 : undeliveredRate,
          receipts == null || receipts);
    }
  }

  /** What is wrong with these values, or null when they are usable. */
  String problem() {
    if (latencyMs < 0 || latencyMs > 60_000) {
      return "latencyMs must be between 0 and 60000";
    }
    if (!(errorRate >= 0 && errorRate <= 1)) {
      return "errorRate must be between 0 and 1";
    }
    if (rateLimitPerSecond < 0) {
      return "rateLimitPerSecond must be 0 (unlimited) or more";
    }
    if (!(undeliveredRate >= 0 && undeliveredRate <= 1)) {
      return "undeliveredRate must be between 0 and 1";
    }
    return null;
  }
}
