package io.outreach.engine.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.outreach.engine.EntityTestKits;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The throttle's pacing on a simulated clock, and its breaker on a real one. */
class ProviderThrottleTest {
  private static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = EntityTestKits.create();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static final class Fixture {
    final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    final TestProbe<Permits> probe = testKit.createTestProbe();
    final ActorRef<ProviderThrottle.Command> throttle;

    Fixture(ProviderThrottle.Limits limits) {
      throttle = testKit.spawn(ProviderThrottle.create("twilio", limits, nanos::get));
    }

    Permits acquire(String sender, int mps, int wanted) {
      return acquire(sender, mps, wanted, false);
    }

    Permits acquire(String sender, int mps, int wanted, boolean priority) {
      throttle.tell(
          new ProviderThrottle.Acquire(sender, mps, wanted, Instant.now(), priority, probe.ref()));
      return probe.receiveMessage();
    }

    Permits slotted(String sender, int mps, int wanted, boolean priority) {
      throttle.tell(
          new ProviderThrottle.Acquire(
              sender, mps, wanted, Instant.now(), priority, true, probe.ref()));
      return probe.receiveMessage();
    }

    void end(
        String sender, ProviderThrottle.CallOutcome outcome, Duration retryAfter, boolean trial) {
      throttle.tell(new ProviderThrottle.Ended(sender, outcome, retryAfter, trial));
    }
  }

  /**
   * Slotted grants (calls that start at slots, whichever node makes them): a grant's calls are
   * spaced at the sender's rate from its first slot, the rate is full while calls are under way,
   * and a priority request that found no slot gets the next one before any campaign.
   */
  @Test
  void slottedGrantsCarryTheirSlotsAndAPriorityRequestClaimsTheNext() {
    Fixture f =
        new Fixture(
            new ProviderThrottle.Limits(1000, 5, Duration.ofSeconds(5), Duration.ofMinutes(1)));
    String sender = "+15550100002";
    Permits first = f.slotted(sender, 10, 5, false);
    assertThat(first.granted()).as("100 ms apart, within the 250 ms horizon").isEqualTo(3);
    assertThat(first.slot(2)).isEqualTo(first.slot(0).plusMillis(200));
    assertThat(f.slotted(sender, 10, 5, false).granted()).isZero();
    Permits refused = f.slotted(sender, 10, 1, true);
    assertThat(refused.granted()).isZero();
    f.nanos.addAndGet(Duration.ofMillis(300).toNanos());
    assertThat(f.slotted(sender, 10, 5, false).granted())
        .as("a campaign leaves the claimed slot")
        .isZero();
    assertThat(f.slotted(sender, 10, 1, true).granted()).isEqualTo(1);
    assertThat(f.slotted(sender, 10, 5, false).granted()).isPositive();
  }

  /**
   * A campaign that asks again as soon as it is told takes every grant of its sender; a priority
   * request (a STOP's confirmation) that finds no room claims the next one and gets it when it
   * comes back, a little later than told (as a request on its way does), and the sender's limit
   * still holds.
   */
  @Test
  void aPriorityRequestIsNotStarvedByACampaignThatFillsTheRate() {
    Fixture f =
        new Fixture(
            new ProviderThrottle.Limits(1000, 5, Duration.ofSeconds(5), Duration.ofMinutes(1)));
    String sender = "+15550100001";
    List<Long> grants = new ArrayList<>();
    long start = f.nanos.get();
    long priorityAsked = -1;
    long priorityGranted = -1;
    long nextPriority = -1;
    long late = Duration.ofMillis(30).toNanos();
    while (f.nanos.get() < start + Duration.ofSeconds(10).toNanos()) {
      Permits p = f.acquire(sender, 20, 32);
      for (int i = 0; i < p.granted(); i++) {
        grants.add(f.nanos.get());
        f.end(sender, ProviderThrottle.CallOutcome.SUCCEEDED, null, false);
      }
      long campaignNext = f.nanos.get() + Math.max(p.askAgainIn().toNanos(), 1_000_000L);
      if (priorityAsked < 0 && f.nanos.get() > start + Duration.ofSeconds(3).toNanos()) {
        // The rate is full: the first ask finds no room and claims the next grant.
        priorityAsked = f.nanos.get();
        Permits first = f.acquire(sender, 20, 1, true);
        assertThat(first.granted()).isZero();
        nextPriority = f.nanos.get() + first.askAgainIn().toNanos() + late;
      }
      if (nextPriority > 0 && priorityGranted < 0 && nextPriority <= campaignNext) {
        f.nanos.set(nextPriority);
        Permits again = f.acquire(sender, 20, 1, true);
        if (again.granted() == 1) {
          priorityGranted = f.nanos.get();
          grants.add(priorityGranted);
          f.end(sender, ProviderThrottle.CallOutcome.SUCCEEDED, null, false);
        } else {
          nextPriority = f.nanos.get() + again.askAgainIn().toNanos() + late;
        }
        continue;
      }
      f.nanos.set(campaignNext);
    }
    assertThat(priorityGranted).as("the priority request got a grant").isPositive();
    assertThat(Duration.ofNanos(priorityGranted - priorityAsked))
        .isLessThanOrEqualTo(Duration.ofMillis(250));
    for (int i = 0; i + 20 < grants.size(); i++) {
      assertThat(grants.get(i + 20) - grants.get(i))
          .as("21 grants span a second")
          .isGreaterThanOrEqualTo(Duration.ofSeconds(1).toNanos());
    }
  }

