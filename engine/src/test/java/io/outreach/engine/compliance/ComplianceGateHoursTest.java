package io.outreach.engine.compliance;

import static io.outreach.engine.compliance.GateFixture.contact;
import static io.outreach.engine.compliance.GateFixture.facts;
import static io.outreach.engine.compliance.GateFixture.line;
import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.campaign.CampaignDefinition.SendWindow;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Legal hours through the gate: federal 08:00-21:00, the FL/OK/MD 20:00 end, the campaign window
 * that only narrows, several zones at once, and the rule each deferral names. Summer 2026 times:
 * New York is UTC-4, Chicago -5, Denver -6, Los Angeles -7.
 */
class ComplianceGateHoursTest {
  private final ComplianceGate gate = new ComplianceGate();

  @ParameterizedTest(name = "[{index}] {0} {1} {2} at {3}")
  @CsvSource(
      delimiter = '|',
      nullValues = "-",
      value = {
        "America/New_York | -  | -           | 2026-06-10T12:00:00Z | ALLOW",
        "America/New_York | -  | -           | 2026-06-10T11:59:59Z | DEFER 2026-06-10T12:00:00Z hours:federal",
        "America/New_York | -  | -           | 2026-06-11T00:59:59Z | ALLOW",
        "America/New_York | -  | -           | 2026-06-11T01:00:00Z | DEFER 2026-06-11T12:00:00Z hours:federal",
        // The three 8-to-8 states end at 20:00 local; their own opening is the federal one.
        "America/New_York | FL | -           | 2026-06-10T23:59:59Z | ALLOW",
        "America/New_York | FL | -           | 2026-06-11T00:00:00Z | DEFER 2026-06-11T12:00:00Z hours:state:FL",
        "America/Chicago  | FL | -           | 2026-06-11T01:00:00Z | DEFER 2026-06-11T13:00:00Z hours:state:FL",
        "America/Chicago  | OK | -           | 2026-06-11T01:00:00Z | DEFER 2026-06-11T13:00:00Z hours:state:OK",
        "America/New_York | MD | -           | 2026-06-11T00:30:00Z | DEFER 2026-06-11T12:00:00Z hours:state:MD",
        "America/New_York | md | -           | 2026-06-11T00:30:00Z | DEFER 2026-06-11T12:00:00Z hours:state:MD",
        "America/New_York | FL | -           | 2026-06-11T01:30:00Z | DEFER 2026-06-11T12:00:00Z hours:federal",
        "America/New_York | FL | -           | 2026-06-10T11:00:00Z | DEFER 2026-06-10T12:00:00Z hours:federal",
        // A state without its own rule gets the federal hours.
        "America/Los_Angeles | CA | -        | 2026-06-11T03:30:00Z | ALLOW",
        "America/New_York | NY | -           | 2026-06-11T00:30:00Z | ALLOW",
        // The campaign window narrows...
        "America/New_York | -  | 09:00-17:00 | 2026-06-10T12:30:00Z | DEFER 2026-06-10T13:00:00Z hours:window",
        "America/New_York | -  | 09:00-17:00 | 2026-06-10T13:00:00Z | ALLOW",
        "America/New_York | -  | 09:00-17:00 | 2026-06-10T21:00:00Z | DEFER 2026-06-11T13:00:00Z hours:window",
        "America/New_York | -  | 09:00-17:00 | 2026-06-10T11:00:00Z | DEFER 2026-06-10T13:00:00Z hours:federal",
        "America/New_York | FL | 09:00-20:30 | 2026-06-11T00:15:00Z | DEFER 2026-06-11T13:00:00Z hours:state:FL",
        // ...but a window wider than the legal hours does not widen them.
        "America/New_York | -  | 06:00-23:00 | 2026-06-10T11:00:00Z | DEFER 2026-06-10T12:00:00Z hours:federal",
        "America/New_York | -  | 06:00-23:00 | 2026-06-11T01:30:00Z | DEFER 2026-06-11T12:00:00Z hours:federal",
        "America/New_York | FL | 06:00-23:00 | 2026-06-11T00:30:00Z | DEFER 2026-06-11T12:00:00Z hours:state:FL",
        "America/New_York | -  | 06:00-23:00 | 2026-06-10T12:00:00Z | ALLOW",
        // Several zones: inside all of them at once; the later opening decides.
        "America/Chicago, America/Denver  | - | - | 2026-06-10T13:30:00Z | DEFER 2026-06-10T14:00:00Z hours:federal",
        "America/Chicago, America/Denver  | - | - | 2026-06-10T14:00:00Z | ALLOW",
        "America/Chicago, America/Denver  | - | - | 2026-06-11T02:00:00Z | DEFER 2026-06-11T14:00:00Z hours:federal",
        "America/New_York, America/Chicago | - | - | 2026-06-10T12:30:00Z | DEFER 2026-06-10T13:00:00Z hours:federal",
        "America/New_York, America/Chicago | - | - | 2026-06-11T01:00:00Z | DEFER 2026-06-11T13:00:00Z hours:federal",
        "America/New_York, America/Chicago | FL | - | 2026-06-11T00:30:00Z | DEFER 2026-06-11T13:00:00Z hours:state:FL",
        "America/New_York, America/Chicago | - | 09:00-17:00 | 2026-06-10T21:30:00Z | DEFER 2026-06-11T14:00:00Z hours:window",
        // Daylight saving in New York: the opening after the change is 08:00 in the new offset.
        "America/New_York | - | - | 2026-03-08T02:30:00Z | DEFER 2026-03-08T12:00:00Z hours:federal",
        "America/New_York | - | - | 2026-11-01T02:00:00Z | DEFER 2026-11-01T13:00:00Z hours:federal",
        "America/New_York | FL | - | 2026-11-02T01:00:00Z | DEFER 2026-11-02T13:00:00Z hours:state:FL",
        // Havana changes at midnight.
        "America/Havana | - | - | 2026-03-08T04:30:00Z | DEFER 2026-03-08T12:00:00Z hours:federal",
        "America/Havana | - | - | 2026-11-01T02:30:00Z | DEFER 2026-11-01T13:00:00Z hours:federal",
        // No shared hours: zones too far apart for the window, or a window outside legal hours.
        "Pacific/Honolulu, America/New_York | - | 09:00-10:00 | 2026-06-10T12:00:00Z | BLOCK INVALID/hours:no-common-window",
        "America/New_York | - | 21:00-22:00 | 2026-06-10T12:00:00Z | BLOCK INVALID/hours:no-common-window",
        "America/New_York | FL | 20:00-21:00 | 2026-06-10T12:00:00Z | BLOCK INVALID/hours:no-common-window",
        // Without a zone the local time is unknown.
        "- | FL | - | 2026-06-10T16:00:00Z | BLOCK INVALID/hours:no-zone",
      })
  void legalHours(String zones, String state, String window, Instant now, String expected) {
    assertThat(line(gate.decide(contact(zones, state, window), facts().build(), now)))
        .isEqualTo(expected);
  }

