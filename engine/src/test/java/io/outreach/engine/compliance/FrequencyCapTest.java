package io.outreach.engine.compliance;

import static io.outreach.engine.compliance.GateFixture.contact;
import static io.outreach.engine.compliance.GateFixture.facts;
import static io.outreach.engine.compliance.GateFixture.line;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Frequency caps at send time, on the tenant-wide history of a person: the tenant's 1 per 24 h and
 * 3 per 7 days by default, the FL/OK/MD 3 per 24 h, and the window {@code (now - per, now]}. A
 * reached cap defers the contact to the first instant with room inside the legal hours.
 */
class FrequencyCapTest {
  /** Noon in New York, inside every legal hour, so only the caps can refuse. */
  private static final Instant NOON = Instant.parse("2026-06-10T16:00:00Z");

  private static final ContactRules LOOSE_TENANT =
      ContactRules.defaults().withTenantCaps(List.of(new FrequencyCap(10, Duration.ofHours(24))));

  private final ComplianceGate gate = new ComplianceGate();

  /** Ages of prior contacts as ISO durations ("PT23H", "P2D"), space separated. */
  private static List<Instant> ago(String ages) {
    return ages == null
        ? List.of()
        : Arrays.stream(ages.trim().split(" +")).map(Duration::parse).map(NOON::minus).toList();
  }

  @ParameterizedTest(name = "[{index}] {0} contacted {1} ago")
  @CsvSource(
      delimiter = '|',
      nullValues = "-",
      value = {
        "-  | -                        | ALLOW",
        "-  | PT23H59M59S              | DEFER 2026-06-10T16:00:01Z frequency:tenant:1/24h",
        "-  | PT1S                     | DEFER 2026-06-11T15:59:59Z frequency:tenant:1/24h",
        "-  | PT0S                     | DEFER 2026-06-11T16:00:00Z frequency:tenant:1/24h",
        // Exactly 24 h ago is outside (now - 24h, now].
        "-  | PT24H                    | ALLOW",
        // A contact recorded after now is not in the window either.
        "-  | -PT1H                    | ALLOW",
        "-  | P2D P4D P6D              | DEFER 2026-06-11T16:00:00Z frequency:tenant:3/7d",
        "-  | P2D P4D PT167H59M59S     | DEFER 2026-06-10T16:00:01Z frequency:tenant:3/7d",
        "-  | P2D P4D P7D              | ALLOW",
        "-  | P1D P2D                  | ALLOW",
        // The 1-per-24h default is stricter than the state's 3, so it decides in FL too.
        "FL | PT2H                     | DEFER 2026-06-11T14:00:00Z frequency:tenant:1/24h",
        "FL | P2D P4D P6D              | DEFER 2026-06-11T16:00:00Z frequency:tenant:3/7d",
      })
  void defaultTenantCaps(String state, String ages, String expected) {
    Contact c = contact("America/New_York", state, null);
    assertThat(line(gate.decide(c, facts().contactedAt(ago(ages)).build(), NOON)))
        .isEqualTo(expected);
  }

  @ParameterizedTest(name = "[{index}] {0} contacted {1} ago")
  @CsvSource(
      delimiter = '|',
      nullValues = "-",
      value = {
        "FL | PT1H PT2H               | ALLOW",
        "FL | PT1H PT2H PT3H          | DEFER 2026-06-11T13:00:00Z frequency:state:FL",
        "OK | PT1H PT2H PT23H         | DEFER 2026-06-10T17:00:00Z frequency:state:OK",
        "MD | PT1H PT2H PT3H PT4H     | DEFER 2026-06-11T13:00:00Z frequency:state:MD",
        "fl | PT1H PT2H PT3H          | DEFER 2026-06-11T13:00:00Z frequency:state:FL",
        "FL | PT1H PT2H PT24H         | ALLOW",
        "CA | PT1H PT2H PT3H PT4H     | ALLOW",
        "-  | PT1H PT2H PT3H PT4H     | ALLOW",
      })
  void stateCapOfThreePer24Hours(String state, String ages, String expected) {
    Contact c = contact("America/New_York", state, null);
    GateFacts f = facts().rules(LOOSE_TENANT).contactedAt(ago(ages)).build();
    assertThat(line(gate.decide(c, f, NOON))).isEqualTo(expected);
  }

  /** The person's history is tenant-wide: contacts by two other campaigns count for a third. */
  @Test
  void theStateCapCountsContactsOfEveryCampaign() {
    Map<String, List<Instant>> ledger = new HashMap<>();
    contacted("cmp-a", NOON.minus(Duration.ofHours(5)), ledger);
    contacted("cmp-b", NOON.minus(Duration.ofHours(3)), ledger);
    contacted("cmp-a", NOON.minus(Duration.ofHours(1)), ledger);
    Contact third = inFlorida("cmp-c", GateFixture.PHONE);
    GateFacts f =
        new GateFacts(
            List.of(), false, Map.of(), Set.of(), LOOSE_TENANT, Optional.empty(), ledger, Map.of());
    // Room at 11:00Z (the oldest of the three leaves the window), 07:00 in Miami: the first
    // instant of Florida's hours after it.
    assertThat(line(gate.decide(third, f, NOON)))
        .isEqualTo("DEFER 2026-06-11T12:00:00Z frequency:state:FL");
    // The number next to it, with no history, is not affected.
    assertThat(gate.decide(inFlorida("cmp-c", "+13055550100"), f, NOON)).isEqualTo(Decision.ALLOW);
  }

