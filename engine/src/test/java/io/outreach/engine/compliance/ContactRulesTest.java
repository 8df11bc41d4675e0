package io.outreach.engine.compliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.outreach.engine.CborSerializable;
import io.outreach.engine.EntityTestKits;
import io.outreach.engine.dnc.DncRegistry.Listing;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The contact rules from {@code outreach.compliance}: the defaults, additions, and bad values. */
class ContactRulesTest {
  private static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = EntityTestKits.create();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static Config with(String hocon) {
    return ConfigFactory.parseString(hocon)
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  @Test
  void referenceConfIsTheDefaults() {
    ContactRules rules = ContactRules.from(ConfigFactory.defaultReference());
    assertThat(rules).isEqualTo(ContactRules.defaults());
    assertThat(rules.federalHours())
        .isEqualTo(new DailyHours(LocalTime.of(8, 0), LocalTime.of(21, 0)));
    assertThat(rules.states()).containsOnlyKeys("FL", "OK", "MD");
    assertThat(rules.state("fl"))
        .contains(new StateRule(LocalTime.of(8, 0), LocalTime.of(20, 0), 3));
    assertThat(rules.tenantCaps())
        .containsExactly(
            new FrequencyCap(1, Duration.ofHours(24)), new FrequencyCap(3, Duration.ofDays(7)));
    assertThat(rules.nationalCopyMaxAge()).isEqualTo(Duration.ofDays(31));
    assertThat(rules.nationalCopyRequired()).isEqualTo(ContactRules.Requirement.AUTO);
  }

  @Test
  void aStateIsAddedInConfigAlone() {
    ContactRules rules =
        ContactRules.from(
            with(
                "outreach.compliance.states.CT { start = \"09:00\", end = \"20:00\" }\n"
                    + "outreach.compliance.states.WA { start = \"08:00\", end = \"20:00\", max-per-24h = 2 }"));
    assertThat(rules.states()).containsOnlyKeys("FL", "OK", "MD", "CT", "WA");
    assertThat(rules.state("CT"))
        .contains(new StateRule(LocalTime.of(9, 0), LocalTime.of(20, 0), 0));
    assertThat(rules.state("CT").flatMap(StateRule::cap)).isEmpty();
    assertThat(rules.state("WA").flatMap(StateRule::cap))
        .contains(new FrequencyCap(2, Duration.ofHours(24)));
    Contact c = GateFixture.contact("America/New_York", "CT", null);
    assertThat(
            GateFixture.line(
                new ComplianceGate()
                    .decide(
                        c,
                        GateFixture.facts().rules(rules).build(),
                        Instant.parse("2026-06-10T12:30:00Z"))))
        .isEqualTo("DEFER 2026-06-10T13:00:00Z hours:state:CT");
  }

  @Test
  void capsAndTheNationalCopyAreConfigurable() {
    ContactRules rules =
        ContactRules.from(
            with(
                "outreach.compliance { frequency-caps = [{max = 2, per = 12h}]\n"
                    + "national-dnc { max-age = 14d, required = on } }"));
    assertThat(rules.tenantCaps()).containsExactly(new FrequencyCap(2, Duration.ofHours(12)));
    assertThat(rules.nationalCopyMaxAge()).isEqualTo(Duration.ofDays(14));
    assertThat(rules.nationalCopyRequired()).isEqualTo(ContactRules.Requirement.ON);
    assertThat(
            ContactRules.from(with("outreach.compliance.national-dnc.required = off"))
                .nationalCopyRequired())
        .isEqualTo(ContactRules.Requirement.OFF);
    assertThat(ContactRules.from(with("outreach.compliance.frequency-caps = []")).tenantCaps())
        .isEmpty();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "outreach.compliance.federal-hours.start = \"8am\" | outreach.compliance.federal-hours.start",
        "outreach.compliance.federal-hours { start = \"21:00\", end = \"08:00\" } | outreach.compliance.federal-hours:",
        "outreach.compliance.federal-hours.stop = \"21:00\" | outreach.compliance.federal-hours.stop",
        "outreach.compliance.states.FL.end = \"25:00\" | outreach.compliance.states.FL.end",
        "outreach.compliance.states.FL.max-per-24h = 0 | outreach.compliance.states.FL.max-per-24h",
        "outreach.compliance.states.FL.max-per-day = 3 | outreach.compliance.states.FL.max-per-day",
        "outreach.compliance.states.FL.max-per-24h = lots | outreach.compliance.states.FL",
        "outreach.compliance.states.fl { start = \"08:00\", end = \"20:00\" } | outreach.compliance.states.fl",
        "outreach.compliance.states.TX { start = \"08:00\" } | outreach.compliance.states.TX",
        "outreach.compliance.frequency-caps = [{max = 0, per = 24h}] | outreach.compliance.frequency-caps[0].max",
        "outreach.compliance.frequency-caps = [{max = 1, per = 24h}, {max = 1, per = 0s}] | outreach.compliance.frequency-caps[1].per",
        "outreach.compliance.frequency-caps = [{max = 1, per = soon}] | outreach.compliance.frequency-caps[0]",
        "outreach.compliance.frequency-caps = [{max = 1}] | outreach.compliance.frequency-caps[0]",
        "outreach.compliance.national-dnc.max-age = -1d | outreach.compliance.national-dnc.max-age",
        "outreach.compliance.national-dnc.required = maybe | outreach.compliance.national-dnc.required",
      })
  void aBadValueFailsNamingItsKey(String hocon, String key) {
    assertThatThrownBy(() -> ContactRules.from(with(hocon)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(key);
  }

  @Test
  void aMissingBlockFailsNamingIt() {
    assertThatThrownBy(() -> ContactRules.from(ConfigFactory.parseString("outreach {}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("compliance");
  }

  /** The rules and the facts cross actors (a block's loaded facts), so they must round-trip. */
  record Carrier(GateFacts facts) implements CborSerializable {}

  @Test
  void rulesAndFactsRoundTripThroughCbor() {
    testKit.serializationTestKit().verifySerialization(ContactRules.defaults(), true);
    GateFacts facts =
        new GateFacts(
            List.of(new KillSwitch("ks-1", KillSwitch.Scope.AGENT, "cathy", "ops", Instant.EPOCH)),
            false,
            Map.of("+12125550101", Listing.NATIONAL),
            Set.of("+12125550102"),
            ContactRules.defaults(),
            Optional.of(LocalDate.of(2026, 6, 1)),
            Map.of("+12125550100", List.of(Instant.parse("2026-06-10T12:00:00Z"))),
            Map.of("+12125550100", Instant.parse("2026-06-10T13:00:00Z")));
    testKit.serializationTestKit().verifySerialization(new Carrier(facts), true);
    testKit
        .serializationTestKit()
        .verifySerialization(new Carrier(new GateFacts(List.of(), true, Map.of(), Set.of())), true);
  }
}
