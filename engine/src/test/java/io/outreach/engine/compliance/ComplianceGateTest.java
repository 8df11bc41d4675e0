package io.outreach.engine.compliance;

import static io.outreach.engine.compliance.GateFixture.facts;
import static io.outreach.engine.compliance.GateFixture.line;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.outreach.engine.dnc.DncRegistry.Listing;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The gate's rules and their precedence: kill switches, suspension, consent, the lists, the
 * national copy's age, stop-on-reply, and which purposes each rule holds back.
 */
class ComplianceGateTest {
  private static final String PHONE = "+12125550100";
  private static final Contact CONTACT = new Contact("acme", "cmp-1", null, Channel.SMS, PHONE);
  private static final GateFacts CLEAR = new GateFacts(List.of(), false, Map.of(), Set.of());

  /** Noon in New York on a Wednesday: inside every legal hour. */
  private static final Instant NOON = Instant.parse("2026-06-10T16:00:00Z");

  /** 23:00 in New York: outside the federal hours. */
  private static final Instant NIGHT = Instant.parse("2026-06-11T03:00:00Z");

  private static final Instant FIRST_MESSAGE = NOON.minus(Duration.ofDays(2));

  private final ComplianceGate gate = new ComplianceGate();

  private static KillSwitch kill(KillSwitch.Scope scope, String target) {
    return new KillSwitch("ks-1", scope, target, "ops", Instant.EPOCH);
  }

  private String rule(Decision d) {
    return d instanceof Decision.Block b ? b.reason() + "/" + b.rule() : d.toString();
  }

  @Test
  void clearContactIsAllowed() {
    assertThat(gate.decide(CONTACT, CLEAR)).isEqualTo(Decision.ALLOW);
  }

  @Test
  void eachRuleBlocksWithItsName() {
    assertThat(rule(gate.decide(CONTACT, new GateFacts(List.of(), false, Map.of(), Set.of(PHONE)))))
        .isEqualTo("OPT_OUT/opt-out");
    assertThat(
            rule(
                gate.decide(
                    CONTACT,
                    new GateFacts(List.of(), false, Map.of(PHONE, Listing.TENANT), Set.of()))))
        .isEqualTo("DNC/dnc:tenant");
    assertThat(
            rule(
                gate.decide(
                    CONTACT,
                    new GateFacts(List.of(), false, Map.of(PHONE, Listing.NATIONAL), Set.of()))))
        .isEqualTo("DNC/dnc:national");
    assertThat(rule(gate.decide(new Contact("acme", "cmp-1", null, Channel.SMS, null), CLEAR)))
        .isEqualTo("INVALID/invalid:no-phone");
    assertThat(rule(gate.decide(CONTACT, new GateFacts(List.of(), true, Map.of(), Set.of()))))
        .isEqualTo("KILL_SWITCH/tenant-suspended");
  }

  @Test
  void killSwitchesCoverTheirScopeOnly() {
    assertThat(rule(gate.decide(CONTACT, stopping(kill(KillSwitch.Scope.PLATFORM, "*")))))
        .isEqualTo("KILL_SWITCH/kill-switch:platform");
    assertThat(rule(gate.decide(CONTACT, stopping(kill(KillSwitch.Scope.TENANT, "acme")))))
        .isEqualTo("KILL_SWITCH/kill-switch:tenant");
    assertThat(gate.decide(CONTACT, stopping(kill(KillSwitch.Scope.TENANT, "bravo"))))
        .isEqualTo(Decision.ALLOW);
    assertThat(rule(gate.decide(CONTACT, stopping(kill(KillSwitch.Scope.CAMPAIGN, "cmp-1")))))
        .isEqualTo("KILL_SWITCH/kill-switch:campaign");
    assertThat(gate.decide(CONTACT, stopping(kill(KillSwitch.Scope.CAMPAIGN, "cmp-2"))))
        .isEqualTo(Decision.ALLOW);
    assertThat(rule(gate.decide(CONTACT, stopping(kill(KillSwitch.Scope.CHANNEL, "sms")))))
        .isEqualTo("KILL_SWITCH/kill-switch:channel");
    assertThat(gate.decide(CONTACT, stopping(kill(KillSwitch.Scope.CHANNEL, "voice"))))
        .isEqualTo(Decision.ALLOW);
    Contact byAgent = new Contact("acme", null, "cathy", Channel.SMS, PHONE);
    assertThat(rule(gate.decide(byAgent, stopping(kill(KillSwitch.Scope.AGENT, "cathy")))))
        .isEqualTo("KILL_SWITCH/kill-switch:agent");
    assertThat(gate.decide(CONTACT, stopping(kill(KillSwitch.Scope.AGENT, "cathy"))))
        .isEqualTo(Decision.ALLOW);
  }

