package io.outreach.engine.compliance;

import io.outreach.engine.CborSerializable;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Objects;

/**
 * At most {@code max} contacts per person in any window of length {@code per}. The window ending at
 * {@code now} is {@code (now - per, now]}: a contact exactly {@code per} ago no longer counts.
 */
public record FrequencyCap(int max, Duration per) implements CborSerializable {

  public FrequencyCap {
    Objects.requireNonNull(per, "per");
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1, was " + max);
    }
    if (per.isNegative() || per.isZero()) {
      throw new IllegalArgumentException("per must be positive, was " + per);
    }
  }

  /** Whether one more contact at {@code now} would exceed the cap, given the prior ones. */
  public boolean reached(Collection<Instant> prior, Instant now) {
    Instant after = now.minus(per);
    long inWindow = prior.stream().filter(p -> p.isAfter(after) && !p.isAfter(now)).count();
    return inWindow >= max;
  }

  /** The cap as rule names show it: {@code 1/24h}, {@code 3/7d}. */
  public String label() {
    return max + "/" + length(per);
  }

  // 24 hours reads as "24h" (as the rules are usually written), whole multiples of days as "7d".
  private static String length(Duration d) {
    long seconds = d.getSeconds();
    if (d.getNano() != 0) {
      return d.toString();
    }
    if (seconds % 86_400 == 0 && seconds > 86_400) {
      return seconds / 86_400 + "d";
    }
    if (seconds % 3_600 == 0) {
      return seconds / 3_600 + "h";
    }
    if (seconds % 60 == 0) {
      return seconds / 60 + "m";
    }
    return seconds + "s";
  }
}