  @Test
  void aSenderGetsItsRateAndNoOneSecondWindowExceedsIt() {
    Fixture f =
        new Fixture(
            new ProviderThrottle.Limits(1000, 5, Duration.ofSeconds(5), Duration.ofMinutes(1)));
    List<Long> grants = new ArrayList<>();
    long start = f.nanos.get();
    long end = start + Duration.ofSeconds(20).toNanos();
    while (f.nanos.get() < end) {
      Permits p = f.acquire("+15550100001", 50, 32);
      for (int i = 0; i < p.granted(); i++) {
        grants.add(f.nanos.get());
        f.end("+15550100001", ProviderThrottle.CallOutcome.SUCCEEDED, null, false);
      }
      f.nanos.addAndGet(Duration.ofMillis(1).toNanos());
    }
    double rate = grants.size() / 20.0;
    assertThat(rate).as("achieved rate").isBetween(49.0, 51.0);
    ArrayDeque<Long> window = new ArrayDeque<>();
    int worst = 0;
    for (long g : grants) {
      window.addLast(g);
      while (window.peekFirst() <= g - 1_000_000_000L) {
        window.pollFirst();
      }
      worst = Math.max(worst, window.size());
    }
    assertThat(worst).as("most grants in any one second").isLessThanOrEqualTo(50);
  }

  @Test
  void burstsAreAtMostAFifthOfASecondsWorthAndRequestersComeBackForATenth() {
    Fixture f = new Fixture(ProviderThrottle.Limits.DEFAULTS);
    assertThat(f.acquire("+15550100001", 100, 100).granted()).isEqualTo(20);
    Permits later = f.acquire("+15550100001", 100, 100);
    assertThat(later.granted()).isZero();
    assertThat(later.heldBy()).isEmpty();
    assertThat(later.askAgainIn()).isBetween(Duration.ofMillis(90), Duration.ofMillis(110));
    // Senders are paced apart.
    assertThat(f.acquire("+15550100002", 100, 100).granted()).isEqualTo(20);
  }

  @Test
  void theAccountsConcurrencyLimitHoldsUntilCallsEnd() {
    Fixture f =
        new Fixture(
            new ProviderThrottle.Limits(3, 5, Duration.ofSeconds(5), Duration.ofMinutes(1)));
    assertThat(f.acquire("+15550100001", 1000, 10).granted()).isEqualTo(3);
    assertThat(f.acquire("+15550100002", 1000, 10).granted()).isZero();
    f.end("+15550100001", ProviderThrottle.CallOutcome.SUCCEEDED, null, false);
    f.end("+15550100001", ProviderThrottle.CallOutcome.UNUSED, null, false);
    assertThat(f.acquire("+15550100002", 1000, 10).granted()).isEqualTo(2);
  }