  private static GateFacts stopping(KillSwitch k) {
    return new GateFacts(List.of(k), false, Map.of(), Set.of());
  }

  /** A covering kill switch wins over every other rule, whatever else is true of the contact. */
  @Property(tries = 50)
  void killSwitchTakesPrecedence(
      @ForAll boolean suspended,
      @ForAll boolean optedOut,
      @ForAll boolean listed,
      @ForAll boolean noPhone) {
    Contact c = new Contact("acme", "cmp-1", null, Channel.SMS, noPhone ? null : PHONE);
    GateFacts f =
        new GateFacts(
            List.of(kill(KillSwitch.Scope.TENANT, "acme")),
            suspended,
            listed ? Map.of(PHONE, Listing.NATIONAL) : Map.of(),
            optedOut ? Set.of(PHONE) : Set.of());
    assertThat(gate.decide(c, f))
        .isEqualTo(new Decision.Block(BlockReason.KILL_SWITCH, "kill-switch:tenant"));
  }

  // ---- the clocked decision: every rule ----

  private static Contact contact(Purpose purpose) {
    return GateFixture.contact(
        purpose,
        purpose == Purpose.FOLLOW_UP ? FIRST_MESSAGE : null,
        List.of(GateFixture.NEW_YORK),
        "NY",
        null);
  }

  @Test
  void theTwoArgumentDecisionKeepsItsRulesAndNeedsNoClock() {
    // What BlockEntity and CampaignWiring build today: no zone, no history, the legacy facts.
    assertThat(CLEAR.rules()).isEqualTo(ContactRules.defaults());
    assertThat(CLEAR.nationalCopyAsOf()).isEmpty();
    assertThat(CONTACT.purpose()).isEqualTo(Purpose.CAMPAIGN);
    assertThat(CONTACT.zones()).isEmpty();
    assertThat(gate.decide(CONTACT, CLEAR)).isEqualTo(Decision.ALLOW);
    // The clocked decision cannot place a contact without a zone in legal hours.
    assertThat(line(gate.decide(CONTACT, CLEAR, NOON))).isEqualTo("BLOCK INVALID/hours:no-zone");
    // Neither hours, caps nor a stale copy reach the two-argument decision.
    GateFacts all =
        facts()
            .nationalCopyAsOf(LocalDate.of(2020, 1, 1))
            .contactedAt(NOON.minusSeconds(60))
            .lastInbound(NOON)
            .build();
    assertThat(gate.decide(contact(Purpose.FOLLOW_UP), all)).isEqualTo(Decision.ALLOW);
  }

  @Test
  void aClearContactInLegalHoursIsAllowed() {
    for (Purpose p : Purpose.values()) {
      assertThat(gate.decide(contact(p), facts().build(), NOON))
          .as("%s", p)
          .isEqualTo(Decision.ALLOW);
    }
  }

