package io.outreach.engine.compliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The first allowed instant across a recipient's zones, pinned to the zones' real transitions in
 * 2026 (America/New_York: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00; America/Havana:
 * 2026-03-08 00:00 -> 01:00; America/Santiago: 2026-04-05 00:00 -> 2026-04-04 23:00 and 2026-09-06
 * 00:00 -> 01:00), and checked minute by minute against a brute-force search.
 */
class LegalHoursTest {
  private static final DailyHours FEDERAL = hours("08:00-21:00");

  static DailyHours hours(String startDashEnd) {
    String[] parts = startDashEnd.split("-");
    return new DailyHours(LocalTime.parse(parts[0]), LocalTime.parse(parts[1]));
  }

  static List<ZoneId> zones(String commaSeparated) {
    return Arrays.stream(commaSeparated.split(",")).map(String::strip).map(ZoneId::of).toList();
  }

  @ParameterizedTest(name = "[{index}] {0} {1} at {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        // Spring forward: the evening before is EST (-5), the opening is EDT (-4).
        "America/New_York | 08:00-21:00 | 2026-03-08T02:30:00Z | 2026-03-08T12:00:00Z",
        "America/New_York | 08:00-21:00 | 2026-03-08T06:59:59Z | 2026-03-08T12:00:00Z",
        "America/New_York | 08:00-21:00 | 2026-03-08T07:00:00Z | 2026-03-08T12:00:00Z",
        "America/New_York | 08:00-21:00 | 2026-03-09T00:59:59Z | 2026-03-09T00:59:59Z",
        "America/New_York | 08:00-21:00 | 2026-03-09T01:00:00Z | 2026-03-09T12:00:00Z",
        // Fall back: the evening before is EDT, the opening is EST.
        "America/New_York | 08:00-21:00 | 2026-11-01T02:00:00Z | 2026-11-01T13:00:00Z",
        "America/New_York | 08:00-21:00 | 2026-11-01T06:30:00Z | 2026-11-01T13:00:00Z",
        "America/New_York | 08:00-21:00 | 2026-11-02T01:59:59Z | 2026-11-02T01:59:59Z",
        "America/New_York | 08:00-21:00 | 2026-11-02T02:00:00Z | 2026-11-02T13:00:00Z",
        // An opening inside the spring-forward gap opens at the transition (03:00 EDT).
        "America/New_York | 02:30-21:00 | 2026-03-08T05:00:00Z | 2026-03-08T07:00:00Z",
        // An opening inside the fall-back overlap opens at its first occurrence (01:30 EDT).
        "America/New_York | 01:30-21:00 | 2026-11-01T04:00:00Z | 2026-11-01T05:30:00Z",
        // Havana springs forward at midnight: 23:30 CST, then 08:00 CDT.
        "America/Havana | 08:00-21:00 | 2026-03-08T04:30:00Z | 2026-03-08T12:00:00Z",
        "America/Havana | 00:30-21:00 | 2026-03-08T04:30:00Z | 2026-03-08T05:00:00Z",
        // Santiago falls back at midnight (00:00 -03 -> 23:00 -04) and springs forward at midnight.
        "America/Santiago | 08:00-21:00 | 2026-04-05T01:00:00Z | 2026-04-05T12:00:00Z",
        "America/Santiago | 23:30-23:59 | 2026-04-05T02:45:00Z | 2026-04-05T02:45:00Z",
        "America/Santiago | 23:30-23:59 | 2026-04-05T03:00:00Z | 2026-04-05T03:30:00Z",
        "America/Santiago | 08:00-21:00 | 2026-09-06T02:00:00Z | 2026-09-06T11:00:00Z",
        // Two zones: inside only when inside both; the later opening decides.
        "America/Chicago, America/Denver | 08:00-21:00 | 2026-06-10T13:30:00Z | 2026-06-10T14:00:00Z",
        "America/Chicago, America/Denver | 08:00-21:00 | 2026-06-11T02:00:00Z | 2026-06-11T14:00:00Z",
        "America/Chicago, America/Denver | 08:00-21:00 | 2026-06-11T01:59:59Z | 2026-06-11T01:59:59Z",
        "America/New_York, America/Chicago | 08:00-21:00 | 2026-06-10T12:30:00Z | 2026-06-10T13:00:00Z",
        "America/New_York, America/Chicago | 08:00-21:00 | 2026-06-11T01:00:00Z | 2026-06-11T13:00:00Z",
        "America/New_York, America/Chicago | 08:00-21:00 | 2026-06-10T13:00:00Z | 2026-06-10T13:00:00Z",
        // Two zones across a spring-forward night that only one of them (Phoenix) skips.
        "America/Denver, America/Phoenix | 08:00-21:00 | 2026-03-08T04:00:00Z | 2026-03-08T15:00:00Z",
      })
  void firstAllowedInstant(String zones, String hours, Instant now, Instant expected) {
    assertThat(LegalHours.nextAllowed(now, zones(zones), hours(hours))).contains(expected);
  }

  @Test
  void startIsInclusiveAndEndExclusive() {
    ZoneId ny = ZoneId.of("America/New_York");
    Instant opening = Instant.parse("2026-06-10T12:00:00Z");
    Instant closing = Instant.parse("2026-06-11T01:00:00Z");
    assertThat(LegalHours.inside(opening, ny, FEDERAL)).isTrue();
    assertThat(LegalHours.inside(opening.minusNanos(1), ny, FEDERAL)).isFalse();
    assertThat(LegalHours.inside(closing.minusNanos(1), ny, FEDERAL)).isTrue();
    assertThat(LegalHours.inside(closing, ny, FEDERAL)).isFalse();
    assertThat(LegalHours.nextAllowed(opening.minusNanos(1), List.of(ny), FEDERAL))
        .contains(opening);
  }

  @Test
  void zonesTooFarApartForTheHoursShareNoInstant() {
    Instant now = Instant.parse("2026-06-10T12:00:00Z");
    assertThat(
            LegalHours.nextAllowed(
                now, zones("Pacific/Honolulu, America/New_York"), hours("09:00-10:00")))
        .isEmpty();
    assertThat(LegalHours.nextAllowed(now, zones("America/New_York"), hours("21:00-08:00")))
        .isEmpty();
  }

  @Test
  void zonesFarApartStillShareTheWideFederalHours() {
    // Honolulu (-10) and Guam (+10) are both inside 22:00-07:00 UTC.
    Instant now = Instant.parse("2026-06-10T12:00:00Z");
    assertThat(LegalHours.nextAllowed(now, zones("Pacific/Honolulu, Pacific/Guam"), FEDERAL))
        .contains(Instant.parse("2026-06-10T22:00:00Z"));
  }

  @Test
  void aRecipientWithoutAZoneHasNoLocalHours() {
    assertThatThrownBy(() -> LegalHours.nextAllowed(Instant.EPOCH, List.of(), FEDERAL))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * Never a minute early, never late: the answer is inside every zone, the nanosecond before it is
   * not (unless it is now), and no whole minute between now and it is inside every zone (hours and
   * transitions fall on whole minutes, so a minute scan sees every opening).
   */
  @Property(tries = 400)
  void theAnswerIsTheFirstInstantInsideEveryZone(
      @ForAll("instants") Instant now,
      @ForAll("zoneLists") List<ZoneId> zones,
      @ForAll("dailyHours") DailyHours hours) {
    Optional<Instant> next = LegalHours.nextAllowed(now, zones, hours);
    if (next.isEmpty()) {
      assertThat(firstInsideByMinutes(now, zones, hours, now.plus(LegalHours.HORIZON))).isEmpty();
      return;
    }
    Instant until = next.get();
    assertThat(until).isAfterOrEqualTo(now).isBeforeOrEqualTo(now.plus(LegalHours.HORIZON));
    assertThat(insideAll(until, zones, hours)).isTrue();
    if (until.isAfter(now)) {
      assertThat(insideAll(until.minusNanos(1), zones, hours)).isFalse();
      assertThat(firstInsideByMinutes(now, zones, hours, until.minusNanos(1))).isEmpty();
    }
  }

  static boolean insideAll(Instant at, List<ZoneId> zones, DailyHours hours) {
    return zones.stream().allMatch(z -> hours.contains(at.atZone(z).toLocalTime()));
  }

  /** {@code now} and every whole minute after it up to {@code last} that is inside every zone. */
  static Optional<Instant> firstInsideByMinutes(
      Instant now, List<ZoneId> zones, DailyHours hours, Instant last) {
    if (insideAll(now, zones, hours)) {
      return Optional.of(now);
    }
    for (Instant m = now.truncatedTo(ChronoUnit.MINUTES).plus(Duration.ofMinutes(1));
        !m.isAfter(last);
        m = m.plus(Duration.ofMinutes(1))) {
      if (insideAll(m, zones, hours)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }

  /** Zones with daylight saving at 02:00, at midnight, by 30 minutes, none, and far apart. */
  static final List<String> ZONES =
      List.of(
          "America/New_York",
          "America/Chicago",
          "America/Denver",
          "America/Phoenix",
          "America/Los_Angeles",
          "America/Anchorage",
          "Pacific/Honolulu",
          "America/Puerto_Rico",
          "America/Havana",
          "America/Santiago",
          "America/St_Johns",
          "Australia/Lord_Howe",
          "Asia/Kolkata",
          "Europe/London");

  /** Transition days of the zones above in 2026, where mistakes hide. */
  static final List<String> TRANSITION_DAYS =
      List.of(
          "2026-03-08T00:00:00Z",
          "2026-11-01T00:00:00Z",
          "2026-04-05T00:00:00Z",
          "2026-09-06T00:00:00Z",
          "2026-03-29T00:00:00Z",
          "2026-10-25T00:00:00Z",
          "2026-10-04T00:00:00Z");

  @Provide
  static Arbitrary<Instant> instants() {
    Instant yearStart = Instant.parse("2026-01-01T00:00:00Z");
    Arbitrary<Instant> anyTime =
        Arbitraries.longs()
            .between(0, Duration.ofDays(365).getSeconds())
            .map(yearStart::plusSeconds);
    Arbitrary<Instant> nearTransition =
        Combinators.combine(
                Arbitraries.of(TRANSITION_DAYS).map(Instant::parse),
                Arbitraries.longs().between(-36 * 3600, 36 * 3600))
            .as(Instant::plusSeconds);
    Arbitrary<Integer> nanos = Arbitraries.of(0, 0, 1, 999_999_999, 500_000_000);
    Arbitrary<Instant> seconds =
        Arbitraries.frequencyOf(Tuple.of(1, anyTime), Tuple.of(2, nearTransition));
    return Combinators.combine(seconds, nanos).as(Instant::plusNanos);
  }

  @Provide
  static Arbitrary<List<ZoneId>> zoneLists() {
    return Arbitraries.of(ZONES).map(ZoneId::of).list().ofMinSize(1).ofMaxSize(3).uniqueElements();
  }

  @Provide
  static Arbitrary<DailyHours> dailyHours() {
    Arbitrary<DailyHours> federalLike =
        Arbitraries.of(
            FEDERAL,
            hours("08:00-20:00"),
            hours("09:00-17:00"),
            hours("00:30-21:00"),
            hours("01:30-02:30"),
            hours("23:30-23:59"),
            hours("00:00-01:00"));
    Arbitrary<DailyHours> any =
        Combinators.combine(
                Arbitraries.integers().between(0, 23 * 60 + 58),
                Arbitraries.integers().between(1, 12 * 60))
            .as(
                (start, length) ->
                    new DailyHours(
                        LocalTime.MIDNIGHT.plusMinutes(start),
                        LocalTime.MIDNIGHT.plusMinutes(Math.min(start + length, 23 * 60 + 59))));
    return Arbitraries.oneOf(federalLike, any);
  }
}
