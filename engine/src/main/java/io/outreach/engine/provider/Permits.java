package io.outreach.engine.provider;

import io.outreach.engine.CborSerializable;
import java.time.Duration;
import java.util.Optional;

/**
 * A throttle's answer to a request for provider calls: how many may start now ({@code granted},
 * to be used at once), or why none may ({@code heldBy}: a kill switch, a suspension, an open
 * circuit breaker) and when to ask again.
 */
public record Permits(int granted, Optional<String> heldBy, Duration askAgainIn) implements CborSerializable {

  public static Permits granted(int n) {
    return new Permits(n, Optional.empty(), Duration.ZERO);
  }

  public static Permits held(String rule, Duration askAgainIn) {
    return new Permits(0, Optional.of(rule), askAgainIn);
  }

  /** None now (the rate or the concurrency limit is used up); ask again after {@code in}. */
  public static Permits later(Duration in) {
    return new Permits(0, Optional.empty(), in);
  }
}