  /**
   * A deferral for the hours is never a minute early: {@code until > now}, the same contact with
   * the same history is not held back by the hours at {@code until} (only a frequency cap may still
   * defer it), and no instant in [now, until) is inside the hours in every zone.
   */
  @Property(tries = 500)
  void aDeferralLandsOnTheFirstAllowedInstant(
      @ForAll("instants") Instant now,
      @ForAll("zoneLists") List<ZoneId> zones,
      @ForAll("states") String state,
      @ForAll("windows") Optional<SendWindow> window,
      @ForAll("histories") List<Duration> agesOfPriorContacts) {
    Contact c = GateFixture.contact(Purpose.CAMPAIGN, null, zones, state, window.orElse(null));
    GateFacts f =
        facts().contactedAt(agesOfPriorContacts.stream().map(now::minus).toList()).build();
    Decision d = gate.decide(c, f, now);
    Statistics.collect(d instanceof Decision.Block b ? b.rule() : d.getClass().getSimpleName());
    if (d instanceof Decision.Defer defer && defer.rule().startsWith("hours:")) {
      Instant until = defer.until();
      assertThat(until).isAfter(now);
      Decision atUntil = gate.decide(c, f, until);
      assertThat(
              atUntil instanceof Decision.Allow
                  || atUntil instanceof Decision.Defer later
                      && later.rule().startsWith("frequency:"))
          .as("at %s: %s", until, atUntil)
          .isTrue();
      assertThat(allowedByEveryRule(until, c)).isTrue();
      assertThat(allowedByEveryRule(until.minusNanos(1), c)).isFalse();
      assertThat(allowedByEveryRule(now, c)).isFalse();
      for (Instant m = now.truncatedTo(ChronoUnit.MINUTES).plus(Duration.ofMinutes(1));
          m.isBefore(until);
          m = m.plus(Duration.ofMinutes(1))) {
        assertThat(allowedByEveryRule(m, c)).as("%s is inside the hours", m).isFalse();
      }
    } else if (d instanceof Decision.Block b && b.rule().equals("hours:no-common-window")) {
      for (Instant m = now;
          !m.isAfter(now.plus(LegalHours.HORIZON));
          m = m.plus(Duration.ofMinutes(1))) {
        assertThat(allowedByEveryRule(m, c)).as("%s is inside the hours", m).isFalse();
      }
    } else {
      assertThat(allowedByEveryRule(now, c)).as("%s", d).isTrue();
    }
  }

