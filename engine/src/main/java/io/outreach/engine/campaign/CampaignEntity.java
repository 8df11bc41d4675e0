package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.Rejection;
import io.outreach.engine.Tags;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
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
 * One campaign: its definition, lifecycle (draft -> scheduled -> running <-> paused -> completed |
 * cancelled), block plan and counters. At launch the audience is snapshotted into recipients and
 * split into blocks of at most {@link #BLOCK_SIZE}; at most {@code maxBlocksInFlight} blocks run at
 * once, so memory depends on blocks in flight, never on campaign size. The blocks report back with
 * their outcome; the campaign completes when every block has.
 *
 * <p>A slot bounds work being done, not work waiting for a time: a block whose remaining first
 * messages all wait (legal hours, a frequency cap) gives its slot back ({@link BlockWaiting}) and
 * the next block starts. When its time comes the block asks for a slot again ({@link BlockDue}); a
 * due block gets the next free slot before any block not yet started. What the blocks' reports
 * journal and who gets a free slot is decided by {@link RunningBlocks}; what each event does to the
 * state, by {@link CampaignEventHandler}.
 */
public final class CampaignEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        CampaignEntity.Command, CampaignEntity.Event, CampaignEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Campaign");
  public static final String TAG_PREFIX = "campaign";
  public static final int BLOCK_SIZE = 500;

  public static String entityId(String tenantId, String campaignId) {
    return tenantId + ":" + campaignId;
  }

  /** Lifecycle of a campaign. */
  public enum Status {
    NEW,
    DRAFT,
    SCHEDULED,
    LAUNCHING,
    RUNNING,
    PAUSED,
    COMPLETED,
    CANCELLED
  }

  // ---- commands ----

  /** Commands of the Campaign entity. */
  public sealed interface Command extends CborSerializable {}

  /** Create the campaign as a draft. */
  public record Create(
      CampaignDefinition definition, String actor, ActorRef<StatusReply<CampaignView>> replyTo)
      implements Command {}

  /** Report the campaign. */
  public record Get(ActorRef<StatusReply<CampaignView>> replyTo) implements Command {}

  /** Report the campaign's definition (for a preview). */
  public record GetDefinition(ActorRef<StatusReply<CampaignDefinition>> replyTo)
      implements Command {}

  /** Launch now, or schedule for {@code startAt}. */
  public record Launch(String actor, ActorRef<StatusReply<CampaignView>> replyTo)
      implements Command {}

  /** Stop starting new blocks (blocks in flight finish their current sends). */
  public record Pause(String actor, ActorRef<StatusReply<CampaignView>> replyTo)
      implements Command {}

  /** Continue a paused campaign. */
  public record Resume(String actor, ActorRef<StatusReply<CampaignView>> replyTo)
      implements Command {}

  /** Stop for good; recipients not yet sent stay unsent. */
  public record Cancel(String actor, ActorRef<StatusReply<CampaignView>> replyTo)
      implements Command {}

  /** A block's first messages all have an outcome (its slot is free). Repeats change nothing. */
  public record BlockFinished(BlockOutcome outcome) implements Command {}

  /** A block is done with every step (follow-ups included). Repeats change nothing. */
  public record BlockDone(BlockOutcome outcome) implements Command {}

  /** A running block's counts so far (not journaled: the block reports again after a restart). */
  public record BlockProgress(BlockOutcome outcome) implements Command {}

  /**
   * A block's remaining first messages all wait for a later time ({@code outcome.nextDueAt()}): its
   * slot is free. Repeats change nothing.
   */
  public record BlockWaiting(BlockOutcome outcome) implements Command {}

  /** A waiting block has first messages due and asks for a slot. Repeats change nothing. */
  public record BlockDue(int block) implements Command {}

  /**
   * A human decided review {@code reviewId} of a follow-up Cathy drafted: approved with {@code
   * text} (as the human left it), or rejected ({@code text} null). Repeats, and reviews no step of
   * a draft waits for, change nothing.
   */
  public record DecideFollowUp(
      String reviewId, String text, String actor, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Wake after a restart or at the scheduled start: continue what is due. */
  public enum Wake implements Command {
    INSTANCE
  }

  /** Internal: the audience snapshot finished. */
  record AudienceReady(long recipients) implements Command {}

  /** Internal: the audience snapshot failed. */
  record AudienceFailed(String reason) implements Command {}

  // ---- events ----

  /** Events of the Campaign entity. */
  public sealed interface Event extends CborSerializable {}

  /** The campaign was created as a draft. */
  public record Created(String campaignId, CampaignDefinition definition, String actor, Instant at)
      implements Event {}

  /**
   * A drafted follow-up was approved ({@code text} as approved) or rejected ({@code text} null).
   */
  public record FollowUpDecided(String reviewId, String text, String actor, Instant at)
      implements Event {}

  /** Launch was asked for a future start. */
  public record Scheduled(Instant startAt, String actor) implements Event {}

  /** Launch began: the audience is being snapshotted. */
  public record LaunchStarted(String actor, Instant at) implements Event {}

  /** The audience is snapshotted and split into blocks. */
  public record Planned(long recipients, int blocks, Instant at) implements Event {}

  /** A block was handed to run. */
  public record BlockStarted(int block) implements Event {}

  /** A block's first step finished with its outcome. */
  public record BlockCompleted(BlockOutcome outcome) implements Event {}

  /** A block is done with every step; its follow-up counts. */
  public record BlockSettled(BlockOutcome outcome) implements Event {}

  /** A block gave its slot back: its remaining first messages wait (counts as it reported them). */
  public record BlockParked(BlockOutcome outcome) implements Event {}

  /** A waiting block got a slot again. */
  public record BlockResumed(int block) implements Event {}

  /** The campaign was paused. */
  public record Paused(String actor, Instant at) implements Event {}

  /** The campaign was resumed. */
  public record Resumed(String actor, Instant at) implements Event {}

  /** The campaign was cancelled. */
  public record Cancelled(String actor, Instant at) implements Event {}

  /** Every block finished. */
  public record Completed(Instant at) implements Event {}

  // ---- state ----

  /** The campaign as the entity holds it; {@link CampaignEventHandler} applies its events. */
  public record State(
      String campaignId,
      CampaignDefinition definition,
      Status status,
      Instant createdAt,
      Instant startAt,
      int blocks,
      int nextBlock,
      Set<Integer> finished,
      Set<Integer> settled,
      Map<Integer, BlockOutcome> waiting,
      CampaignCounts counts)
      implements CborSerializable {

    public State {
      // Snapshots taken before blocks could wait have no waiting blocks.
      waiting = waiting == null ? Map.of() : waiting;
    }

    /** Blocks holding a slot: started, first step not finished, not waiting. */
    int inFlight() {
      return nextBlock - finished.size() - waiting.size();
    }

    boolean started(int block) {
      return block >= 0 && block < nextBlock && !finished.contains(block);
    }
  }

  private final String entityId;
  private final String tenantId;
  private final String campaignId;
  private final ActorContext<Command> ctx;
  private final CampaignPorts ports;
  private final Clock clock;
  private final String tag;
  private boolean snapshotting;
  private final RunningBlocks blocks;
  private final ActorRef<ClusterSharding.ShardCommand> shard;

  private CampaignEntity(
      String entityId,
      ActorContext<Command> ctx,
      CampaignPorts ports,
      Clock clock,
      int maxBlocksInFlight,
      int tagSlices,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), entityId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.entityId = entityId;
    this.tenantId = entityId.substring(0, entityId.indexOf(':'));
    this.campaignId = entityId.substring(entityId.indexOf(':') + 1);
    this.ctx = ctx;
    this.ports = ports;
    this.clock = clock;
    this.blocks = new RunningBlocks(maxBlocksInFlight);
    this.tag = Tags.slice(TAG_PREFIX, entityId, tagSlices);
    this.shard = shard;
  }

  /** A campaign that runs without sharding: it is never passivated. */
  public static Behavior<Command> create(
      String entityId, CampaignPorts ports, Clock clock, int maxBlocksInFlight, int tagSlices) {
    return create(entityId, ports, clock, maxBlocksInFlight, tagSlices, null);
  }

  /** A campaign that asks {@code shard} to passivate it once no block will report again. */
  public static Behavior<Command> create(
      String entityId,
      CampaignPorts ports,
      Clock clock,
      int maxBlocksInFlight,
      int tagSlices,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(
        ctx ->
            new CampaignEntity(entityId, ctx, ports, clock, maxBlocksInFlight, tagSlices, shard));
  }

  /** Registers the sharded Campaign entity on this node. */
  public static void init(
      ActorSystem<?> system,
      CampaignPorts ports,
      Clock clock,
      int maxBlocksInFlight,
      int tagSlices) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                ENTITY_TYPE_KEY,
                ctx ->
                    create(
                        ctx.getEntityId(),
                        ports,
                        clock,
                        maxBlocksInFlight,
                        tagSlices,
                        ctx.getShard())));
  }

  @Override
  public State emptyState() {
    return CampaignEventHandler.empty();
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
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              // A journal failure restarts the behavior inside this same object: the slot requests
              // go (waiting blocks ask again); a snapshot still under way answers later.
              blocks.forget();
              ctx.getSelf().tell(Wake.INSTANCE);
            })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forAnyState()
        .onCommand(
            Get.class,
            (s, c) ->
                s.status() == Status.NEW
                    ? notFound(c.replyTo())
                    : Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(
            GetDefinition.class,
            (s, c) ->
                s.status() == Status.NEW
                    ? notFound(c.replyTo())
                    : Effect().reply(c.replyTo(), StatusReply.success(s.definition())))
        .onCommand(Create.class, this::onCreate)
        .onCommand(Launch.class, this::onLaunch)
        .onCommand(DecideFollowUp.class, this::onDecideFollowUp)
        .onCommand(Pause.class, this::onPause)
        .onCommand(Resume.class, this::onResume)
        .onCommand(Cancel.class, this::onCancel)
        .onCommand(BlockFinished.class, (s, c) -> journal(blocks.finished(s, c.outcome())))
        .onCommand(BlockDone.class, (s, c) -> journal(blocks.done(s, c.outcome(), clock.instant())))
        .onCommand(
            BlockProgress.class,
            (s, c) -> {
              blocks.progress(s, c.outcome());
              return Effect().noReply();
            })
        .onCommand(BlockWaiting.class, (s, c) -> journal(blocks.waiting(s, c.outcome())))
        .onCommand(BlockDue.class, this::onBlockDue)
        .onCommand(Wake.class, (s, c) -> onWake(s))
        .onCommand(StartNext.class, (s, c) -> journal(blocks.next(s)))
        .onCommand(AudienceReady.class, this::onAudienceReady)
        .onCommand(AudienceFailed.class, this::onAudienceFailed);
    return b.build();
  }

  private <T> ReplyEffect<Event, State> notFound(ActorRef<StatusReply<T>> replyTo) {
    return Effect()
        .reply(replyTo, Rejection.notFound("campaign " + campaignId + " does not exist"));
  }

  private ReplyEffect<Event, State> onCreate(State s, Create c) {
    if (s.status() != Status.NEW) {
      return Effect().reply(c.replyTo(), Rejection.conflict("campaign " + campaignId + " exists"));
    }
    List<String> problems = c.definition().problems(clock.instant());
    if (c.definition().undrafted()) {
      problems = List.of("a step with a brief is drafted by Cathy before the campaign is created");
    }
    if (!problems.isEmpty()) {
      return Effect().reply(c.replyTo(), Rejection.invalid(String.join("; ", problems)));
    }
    return Effect()
        .persist(new Created(campaignId, c.definition(), c.actor(), clock.instant()))
        .thenReply(c.replyTo(), st -> StatusReply.success(view(st)));
  }

  private ReplyEffect<Event, State> onLaunch(State s, Launch c) {
    if (s.status() == Status.NEW) {
      return notFound(c.replyTo());
    }
    if (s.status() != Status.DRAFT) {
      return Effect()
          .reply(
              c.replyTo(),
              Rejection.conflict(
                  "only a draft can be launched; the campaign is "
                      + s.status().name().toLowerCase()));
    }
    String waiting = s.definition().reviewWaiting();
    if (waiting != null) {
      return Effect().reply(c.replyTo(), Rejection.conflict(waiting));
    }
    Instant now = clock.instant();
    Instant startAt = s.definition().startAt();
    if (startAt != null && startAt.isAfter(now)) {
      return Effect()
          .persist(new Scheduled(startAt, c.actor()))
          .thenRun(st -> scheduleWake(startAt))
          .thenReply(c.replyTo(), st -> StatusReply.success(view(st)));
    }
    return Effect()
        .persist(new LaunchStarted(c.actor(), now))
        .thenRun(this::snapshot)
        .thenReply(c.replyTo(), st -> StatusReply.success(view(st)));
  }

  private ReplyEffect<Event, State> onDecideFollowUp(State s, DecideFollowUp c) {
    if (s.status() == Status.NEW) {
      return notFound(c.replyTo());
    }
    if (s.status() != Status.DRAFT || !s.definition().reviewsPending().containsKey(c.reviewId())) {
      return Effect().reply(c.replyTo(), StatusReply.ack());
    }
    return Effect()
        .persist(new FollowUpDecided(c.reviewId(), c.text(), c.actor(), clock.instant()))
        .thenReply(c.replyTo(), st -> StatusReply.ack());
  }

  private ReplyEffect<Event, State> onPause(State s, Pause c) {
    if (s.status() != Status.RUNNING && s.status() != Status.LAUNCHING) {
      return transitionRefused(s, c.replyTo(), "paused");
    }
    return Effect()
        .persist(new Paused(c.actor(), clock.instant()))
        .thenRun(st -> tellBlocks(st, BlockEntity.Pause.INSTANCE))
        .thenReply(c.replyTo(), st -> StatusReply.success(view(st)));
  }

  private ReplyEffect<Event, State> onResume(State s, Resume c) {
    if (s.status() != Status.PAUSED) {
      return transitionRefused(s, c.replyTo(), "resumed");
    }
    return Effect()
        .persist(new Resumed(c.actor(), clock.instant()))
        .thenRun(
            st -> {
              if (st.status() == Status.LAUNCHING) {
                snapshot(st);
              } else {
                tellBlocks(st, BlockEntity.Resume.INSTANCE);
                continueRunning(st);
              }
            })
        .thenReply(c.replyTo(), st -> StatusReply.success(view(st)));
  }

  private ReplyEffect<Event, State> onCancel(State s, Cancel c) {
    if (s.status() == Status.NEW) {
      return notFound(c.replyTo());
    }
    if (s.status() == Status.COMPLETED || s.status() == Status.CANCELLED) {
      return transitionRefused(s, c.replyTo(), "cancelled");
    }
    return Effect()
        .persist(new Cancelled(c.actor(), clock.instant()))
        .thenRun(
            st -> {
              tellBlocks(st, BlockEntity.Cancel.INSTANCE);
              ports.settled(tenantId, campaignId);
              passivateIfOver(st);
            })
        .thenReply(c.replyTo(), st -> StatusReply.success(view(st)));
  }

  private ReplyEffect<Event, State> transitionRefused(
      State s, ActorRef<StatusReply<CampaignView>> replyTo, String verb) {
    if (s.status() == Status.NEW) {
      return notFound(replyTo);
    }
    return Effect()
        .reply(
            replyTo,
            Rejection.conflict(
                "a " + s.status().name().toLowerCase() + " campaign cannot be " + verb));
  }

  /**
   * Journals what the blocks' reports and the free slots made of the plan, then acts on it: a block
   * started or given a slot is told so; a completed campaign has nothing left to resume; otherwise
   * free slots are filled.
   */
  private ReplyEffect<Event, State> journal(List<Event> events) {
    if (events.isEmpty()) {
      return Effect().noReply();
    }
    return Effect()
        .persist(events)
        .thenRun(
            st -> {
              for (Event e : events) {
                if (e instanceof BlockStarted b) {
                  ports.startBlock(tenantId, campaignId, b.block(), st.definition());
                } else if (e instanceof BlockResumed r) {
                  ports.tellBlock(tenantId, campaignId, r.block(), BlockEntity.Grant.INSTANCE);
                }
              }
              if (st.status() == Status.COMPLETED) {
                ports.settled(tenantId, campaignId);
              } else {
                continueRunning(st);
              }
              passivateIfOver(st);
            })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> onBlockDue(State s, BlockDue c) {
    if (s.waiting().containsKey(c.block())) {
      blocks.asked(c.block());
      continueRunning(s);
    } else if (s.started(c.block())) {
      // The block gave its slot back, but the campaign never heard (a crash): it still has one.
      ports.tellBlock(tenantId, campaignId, c.block(), BlockEntity.Grant.INSTANCE);
    }
    return Effect().noReply();
  }

  private CampaignView view(State s) {
    return CampaignView.of(s, blocks.latest());
  }

  /** Tells every started block that is not done (pause, resume, cancel). */
  private void tellBlocks(State s, BlockEntity.Command command) {
    unsettled(s).forEach(b -> ports.tellBlock(tenantId, campaignId, b, command));
  }

  private static IntStream unsettled(State s) {
    return IntStream.range(0, s.nextBlock()).filter(b -> !s.settled().contains(b));
  }

  private ReplyEffect<Event, State> onWake(State s) {
    switch (s.status()) {
      case SCHEDULED -> {
        if (!s.startAt().isAfter(clock.instant())) {
          return Effect()
              .persist(new LaunchStarted("schedule", clock.instant()))
              .thenRun(this::snapshot)
              .thenNoReply();
        }
        scheduleWake(s.startAt());
      }
      case LAUNCHING -> snapshot(s);
      case RUNNING -> {
        // Blocks started before a crash are told again: a block that is done answers at once.
        unsettled(s).forEach(b -> ports.startBlock(tenantId, campaignId, b, s.definition()));
        continueRunning(s);
      }
      // Nothing to resume: clear a resume mark (a launch that never happened, or finished work).
      case NEW, DRAFT -> ports.settled(tenantId, campaignId);
      case COMPLETED, CANCELLED -> {
        ports.settled(tenantId, campaignId);
        passivateIfOver(s);
      }
      default -> {}
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onAudienceReady(State s, AudienceReady c) {
    snapshotting = false;
    if (s.status() != Status.LAUNCHING) {
      return Effect().noReply();
    }
    int count = (int) ((c.recipients() + BLOCK_SIZE - 1) / BLOCK_SIZE);
    Planned planned = new Planned(c.recipients(), count, clock.instant());
    // An empty audience completes at once.
    return journal(
        count == 0 ? List.of(planned, new Completed(clock.instant())) : List.of(planned));
  }

  private ReplyEffect<Event, State> onAudienceFailed(State s, AudienceFailed c) {
    snapshotting = false;
    ctx.getLog().warn("campaign {} audience snapshot failed ({}); retrying", entityId, c.reason());
    scheduleWakeIn(Duration.ofSeconds(5));
    return Effect().noReply();
  }

  /**
   * Gives free slots to due blocks, then starts new blocks, up to the in-flight limit; one event
   * each (so a restart knows which hold a slot).
   */
  private void continueRunning(State s) {
    if (blocks.wantSlot(s)) {
      ctx.getSelf().tell(new StartNext());
    }
  }

  /** A campaign no block will report to again leaves memory (with sharding); a read restarts it. */
  private void passivateIfOver(State s) {
    if (shard != null && RunningBlocks.over(s)) {
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    }
  }

  private void snapshot(State s) {
    if (snapshotting) {
      return;
    }
    snapshotting = true;
    ctx.pipeToSelf(
        ports.snapshotAudience(tenantId, campaignId, s.definition().audience()),
        (n, err) ->
            err == null
                ? new AudienceReady(n)
                : new AudienceFailed(String.valueOf(err.getMessage())));
  }

  private void scheduleWake(Instant at) {
    scheduleWakeIn(Duration.between(clock.instant(), at));
  }

  private void scheduleWakeIn(Duration d) {
    ctx.scheduleOnce(d.isNegative() ? Duration.ZERO : d, ctx.getSelf(), Wake.INSTANCE);
  }

  /**
   * Internal: give a slot to a due block, or start the next block, if the in-flight limit allows.
   */
  record StartNext() implements Command {}

  @Override
  public EventHandler<State, Event> eventHandler() {
    return CampaignEventHandler.create();
  }
}
