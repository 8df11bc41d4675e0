package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.Tags;
import io.outreach.engine.compliance.ComplianceGate;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.spend.SpendLedger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One block of a campaign: at most 500 recipients, a state machine per recipient and step (the
 * first message, then each follow-up). Every intent to send is journaled in one batch before any
 * provider call: {@link Planned} for the first messages, as {@link BlockPlan} decides them, and
 * {@link StepPlanned} for follow-ups that fall due. Each batch of calls is permitted by the
 * tenant's throttle and checked again by the gate at the moment of sending ({@link BlockCalls},
 * with what is on its way in the {@link SendQueue}); outcomes are journaled in batches as they
 * arrive ({@link BlockState} is what the journal adds up to).
 *
 * <p>A restart resends exactly the intents without an outcome, with the same idempotency keys, so a
 * provider that honours keys never delivers twice. A recipient outside its legal hours waits for
 * them, and a follow-up waits {@code afterHours} after the previous message; while only future work
 * is left the block stores a durable wake-up, and with nothing to do for a while it leaves memory
 * ({@link BlockWakeUps}).
 *
 * <p>A campaign slot bounds work being done, not waiting: once every first message left waits for a
 * later time ({@link Decision.Defer}), the block gives its slot back ({@link SlotReleased}, {@link
 * BlockPorts#waiting}); when some fall due it asks for one ({@link BlockPorts#due}) and sends them
 * once it has it ({@link Grant}). Follow-ups need no slot.
 */
public final class BlockEntity
    extends EventSourcedBehavior<BlockEntity.Command, BlockEntity.Event, BlockState> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Block");
  public static final String TAG_PREFIX = "block";
  static final int OUTCOME_BATCH = 100;
  static final Duration OUTCOME_FLUSH = Duration.ofMillis(200);

  private static final ComplianceGate GATE = new ComplianceGate();

  // ---- commands (none is asked: the campaign tells, the block reports back) ----

  /** Commands of the Block entity. */
  public sealed interface Command extends CborSerializable {}

  /** Run the block (repeatable: a running block continues, a finished one reports again). */
  public record Start(BlockSpec spec) implements Command {}

  /** A durable timer or a restart: continue whatever is due. */
  public enum Wake implements Command {
    INSTANCE
  }

  /** Hold every send until {@link Resume} (the campaign was paused). */
  public enum Pause implements Command {
    INSTANCE
  }

  /** Continue after {@link Pause}. */
  public enum Resume implements Command {
    INSTANCE
  }

  /** Stop for good: nothing more is sent (the campaign was cancelled). */
  public enum Cancel implements Command {
    INSTANCE
  }

  /** The campaign gives a waiting block a slot: send the first messages that are due. */
  public enum Grant implements Command {
    INSTANCE
  }

  /** Internal: recipients and facts are loaded. */
  record Loaded(List<Recipient> recipients, GateFacts facts, Set<String> contactedBefore)
      implements Command {}

  /** Internal: loading failed; try again. */
  record LoadFailed(String reason) implements Command {}

  /** Internal: the throttle answered a request for permits. */
  record Permitted(String sender, Permits permits, String error) implements Command {}

  /** Internal: a permitted batch went through the send-time checks (or could not be checked). */
  record Attempted(List<Long> slots, List<Attempt> attempts, String error) implements Command {}

  /** Internal: a provider answered (or failed to). */
  record Answered(long slot, SendResult result, String error) implements Command {}

  /** Internal: queue one send again after a transient rejection. */
  record Retry(long slot) implements Command {}

  /** Internal: ask for permits of {@code sender} again (after a hold or a rate limit). */
  record Rested(String sender) implements Command {}

  /** Internal: journal the outcomes collected so far. */
  enum Flush implements Command {
    INSTANCE
  }

  /** Internal: the ledger answered a reservation for the plan or a batch of follow-ups. */
  record Reserved(
      Planned plan,
      BlockPlan.FollowUps followUps,
      SpendLedger.Grant grant,
      String error,
      String heldBy)
      implements Command {}

  /** Internal: the ledger took (or did not take) the charges sent ({@link BlockSpend}). */
  record Charged(List<String> keys, String error) implements Command {}

  /** Internal: charge what the ledger has not taken yet. */
  enum ChargeAgain implements Command {
    INSTANCE
  }

  // ---- events ----

  /** Events of the Block entity. */
  public sealed interface Event extends CborSerializable {}

  /** The block began loading its recipients. */
  public record Started(BlockSpec spec) implements Event {}

  /**
   * Every recipient's first message decided: those blocked, and the sends intended; what all of
   * them were estimated to cost before the budget decided how many go ({@code estimatedMicros}).
   */
  public record Planned(List<BlockedRecipient> blocked, List<Send> sends, long estimatedMicros)
      implements Event {}

  /** Follow-ups that fell due: intents journaled before their calls. */
  public record StepPlanned(List<Send> sends) implements Event {}

  /** A batch of outcomes. */
  public record Outcomes(List<SendOutcome> outcomes) implements Event {}

  /** Every recipient's first message has a final outcome. */
  public record Finished(BlockOutcome outcome) implements Event {}

  /** Every step of every recipient is done (or the block was cancelled). */
  public record Done(BlockOutcome outcome) implements Event {}

  /** Sends are held (campaign paused). */
  public record Paused() implements Event {}

  /** Sends go on again. */
  public record Resumed() implements Event {}

  /** Every first message left waits for a later time: the block gave its campaign slot back. */
  public enum SlotReleased implements Event {
    INSTANCE
  }

  /** The campaign gave the block a slot again. */
  public enum SlotRegained implements Event {
    INSTANCE
  }

  // ---- state ----

  /** Lifecycle of a block. */
  public enum Status {
    NEW,
    LOADING,
    SENDING,
    /** The first step is done for everyone; follow-ups remain. */
    FOLLOWING,
    DONE
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final BlockPorts ports;
  private final Clock clock;
  private final String tag;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  // Not state: what this incarnation has on its way, rebuilt from the journal by each one ({@link
  // #forget}). A journal failure restarts the behavior inside this same object and cancels its
  // timers, so memory that outlived it would wait for timers that never fire.
  private SendQueue queue;
  private BlockCalls calls;
  private BlockWakeUps wakeUps;
  private BlockSpend spend;
  private Map<Long, Recipient> recipients;
  // Loading recipients, or waiting for the ledger's answer on a plan or follow-ups.
  private boolean loading;
  // A waiting block asked its campaign for a slot and has not had an answer.
  private boolean slotAsked;

  private BlockEntity(
      String entityId,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      BlockPorts ports,
      Clock clock,
      int tagSlices,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), entityId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.ctx = ctx;
    this.timers = timers;
    this.ports = ports;
    this.clock = clock;
    this.tag = Tags.slice(TAG_PREFIX, entityId, tagSlices);
    this.shard = shard;
    forget();
  }

  /**
   * Starts this incarnation's memory empty: nothing queued, in flight, waiting on a timer or being
   * loaded. Answers to calls of an earlier incarnation may still come; each is taken for what it
   * says (a provider's answer under the same idempotency key, the ledger's answer to a keyed
   * request), and what they leave undone this incarnation does again.
   */
  private void forget() {
    queue = new SendQueue();
    calls = new BlockCalls(ctx, timers, ports, clock, queue);
    wakeUps = new BlockWakeUps(ctx, timers, ports, shard);
    spend = new BlockSpend(ctx, timers, ports);
    recipients = new HashMap<>();
    loading = false;
    slotAsked = false;
  }

  /**
   * A block that asks {@code shard} to passivate it while it only waits, and once it is done (none:
   * it runs without sharding, never passivated).
   */
  public static Behavior<Command> create(
      String entityId,
      BlockPorts ports,
      Clock clock,
      int tagSlices,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new BlockEntity(entityId, ctx, timers, ports, clock, tagSlices, shard)));
  }

  /** Registers the sharded Block entity on this node. */
  public static void init(ActorSystem<?> system, BlockPorts ports, Clock clock, int tagSlices) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                ENTITY_TYPE_KEY,
                ctx -> create(ctx.getEntityId(), ports, clock, tagSlices, ctx.getShard())));
  }

  @Override
  public BlockState emptyState() {
    return BlockState.empty();
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(tag);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 3);
  }

  @Override
  public SignalHandler<BlockState> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::resume).build();
  }

  /**
   * After a start or a restart (a crash, passivation, or a journal failure): reload, or continue
   * what is due; accepted sends are charged again.
   */
  private void resume(BlockState s) {
    forget();
    switch (s.status()) {
      case LOADING -> load(s.spec());
      case SENDING, FOLLOWING -> {
        spend.chargeAll(s);
        ctx.getSelf().tell(Wake.INSTANCE);
      }
      case DONE -> {
        spend.chargeAll(s);
        spend.release(s);
      }
      default -> {}
    }
  }

  @Override
  public CommandHandler<Command, Event, BlockState> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Start.class, this::onStart)
        .onCommand(Wake.class, (s, c) -> proceed(s))
        .onCommand(
            Pause.class,
            (s, c) ->
                s.paused() || s.status() == Status.DONE
                    ? Effect().none()
                    : Effect().persist(new Paused()))
        .onCommand(
            Resume.class,
            (s, c) ->
                s.paused()
                    ? Effect()
                        .persist(new Resumed())
                        .thenRun(st -> ctx.getSelf().tell(Wake.INSTANCE))
                    : Effect().none())
        .onCommand(Cancel.class, this::onCancel)
        .onCommand(Grant.class, this::onGrant)
        .onCommand(Loaded.class, this::onLoaded)
        .onCommand(LoadFailed.class, this::onLoadFailed)
        .onCommand(Permitted.class, (s, c) -> none(() -> calls.permitted(s, c)))
        .onCommand(Attempted.class, (s, c) -> calls.attempted(s, c) ? afterOutcome(s) : none())
        .onCommand(Answered.class, (s, c) -> calls.answered(s, c) ? afterOutcome(s) : none())
        .onCommand(Retry.class, (s, c) -> none(() -> calls.retryDue(s, c)))
        .onCommand(Rested.class, (s, c) -> none(() -> calls.rested(s, c)))
        .onCommand(Flush.class, (s, c) -> flush(s))
        .onCommand(Reserved.class, this::onReserved)
        .onCommand(Charged.class, (s, c) -> none(() -> spend.charged(s, c)))
        .onCommand(ChargeAgain.class, (s, c) -> none(() -> spend.chargeAgain(s)))
        .build();
  }

  private Effect<Event, BlockState> onStart(BlockState s, Start c) {
    return switch (s.status()) {
      case NEW -> Effect().persist(new Started(c.spec())).thenRun(st -> load(st.spec()));
      case LOADING -> {
        load(s.spec());
        yield Effect().none();
      }
      case SENDING -> {
        if (s.waiting()) {
          // The campaign starts its blocks again after a restart: tell it this one waits.
          slotAsked = false;
          ports.waiting(s.spec(), report(s));
        }
        yield proceed(s);
      }
      case FOLLOWING -> {
        ports.finished(s.spec(), s.outcome());
        yield proceed(s);
      }
      case DONE -> {
        ports.finished(s.spec(), s.outcome());
        ports.completed(s.spec(), s.outcome());
        wakeUps.passivate();
        yield Effect().none();
      }
    };
  }

  private Effect<Event, BlockState> onGrant(BlockState s, Grant c) {
    slotAsked = false;
    if (!s.waiting()) {
      return proceed(s);
    }
    return Effect().persist(SlotRegained.INSTANCE).thenRun(st -> ctx.getSelf().tell(Wake.INSTANCE));
  }

  private Effect<Event, BlockState> onCancel(BlockState s, Cancel c) {
    if (s.status() == Status.NEW || s.status() == Status.DONE) {
      return Effect().none();
    }
    queue.dropQueued();
    return Effect()
        .persist(new Done(s.outcome()))
        .thenRun(
            st -> {
              spend.release(st);
              ports.completed(st.spec(), st.outcome());
              wakeUps.passivate();
            });
  }

  private void load(BlockSpec spec) {
    if (loading) {
      return;
    }
    loading = true;
    ctx.pipeToSelf(
        BlockPlan.load(ports, spec),
        (ok, err) -> err == null ? ok : new LoadFailed(String.valueOf(err.getMessage())));
  }

  private Effect<Event, BlockState> onLoadFailed(BlockState s, LoadFailed c) {
    loading = false;
    ctx.getLog()
        .warn(
            "block {} could not load ({}); retrying",
            s.spec() == null ? "?" : s.spec().entityId(),
            c.reason());
    timers.startSingleTimer(
        "load",
        s.status() == Status.LOADING ? new Start(s.spec()) : Wake.INSTANCE,
        Duration.ofSeconds(2));
    return Effect().none();
  }

  private Effect<Event, BlockState> onLoaded(BlockState s, Loaded c) {
    loading = false;
    c.recipients().forEach(r -> recipients.put(r.no(), r));
    if (s.status() != Status.LOADING) {
      return proceed(s);
    }
    Planned plan = BlockPlan.plan(s.spec(), c.recipients(), c.facts(), c.contactedBefore());
    if (s.spec().budgeted()) {
      loading = true; // until the ledger answers: what does not fit the budget is blocked
      spend.reserve(s.spec(), plan);
      return Effect().none();
    }
    return Effect().persist(plan).thenRun(this::afterPersist);
  }

  /** The ledger's grant: the plan or the follow-ups as it allows them, journaled. */
  private Effect<Event, BlockState> onReserved(BlockState s, Reserved c) {
    loading = false;
    if (c.error() != null) {
      return onLoadFailed(s, new LoadFailed("spend ledger: " + c.error()));
    }
    if (spend.held(s, c)) {
      return none();
    }
    List<Event> allowed = BlockSpend.allowed(s, c, clock.instant());
    return allowed.isEmpty() ? none() : Effect().persist(allowed).thenRun(this::afterPersist);
  }

  /**
   * Continues whatever is due: plans follow-ups that fell due, queues due sends, asks for permits,
   * and sets the next wake-up (in memory, and durably when only future work is left).
   */
  private Effect<Event, BlockState> proceed(BlockState s) {
    if (s.status() == Status.DONE) {
      wakeUps.passivate(); // it reported when it was done; whatever woke it needs nothing more
    }
    if (!s.active()) {
      return Effect().none();
    }
    Instant now = clock.instant();
    List<Send> dueFollowUps =
        s.followUps().entrySet().stream()
            .filter(e -> !e.getValue().isAfter(now))
            .map(Map.Entry::getKey)
            .toList();
    if (!dueFollowUps.isEmpty() && !s.paused()) {
      if (recipients.isEmpty() || loading) {
        load(s.spec());
        return Effect().none();
      }
      return planFollowUps(s, dueFollowUps, now);
    }
    List<Send> due = s.due(now);
    // First messages of a block that gave its slot back wait for a slot, not for a time.
    boolean firstDue = s.waiting() && due.stream().anyMatch(x -> x.step() == 0);
    ContactRules rules = null;
    for (Send x : queue.notUnderWay(due, s.waiting())) {
      // Outside its hours a send waits without taking a permit (and the sender's rate) first.
      rules = rules != null ? rules : ports.rules(s.spec());
      Optional<Decision.Defer> later = GATE.outsideHours(s.contact(x), rules, now);
      if (later.isPresent()) {
        queue.defer(x, later.get(), now);
      } else {
        queue.add(x.slot());
      }
    }
    calls.pump(s);
    if (firstDue && !slotAsked && !s.paused()) {
      slotAsked = true;
      ports.due(s.spec());
    }
    wakeUps.schedule(s, now, queue.idle());
    if (queue.hasCollected()) {
      return afterOutcome(s); // journals the deferrals found here (then goes on)
    }
    if (!loading && queue.mayGiveSlotBack(s, firstDue)) {
      return Effect()
          .persist(SlotReleased.INSTANCE)
          .thenRun(
              st -> {
                Instant at = clock.instant();
                ports.waiting(st.spec(), report(st));
                wakeUps.schedule(st, at, queue.idle());
                wakeUps.sleepIfIdle(st, at, !loading && queue.quiet());
              });
    }
    wakeUps.sleepIfIdle(s, now, !loading && queue.quiet());
    return Effect().none();
  }

  /** The block's counts, with first messages held by a stale national copy as deferred. */
  private BlockOutcome report(BlockState s) {
    return s.outcome(queue.held());
  }

  /** Renders the due follow-ups and journals them (a missing field blocks that one). */
  private Effect<Event, BlockState> planFollowUps(BlockState s, List<Send> due, Instant now) {
    BlockPlan.FollowUps planned = BlockPlan.followUps(s.spec(), due, recipients, now);
    if (s.spec().budgeted()) {
      loading = true;
      spend.reserve(s.spec(), planned);
      return Effect().none();
    }
    return Effect().persist(planned.events()).thenRun(this::afterPersist);
  }

  /** After a journaled plan or batch: report, finish what is finished, and go on. */
  private void afterPersist(BlockState st) {
    ports.progress(st.spec(), report(st));
    if (st.status() == Status.SENDING && st.firstStepDone()) {
      ctx.getSelf().tell(Flush.INSTANCE);
    } else if (st.status() == Status.FOLLOWING && st.allDone()) {
      ctx.getSelf().tell(Flush.INSTANCE);
    } else {
      ctx.getSelf().tell(Wake.INSTANCE);
    }
  }

  private Effect<Event, BlockState> none() {
    return Effect().none();
  }

  /** Runs {@code work}, which journals nothing. */
  private Effect<Event, BlockState> none(Runnable work) {
    work.run();
    return Effect().none();
  }

  private Effect<Event, BlockState> afterOutcome(BlockState s) {
    if (queue.batchReady(OUTCOME_BATCH)) {
      return flush(s);
    }
    if (queue.hasCollected() && !timers.isTimerActive(Flush.INSTANCE)) {
      timers.startSingleTimer(Flush.INSTANCE, OUTCOME_FLUSH);
    }
    return Effect().none();
  }

  /**
   * Journals collected outcomes in one event; the batch that completes the first step also finishes
   * the block for its campaign, and the one that completes every step marks it done.
   */
  private Effect<Event, BlockState> flush(BlockState s) {
    if (!s.active()) {
      return Effect().none();
    }
    List<Event> events = s.eventsFor(queue.drainCollected());
    if (events.isEmpty()) {
      return proceed(s);
    }
    return Effect()
        .persist(events)
        .thenRun(
            st -> {
              events.forEach(e -> spend.charge(st, e));
              if (events.stream().anyMatch(e -> e instanceof Finished || e instanceof Done)) {
                spend.release(st);
              }
              if (events.stream().anyMatch(e -> e instanceof Finished)) {
                ports.finished(st.spec(), st.outcome());
              }
              if (st.status() == Status.DONE) {
                ports.completed(st.spec(), st.outcome());
                wakeUps.passivate();
              } else {
                ports.progress(st.spec(), report(st));
                ctx.getSelf().tell(Wake.INSTANCE);
              }
            });
  }

  @Override
  public EventHandler<BlockState, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Started.class, (s, e) -> s.started(e.spec()))
        .onEvent(Planned.class, BlockState::planned)
        .onEvent(StepPlanned.class, (s, e) -> s.withSends(e.sends()))
        .onEvent(Outcomes.class, (s, e) -> s.withOutcomes(e.outcomes()))
        .onEvent(Finished.class, (s, e) -> s.with(Status.FOLLOWING).withFlags(s.paused(), false))
        .onEvent(Done.class, (s, e) -> s.with(Status.DONE))
        .onEvent(Paused.class, (s, e) -> s.withFlags(true, s.waiting()))
        .onEvent(Resumed.class, (s, e) -> s.withFlags(false, s.waiting()))
        .onEvent(SlotReleased.class, (s, e) -> s.withFlags(s.paused(), true))
        .onEvent(SlotRegained.class, (s, e) -> s.withFlags(s.paused(), false))
        .build();
  }
}