  private static Contact inFlorida(String campaignId, String phone) {
    return new Contact(
        "acme",
        campaignId,
        null,
        Channel.SMS,
        phone,
        GateFixture.zones("America/New_York"),
        "FL",
        null,
        Purpose.CAMPAIGN,
        null);
  }

  private static void contacted(String campaignId, Instant at, Map<String, List<Instant>> ledger) {
    // What a tenant-wide ledger keeps: when, not which campaign, decides.
    ledger.computeIfAbsent(GateFixture.PHONE, p -> new ArrayList<>()).add(at);
  }

  @Test
  void aStateMayHaveHoursWithoutACap() {
    ContactRules rules =
        new ContactRules(
            ContactRules.defaults().federalHours(),
            Map.of("CT", new StateRule(LocalTime.of(9, 0), LocalTime.of(20, 0), 0)),
            List.of(new FrequencyCap(10, Duration.ofHours(24))),
            Duration.ofDays(31),
            ContactRules.Requirement.AUTO);
    Contact c = contact("America/New_York", "CT", null);
    GateFacts f = facts().rules(rules).contactedAt(ago("PT1H PT2H PT3H PT4H")).build();
    assertThat(gate.decide(c, f, NOON)).isEqualTo(Decision.ALLOW);
    assertThat(line(gate.decide(c, f, Instant.parse("2026-06-10T12:30:00Z"))))
        .isEqualTo("DEFER 2026-06-10T13:00:00Z hours:state:CT");
  }

  @Test
  void labelsNameTheCapAsTheRulesAreWritten() {
    assertThat(new FrequencyCap(1, Duration.ofHours(24)).label()).isEqualTo("1/24h");
    assertThat(new FrequencyCap(3, Duration.ofDays(7)).label()).isEqualTo("3/7d");
    assertThat(new FrequencyCap(2, Duration.ofHours(12)).label()).isEqualTo("2/12h");
    assertThat(new FrequencyCap(5, Duration.ofDays(30)).label()).isEqualTo("5/30d");
    assertThat(new FrequencyCap(1, Duration.ofMinutes(90)).label()).isEqualTo("1/90m");
  }

  @Test
  void aCapAllowsAtLeastOneContactInAPositiveWindow() {
    assertThatThrownBy(() -> new FrequencyCap(0, Duration.ofHours(24)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new FrequencyCap(1, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** The cap counts exactly the prior contacts in (now - per, now], against a plain count. */
  @Property(tries = 300)
  void aCapIsReachedWhenItsWindowHoldsMaxContacts(
      @ForAll @IntRange(min = 1, max = 4) int max,
      @ForAll("periods") Duration per,
      @ForAll("offsetsInSeconds") List<Long> offsets) {
    List<Instant> prior = offsets.stream().map(NOON::minusSeconds).toList();
    long inWindow = offsets.stream().filter(s -> s >= 0 && s < per.getSeconds()).count();
    assertThat(new FrequencyCap(max, per).reached(prior, NOON)).isEqualTo(inWindow >= max);
  }

  /** {@code nextRoom} is the first instant with room: the cap is reached at every earlier one. */
  @Property(tries = 300)
  void nextRoomIsTheFirstInstantWithRoom(
      @ForAll @IntRange(min = 1, max = 4) int max,
      @ForAll("periods") Duration per,
      @ForAll("offsetsInSeconds") List<Long> offsets) {
    FrequencyCap cap = new FrequencyCap(max, per);
    List<Instant> prior = offsets.stream().map(NOON::minusSeconds).toList();
    Instant room = cap.nextRoom(prior, NOON);
    assertThat(room).isAfterOrEqualTo(NOON);
    assertThat(cap.reached(prior, room)).isFalse();
    if (room.isAfter(NOON)) {
      assertThat(cap.reached(prior, NOON)).isTrue();
      assertThat(cap.reached(prior, room.minusNanos(1))).isTrue();
    }
  }

  /** A capped contact is deferred to an instant the whole gate allows (hours and every cap). */
  @Property(tries = 300)
  void aCappedContactIsDeferredToAnInstantTheGateAllows(
      @ForAll("offsetsInSeconds") List<Long> offsets, @ForAll boolean florida) {
    Contact c = contact("America/New_York", florida ? "FL" : null, null);
    GateFacts f = facts().contactedAt(offsets.stream().map(NOON::minusSeconds).toList()).build();
    Decision d = gate.decide(c, f, NOON);
    if (d instanceof Decision.Defer defer) {
      assertThat(defer.rule()).startsWith("frequency:");
      assertThat(gate.decide(c, f, defer.until())).isEqualTo(Decision.ALLOW);
    } else {
      assertThat(d).isEqualTo(Decision.ALLOW);
    }
  }

  @Provide
  Arbitrary<Duration> periods() {
    return Arbitraries.of(Duration.ofHours(24), Duration.ofDays(7), Duration.ofHours(1));
  }

  @Provide
  Arbitrary<List<Long>> offsetsInSeconds() {
    Arbitrary<Long> edges =
        Arbitraries.of(0L, -1L, 3_600L, 3_599L, 86_400L, 86_399L, 604_800L, 604_799L);
    Arbitrary<Long> any = Arbitraries.longs().between(-86_400, 8 * 86_400);
    return Arbitraries.oneOf(edges, any).list().ofMaxSize(8);
  }
}
