package io.outreach.engine.tenant;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.Rejection;
import io.outreach.engine.Tags;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.ComplianceGate;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.KillSwitch;
import io.outreach.engine.compliance.KillSwitches;
import io.outreach.engine.compliance.PlatformSwitchboard;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.ProviderThrottle;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
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
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One tenant: its profile, settings (budget, agent policies, flags, senders), kill switches and
 * whether it is suspended. The entity id is the tenant id. Every provider call of the tenant is
 * permitted here ({@link AcquirePermits}): held while a kill switch covers it, else paced by the
 * {@link ProviderThrottle} child of its provider account. Agents will hang below it too.
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
      KillSwitch.Scope scope,
      String target,
      String actor,
      ActorRef<StatusReply<KillSwitch>> replyTo)
      implements Command {}

  /** Release an engaged kill switch. */
  public record ReleaseKillSwitch(
      String id, String actor, ActorRef<StatusReply<KillSwitch>> replyTo) implements Command {}

  /**
   * Ask for up to {@code wanted} calls through {@code provider} from {@code sender}, for a contact
   * of {@code campaignId} or {@code agent} on {@code channel}: the one gate in front of every
   * provider call. Held while a kill switch (platform or tenant) covers it, the tenant is suspended
   * or the agent's policy is disabled; otherwise paced by the provider account's throttle. A lookup
   * that contacts no one (an enrichment) has no {@code channel} and is paced at {@link
   * #LOOKUPS_PER_SECOND}.
   */
  public record AcquirePermits(
      String provider,
      String sender,
      String campaignId,
      String agent,
      Channel channel,
      int wanted,
      ActorRef<Permits> replyTo)
      implements Command {}

  /** A permitted call ended, for its throttle. */
  public record CallEnded(String provider, ProviderThrottle.Ended ended) implements Command {}

  /**
   * A voice call was placed ({@link ProviderThrottle.CallLive}) or reported over ({@link
   * ProviderThrottle.CallOver}), for the throttle's count of live calls.
   */
  public record VoiceCall(String provider, ProviderThrottle.Command change) implements Command {}

  /** Internal: the platform switchboard answered for a permit request. */
  record PlatformChecked(AcquirePermits request, KillSwitches platform, Instant at, String error)
      implements Command {}

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

  /**
   * Calls per second of a lookup provider account (Apollo): its real limits come from its own
   * headers, which the agent follows; this only keeps bursts civil.
   */
  static final int LOOKUPS_PER_SECOND = 10;

  /** Engaging a kill switch answers only once grants issued before it can no longer be used. */
  static final Duration LEASE_MARGIN = Duration.ofMillis(50);

  /** What a Tenant entity asks outside: the platform's switches (for every permit request). */
  @FunctionalInterface
  public interface PlatformSwitches {
    CompletionStage<KillSwitches> current();
  }

  private final String tenantId;
  private final String tag;
  private final Clock clock;
  private final ActorContext<Command> ctx;
  private final PlatformSwitches platform;
  private final ProviderThrottle.Limits limits;
  // Not state: this incarnation's throttles and the time of the latest grant it dated. A journal
  // failure restarts the behavior inside this same object and stops its children: the throttles
  // are forgotten on every recovery and started again on first use (the grant time is kept, so
  // leases of the stopped throttles are still waited out).
  private final Map<String, ActorRef<ProviderThrottle.Command>> throttles = new HashMap<>();
  private Instant lastGrantAt = Instant.EPOCH;

  private TenantEntity(
      String tenantId,
      int tagSlices,
      Clock clock,
      ActorContext<Command> ctx,
      PlatformSwitches platform,
      ProviderThrottle.Limits limits) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), tenantId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.tenantId = tenantId;
    this.tag = Tags.slice(TAG_PREFIX, tenantId, tagSlices);
    this.clock = clock;
    this.ctx = ctx;
    this.platform = platform;
    this.limits = limits;
  }

  /** A tenant with no platform switches and default throttle limits (entity tests). */
  public static Behavior<Command> create(String tenantId, int tagSlices, Clock clock) {
    return create(
        tenantId,
        tagSlices,
        clock,
        () -> CompletableFuture.completedFuture(KillSwitches.none()),
        ProviderThrottle.Limits.DEFAULTS);
  }

  public static Behavior<Command> create(
      String tenantId,
      int tagSlices,
      Clock clock,
      PlatformSwitches platform,
      ProviderThrottle.Limits limits) {
    return Behaviors.setup(
        ctx -> new TenantEntity(tenantId, tagSlices, clock, ctx, platform, limits));
  }

  /** Registers the sharded Tenant entity on this node. */
  /**
   * Registers the Tenant entity; its provider throttles take their limits from {@code
   * outreach.throttle}, and it asks the platform switchboard within {@code askTimeout}.
   */
  public static void init(ActorSystem<?> system, int tagSlices, Duration askTimeout) {
    ClusterSharding sharding = ClusterSharding.get(system);
    ProviderThrottle.Limits limits = ProviderThrottle.Limits.from(system.settings().config());
    Duration ask = askTimeout;
    PlatformSwitches platform =
        () ->
            sharding
                .entityRefFor(PlatformSwitchboard.ENTITY_TYPE_KEY, PlatformSwitchboard.ID)
                .askWithStatus(PlatformSwitchboard.Get::new, ask);
    sharding.init(
        Entity.of(
            ENTITY_TYPE_KEY,
            ctx -> create(ctx.getEntityId(), tagSlices, Clock.systemUTC(), platform, limits)));
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
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), s -> throttles.clear())
        .build();
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
        .onCommand(ReleaseKillSwitch.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(
            AcquirePermits.class,
            (s, c) -> {
              c.replyTo().tell(Permits.held("tenant-unknown", Duration.ofSeconds(1)));
              return Effect().noReply();
            })
        .onCommand(CallEnded.class, (s, c) -> Effect().noReply())
        .onCommand(VoiceCall.class, (s, c) -> Effect().noReply())
        .onCommand(PlatformChecked.class, (s, c) -> Effect().noReply());
    b.forState(State::exists)
        .onCommand(
            Create.class,
            (s, c) ->
                Effect().reply(c.replyTo(), Rejection.conflict("tenant " + tenantId + " exists")))
        .onCommand(
            Get.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(s.tenant())))
        .onCommand(UpdateSettings.class, this::onUpdateSettings)
        .onCommand(Suspend.class, this::onSuspend)
        .onCommand(Resume.class, this::onResume)
        .onCommand(EngageKillSwitch.class, this::onEngageKillSwitch)
        .onCommand(ReleaseKillSwitch.class, this::onReleaseKillSwitch)
        .onCommand(AcquirePermits.class, this::onAcquirePermits)
        .onCommand(PlatformChecked.class, this::onPlatformChecked)
        .onCommand(
            CallEnded.class,
            (s, c) -> {
              throttle(c.provider()).tell(c.ended());
              return Effect().noReply();
            })
        .onCommand(
            VoiceCall.class,
            (s, c) -> {
              throttle(c.provider()).tell(c.change());
              return Effect().noReply();
            });
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
    return Effect().persist(created).thenReply(c.replyTo(), s -> StatusReply.success(s.tenant()));
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
      return Effect()
          .reply(
              c.replyTo(), Rejection.invalid("scope must be tenant, campaign, agent or channel"));
    }
    String problem = KillSwitches.problem(c.scope(), c.target(), tenantId);
    if (problem != null) {
      return Effect().reply(c.replyTo(), Rejection.invalid(problem));
    }
    var existing = state.tenant().killSwitches().find(c.scope(), c.target());
    if (existing.isPresent()) {
      return Effect().reply(c.replyTo(), StatusReply.success(existing.get()));
    }
    if (state.tenant().killSwitches().all().size() >= KillSwitches.MAX_ENGAGED) {
      return Effect()
          .reply(
              c.replyTo(),
              Rejection.conflict(
                  "at most "
                      + KillSwitches.MAX_ENGAGED
                      + " kill switches may be engaged at once: release one, or engage a wider"
                      + " scope (tenant, channel)"));
    }
    KillSwitch k = KillSwitches.engage("kst_", c.scope(), c.target(), c.actor(), clock.instant());
    return Effect()
        .persist(new KillSwitchEngaged(k))
        .thenRun(s -> ctx.scheduleOnce(leaseWait(), c.replyTo(), StatusReply.success(k)))
        .thenNoReply();
  }

  /**
   * How long until no grant this tenant dated can start a call any more: once a switch is in the
   * state no new grant is dated, so answering after this means no call starts after the answer.
   */
  private Duration leaseWait() {
    Duration d =
        Duration.between(clock.instant(), lastGrantAt.plus(Permits.LEASE).plus(LEASE_MARGIN));
    return d.isNegative() ? Duration.ZERO : d;
  }

  private ReplyEffect<Event, State> onAcquirePermits(State state, AcquirePermits c) {
    // Dated before asking: the switchboard's answer is at least as new as this instant.
    Instant askedAt = clock.instant();
    ctx.pipeToSelf(
        platform.current(),
        (p, err) ->
            new PlatformChecked(
                c, p, askedAt, err == null ? null : String.valueOf(err.getMessage())));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onPlatformChecked(State state, PlatformChecked c) {
    AcquirePermits a = c.request();
    if (c.error() != null) {
      a.replyTo().tell(Permits.held("platform-switches-unknown", Duration.ofMillis(500)));
      return Effect().noReply();
    }
    Contact contact = new Contact(tenantId, a.campaignId(), a.agent(), a.channel(), null);
    List<KillSwitch> switches = new ArrayList<>(c.platform().all());
    switches.addAll(state.tenant().killSwitches().all());
    Optional<String> hold =
        ComplianceGate.hold(contact, switches, state.tenant().status() == Tenant.Status.SUSPENDED);
    if (hold.isEmpty() && a.agent() != null) {
      AgentPolicy policy = state.tenant().agentPolicies().get(a.agent());
      if (policy == null || !policy.enabled()) {
        hold = Optional.of("agent-disabled");
      }
    }
    if (hold.isPresent()) {
      a.replyTo().tell(Permits.held(hold.get(), Duration.ofSeconds(1)));
      return Effect().noReply();
    }
    // Dated when the platform was asked: a platform switch engaged after that waits out this
    // lease before it answers its caller.
    if (c.at().isAfter(lastGrantAt)) {
      lastGrantAt = c.at();
    }
    // The engine's own answers to a person (no campaign, no agent: an opt-out's confirmation, the
    // help text) go before campaigns on the sender.
    boolean priority = a.campaignId() == null && a.agent() == null;
    throttle(a.provider())
        .tell(
            new ProviderThrottle.Acquire(
                a.sender(),
                a.channel() == null
                    ? LOOKUPS_PER_SECOND
                    : ProviderThrottle.CALLS.equals(a.sender())
                        ? limits.callsPerSecond()
                        : mps(state.tenant(), a.provider(), a.sender()),
                a.wanted(),
                c.at(),
                priority,
                a.channel() != null,
                a.replyTo()));
    return Effect().noReply();
  }

  /** The configured rate of a sender; the sandbox short code's, or one per second if unknown. */
  private static int mps(Tenant t, String provider, String sender) {
    return t.senders(provider).stream()
        .filter(s -> s.from().equals(sender))
        .findFirst()
        .map(Sender::messagesPerSecond)
        .orElse(sender.equals(Sender.SANDBOX.from()) ? Sender.SANDBOX.messagesPerSecond() : 1);
  }

  /** The provider account's throttle child, started on first use and restarted if it fails. */
  private ActorRef<ProviderThrottle.Command> throttle(String provider) {
    return throttles.computeIfAbsent(
        provider,
        p ->
            ctx.spawn(
                Behaviors.supervise(ProviderThrottle.create(p, limits))
                    .onFailure(SupervisorStrategy.restart()),
                "throttle-" + p));
  }

  private ReplyEffect<Event, State> onReleaseKillSwitch(State state, ReleaseKillSwitch c) {
    var k = state.tenant().killSwitches().get(c.id());
    if (k.isEmpty()) {
      return Effect()
          .reply(c.replyTo(), Rejection.notFound("kill switch " + c.id() + " is not engaged"));
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
            (s, e) ->
                new State(
                    s.tenant().withKillSwitches(s.tenant().killSwitches().with(e.killSwitch()))))
        .onEvent(
            KillSwitchReleased.class,
            (s, e) ->
                new State(s.tenant().withKillSwitches(s.tenant().killSwitches().without(e.id()))))
        .build();
  }
}
