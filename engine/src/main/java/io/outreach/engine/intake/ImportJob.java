package io.outreach.engine.intake;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.Rejection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One CSV import of one tenant: started once its upload is stored, then processed through the
 * {@link LeadIntake} port (off the actor thread) until completed or failed. A node that crashes
 * mid-import resumes it when the entity is woken again ({@link Resume}); processing is atomic and
 * at most once, so the resumed import ends with exactly the counts of an uninterrupted one.
 */
public final class ImportJob
    extends EventSourcedBehaviorWithEnforcedReplies<
        ImportJob.Command, ImportJob.Event, ImportJob.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "ImportJob");

  /** Transient failures (database, I/O) are retried this often before the import fails. */
  static final int MAX_ATTEMPTS = 3;

  public static String entityId(String tenantId, String importId) {
    return tenantId + ":" + importId;
  }

  /** Lifecycle of an import. */
  public enum Status {
    NEW,
    RUNNING,
    COMPLETED,
    FAILED
  }

  // ---- commands ----

  /** Commands of the ImportJob entity. */
  public sealed interface Command extends CborSerializable {}

  /** Start processing a stored upload; answers the running import. */
  public record Start(ImportSpec spec, ActorRef<StatusReply<ImportStatus>> replyTo)
      implements Command {}

  /** Report the import. */
  public record Get(ActorRef<StatusReply<ImportStatus>> replyTo) implements Command {}

  /** Wake after a restart: continue a running import. */
  public enum Resume implements Command {
    INSTANCE
  }

  /** Internal: rows read so far. */
  record Progress(long rows) implements Command {}

  /** Internal: processing finished. */
  record Finished(ImportOutcome outcome) implements Command {}

  /** Internal: processing failed. */
  record Crashed(String reason, boolean permanent) implements Command {}

  /** Internal: time to try again after a transient failure. */
  enum Retry implements Command {
    INSTANCE
  }

  // ---- events ----

  /** Events of the ImportJob entity. */
  public sealed interface Event extends CborSerializable {}

  /** The upload is stored and processing begins. */
  public record Started(ImportSpec spec) implements Event {}

  /** All rows are processed. */
  public record Completed(ImportOutcome outcome, Instant at) implements Event {}

  /** The import cannot be completed; no lead of it was stored. */
  public record Failed(String reason, Instant at) implements Event {}

  // ---- state ----

  /** The import's spec, status and result. */
  public record State(
      ImportSpec spec, Status status, ImportOutcome outcome, String failure, Instant finishedAt)
      implements CborSerializable {
    static State empty() {
      return new State(null, Status.NEW, null, null, null);
    }
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final LeadIntake intake;
  private final Clock clock;
  private final String importId;
  // Not state: progress and attempts restart with processing after a crash.
  private boolean processing;
  private long rowsRead;
  private int attempts;

  private ImportJob(
      String entityId,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      LeadIntake intake,
      Clock clock) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), entityId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.ctx = ctx;
    this.timers = timers;
    this.intake = intake;
    this.clock = clock;
    this.importId = entityId.substring(entityId.indexOf(':') + 1);
  }

  public static Behavior<Command> create(String entityId, LeadIntake intake, Clock clock) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new ImportJob(entityId, ctx, timers, intake, clock)));
  }

  /** Registers the sharded ImportJob entity on this node. */
  public static void init(ActorSystem<?> system, LeadIntake intake) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), intake, Clock.systemUTC())));
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 3);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              if (state.status() == Status.RUNNING) {
                startProcessing(state.spec());
              }
            })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forState(s -> s.status() == Status.NEW)
        .onCommand(Start.class, this::onStart)
        .onCommand(
            Get.class,
            (s, c) ->
                Effect()
                    .reply(
                        c.replyTo(), Rejection.notFound("import " + importId + " does not exist")))
        .onAnyCommand(c -> Effect().noReply());
    b.forState(s -> s.status() == Status.RUNNING)
        .onCommand(
            Start.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(status(s))))
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(status(s))))
        .onCommand(Progress.class, this::onProgress)
        .onCommand(Finished.class, this::onFinished)
        .onCommand(Crashed.class, this::onCrashed)
        .onCommand(Resume.class, (s, c) -> resumeIfIdle(s))
        .onCommand(Retry.class, (s, c) -> resumeIfIdle(s));
    b.forState(s -> s.status() == Status.COMPLETED || s.status() == Status.FAILED)
        .onCommand(
            Start.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(status(s))))
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(status(s))))
        .onAnyCommand(c -> Effect().noReply());
    return b.build();
  }

  private ReplyEffect<Event, State> onStart(State state, Start c) {
    return Effect()
        .persist(new Started(c.spec()))
        .thenRun(s -> startProcessing(s.spec()))
        .thenReply(c.replyTo(), s -> StatusReply.success(status(s)));
  }

  private ReplyEffect<Event, State> onProgress(State state, Progress p) {
    rowsRead = Math.max(rowsRead, p.rows());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onFinished(State state, Finished f) {
    processing = false;
    ctx.getLog()
        .info(
            "import {} completed: {} rows, {} accepted, {} duplicates, {} rejected",
            importId,
            f.outcome().rows(),
            f.outcome().accepted(),
            f.outcome().duplicates(),
            f.outcome().rejected());
    return Effect().persist(new Completed(f.outcome(), clock.instant())).thenNoReply();
  }

  private ReplyEffect<Event, State> onCrashed(State state, Crashed c) {
    processing = false;
    attempts++;
    if (!c.permanent() && attempts < MAX_ATTEMPTS) {
      Duration backoff = Duration.ofSeconds(2L << attempts);
      ctx.getLog()
          .warn(
              "import {} attempt {} failed ({}); retrying in {}",
              importId,
              attempts,
              c.reason(),
              backoff);
      timers.startSingleTimer(Retry.INSTANCE, backoff);
      return Effect().noReply();
    }
    ctx.getLog().warn("import {} failed: {}", importId, c.reason());
    return Effect()
        .persist(new Failed(c.reason(), clock.instant()))
        .thenRun(
            s ->
                intake
                    .markFailed(s.spec().tenantId(), importId)
                    .whenComplete(
                        (ok, err) -> {
                          if (err != null) {
                            ctx.getLog()
                                .error("could not record import {} as failed", importId, err);
                          }
                        }))
        .thenNoReply();
  }

  private ReplyEffect<Event, State> resumeIfIdle(State state) {
    if (!processing) {
      startProcessing(state.spec());
    }
    return Effect().noReply();
  }

  private void startProcessing(ImportSpec spec) {
    processing = true;
    rowsRead = 0;
    ActorRef<Command> self = ctx.getSelf();
    ctx.pipeToSelf(
        intake.process(spec, rows -> self.tell(new Progress(rows))),
        (outcome, error) -> {
          if (error == null) {
            return new Finished(outcome);
          }
          Throwable cause =
              error.getCause() != null && !(error instanceof LeadIntake.PermanentFailure)
                  ? error.getCause()
                  : error;
          boolean permanent = cause instanceof LeadIntake.PermanentFailure;
          return new Crashed(String.valueOf(cause.getMessage()), permanent);
        });
  }

  private ImportStatus status(State s) {
    ImportOutcome o = s.outcome();
    if (o == null) {
      return new ImportStatus(
          importId,
          s.status(),
          rowsRead,
          0,
          0,
          0,
          0,
          List.of(),
          s.failure(),
          s.spec().receivedAt(),
          s.finishedAt());
    }
    return new ImportStatus(
        importId,
        s.status(),
        o.rows(),
        o.accepted(),
        o.duplicates(),
        o.rejected(),
        o.errorCount(),
        o.errors(),
        null,
        s.spec().receivedAt(),
        s.finishedAt());
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Started.class, (s, e) -> new State(e.spec(), Status.RUNNING, null, null, null))
        .onEvent(
            Completed.class,
            (s, e) -> new State(s.spec(), Status.COMPLETED, e.outcome(), null, e.at()))
        .onEvent(
            Failed.class, (s, e) -> new State(s.spec(), Status.FAILED, null, e.reason(), e.at()))
        .build();
  }
}
