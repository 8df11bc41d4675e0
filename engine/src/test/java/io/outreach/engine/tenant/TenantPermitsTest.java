package io.outreach.engine.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.EntityTestKits;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.KillSwitch;
import io.outreach.engine.compliance.KillSwitches;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.ProviderThrottle;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Permits through the Tenant entity: kill switches (tenant and platform) and suspension hold them;
 * engaging a switch answers only after the lease of the last grant has run out, so no call starts
 * after the answer.
 */
class TenantPermitsTest {
  private static ActorTestKit testKit;
  private final AtomicReference<KillSwitches> platform = new AtomicReference<>(KillSwitches.none());
  private ActorRef<TenantEntity.Command> tenant;
  private TestProbe<Permits> permits;

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
    String id = "t" + System.nanoTime();
    tenant =
        testKit.spawn(
            TenantEntity.create(
                id,
                4,
                Clock.systemUTC(),
                () -> CompletableFuture.completedFuture(platform.get()),
                ProviderThrottle.Limits.DEFAULTS));
    TestProbe<StatusReply<Tenant>> created = testKit.createTestProbe();
    tenant.tell(new TenantEntity.Create("Acme", "UTC", 0, "ops", created.ref()));
    assertThat(created.receiveMessage().isSuccess()).isTrue();
    permits = testKit.createTestProbe();
  }

  private Permits acquire(String campaign, int wanted) {
    tenant.tell(
        new TenantEntity.AcquirePermits(
            "twilio", "+15550100001", campaign, null, Channel.SMS, wanted, permits.ref()));
    return permits.receiveMessage();
  }

  @Test
  void grantsArePacedAndDatedByTheThrottle() {
    Instant before = Instant.now();
    Permits p = acquire("cmp_a", 50);
    // Slotted: the short code's slots within the horizon (100 mps for 250 ms), never all 50 wanted.
    assertThat(p.granted())
        .as("the sandbox short code's slots within a quarter second")
        .isPositive()
        .isLessThanOrEqualTo(26);
    assertThat(p.issuedAt()).isBetween(before, Instant.now());
  }

  @Test
  void aTenantSwitchHoldsItsScopeAndAnswersAfterTheLastLease() {
    assertThat(acquire("cmp_a", 1).granted()).isEqualTo(1);
    TestProbe<StatusReply<KillSwitch>> engaged = testKit.createTestProbe();
    long t0 = System.nanoTime();
    tenant.tell(
        new TenantEntity.EngageKillSwitch(
            KillSwitch.Scope.CAMPAIGN, "cmp_a", "ops", engaged.ref()));
    assertThat(engaged.receiveMessage(Duration.ofSeconds(3)).isSuccess()).isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .as("waited out the grant's lease")
        .isGreaterThanOrEqualTo(Duration.ofMillis(400));
    assertThat(acquire("cmp_a", 1).heldBy()).hasValue("kill-switch:campaign");
    assertThat(acquire("cmp_b", 1).granted()).as("another campaign goes on").isEqualTo(1);
  }

  /**
   * A journal failure restarts the entity inside the same object and stops its throttles: the next
   * request starts a throttle again rather than waiting on a stopped one (before, every later
   * request of the tenant went unanswered).
   */
  @Test
  void afterAJournalFailureTheThrottlesAnswerAgain() {
    assertThat(acquire("cmp_a", 1).granted()).isEqualTo(1);
    PersistenceTestKit.create(testKit.system()).failNextPersisted();
    TestProbe<StatusReply<Tenant>> suspended = testKit.createTestProbe();
    tenant.tell(new TenantEntity.Suspend("unpaid", "ops", suspended.ref()));
    suspended.expectNoMessage(Duration.ofMillis(300));
    tenant.tell(
        new TenantEntity.AcquirePermits(
            "twilio", "+15550100001", "cmp_a", null, Channel.SMS, 1, permits.ref()));
    assertThat(permits.receiveMessage(Duration.ofSeconds(5)).granted())
        .as("the failed suspension was not journaled, and a new throttle answers")
        .isEqualTo(1);
  }

  @Test
  void platformSwitchesAndSuspensionHoldEveryContact() {
    platform.set(
        KillSwitches.none()
            .with(
                new KillSwitch(
                    "ksp_1", KillSwitch.Scope.PLATFORM, "carrier incident", "ops", Instant.now())));
    assertThat(acquire("cmp_a", 1).heldBy()).hasValue("kill-switch:platform");
    platform.set(KillSwitches.none());
    assertThat(acquire("cmp_a", 1).granted()).isEqualTo(1);
    TestProbe<StatusReply<Tenant>> suspended = testKit.createTestProbe();
    tenant.tell(new TenantEntity.Suspend("unpaid", "ops", suspended.ref()));
    suspended.receiveMessage();
    assertThat(acquire("cmp_a", 1).heldBy()).hasValue("tenant-suspended");
  }
}
