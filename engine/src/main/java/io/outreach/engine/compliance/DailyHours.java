package io.outreach.engine.compliance;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.outreach.engine.CborSerializable;
import java.time.LocalTime;
import java.util.Objects;

/**
 * The local hours of every day in which a contact may be made, in the recipient's own zone: {@code
 * start} inclusive, {@code end} exclusive, so 08:00-21:00 allows 08:00:00 and refuses 21:00:00.
 * Hours never cross midnight; {@code start >= end} allows nothing, which is what intersecting hours
 * that do not overlap gives.
 */
public record DailyHours(LocalTime start, LocalTime end) implements CborSerializable {

  public DailyHours {
    Objects.requireNonNull(start, "start");
    Objects.requireNonNull(end, "end");
  }

  /** Whether no local time at all is allowed. */
  @JsonIgnore
  public boolean isEmpty() {
    return !start.isBefore(end);
  }

  /** Whether {@code time} (a local time of day) is allowed. */
  public boolean contains(LocalTime time) {
    return !time.isBefore(start) && time.isBefore(end);
  }

  /** The hours allowed by both: a narrower rule can only narrow, never widen. */
  public DailyHours intersect(DailyHours other) {
    LocalTime later = start.isAfter(other.start) ? start : other.start;
    LocalTime earlier = end.isBefore(other.end) ? end : other.end;
    return new DailyHours(later, earlier);
  }
}