  /** The hours written out rule by rule, independently of how the gate intersects them. */
  private static boolean allowedByEveryRule(Instant at, Contact c) {
    for (ZoneId zone : c.zones()) {
      LocalTime t = at.atZone(zone).toLocalTime();
      if (t.isBefore(LocalTime.of(8, 0)) || !t.isBefore(LocalTime.of(21, 0))) {
        return false;
      }
      boolean eightToEight = c.usState() != null && List.of("FL", "OK", "MD").contains(c.usState());
      if (eightToEight && !t.isBefore(LocalTime.of(20, 0))) {
        return false;
      }
      SendWindow w = c.window();
      if (w != null && (t.isBefore(w.start()) || !t.isBefore(w.end()))) {
        return false;
      }
    }
    return true;
  }

  @Provide
  Arbitrary<Instant> instants() {
    return LegalHoursTest.instants();
  }

  /** The zones of North American numbers, plus two that change at midnight. */
  @Provide
  Arbitrary<List<ZoneId>> zoneLists() {
    return Arbitraries.of(
            "America/New_York",
            "America/Chicago",
            "America/Denver",
            "America/Phoenix",
            "America/Los_Angeles",
            "America/Anchorage",
            "Pacific/Honolulu",
            "America/Puerto_Rico",
            "America/St_Johns",
            "America/Havana",
            "America/Santiago")
        .map(ZoneId::of)
        .list()
        .ofMinSize(1)
        .ofMaxSize(2)
        .uniqueElements();
  }

  @Provide
  Arbitrary<String> states() {
    return Arbitraries.of("FL", "OK", "MD", "CA", "NY", "TX").injectNull(0.3);
  }

  @Provide
  Arbitrary<Optional<SendWindow>> windows() {
    Arbitrary<SendWindow> any =
        Combinators.combine(
                Arbitraries.integers().between(0, 23 * 4 - 1),
                Arbitraries.integers().between(1, 60))
            .as(
                (start, quarters) ->
                    new SendWindow(
                        LocalTime.MIDNIGHT.plusMinutes(start * 15L),
                        LocalTime.MIDNIGHT.plusMinutes(Math.min(start + quarters, 95) * 15L)));
    Arbitrary<SendWindow> usual =
        Arbitraries.of(
            GateFixture.window("09:00-17:00"),
            GateFixture.window("06:00-23:00"),
            GateFixture.window("12:00-13:00"));
    return Arbitraries.oneOf(any, usual).optional(0.4);
  }

  @Provide
  Arbitrary<List<Duration>> histories() {
    return Arbitraries.longs()
        .between(0, Duration.ofDays(8).toMinutes())
        .map(Duration::ofMinutes)
        .list()
        .ofMaxSize(4);
  }
}