  /**
   * Calls share the account's calls lane and hold a live call each from their permit until their
   * final status (or their maximum length): the cap holds while they ring and talk, not only while
   * the request is on its way; a final status that overtakes the provider's answer is not lost.
   */
  @Test
  void liveCallsHoldTheAccountsCallCapUntilTheirFinalStatus() {
    Fixture f =
        new Fixture(
            new ProviderThrottle.Limits(
                100,
                5,
                Duration.ofSeconds(5),
                Duration.ofMinutes(1),
                50,
                2,
                Duration.ofMinutes(10)));
    String calls = ProviderThrottle.CALLS;
    assertThat(f.acquire(calls, 50, 5).granted()).isEqualTo(2);
    f.throttle.tell(new ProviderThrottle.CallLive("cmp_a:1:0"));
    f.end(calls, ProviderThrottle.CallOutcome.SUCCEEDED, null, false);
    f.throttle.tell(new ProviderThrottle.CallLive("cmp_a:2:0"));
    f.end(calls, ProviderThrottle.CallOutcome.SUCCEEDED, null, false);
    f.nanos.addAndGet(Duration.ofSeconds(2).toNanos());
    assertThat(f.acquire(calls, 50, 5).granted()).as("both calls are live").isZero();
    // A message sender of the same account is not held by live calls.
    assertThat(f.acquire("+15550100001", 50, 5).granted()).isPositive();
    f.throttle.tell(new ProviderThrottle.CallOver("cmp_a:1:0"));
    f.throttle.tell(new ProviderThrottle.CallOver("cmp_a:1:0"));
    assertThat(f.acquire(calls, 50, 5).granted()).as("one call ended").isEqualTo(1);
    // Its final status came before the provider's answer reached the throttle.
    f.throttle.tell(new ProviderThrottle.CallOver("cmp_a:3:0"));
    f.throttle.tell(new ProviderThrottle.CallLive("cmp_a:3:0"));
    f.end(calls, ProviderThrottle.CallOutcome.SUCCEEDED, null, false);
    f.nanos.addAndGet(Duration.ofSeconds(2).toNanos());
    assertThat(f.acquire(calls, 50, 5).granted()).as("the early final status counted").isEqualTo(1);
    f.end(calls, ProviderThrottle.CallOutcome.REFUSED, null, false);
    // A call whose final status never comes stops counting after the maximum length.
    f.nanos.addAndGet(Duration.ofMinutes(10).toNanos());
    assertThat(f.acquire(calls, 50, 5).granted()).isEqualTo(2);
  }

  @Test
  void a429PausesTheAccountForItsRetryAfter() {
    Fixture f = new Fixture(ProviderThrottle.Limits.DEFAULTS);
    assertThat(f.acquire("+15550100001", 100, 1).granted()).isEqualTo(1);
    f.end("+15550100001", ProviderThrottle.CallOutcome.THROTTLED, Duration.ofSeconds(2), false);
    Permits paused = f.acquire("+15550100002", 100, 1);
    assertThat(paused.granted()).isZero();
    assertThat(paused.askAgainIn()).isBetween(Duration.ofMillis(1900), Duration.ofSeconds(2));
    f.nanos.addAndGet(Duration.ofSeconds(2).toNanos());
    assertThat(f.acquire("+15550100002", 100, 1).granted()).isEqualTo(1);
  }

  @Test
  void failuresOpenTheBreakerAndOneTrialClosesIt() {
    Fixture f =
        new Fixture(
            new ProviderThrottle.Limits(100, 3, Duration.ofMillis(300), Duration.ofSeconds(5)));
    assertThat(f.acquire("+15550100001", 1000, 3).granted()).isEqualTo(3);
    for (int i = 0; i < 3; i++) {
      f.end("+15550100001", ProviderThrottle.CallOutcome.FAILED, null, false);
    }
    Permits open = f.acquire("+15550100001", 1000, 5);
    assertThat(open.heldBy()).hasValue("circuit-open:twilio");
    // Half-open after the reset timeout: one trial, and nothing else while it is out.
    await().atMost(Duration.ofSeconds(3)).until(() -> f.acquire("+15550100001", 1000, 5).trial());
    assertThat(f.acquire("+15550100001", 1000, 5).heldBy()).hasValue("circuit-half-open:twilio");
    f.end("+15550100001", ProviderThrottle.CallOutcome.SUCCEEDED, null, true);
    await()
        .atMost(Duration.ofSeconds(1))
        .until(() -> f.acquire("+15550100001", 1000, 5).granted() > 0);
  }

  @Test
  void grantsCarryTheirDateAndLapseAfterTheLease() {
    Instant checked = Instant.parse("2026-11-25T15:00:00Z");
    Fixture f = new Fixture(ProviderThrottle.Limits.DEFAULTS);
    f.throttle.tell(
        new ProviderThrottle.Acquire("+15550100001", 10, 1, checked, false, f.probe.ref()));
    Permits p = f.probe.receiveMessage();
    assertThat(p.issuedAt()).isEqualTo(checked);
    assertThat(p.usableAt(checked.plus(Permits.LEASE).minusMillis(1))).isTrue();
    assertThat(p.usableAt(checked.plus(Permits.LEASE))).isFalse();
  }
}
