package io.outreach.engine.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.EntityTestKits;
import io.outreach.engine.Rejection;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TenantEntityTest {
  private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");
  private static ActorTestKit testKit;
  private EventSourcedBehaviorTestKit<TenantEntity.Command, TenantEntity.Event, TenantEntity.State>
      kit;

  @BeforeAll
  static void start() {
    testKit = EntityTestKits.create();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(), TenantEntity.create("acme", 4, Clock.fixed(T0, ZoneOffset.UTC)));
    kit.clear();
  }

  private CommandResultWithReply<
          TenantEntity.Command, TenantEntity.Event, TenantEntity.State, StatusReply<Tenant>>
      create(String name, String tz, long budget) {
    return kit.runCommand(r -> new TenantEntity.Create(name, tz, budget, "ops", r));
  }

  @Test
  void createsAndAnswersGet() {
    var result = create("Acme", "America/New_York", 100_000);
    assertThat(result.event())
        .isEqualTo(
            new TenantEntity.Created("acme", "Acme", "America/New_York", 100_000, "ops", T0));
    Tenant t = result.reply().getValue();
    assertThat(t.id()).isEqualTo("acme");
    assertThat(t.status()).isEqualTo(Tenant.Status.ACTIVE);
    assertThat(t.agentPolicies()).containsOnlyKeys("cathy", "gianna", "luci");
    assertThat(t.agentPolicies().get("gianna").enabled()).isFalse();

    var get = kit.<StatusReply<Tenant>>runCommand(TenantEntity.Get::new);
    assertThat(get.hasNoEvents()).isTrue();
    assertThat(get.reply().getValue()).isEqualTo(t);
  }

  @Test
  void everyCommandBeforeCreationIsNotFound() {
    var get = kit.<StatusReply<Tenant>>runCommand(TenantEntity.Get::new);
    assertThat(rejection(get.reply()).kind()).isEqualTo(Rejection.Kind.NOT_FOUND);
    var upd =
        kit.<StatusReply<Tenant>>runCommand(
            r ->
                new TenantEntity.UpdateSettings(
                    new SettingsPatch("X", null, null, null, null, null, null, null, null),
                    "ops",
                    r));
    assertThat(rejection(upd.reply()).kind()).isEqualTo(Rejection.Kind.NOT_FOUND);
    assertThat(
            rejection(
                    kit.<StatusReply<Tenant>>runCommand(
                            r -> new TenantEntity.Suspend("x", "ops", r))
                        .reply())
                .kind())
        .isEqualTo(Rejection.Kind.NOT_FOUND);
    assertThat(
            rejection(
                    kit.<StatusReply<Tenant>>runCommand(r -> new TenantEntity.Resume("ops", r))
                        .reply())
                .kind())
        .isEqualTo(Rejection.Kind.NOT_FOUND);
  }

  @Test
  void rejectsInvalidCreateWithoutEvents() {
    var result = create(" ", "Mars/Olympus", -1);
    assertThat(result.hasNoEvents()).isTrue();
    Rejection r = rejection(result.reply());
    assertThat(r.kind()).isEqualTo(Rejection.Kind.INVALID);
    assertThat(r.detail()).contains("name", "Mars/Olympus", "monthlyBudgetCents");
  }

  @Test
  void secondCreateIsConflict() {
    create("Acme", "UTC", 0);
    var again = create("Acme", "UTC", 0);
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(rejection(again.reply()).kind()).isEqualTo(Rejection.Kind.CONFLICT);
  }

  @Test
  void updatesSettingsAndMergesPoliciesAndFlags() {
    create("Acme", "UTC", 0);
    var patch =
        new SettingsPatch(
            "Acme Inc",
            "America/Chicago",
            5_000L,
            Map.of("gianna", new AgentPolicy(true, false, 0.9, null)),
            Map.of("beta-console", true),
            java.util.List.of(
                new Sender("twilio", "+15550100002", "long_code", null),
                new Sender("signalhouse", "+18005550100", "toll_free", 5)),
            java.util.List.of(new ContactCap(2, 24)),
            "Acme Deals",
            "support@acme.example");
    Tenant t =
        kit.<StatusReply<Tenant>>runCommand(r -> new TenantEntity.UpdateSettings(patch, "ops", r))
            .reply()
            .getValue();
    assertThat(t.name()).isEqualTo("Acme Inc");
    assertThat(t.timezone()).isEqualTo("America/Chicago");
    assertThat(t.monthlyBudgetCents()).isEqualTo(5_000L);
    assertThat(t.agentPolicies().get("gianna")).isEqualTo(new AgentPolicy(true, false, 0.9, null));
    assertThat(t.agentPolicies().get("cathy")).isEqualTo(AgentPolicy.initial("cathy"));
    assertThat(t.flags()).containsEntry("beta-console", true);
    assertThat(t.senders("twilio")).extracting(Sender::messagesPerSecond).containsExactly(1);
    assertThat(t.senders("signalhouse")).extracting(Sender::messagesPerSecond).containsExactly(5);
    assertThat(t.frequencyCaps()).containsExactly(new ContactCap(2, 24));
    assertThat(t.program()).isEqualTo("Acme Deals");
    assertThat(t.helpContact()).isEqualTo("support@acme.example");

    var removeFlag = new java.util.HashMap<String, Boolean>();
    removeFlag.put("beta-console", null);
    Tenant t2 =
        kit.<StatusReply<Tenant>>runCommand(
                r ->
                    new TenantEntity.UpdateSettings(
                        new SettingsPatch(
                            null, null, null, null, removeFlag, null, null, null, null),
                        "ops",
                        r))
            .reply()
            .getValue();
    assertThat(t2.flags()).isEmpty();
    assertThat(t2.name()).isEqualTo("Acme Inc");
  }

  @Test
  void invalidPatchChangesNothing() {
    create("Acme", "UTC", 0);
    var bad =
        new SettingsPatch(
            null,
            "Nowhere/City",
            -5L,
            Map.of("hal", new AgentPolicy(true, true, 2.0, null)),
            Map.of("Bad Flag", true),
            java.util.List.of(
                new Sender("carrier-pigeon", "+15550100002", "long_code", null),
                new Sender("twilio", "555-0100", "long_code", null),
                new Sender("twilio", "+15550100003", "landline", null),
                new Sender("twilio", "+15550100004", "short_code", 0)),
            java.util.List.of(new ContactCap(0, 24), new ContactCap(1, 0)),
            "x".repeat(41),
            null);
    var result =
        kit.<StatusReply<Tenant>>runCommand(r -> new TenantEntity.UpdateSettings(bad, "ops", r));
    assertThat(result.hasNoEvents()).isTrue();
    assertThat(rejection(result.reply()).detail())
        .contains(
            "Nowhere/City",
            "monthlyBudgetCents",
            "hal",
            "Bad Flag",
            "senders[0].provider",
            "senders[1].from",
            "senders[2].kind",
            "senders[3].mps",
            "frequencyCaps[0].max",
            "frequencyCaps[1].perHours",
            "programName");
  }

  @Test
  void suspendAndResumeAreIdempotent() {
    create("Acme", "UTC", 0);
    var s1 = kit.<StatusReply<Tenant>>runCommand(r -> new TenantEntity.Suspend("unpaid", "ops", r));
    assertThat(s1.reply().getValue().status()).isEqualTo(Tenant.Status.SUSPENDED);
    assertThat(s1.reply().getValue().suspendedReason()).isEqualTo("unpaid");
    assertThat(
            kit.<StatusReply<Tenant>>runCommand(r -> new TenantEntity.Suspend("again", "ops", r))
                .hasNoEvents())
        .isTrue();
    var r1 = kit.<StatusReply<Tenant>>runCommand(r -> new TenantEntity.Resume("ops", r));
    assertThat(r1.reply().getValue().status()).isEqualTo(Tenant.Status.ACTIVE);
    assertThat(r1.reply().getValue().suspendedReason()).isNull();
    assertThat(
            kit.<StatusReply<Tenant>>runCommand(r -> new TenantEntity.Resume("ops", r))
                .hasNoEvents())
        .isTrue();
  }

  @Test
  void recoversStateAfterRestart() {
    create("Acme", "Europe/Berlin", 42);
    kit.<StatusReply<Tenant>>runCommand(
        r ->
            new TenantEntity.UpdateSettings(
                new SettingsPatch(null, null, 43L, null, Map.of("x", true), null, null, null, null),
                "ops",
                r));
    kit.<StatusReply<Tenant>>runCommand(r -> new TenantEntity.Suspend("audit", "ops", r));
    Tenant before = kit.getState().tenant();

    var restarted = kit.restart();
    assertThat(restarted.state().tenant()).isEqualTo(before);
    assertThat(before.monthlyBudgetCents()).isEqualTo(43L);
    assertThat(before.status()).isEqualTo(Tenant.Status.SUSPENDED);
  }

  @Test
  void atMostAHundredKillSwitchesAreEngagedAtOnce() {
    create("Acme", "UTC", 0);
    for (int i = 0; i < io.outreach.engine.compliance.KillSwitches.MAX_ENGAGED; i++) {
      String target = "cmp-" + i;
      var engaged =
          kit.<StatusReply<io.outreach.engine.compliance.KillSwitch>>runCommand(
              r ->
                  new TenantEntity.EngageKillSwitch(
                      io.outreach.engine.compliance.KillSwitch.Scope.CAMPAIGN, target, "ops", r));
      assertThat(engaged.reply().isSuccess()).isTrue();
    }
    var oneMore =
        kit.<StatusReply<io.outreach.engine.compliance.KillSwitch>>runCommand(
            r ->
                new TenantEntity.EngageKillSwitch(
                    io.outreach.engine.compliance.KillSwitch.Scope.CAMPAIGN, "cmp-x", "ops", r));
    assertThat(oneMore.hasNoEvents()).isTrue();
    assertThat(rejection(oneMore.reply()).kind()).isEqualTo(Rejection.Kind.CONFLICT);
    // An engaged one is still answered as it is (engaging it again changes nothing).
    var again =
        kit.<StatusReply<io.outreach.engine.compliance.KillSwitch>>runCommand(
            r ->
                new TenantEntity.EngageKillSwitch(
                    io.outreach.engine.compliance.KillSwitch.Scope.CAMPAIGN, "cmp-7", "ops", r));
    assertThat(again.reply().getValue().target()).isEqualTo("cmp-7");
  }

  @Test
  void killSwitchesEngageIdempotentlyReleaseAndRecover() {
    create("Acme", "UTC", 0);
    var engaged =
        kit.<StatusReply<io.outreach.engine.compliance.KillSwitch>>runCommand(
            r ->
                new TenantEntity.EngageKillSwitch(
                    io.outreach.engine.compliance.KillSwitch.Scope.CAMPAIGN, "cmp-1", "ops", r));
    var k = engaged.reply().getValue();
    assertThat(k.id()).startsWith("kst_");
    assertThat(k.engagedAt()).isEqualTo(T0);
    var again =
        kit.<StatusReply<io.outreach.engine.compliance.KillSwitch>>runCommand(
            r ->
                new TenantEntity.EngageKillSwitch(
                    io.outreach.engine.compliance.KillSwitch.Scope.CAMPAIGN, "cmp-1", "ops", r));
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(again.reply().getValue()).isEqualTo(k);
    var platform =
        kit.<StatusReply<io.outreach.engine.compliance.KillSwitch>>runCommand(
            r ->
                new TenantEntity.EngageKillSwitch(
                    io.outreach.engine.compliance.KillSwitch.Scope.PLATFORM, "x", "ops", r));
    assertThat(rejection(platform.reply()).kind()).isEqualTo(Rejection.Kind.INVALID);

    assertThat(kit.restart().state().tenant().killSwitches().all()).containsExactly(k);

    var released =
        kit.<StatusReply<io.outreach.engine.compliance.KillSwitch>>runCommand(
            r -> new TenantEntity.ReleaseKillSwitch(k.id(), "ops", r));
    assertThat(released.event()).isEqualTo(new TenantEntity.KillSwitchReleased(k.id(), "ops", T0));
    assertThat(kit.getState().tenant().killSwitches().all()).isEmpty();
    var unknown =
        kit.<StatusReply<io.outreach.engine.compliance.KillSwitch>>runCommand(
            r -> new TenantEntity.ReleaseKillSwitch(k.id(), "ops", r));
    assertThat(rejection(unknown.reply()).kind()).isEqualTo(Rejection.Kind.NOT_FOUND);
  }

  @Test
  void tagsEventsByStableSlice() {
    var e = create("Acme", "UTC", 0);
    assertThat(e.event()).isInstanceOf(TenantEntity.Created.class);
    assertThat(io.outreach.engine.Tags.slice("tenant", "acme", 4))
        .isEqualTo("tenant-" + Math.floorMod("acme".hashCode(), 4));
  }

  private static Rejection rejection(StatusReply<?> reply) {
    assertThat(reply.isError()).isTrue();
    return Rejection.parse(reply.getError().getMessage()).orElseThrow();
  }
}
