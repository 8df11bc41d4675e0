package io.outreach.engine.compliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.outreach.engine.EntityTestKits;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The platform's kill switches live as long as the engine: they recover from a snapshot. */
class PlatformSwitchboardTest {
  private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");
  private static ActorTestKit testKit;
  private EventSourcedBehaviorTestKit<
          PlatformSwitchboard.Command, PlatformSwitchboard.Event, KillSwitches>
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
            testKit.system(), PlatformSwitchboard.create(Clock.fixed(T0, ZoneOffset.UTC)));
    kit.clear();
  }

  private static KillSwitch platform(String id, String target) {
    return new KillSwitch(id, KillSwitch.Scope.PLATFORM, target, "ops", T0);
  }

  @Test
  void engagedSwitchesRecoverFromASnapshot() {
    List<PlatformSwitchboard.Event> history = new ArrayList<>();
    for (int i = 0; i < 49; i++) {
      history.add(new PlatformSwitchboard.Engaged(platform("ksp_" + i, "incident " + i)));
      history.add(new PlatformSwitchboard.Released("ksp_" + i, "ops", T0));
    }
    KillSwitch carrier = platform("ksp_carrier", "carrier incident");
    history.add(new PlatformSwitchboard.Engaged(carrier));
    kit.initialize(history.toArray());

    // The hundredth event is a snapshot's turn.
    KillSwitch outage =
        kit.<StatusReply<KillSwitch>>runCommand(
                r -> new PlatformSwitchboard.Engage("provider outage", "ops", r))
            .reply()
            .getValue();
    await()
        .untilAsserted(
            () ->
                assertThat(
                        kit.snapshotTestKit()
                            .orElseThrow()
                            .persistedInStorage("PlatformSwitchboard|" + PlatformSwitchboard.ID))
                    .isNotEmpty());
    KillSwitches engaged = kit.getState();
    assertThat(engaged.all()).containsExactlyInAnyOrder(carrier, outage);
    assertThat(testKit.serializationTestKit().verifySerialization(engaged, true))
        .isEqualTo(engaged);

    kit.restart();
    KillSwitches after =
        kit.<StatusReply<KillSwitches>>runCommand(PlatformSwitchboard.Get::new).reply().getValue();
    assertThat(after.all()).containsExactlyInAnyOrder(carrier, outage);
  }
}
