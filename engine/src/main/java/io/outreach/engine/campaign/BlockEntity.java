package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.ComplianceGate;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.message.MessageTemplate;
import io.outreach.engine.message.OptOutDisclosure;
import io.outreach.engine.message.Rendered;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One block of a campaign: at most 500 recipients, each decided by the {@link ComplianceGate}
 * and, if allowed, sent once. Every decision and every intent to send is journaled in one batch
 * before any provider call ({@link Planned}); outcomes are journaled in batches as they arrive. A
 * restart resends exactly the planned sends without an outcome, with the same idempotency keys,
 * so a provider that honours keys never delivers twice. Transient rejections are retried with
 * backoff up to {@link #MAX_ATTEMPTS}; then the recipient fails with the provider's reason.
 */
public final class BlockEntity
    extends EventSourcedBehavior<BlockEntity.Command, BlockEntity.Event, BlockEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Block");
  static final int MAX_ATTEMPTS = 5;
  static final int OUTCOME_BATCH = 100;
  static final Duration OUTCOME_FLUSH = Duration.ofMillis(200);
  static final Duration HOLD_RECHECK = Duration.ofSeconds(1);
  /** Provider calls one block has open at once (pacing per sender arrives with the throttles). */
  static final int MAX_IN_FLIGHT = 32;

  // ---- commands (none is asked: the campaign tells, the block reports back) ----

  /** Commands of the Block entity. */
  public sealed interface Command extends CborSerializable {}

  /** Run the block (repeatable: a started block continues, a finished one reports again). */
  public record Start(BlockSpec spec) implements Command {}

  /** Internal: recipients and facts are loaded. */
  record Loaded(List<Recipient> recipients, GateFacts facts, Set<String> contactedBefore) implements Command {}

  /** Internal: loading failed; try again. */
  record LoadFailed(String reason) implements Command {}

  /** Internal: a provider answered (or failed to), or a kill switch held the send. */
  record Answered(long recipient, SendResult result, String error, String heldBy) implements Command {}

  /** Internal: send one recipient again after a transient rejection. */
  record Retry(long recipient) implements Command {}

  /** Internal: journal the outcomes collected so far. */
  enum Flush implements Command {
    INSTANCE
  }

  // ---- events ----

  /** Events of the Block entity. */
  public sealed interface Event extends CborSerializable {}

  /** The block began loading its recipients. */
  public record Started(BlockSpec spec) implements Event {}

  /** A recipient the gate (or its template) blocked, naming the rule. */
  public record Blocked(long recipient, BlockReason reason, String rule) implements CborSerializable {}

  /** A message to send: journaled before the provider is called. */
  public record Send(long recipient, String to, String body, String idempotencyKey) implements CborSerializable {}

  /** Every recipient decided: those blocked, and the sends intended (SendRequested, in a batch). */
  public record Planned(List<Blocked> blocked, List<Send> sends) implements Event {}

  /** A send's final outcome: sent with the provider's id, or failed with the reason. */
  public record Outcome(long recipient, boolean sent, String providerMessageId, String reason)
      implements CborSerializable {}

  /** A batch of outcomes. */
  public record Outcomes(List<Outcome> outcomes) implements Event {}

  /** Every send has an outcome; the campaign was told. */
  public record Finished(BlockOutcome outcome) implements Event {}

  // ---- state ----

  /** Lifecycle of a block. */
  public enum Status {
    NEW,
    LOADING,
    SENDING,
    FINISHED
  }

  /** The block's spec, plan and outcomes so far. */
  public record State(
      BlockSpec spec, Status status, List<Blocked> blocked, List<Send> sends, Map<Long, Outcome> outcomes)
      implements CborSerializable {
    static State empty() {
      return new State(null, Status.NEW, List.of(), List.of(), Map.of());
    }

    boolean allAnswered() {
      return outcomes.size() == sends.size();
    }

    BlockOutcome outcome() {
      long sent = outcomes.values().stream().filter(Outcome::sent).count();
      Map<BlockReason, Long> byReason = new EnumMap<>(BlockReason.class);
      blocked.forEach(b -> byReason.merge(b.reason(), 1L, Long::sum));
      return new BlockOutcome(spec.block(), sent, outcomes.size() - sent, byReason);
    }
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final BlockPorts ports;
  private final ComplianceGate gate = new ComplianceGate();
  // Not state: what is on its way right now; rebuilt from the journal after a restart.
  private final List<Outcome> pending = new ArrayList<>();
  private final Map<Long, Integer> attempts = new HashMap<>();
  private boolean loading;
  private boolean held;
  private final java.util.ArrayDeque<Send> queue = new java.util.ArrayDeque<>();
  private int inFlight;

  private BlockEntity(String entityId, ActorContext<Command> ctx, TimerScheduler<Command> timers, BlockPorts ports) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), entityId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.ctx = ctx;
    this.timers = timers;
    this.ports = ports;
  }

  public static Behavior<Command> create(String entityId, BlockPorts ports) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new BlockEntity(entityId, ctx, timers, ports)));
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), this::resume)
        .build();
  }

  /** After a restart: reload, resend what has no outcome, or report again. */
  private void resume(State s) {
    switch (s.status()) {
      case LOADING -> load(s.spec());
      case SENDING -> {
        s.sends().stream().filter(x -> !s.outcomes().containsKey(x.recipient())).forEach(queue::add);
        pump(s.spec());
      }
      case FINISHED -> ports.finished(s.spec(), s.outcome());
      default -> {}
    }
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Start.class, this::onStart)
        .onCommand(Loaded.class, this::onLoaded)
        .onCommand(LoadFailed.class, (s, c) -> onLoadFailed(s, c))
        .onCommand(Answered.class, this::onAnswered)
        .onCommand(Retry.class, this::onRetry)
        .onCommand(Flush.class, (s, c) -> flush(s))
        .build();
  }

  private Effect<Event, State> onStart(State s, Start c) {
    return switch (s.status()) {
      case NEW -> Effect().persist(new Started(c.spec())).thenRun(st -> load(st.spec()));
      case FINISHED -> {
        ports.finished(s.spec(), s.outcome());
        yield Effect().none();
      }
      case LOADING -> {
        load(s.spec());
        yield Effect().none();
      }
      default -> Effect().none();
    };
  }

  private void load(BlockSpec spec) {
    if (loading) {
      return;
    }
    loading = true;
    CompletionStage<Loaded> loaded =
        ports
            .recipients(spec)
            .thenCompose(
                recipients -> {
                  List<String> phones = recipients.stream().map(Recipient::phone).filter(Objects::nonNull).toList();
                  CompletableFuture<GateFacts> facts = ports.gateFacts(spec, phones).toCompletableFuture();
                  CompletableFuture<Set<String>> contacted = ports.contactedBefore(spec, phones).toCompletableFuture();
                  return facts.thenCombine(contacted, (f, before) -> new Loaded(recipients, f, before));
                });
    ctx.pipeToSelf(loaded, (ok, err) -> err == null ? ok : new LoadFailed(String.valueOf(err.getMessage())));
  }

  private Effect<Event, State> onLoadFailed(State s, LoadFailed c) {
    loading = false;
    ctx.getLog().warn("block {} could not load ({}); retrying", s.spec() == null ? "?" : s.spec().entityId(), c.reason());
    timers.startSingleTimer(new Start(s.spec()), Duration.ofSeconds(2));
    return Effect().none();
  }

  private Effect<Event, State> onLoaded(State s, Loaded c) {
    loading = false;
    if (s.status() != Status.LOADING) {
      return Effect().none();
    }
    BlockSpec spec = s.spec();
    MessageTemplate template = MessageTemplate.parse(spec.message());
    List<Blocked> blocked = new ArrayList<>();
    List<Send> sends = new ArrayList<>();
    for (Recipient r : c.recipients()) {
      Decision d = gate.decide(new Contact(spec.tenantId(), spec.campaignId(), null, spec.channel(), r.phone()), c.facts());
      // A kill switch holds a campaign's sends (checked again before each call) rather than
      // ending them: the work resumes when the switch is released.
      if (d instanceof Decision.Block b && b.reason() != BlockReason.KILL_SWITCH) {
        blocked.add(new Blocked(r.no(), b.reason(), b.rule()));
        continue;
      }
      Rendered rendered = template.render(r.fields());
      if (rendered instanceof Rendered.Missing m) {
        blocked.add(new Blocked(r.no(), BlockReason.INVALID, "invalid:missing-field:" + String.join(",", m.fieldNames())));
        continue;
      }
      String body = ((Rendered.Text) rendered).body();
      if (!c.contactedBefore().contains(r.phone())) {
        body = OptOutDisclosure.withDisclosure(body);
      }
      sends.add(new Send(r.no(), r.phone(), body, spec.idempotencyKey(r.no(), 0)));
    }
    Planned plan = new Planned(blocked, sends);
    return Effect()
        .persist(plan)
        .thenRun(
            st -> {
              if (st.allAnswered()) {
                ctx.getSelf().tell(Flush.INSTANCE);
              }
              queue.addAll(st.sends());
              pump(spec);
            });
  }

  /** Starts queued sends while fewer than {@link #MAX_IN_FLIGHT} are open. */
  private void pump(BlockSpec spec) {
    while (inFlight < MAX_IN_FLIGHT && !queue.isEmpty()) {
      inFlight++;
      send(spec, queue.poll());
    }
  }

  private void send(BlockSpec spec, Send x) {
    SmsRequest request = new SmsRequest(spec.tenantId(), spec.from(), x.to(), x.body(), x.idempotencyKey(), null);
    CompletionStage<Answered> answered =
        ports
            .stopped(spec)
            .thenCompose(
                rule ->
                    rule.isPresent()
                        ? CompletableFuture.completedFuture(new Answered(x.recipient(), null, null, rule.get()))
                        : ports
                            .send(spec, request)
                            .thenApply(result -> new Answered(x.recipient(), result, null, null)));
    ctx.pipeToSelf(
        answered,
        (a, err) -> err == null ? a : new Answered(x.recipient(), null, String.valueOf(err.getMessage()), null));
  }

  private Effect<Event, State> onAnswered(State s, Answered a) {
    inFlight = Math.max(0, inFlight - 1);
    pump(s.spec());
    if (s.status() != Status.SENDING || s.outcomes().containsKey(a.recipient())
        || pending.stream().anyMatch(o -> o.recipient() == a.recipient())) {
      return Effect().none();
    }
    if (a.heldBy() != null) {
      if (!held) {
        held = true;
        ctx.getLog().info("block {} held by {}", s.spec().entityId(), a.heldBy());
      }
      timers.startSingleTimer("retry-" + a.recipient(), new Retry(a.recipient()), HOLD_RECHECK);
      return Effect().none();
    }
    held = false;
    if (a.result() instanceof SendResult.Accepted ok) {
      pending.add(new Outcome(a.recipient(), true, ok.providerMessageId(), null));
    } else {
      boolean retryable = a.error() != null || (a.result() instanceof SendResult.Rejected r && r.retryable());
      int n = attempts.merge(a.recipient(), 1, Integer::sum);
      String reason = a.error() != null ? a.error() : ((SendResult.Rejected) a.result()).reason();
      if (retryable && n < MAX_ATTEMPTS) {
        Duration wait =
            a.result() instanceof SendResult.Rejected r && r.retryAfter().isPresent()
                ? r.retryAfter().get()
                : Duration.ofMillis(500L << Math.min(n, 6));
        timers.startSingleTimer("retry-" + a.recipient(), new Retry(a.recipient()), wait);
        return Effect().none();
      }
      pending.add(new Outcome(a.recipient(), false, null, reason));
    }
    if (pending.size() >= OUTCOME_BATCH || s.outcomes().size() + pending.size() == s.sends().size()) {
      return flush(s);
    }
    if (!timers.isTimerActive(Flush.INSTANCE)) {
      timers.startSingleTimer(Flush.INSTANCE, OUTCOME_FLUSH);
    }
    return Effect().none();
  }

  private Effect<Event, State> onRetry(State s, Retry r) {
    if (s.status() == Status.SENDING && !s.outcomes().containsKey(r.recipient())) {
      s.sends().stream().filter(x -> x.recipient() == r.recipient()).findFirst().ifPresent(queue::addFirst);
      pump(s.spec());
    }
    return Effect().none();
  }

  /** Journals collected outcomes in one event; the last batch also finishes the block. */
  private Effect<Event, State> flush(State s) {
    if (s.status() != Status.SENDING) {
      return Effect().none();
    }
    List<Outcome> batch = List.copyOf(pending);
    pending.clear();
    List<Event> events = new ArrayList<>();
    if (!batch.isEmpty()) {
      events.add(new Outcomes(batch));
    }
    Map<Long, Outcome> after = new HashMap<>(s.outcomes());
    batch.forEach(o -> after.put(o.recipient(), o));
    if (after.size() == s.sends().size()) {
      State done = new State(s.spec(), Status.SENDING, s.blocked(), s.sends(), after);
      events.add(new Finished(done.outcome()));
    }
    if (events.isEmpty()) {
      return Effect().none();
    }
    return Effect()
        .persist(events)
        .thenRun(
            st -> {
              if (st.status() == Status.FINISHED) {
                ports.finished(st.spec(), st.outcome());
              }
            });
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Started.class, (s, e) -> new State(e.spec(), Status.LOADING, List.of(), List.of(), Map.of()))
        .onEvent(Planned.class, (s, e) -> new State(s.spec(), Status.SENDING, e.blocked(), e.sends(), Map.of()))
        .onEvent(
            Outcomes.class,
            (s, e) -> {
              Map<Long, Outcome> next = new HashMap<>(s.outcomes());
              e.outcomes().forEach(o -> next.put(o.recipient(), o));
              return new State(s.spec(), s.status(), s.blocked(), s.sends(), next);
            })
        .onEvent(Finished.class, (s, e) -> new State(s.spec(), Status.FINISHED, s.blocked(), s.sends(), s.outcomes()))
        .build();
  }
}