  @ParameterizedTest(name = "[{index}] required={0} as-of {1} at {2}")
  @CsvSource(
      delimiter = '|',
      nullValues = "-",
      value = {
        "AUTO | -          | 2026-06-10T16:00:00Z | ALLOW",
        "AUTO | 2026-06-01 | 2026-06-10T16:00:00Z | ALLOW",
        // 31 days from the start of the as-of day (UTC), inclusive.
        "AUTO | 2026-05-10 | 2026-06-10T00:00:00Z | ALLOW",
        "AUTO | 2026-05-10 | 2026-06-10T00:00:00.000000001Z | BLOCK DNC_STALE/dnc:national-copy-stale",
        "AUTO | 2026-05-09 | 2026-06-10T16:00:00Z | BLOCK DNC_STALE/dnc:national-copy-stale",
        "ON   | -          | 2026-06-10T16:00:00Z | BLOCK DNC_STALE/dnc:national-copy-missing",
        "ON   | 2026-06-01 | 2026-06-10T16:00:00Z | ALLOW",
        "ON   | 2026-01-01 | 2026-06-10T16:00:00Z | BLOCK DNC_STALE/dnc:national-copy-stale",
        "OFF  | -          | 2026-06-10T16:00:00Z | ALLOW",
        "OFF  | 2026-01-01 | 2026-06-10T16:00:00Z | ALLOW",
        // Stale blocks before the hours would defer.
        "AUTO | 2026-01-01 | 2026-06-11T03:00:00Z | BLOCK DNC_STALE/dnc:national-copy-stale",
      })
  void theNationalCopyMustBeFresh(
      ContactRules.Requirement required, LocalDate asOf, Instant now, String expected) {
    ContactRules d = ContactRules.defaults();
    ContactRules rules =
        new ContactRules(
            d.federalHours(), d.states(), d.tenantCaps(), d.nationalCopyMaxAge(), required);
    GateFixture.Facts f = facts().rules(rules);
    if (asOf != null) {
      f.nationalCopyAsOf(asOf);
    }
    for (Purpose p : List.of(Purpose.CAMPAIGN, Purpose.FOLLOW_UP, Purpose.AGENT)) {
      assertThat(line(gate.decide(contact(p), f.build(), now))).as("%s", p).isEqualTo(expected);
    }
  }

  @ParameterizedTest(name = "[{index}] {0}, last inbound {1}")
  @CsvSource(
      delimiter = '|',
      nullValues = "-",
      value = {
        "FOLLOW_UP | -                    | ALLOW",
        "FOLLOW_UP | 2026-06-08T15:59:59Z | ALLOW",
        "FOLLOW_UP | 2026-06-08T16:00:00Z | ALLOW",
        "FOLLOW_UP | 2026-06-08T16:00:01Z | BLOCK REPLIED/stop-on-reply",
        "FOLLOW_UP | 2026-06-10T15:00:00Z | BLOCK REPLIED/stop-on-reply",
        // Only a follow-up stops: a first message or an agent's outreach is not a follow-up.
        "CAMPAIGN  | 2026-06-10T15:00:00Z | ALLOW",
        "AGENT     | 2026-06-10T15:00:00Z | ALLOW",
      })
  void aFollowUpStopsOnAReply(Purpose purpose, Instant lastInbound, String expected) {
    GateFixture.Facts f = facts();
    if (lastInbound != null) {
      f.lastInbound(lastInbound);
    }
    assertThat(line(gate.decide(contact(purpose), f.build(), NOON))).isEqualTo(expected);
  }

  @Test
  void stopOnReplyWinsOverTheHours() {
    GateFacts replied = facts().lastInbound(FIRST_MESSAGE.plusSeconds(1)).build();
    assertThat(line(gate.decide(contact(Purpose.FOLLOW_UP), replied, NIGHT)))
        .isEqualTo("BLOCK REPLIED/stop-on-reply");
  }

