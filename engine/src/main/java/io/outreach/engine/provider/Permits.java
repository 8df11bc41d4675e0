package io.outreach.engine.provider;

import io.outreach.engine.CborSerializable;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A throttle's answer to a request for provider calls: how many may start ({@code granted}), to be
 * used at once: each call must start before {@code issuedAt + }{@link #LEASE}, or not at all
 * (engaging a kill switch answers only after the leases it could not see have run out). Or why none
 * may ({@code heldBy}: a kill switch, a suspension, an open circuit breaker) and when to ask again.
 * A {@code trial} grant is the one call a half-open circuit breaker lets through: its failure says
 * the provider is still down and does not count as an attempt of the message. {@code mps} is the
 * sender's rate, which the caller also keeps when it dispatches (calls may wait a little between
 * grant and dispatch, and must not reach the provider in a bunch). {@code startIn}: the grant's
 * calls start no earlier than their slots, the first at {@code issuedAt + startIn} and each next
 * one {@code 1 / mps} later ({@link #slot}); the slots are the sender's in the whole cluster, so
 * the rate holds at the provider whichever nodes make the calls (docs/decisions/133).
 */
public record Permits(
    int granted,
    Optional<String> heldBy,
    Duration askAgainIn,
    boolean trial,
    Instant issuedAt,
    int mps,
    Duration startIn)
    implements CborSerializable {

  /** How long a grant stays usable. */
  public static final Duration LEASE = Duration.ofMillis(500);

  public static Permits granted(int n, Instant issuedAt, int mps) {
    return granted(n, issuedAt, mps, Duration.ZERO);
  }

  /** {@code n} calls, the first to start {@code startIn} after {@code issuedAt}. */
  public static Permits granted(int n, Instant issuedAt, int mps, Duration startIn) {
    return new Permits(n, Optional.empty(), Duration.ZERO, false, issuedAt, mps, startIn);
  }

  public static Permits trial(Instant issuedAt, int mps) {
    return trial(issuedAt, mps, Duration.ZERO);
  }

  /** The half-open breaker's one trial call, to start {@code startIn} after {@code issuedAt}. */
  public static Permits trial(Instant issuedAt, int mps, Duration startIn) {
    return new Permits(1, Optional.empty(), Duration.ZERO, true, issuedAt, mps, startIn);
  }

  public static Permits held(String rule, Duration askAgainIn) {
    return new Permits(0, Optional.of(rule), askAgainIn, false, null, 0, Duration.ZERO);
  }

  /** None now (the rate or the concurrency limit is used up); ask again after {@code in}. */
  public static Permits later(Duration in) {
    return new Permits(0, Optional.empty(), in, false, null, 0, Duration.ZERO);
  }

  /** The earliest start of the grant's {@code i}-th call (0-based), on the issuer's clock. */
  public Instant slot(int i) {
    long spacing = mps > 0 ? 1_000_000_000L / mps : 0;
    return issuedAt.plus(startIn).plusNanos(spacing * i);
  }

  /** Whether a call may still start at {@code now} on this grant. */
  public boolean usableAt(Instant now) {
    return issuedAt != null && now.isBefore(issuedAt.plus(LEASE));
  }
}
