package io.outreach.engine.compliance;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * When a recipient may be contacted: the first instant at which the local time is inside the
 * allowed {@link DailyHours} in every one of the recipient's zones at once (a number whose area
 * code spans two zones must be inside in both).
 *
 * <p>Exact to the instant and computed with each zone's own {@link ZoneRules}, never a fixed
 * offset: the local time can enter the hours only where it passes the opening time, or where an
 * offset transition (daylight saving, a zone's change of standard time) makes it jump into them. So
 * the first allowed instant is the earliest of those candidates that is inside the hours; a day
 * whose opening falls into a spring-forward gap opens at the transition, and in a fall-back overlap
 * the first of the two openings counts.
 */
public final class LegalHours {

  /** How far ahead an allowed instant is looked for; beyond it, the zones share no hours. */
  public static final Duration HORIZON = Duration.ofDays(8);

  private LegalHours() {}

  /** Whether the local time at {@code at} in {@code zone} is inside {@code hours}. */
  public static boolean inside(Instant at, ZoneId zone, DailyHours hours) {
    return hours.contains(LocalDateTime.ofInstant(at, zone).toLocalTime());
  }

  /**
   * The first instant {@code >= now} inside {@code hours} in every zone of {@code zones}, or empty
   * when there is none within {@link #HORIZON}. Equal to {@code now} when {@code now} is allowed.
   */
  public static Optional<Instant> nextAllowed(Instant now, List<ZoneId> zones, DailyHours hours) {
    if (zones.isEmpty()) {
      throw new IllegalArgumentException("a recipient without a zone has no local hours");
    }
    Instant limit = now.plus(HORIZON);
    Instant at = now;
    // Each zone pushes the candidate to its own next opening; no zone skips an instant that is
    // inside it, so the first instant no zone pushes further is the first one inside them all.
    while (true) {
      Instant latest = at;
      for (ZoneId zone : zones) {
        Optional<Instant> next = nextInside(at, zone, hours, limit);
        if (next.isEmpty()) {
          return Optional.empty();
        }
        if (next.get().isAfter(latest)) {
          latest = next.get();
        }
      }
      if (latest.equals(at)) {
        return Optional.of(at);
      }
      at = latest;
    }
  }

  /** The first instant in [{@code from}, {@code limit}] inside {@code hours} in one zone. */
  static Optional<Instant> nextInside(Instant from, ZoneId zone, DailyHours hours, Instant limit) {
    if (hours.isEmpty() || from.isAfter(limit)) {
      return Optional.empty();
    }
    if (inside(from, zone, hours)) {
      return Optional.of(from);
    }
    ZoneRules rules = zone.getRules();
    TreeSet<Instant> entries = new TreeSet<>();
    LocalDate last = LocalDate.ofInstant(limit, zone).plusDays(1);
    for (LocalDate day = LocalDate.ofInstant(from, zone).minusDays(1);
        !day.isAfter(last);
        day = day.plusDays(1)) {
      LocalDateTime opening = day.atTime(hours.start());
      // None in a gap (the transition below stands in), two in an overlap.
      for (ZoneOffset offset : rules.getValidOffsets(opening)) {
        entries.add(opening.toInstant(offset));
      }
    }
    for (ZoneOffsetTransition t = rules.nextTransition(from);
        t != null && !t.getInstant().isAfter(limit);
        t = rules.nextTransition(t.getInstant())) {
      entries.add(t.getInstant());
    }
    for (Instant entry : entries.subSet(from, false, limit, true)) {
      if (inside(entry, zone, hours)) {
        return Optional.of(entry);
      }
    }
    return Optional.empty();
  }
}
