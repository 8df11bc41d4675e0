package io.outreach.engine.compliance;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.Rejection;
import io.outreach.engine.provider.Permits;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
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
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The platform's kill switches (scope {@code platform}): one entity for the whole engine, engaged
 * and released by platform operators; a platform switch stops every tenant's contacts.
 * Tenant-scoped switches live in each Tenant entity.
 */
public final class PlatformSwitchboard
    extends EventSourcedBehaviorWithEnforcedReplies<
        PlatformSwitchboard.Command, PlatformSwitchboard.Event, KillSwitches> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "PlatformSwitchboard");

  /** The one entity id. */
  public static final String ID = "platform";

  /** Whether a platform-wide switch is engaged: then no tenant's campaigns or agents act. */
  public static CompletionStage<Boolean> stopped(ClusterSharding sharding, Duration askTimeout) {
    return sharding
        .entityRefFor(ENTITY_TYPE_KEY, ID)
        .askWithStatus(Get::new, askTimeout)
        .thenApply((KillSwitches k) -> !k.all().isEmpty());
  }

  /** Commands of the switchboard. */
  public sealed interface Command extends CborSerializable {}

  /** Engage a platform kill switch ({@code target} says why, e.g. "carrier incident"). */
  public record Engage(String target, String actor, ActorRef<StatusReply<KillSwitch>> replyTo)
      implements Command {}

  /** Release a platform kill switch. */
  public record Release(String id, String actor, ActorRef<StatusReply<KillSwitch>> replyTo)
      implements Command {}

  /** The engaged platform switches. */
  public record Get(ActorRef<StatusReply<KillSwitches>> replyTo) implements Command {}

  /** Events of the switchboard. */
  public sealed interface Event extends CborSerializable {}

  /** A platform switch was engaged. */
  public record Engaged(KillSwitch killSwitch) implements Event {}

  /** A platform switch was released. */
  public record Released(String id, String actor, Instant at) implements Event {}

  private final Clock clock;
  private final ActorContext<Command> ctx;

  private PlatformSwitchboard(Clock clock, ActorContext<Command> ctx) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), ID),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.clock = clock;
    this.ctx = ctx;
  }

  public static Behavior<Command> create(Clock clock) {
    return Behaviors.setup(ctx -> new PlatformSwitchboard(clock, ctx));
  }

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY, ctx -> create(Clock.systemUTC())));
  }

  @Override
  public KillSwitches emptyState() {
    return KillSwitches.none();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 3);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, KillSwitches> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Engage.class, this::onEngage)
        .onCommand(Release.class, this::onRelease)
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(s)))
        .build();
  }

  private ReplyEffect<Event, KillSwitches> onEngage(KillSwitches state, Engage c) {
    String problem = KillSwitches.problem(KillSwitch.Scope.PLATFORM, c.target(), null);
    if (problem != null) {
      return Effect().reply(c.replyTo(), Rejection.invalid(problem));
    }
    var existing = state.find(KillSwitch.Scope.PLATFORM, c.target());
    if (existing.isPresent()) {
      return Effect().reply(c.replyTo(), StatusReply.success(existing.get()));
    }
    KillSwitch k =
        KillSwitches.engage(
            "ksp_", KillSwitch.Scope.PLATFORM, c.target(), c.actor(), clock.instant());
    // Tenants date their grants before they ask this board; answering after a lease means no
    // call started on a grant that could not see this switch starts after the answer.
    return Effect()
        .persist(new Engaged(k))
        .thenRun(
            s ->
                ctx.scheduleOnce(Permits.LEASE.plusMillis(50), c.replyTo(), StatusReply.success(k)))
        .thenNoReply();
  }

  private ReplyEffect<Event, KillSwitches> onRelease(KillSwitches state, Release c) {
    var k = state.get(c.id());
    if (k.isEmpty()) {
      return Effect()
          .reply(c.replyTo(), Rejection.notFound("kill switch " + c.id() + " is not engaged"));
    }
    return Effect()
        .persist(new Released(c.id(), c.actor(), clock.instant()))
        .thenReply(c.replyTo(), s -> StatusReply.success(k.get()));
  }

  @Override
  public EventHandler<KillSwitches, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Engaged.class, (s, e) -> s.with(e.killSwitch()))
        .onEvent(Released.class, (s, e) -> s.without(e.id()))
        .build();
  }
}
