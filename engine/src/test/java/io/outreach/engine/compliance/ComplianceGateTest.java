package io.outreach.engine.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.dnc.DncRegistry.Listing;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class ComplianceGateTest {
  private static final String PHONE = "+12125550100";
  private static final Contact CONTACT = new Contact("acme", "cmp-1", null, Channel.SMS, PHONE);
  private static final GateFacts CLEAR = new GateFacts(List.of(), false, Map.of(), Set.of());
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
    assertThat(rule(gate.decide(CONTACT, new GateFacts(List.of(), false, Map.of(PHONE, Listing.TENANT), Set.of()))))
        .isEqualTo("DNC/dnc:tenant");
    assertThat(rule(gate.decide(CONTACT, new GateFacts(List.of(), false, Map.of(PHONE, Listing.NATIONAL), Set.of()))))
        .isEqualTo("DNC/dnc:national");
    assertThat(rule(gate.decide(new Contact("acme", "cmp-1", null, Channel.SMS, null), CLEAR)))
        .isEqualTo("INVALID/invalid:no-phone");
    assertThat(rule(gate.decide(CONTACT, new GateFacts(List.of(), true, Map.of(), Set.of()))))
        .isEqualTo("KILL_SWITCH/tenant-suspended");
  }

  @Test
  void killSwitchesCoverTheirScopeOnly() {
    assertThat(rule(gate.decide(CONTACT, facts(kill(KillSwitch.Scope.PLATFORM, "*"))))).isEqualTo("KILL_SWITCH/kill-switch:platform");
    assertThat(rule(gate.decide(CONTACT, facts(kill(KillSwitch.Scope.TENANT, "acme"))))).isEqualTo("KILL_SWITCH/kill-switch:tenant");
    assertThat(gate.decide(CONTACT, facts(kill(KillSwitch.Scope.TENANT, "bravo")))).isEqualTo(Decision.ALLOW);
    assertThat(rule(gate.decide(CONTACT, facts(kill(KillSwitch.Scope.CAMPAIGN, "cmp-1"))))).isEqualTo("KILL_SWITCH/kill-switch:campaign");
    assertThat(gate.decide(CONTACT, facts(kill(KillSwitch.Scope.CAMPAIGN, "cmp-2")))).isEqualTo(Decision.ALLOW);
    assertThat(rule(gate.decide(CONTACT, facts(kill(KillSwitch.Scope.CHANNEL, "sms"))))).isEqualTo("KILL_SWITCH/kill-switch:channel");
    assertThat(gate.decide(CONTACT, facts(kill(KillSwitch.Scope.CHANNEL, "voice")))).isEqualTo(Decision.ALLOW);
    Contact byAgent = new Contact("acme", null, "cathy", Channel.SMS, PHONE);
    assertThat(rule(gate.decide(byAgent, facts(kill(KillSwitch.Scope.AGENT, "cathy"))))).isEqualTo("KILL_SWITCH/kill-switch:agent");
    assertThat(gate.decide(CONTACT, facts(kill(KillSwitch.Scope.AGENT, "cathy")))).isEqualTo(Decision.ALLOW);
  }

  private static GateFacts facts(KillSwitch k) {
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
    assertThat(gate.decide(c, f)).isEqualTo(new Decision.Block(BlockReason.KILL_SWITCH, "kill-switch:tenant"));
  }
}