  @Test
  void onlyAFollowUpCarriesTheInstantOfTheFirstMessage() {
    assertThatThrownBy(() -> GateFixture.contact(Purpose.FOLLOW_UP, null, List.of(), null, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GateFixture.contact(Purpose.CAMPAIGN, NOON, List.of(), null, null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** Everything but a kill switch or suspension that could hold a contact back, all at once. */
  private static GateFixture.Facts everythingAgainst() {
    ContactRules d = ContactRules.defaults();
    return facts()
        .rules(
            new ContactRules(
                d.federalHours(),
                d.states(),
                d.tenantCaps(),
                d.nationalCopyMaxAge(),
                ContactRules.Requirement.ON))
        .optedOut()
        .listed(Listing.NATIONAL)
        .contactedAt(NIGHT.minusSeconds(60), NIGHT.minusSeconds(120), NIGHT.minusSeconds(180))
        .lastInbound(NIGHT.minusSeconds(30));
  }

  @ParameterizedTest
  @EnumSource(
      value = Purpose.class,
      names = {"OPT_OUT_CONFIRMATION", "HELP_REPLY"})
  void transactionalRepliesPassEverythingButTheStops(Purpose purpose) {
    Contact reply = GateFixture.contact(purpose, null, List.of(), "FL", null);
    assertThat(gate.decide(reply, everythingAgainst().build(), NIGHT)).isEqualTo(Decision.ALLOW);
    assertThat(gate.decide(reply, everythingAgainst().build())).isEqualTo(Decision.ALLOW);
    assertThat(line(gate.decide(reply, everythingAgainst().suspended().build(), NIGHT)))
        .isEqualTo("BLOCK KILL_SWITCH/tenant-suspended");
    assertThat(
            line(
                gate.decide(
                    reply,
                    everythingAgainst().kill(kill(KillSwitch.Scope.CHANNEL, "sms")).build(),
                    NIGHT)))
        .isEqualTo("BLOCK KILL_SWITCH/kill-switch:channel");
    Contact noPhone =
        new Contact("acme", null, null, Channel.SMS, null, List.of(), null, null, purpose, null);
    assertThat(line(gate.decide(noPhone, everythingAgainst().build(), NIGHT)))
        .isEqualTo("BLOCK INVALID/invalid:no-phone");
  }

  @ParameterizedTest
  @EnumSource(
      value = Purpose.class,
      names = {"CAMPAIGN", "FOLLOW_UP", "AGENT"})
  void marketingPassesEveryRule(Purpose purpose) {
    Contact c = contact(purpose);
    assertThat(line(gate.decide(c, facts().optedOut().build(), NOON)))
        .isEqualTo("BLOCK OPT_OUT/opt-out");
    assertThat(line(gate.decide(c, facts().listed(Listing.TENANT).build(), NOON)))
        .isEqualTo("BLOCK DNC/dnc:tenant");
    assertThat(line(gate.decide(c, facts().build(), NIGHT)))
        .isEqualTo("DEFER 2026-06-11T12:00:00Z hours:federal");
    assertThat(line(gate.decide(c, facts().contactedAt(NOON.minusSeconds(60)).build(), NOON)))
        .isEqualTo("DEFER 2026-06-11T15:59:00Z frequency:tenant:1/24h");
  }

  /** The precedence in the class Javadoc, written as a list of (applies, outcome) in order. */
  @Property(tries = 1000)
  void theFirstRuleThatAppliesDecides(
      @ForAll Purpose purpose,
      @ForAll boolean killed,
      @ForAll boolean suspended,
      @ForAll boolean noPhone,
      @ForAll boolean optedOut,
      @ForAll("listings") Optional<Listing> listing,
      @ForAll("copies") String copy,
      @ForAll boolean replied,
      @ForAll boolean noZone,
      @ForAll boolean night,
      @ForAll boolean capped) {
    Instant now = night ? NIGHT : NOON;
    Contact c =
        new Contact(
            "acme",
            "cmp-1",
            null,
            Channel.SMS,
            noPhone ? null : PHONE,
            noZone ? List.of() : List.of(GateFixture.NEW_YORK),
            null,
            null,
            purpose,
            purpose == Purpose.FOLLOW_UP ? FIRST_MESSAGE : null);
    ContactRules d = ContactRules.defaults();
    GateFixture.Facts f =
        facts()
            .rules(
                new ContactRules(
                    d.federalHours(),
                    d.states(),
                    d.tenantCaps(),
                    d.nationalCopyMaxAge(),
                    copy.equals("missing")
                        ? ContactRules.Requirement.ON
                        : ContactRules.Requirement.AUTO));
    if (killed) {
      f.kill(kill(KillSwitch.Scope.CAMPAIGN, "cmp-1"));
    }
    if (suspended) {
      f.suspended();
    }
    if (optedOut) {
      f.optedOut();
    }
    listing.ifPresent(f::listed);
    if (copy.equals("fresh")) {
      f.nationalCopyAsOf(LocalDate.of(2026, 6, 1));
    } else if (copy.equals("stale")) {
      f.nationalCopyAsOf(LocalDate.of(2026, 1, 1));
    }
    if (replied) {
      f.lastInbound(FIRST_MESSAGE.plusSeconds(1));
    }
    if (capped) {
      f.contactedAt(now.minusSeconds(3600));
    }
    List<Map.Entry<Boolean, String>> precedence =
        List.of(
            Map.entry(killed, "BLOCK KILL_SWITCH/kill-switch:campaign"),
            Map.entry(suspended, "BLOCK KILL_SWITCH/tenant-suspended"),
            Map.entry(noPhone, "BLOCK INVALID/invalid:no-phone"),
            Map.entry(purpose.transactional(), "ALLOW"),
            Map.entry(optedOut, "BLOCK OPT_OUT/opt-out"),
            Map.entry(listing.equals(Optional.of(Listing.TENANT)), "BLOCK DNC/dnc:tenant"),
            Map.entry(listing.equals(Optional.of(Listing.NATIONAL)), "BLOCK DNC/dnc:national"),
            Map.entry(copy.equals("stale"), "BLOCK DNC_STALE/dnc:national-copy-stale"),
            Map.entry(copy.equals("missing"), "BLOCK DNC_STALE/dnc:national-copy-missing"),
            Map.entry(replied && purpose == Purpose.FOLLOW_UP, "BLOCK REPLIED/stop-on-reply"),
            Map.entry(noZone, "BLOCK INVALID/hours:no-zone"),
            Map.entry(night, "DEFER 2026-06-11T12:00:00Z hours:federal"),
            // An agent's answer to the person's own reply is not held back by the caps.
            Map.entry(
                capped && purpose != Purpose.AGENT_REPLY,
                "DEFER 2026-06-11T15:00:00Z frequency:tenant:1/24h"),
            Map.entry(true, "ALLOW"));
    String expected =
        precedence.stream().filter(Map.Entry::getKey).findFirst().orElseThrow().getValue();
    assertThat(line(gate.decide(c, f.build(), now))).isEqualTo(expected);
  }

  /** A covering kill switch blocks every purpose, whatever else the facts and the clock say. */
  @Property(tries = 500)
  void aCoveringKillSwitchBlocksEveryPurposeAtAnyTime(
      @ForAll Purpose purpose,
      @ForAll("coveringSwitches") KillSwitch k,
      @ForAll boolean suspended,
      @ForAll boolean optedOut,
      @ForAll("listings") Optional<Listing> listing,
      @ForAll boolean noPhone,
      @ForAll boolean noZone,
      @ForAll boolean stale,
      @ForAll boolean replied,
      @ForAll("instants") Instant now) {
    Contact c =
        new Contact(
            "acme",
            "cmp-1",
            "cathy",
            Channel.SMS,
            noPhone ? null : PHONE,
            noZone ? List.of() : List.of(GateFixture.NEW_YORK),
            "FL",
            GateFixture.window("09:00-10:00"),
            purpose,
            purpose == Purpose.FOLLOW_UP ? now.minusSeconds(86_400) : null);
    GateFixture.Facts f = facts().kill(k).contactedAt(now.minusSeconds(1), now.minusSeconds(2));
    if (suspended) {
      f.suspended();
    }
    if (optedOut) {
      f.optedOut();
    }
    listing.ifPresent(f::listed);
    if (stale) {
      f.nationalCopyAsOf(LocalDate.of(2000, 1, 1));
    }
    if (replied) {
      f.lastInbound(now.minusSeconds(1));
    }
    Decision expected =
        new Decision.Block(BlockReason.KILL_SWITCH, "kill-switch:" + k.scope().code());
    assertThat(gate.decide(c, f.build(), now)).isEqualTo(expected);
    assertThat(gate.decide(c, f.build())).isEqualTo(expected);
  }

  @Provide
  Arbitrary<Optional<Listing>> listings() {
    return Arbitraries.of(Listing.class).optional(0.5);
  }

  @Provide
  Arbitrary<String> copies() {
    return Arbitraries.of("fresh", "stale", "missing", "none");
  }

  @Provide
  Arbitrary<KillSwitch> coveringSwitches() {
    return Arbitraries.of(
        kill(KillSwitch.Scope.PLATFORM, "carrier incident"),
        kill(KillSwitch.Scope.TENANT, "acme"),
        kill(KillSwitch.Scope.CAMPAIGN, "cmp-1"),
        kill(KillSwitch.Scope.AGENT, "cathy"),
        kill(KillSwitch.Scope.CHANNEL, "sms"));
  }

  @Provide
  Arbitrary<Instant> instants() {
    return LegalHoursTest.instants();
  }
}
