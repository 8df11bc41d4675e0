package io.outreach.engine.compliance;

import io.outreach.engine.CborSerializable;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * At most {@code max} contacts per person in any window of length {@code per}. The window ending at
 * {@code now} is {@code (now - per, now]}: a contact exactly {@code per} ago no longer counts. A
 * cap times contacts rather than excludes people: a contact it does not allow now waits for {@link
 * #nextRoom}.
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

  /**
   * The first instant, not before {@code now}, at which one more contact keeps within the cap:
   * {@code now} when it is not reached, else the moment enough prior contacts have left the window
   * (a contact exactly {@code per} old no longer counts). The count only falls when a contact
   * leaves, so that moment is one of those departures.
   */
  public Instant nextRoom(Collection<Instant> prior, Instant now) {
    if (!reached(prior, now)) {
      return now;
    }
    List<Instant> departures =
        prior.stream().map(p -> p.plus(per)).filter(t -> t.isAfter(now)).sorted().toList();
    for (Instant t : departures) {
      if (!reached(prior, t)) {
        return t;
      }
    }
    throw new IllegalStateException("a cap reached at " + now + " has no departure to wait for");
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
