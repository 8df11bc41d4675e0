package io.outreach.engine.compliance;

import io.outreach.engine.CborSerializable;
import java.time.Duration;
import java.time.LocalTime;
import java.util.Objects;
import java.util.Optional;

/**
 * A US state's own rule for marketing contacts to its residents, on top of the federal one: its
 * local hours (which only narrow the federal hours) and at most {@code maxContactsPer24h} contacts
 * per person in any 24 hours, across every campaign and agent; 0 means the state sets no such cap.
 */
public record StateRule(LocalTime start, LocalTime end, int maxContactsPer24h)
    implements CborSerializable {

  public StateRule {
    Objects.requireNonNull(start, "start");
    Objects.requireNonNull(end, "end");
    if (maxContactsPer24h < 0) {
      throw new IllegalArgumentException("maxContactsPer24h must not be negative");
    }
  }

  /** The state's hours. */
  public DailyHours hours() {
    return new DailyHours(start, end);
  }

  /** The state's per-24-hours cap, if it sets one. */
  public Optional<FrequencyCap> cap() {
    return maxContactsPer24h == 0
        ? Optional.empty()
        : Optional.of(new FrequencyCap(maxContactsPer24h, Duration.ofHours(24)));
  }
}
