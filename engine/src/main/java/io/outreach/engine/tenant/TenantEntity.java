package io.outreach.engine.tenant;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.Rejection;
import io.outreach.engine.Tags;
import io.outreach.engine.compliance.KillSwitch;
import io.outreach.engine.compliance.KillSwitches;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
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
 * One tenant: its profile, settings (budget, agent policies, flags) and whether it is suspended.
 * The entity id is the tenant id. Later its children (provider throttles, agents) hang below it.
 */
public final class TenantEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        TenantEntity.Command, TenantEntity.Event, TenantEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Tenant");

  /** Projections read tenant events by these tags: {@code tenant-0 .. tenant-(n-1)}. */
  public static final String TAG_PREFIX = "tenant";

  // ---- commands ----

  /** Asked commands of the Tenant entity. */
  public sealed interface Command extends CborSerializable {}

  /** Create the tenant (platform operators only); {@code actor} is who asked, for the audit. */
  public record Create(
      String name,
      String timezone,
      long monthlyBudgetCents,
      String actor,
      ActorRef<StatusReply<Tenant>> replyTo)
      implements Command {}

  /** Read the tenant. */
  public record Get(ActorRef<StatusReply<Tenant>> replyTo) implements Command {}

  /** Change settings; answers with the updated tenant. */
  public record UpdateSettings(
      SettingsPatch patch, String actor, ActorRef<StatusReply<Tenant>> replyTo)
      implements Command {}

  /** Stop all of the tenant's outbound work until resumed. */
  public record Suspend(String reason, String actor, ActorRef<StatusReply<Tenant>> replyTo)
      implements Command {}

  /** Lift a suspension. */
  public record Resume(String actor, ActorRef<StatusReply<Tenant>> replyTo) implements Command {}

  /** Engage a kill switch of a tenant scope (tenant, campaign, agent, channel). */
  public record EngageKillSwitch(
      KillSwitch.Scope scope, String target, String actor, ActorRef<StatusReply<KillSwitch>> replyTo)
      implements Command {}

  /** Release an engaged kill switch. */
  public record ReleaseKillSwitch(
      String id, String actor, ActorRef<StatusReply<KillSwitch>> replyTo) implements Command {}

  // ---- events ----

  /** Events of the Tenant entity; each names who caused it, for the audit trail. */
  public sealed interface Event extends CborSerializable {
    String actor();

    Instant at();
  }

  /** The tenant was created. */
  public record Created(
      String tenantId,
      String name,
      String timezone,
      long monthlyBudgetCents,
      String actor,
      Instant at)
      implements Event {}

  /** Settings changed by the given patch. */
  public record SettingsUpdated(SettingsPatch patch, String actor, Instant at) implements Event {}

  /** The tenant was suspended. */
  public record Suspended(String reason, String actor, Instant at) implements Event {}

  /** The suspension was lifted. */
  public record Resumed(String actor, Instant at) implements Event {}

  /** A kill switch was engaged: nothing it covers starts until it is released. */
  public record KillSwitchEngaged(KillSwitch killSwitch) implements Event {
    @Override
    public String actor() {
      return killSwitch.engagedBy();
    }

    @Override
    public Instant at() {
      return killSwitch.engagedAt();
    }
  }

  /** A kill switch was released. */
  public record KillSwitchReleased(String id, String actor, Instant at) implements Event {}

  // ---- state ----

  /** The tenant, or null before creation. */
  public record State(Tenant tenant) implements CborSerializable {
    boolean exists() {
      return tenant != null;
    }
  }

  private final String tenantId;
  private final String tag;
  private final Clock clock;

  private TenantEntity(String tenantId, int tagSlices, Clock clock) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), tenantId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.tenantId = tenantId;
    this.tag = Tags.slice(TAG_PREFIX, tenantId, tagSlices);
    this.clock = clock;
  }

  public static Behavior<Command> create(String tenantId, int tagSlices, Clock clock) {
    return Behaviors.setup(ctx -> new TenantEntity(tenantId, tagSlices, clock));
  }

  /** Registers the sharded Tenant entity on this node. */
  public static void init(ActorSystem<?> system, int tagSlices) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                ENTITY_TYPE_KEY,
                ctx -> create(ctx.getEntityId(), tagSlices, Clock.systemUTC())));
  }

  @Override
  public State emptyState() {
    return new State(null);
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
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forState(s -> !s.exists())
        .onCommand(Create.class, this::onCreate)
        .onCommand(Get.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(UpdateSettings.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(Suspend.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(Resume.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(EngageKillSwitch.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(ReleaseKillSwitch.class, (s, c) -> notFound(c.replyTo()));
    b.forState(State::exists)
        .onCommand(
            Create.class,
            (s, c) -> Effect().reply(c.replyTo(), Rejection.conflict("tenant " + tenantId + " exists")))
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(s.tenant())))
        .onCommand(UpdateSettings.class, this::onUpdateSettings)
        .onCommand(Suspend.class, this::onSuspend)
        .onCommand(Resume.class, this::onResume)
        .onCommand(EngageKillSwitch.class, this::onEngageKillSwitch)
        .onCommand(ReleaseKillSwitch.class, this::onReleaseKillSwitch);
    return b.build();
  }

  private <T> ReplyEffect<Event, State> notFound(ActorRef<StatusReply<T>> replyTo) {
    return Effect().reply(replyTo, Rejection.notFound("tenant " + tenantId + " does not exist"));
  }

  private ReplyEffect<Event, State> onCreate(State state, Create c) {
    List<String> problems = new ArrayList<>();
    if (!TenantId.isValid(tenantId)) {
      problems.add(TenantId.rule());
    }
    SettingsPatch.nameProblem(c.name() == null ? "" : c.name(), problems);
    SettingsPatch.timezoneProblem(c.timezone() == null ? "" : c.timezone(), problems);
    SettingsPatch.budgetProblem(c.monthlyBudgetCents(), problems);
    if (!problems.isEmpty()) {
      return Effect().reply(c.replyTo(), Rejection.invalid(String.join("; ", problems)));
    }
    Created created =
        new Created(
            tenantId,
            c.name().trim(),
            c.timezone(),
            c.monthlyBudgetCents(),
            c.actor(),
            clock.instant());
    return Effect()
        .persist(created)
        .thenReply(c.replyTo(), s -> StatusReply.success(s.tenant()));
  }

  private ReplyEffect<Event, State> onUpdateSettings(State state, UpdateSettings c) {
    List<String> problems = c.patch().problems();
    if (!problems.isEmpty()) {
      return Effect().reply(c.replyTo(), Rejection.invalid(String.join("; ", problems)));
    }
    if (c.patch().isEmpty()) {
      return Effect().reply(c.replyTo(), StatusReply.success(state.tenant()));
    }
    return Effect()
        .persist(new SettingsUpdated(c.patch(), c.actor(), clock.instant()))
        .thenReply(c.replyTo(), s -> StatusReply.success(s.tenant()));
  }

  private ReplyEffect<Event, State> onSuspend(State state, Suspend c) {
    if (state.tenant().status() == Tenant.Status.SUSPENDED) {
      return Effect().reply(c.replyTo(), StatusReply.success(state.tenant()));
    }
    String reason = c.reason() == null || c.reason().isBlank() ? "suspended" : c.reason().trim();
    return Effect()
        .persist(new Suspended(reason, c.actor(), clock.instant()))
        .thenReply(c.replyTo(), s -> StatusReply.success(s.tenant()));
  }

  private ReplyEffect<Event, State> onResume(State state, Resume c) {
    if (state.tenant().status() == Tenant.Status.ACTIVE) {
      return Effect().reply(c.replyTo(), StatusReply.success(state.tenant()));
    }
    return Effect()
        .persist(new Resumed(c.actor(), clock.instant()))
        .thenReply(c.replyTo(), s -> StatusReply.success(s.tenant()));
  }

  private ReplyEffect<Event, State> onEngageKillSwitch(State state, EngageKillSwitch c) {
    if (c.scope() == null || c.scope() == KillSwitch.Scope.PLATFORM) {
      return Effect().reply(c.replyTo(), Rejection.invalid("scope must be tenant, campaign, agent or channel"));
    }
    String problem = KillSwitches.problem(c.scope(), c.target(), tenantId);
    if (problem != null) {
      return Effect().reply(c.replyTo(), Rejection.invalid(problem));
    }
    var existing = state.tenant().killSwitches().find(c.scope(), c.target());
    if (existing.isPresent()) {
      return Effect().reply(c.replyTo(), StatusReply.success(existing.get()));
    }
    KillSwitch k = KillSwitches.engage("kst_", c.scope(), c.target(), c.actor(), clock.instant());
    return Effect()
        .persist(new KillSwitchEngaged(k))
        .thenReply(c.replyTo(), s -> StatusReply.success(k));
  }

  private ReplyEffect<Event, State> onReleaseKillSwitch(State state, ReleaseKillSwitch c) {
    var k = state.tenant().killSwitches().get(c.id());
    if (k.isEmpty()) {
      return Effect().reply(c.replyTo(), Rejection.notFound("kill switch " + c.id() + " is not engaged"));
    }
    return Effect()
        .persist(new KillSwitchReleased(c.id(), c.actor(), clock.instant()))
        .thenReply(c.replyTo(), s -> StatusReply.success(k.get()));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Created.class, (s, e) -> new State(Tenant.created(e)))
        .onEvent(SettingsUpdated.class, (s, e) -> new State(s.tenant().apply(e.patch(), e.at())))
        .onEvent(Suspended.class, (s, e) -> new State(s.tenant().suspend(e.reason(), e.at())))
        .onEvent(Resumed.class, (s, e) -> new State(s.tenant().resume(e.at())))
        .onEvent(
            KillSwitchEngaged.class,
            (s, e) -> new State(s.tenant().withKillSwitches(s.tenant().killSwitches().with(e.killSwitch()))))
        .onEvent(
            KillSwitchReleased.class,
            (s, e) -> new State(s.tenant().withKillSwitches(s.tenant().killSwitches().without(e.id()))))
        .build();
  }
}
