package io.outreach.engine.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.outreach.engine.EntityTestKits;
import io.outreach.engine.lead.RowError;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongConsumer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ImportJobTest {
  private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");
  private static final ImportSpec SPEC =
      new ImportSpec("acme", "imp_0123456789", "ab12", 100, "US", "America/New_York", T0);
  private static ActorTestKit testKit;

  /** The intake port under the test's control: each process call waits for the test. */
  static final class ScriptedIntake implements LeadIntake {
    final List<CompletableFuture<ImportOutcome>> calls = new CopyOnWriteArrayList<>();
    final List<String> failed = new CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<ImportOutcome> process(ImportSpec spec, LongConsumer progress) {
      progress.accept(7);
      CompletableFuture<ImportOutcome> f = new CompletableFuture<>();
      calls.add(f);
      return f;
    }

    @Override
    public CompletionStage<Void> markFailed(String tenantId, String importId) {
      failed.add(tenantId + "/" + importId);
      return CompletableFuture.completedFuture(null);
    }
  }

  private ScriptedIntake intake;
  private EventSourcedBehaviorTestKit<ImportJob.Command, ImportJob.Event, ImportJob.State> kit;

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
    intake = new ScriptedIntake();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            ImportJob.create(SPEC.entityId(), intake, Clock.fixed(T0, ZoneOffset.UTC)));
    kit.clear();
  }

  private ImportStatus get() {
    return kit.<StatusReply<ImportStatus>>runCommand(ImportJob.Get::new).reply().getValue();
  }

  @Test
  void unknownImportIsNotFound() {
    StatusReply<ImportStatus> r =
        kit.<StatusReply<ImportStatus>>runCommand(ImportJob.Get::new).reply();
    assertThat(r.isError()).isTrue();
    assertThat(r.getError().getMessage()).startsWith("not-found:");
  }

  @Test
  void startProcessesAndCompletes() {
    var started = kit.<StatusReply<ImportStatus>>runCommand(r -> new ImportJob.Start(SPEC, r));
    assertThat(started.event()).isEqualTo(new ImportJob.Started(SPEC));
    assertThat(started.reply().getValue().status()).isEqualTo(ImportJob.Status.RUNNING);
    await().until(() -> intake.calls.size() == 1);
    await().untilAsserted(() -> assertThat(get().rows()).isEqualTo(7));

    ImportOutcome outcome =
        new ImportOutcome(10, 6, 2, 2, 2, List.of(new RowError(3, "phone", "bad")));
    intake.calls.get(0).complete(outcome);
    await().untilAsserted(() -> assertThat(get().status()).isEqualTo(ImportJob.Status.COMPLETED));
    ImportStatus s = get();
    assertThat(s.accepted()).isEqualTo(6);
    assertThat(s.errors()).containsExactly(new RowError(3, "phone", "bad"));
    assertThat(kit.getState().finishedAt()).isEqualTo(T0);
    ImportJob.State finished = kit.getState();
    assertThat(testKit.serializationTestKit().verifySerialization(finished, true))
        .as("a snapshot of it reads back the same")
        .isEqualTo(finished);
    // A repeated Start answers the finished import and does not process again.
    var again = kit.<StatusReply<ImportStatus>>runCommand(r -> new ImportJob.Start(SPEC, r));
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(intake.calls).hasSize(1);
  }

  @Test
  void permanentFailureFailsAtOnceAndReleasesTheUpload() {
    kit.<StatusReply<ImportStatus>>runCommand(r -> new ImportJob.Start(SPEC, r));
    await().until(() -> intake.calls.size() == 1);
    intake
        .calls
        .get(0)
        .completeExceptionally(new LeadIntake.PermanentFailure("row 3: unterminated quote"));
    await().untilAsserted(() -> assertThat(get().status()).isEqualTo(ImportJob.Status.FAILED));
    assertThat(get().failure()).contains("unterminated quote");
    await().untilAsserted(() -> assertThat(intake.failed).containsExactly("acme/imp_0123456789"));
  }

  @Test
  void transientFailureIsRetried() {
    kit.<StatusReply<ImportStatus>>runCommand(r -> new ImportJob.Start(SPEC, r));
    await().until(() -> intake.calls.size() == 1);
    intake.calls.get(0).completeExceptionally(new IllegalStateException("connection reset"));
    await().atMost(Duration.ofSeconds(10)).until(() -> intake.calls.size() == 2);
    assertThat(get().status()).isEqualTo(ImportJob.Status.RUNNING);
    intake.calls.get(1).complete(new ImportOutcome(1, 1, 0, 0, 0, List.of()));
    await().untilAsserted(() -> assertThat(get().status()).isEqualTo(ImportJob.Status.COMPLETED));
  }

  @Test
  void runningImportResumesAfterRestart() {
    kit.<StatusReply<ImportStatus>>runCommand(r -> new ImportJob.Start(SPEC, r));
    await().until(() -> intake.calls.size() == 1);
    var restarted = kit.restart();
    assertThat(restarted.state().status()).isEqualTo(ImportJob.Status.RUNNING);
    await().until(() -> intake.calls.size() == 2);
    intake.calls.get(1).complete(new ImportOutcome(5, 5, 0, 0, 0, List.of()));
    await().untilAsserted(() -> assertThat(get().status()).isEqualTo(ImportJob.Status.COMPLETED));
    assertThat(get().rows()).isEqualTo(5);
  }
}
