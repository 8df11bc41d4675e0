package io.outreach.engine.conversation;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.outreach.engine.CborSerializable;
import io.outreach.engine.Rejection;
import io.outreach.engine.Tags;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.Done;
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
 * One person a tenant talks to (entity id {@code tenant:phone}): their consent as their keywords
 * left it, the last classification of their replies, and the engine's answers. Inbound messages are
 * stored (and an opt-out applied) before their webhook is answered, and the tenant's {@link
 * ConversationInbox} processes them in batches after (thread, conversation row, the campaigns'
 * reactions). The messages that want an answer come on to this entity, woken at once or, after a
 * crash, at the next start: it journals each (once) with its reply, and sends the one confirmation
 * of an opt-out or opt-in or the help text through the one way out (again after a crash, with the
 * same key).
 *
 * <p>The stored inbound messages (the webhook receipts, written before the 2xx) and the campaigns'
 * messages (the messages read model) are the thread; journaling them here again would double the
 * durable writes of every reply and every send. The journal holds what this entity decides.
 */
public final class ConversationEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        ConversationEntity.Command, ConversationEntity.Event, ConversationEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Conversation");
  public static final String TAG_PREFIX = "conversation";
  static final int MAX_REPLY_ATTEMPTS = 5;
  static final int REMEMBERED_KEYS = 500;
  static final Duration RETRY = Duration.ofSeconds(2);
  static final Duration MAX_RETRY = Duration.ofSeconds(60);

  public static String entityId(String tenantId, String phone) {
    return tenantId + ":" + phone;
  }

  // ---- commands ----

  /** Commands of the Conversation entity. */
  public sealed interface Command extends CborSerializable {}

  /** Answer what was handed over (told by the inbox, and at start). */
  public enum Wake implements Command {
    INSTANCE
  }

  /** The conversation as the entity holds it. */
  public record Get(ActorRef<StatusReply<State>> replyTo) implements Command {}

  /**
   * Send an answer an agent decided (Gianna's answer to a reply, or the confirmation of an opt-out
   * it read in free text): journaled once under its key, acknowledged once journaled (a repeat of a
   * key answered before is acknowledged and not sent again).
   */
  public record AgentReply(Reply reply, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Internal: the stored inbound messages and the tenant's answers are loaded. */
  record Loaded(List<InboundMessage> messages, ReplyTexts texts, String error) implements Command {}

  /** Internal: a reply went (or did not). */
  record Answered(String key, ConversationPorts.ReplyResult result, String error)
      implements Command {}

  /** Internal: try a reply again. */
  record RetryReply(String key) implements Command {}

  // ---- events ----

  /** Events of the Conversation entity. */
  public sealed interface Event extends CborSerializable {}

  /** An inbound message that changed consent or asked for help, with what it did. */
  public record InboundReceived(InboundMessage message) implements Event {}

  /** A reply to send, journaled before it is sent. */
  public record ReplyPlanned(Reply reply) implements Event {}

  /** A reply went, or was refused for good. */
  public record ReplyDone(String key, boolean sent, String detail, Instant at) implements Event {}

  // ---- state ----

  /**
   * The person's conversation as this entity decides it: consent, the last classification, replies
   * not yet done, and the keys of recent messages answered (so one handed over twice is answered
   * once), oldest first: a snapshot keeps their order, so the oldest is still the one forgotten.
   */
  public record State(
      String phone,
      boolean optedOut,
      Instant optedOutAt,
      String lastClassification,
      Map<String, Reply> pendingReplies,
      @JsonDeserialize(as = LinkedHashSet.class) Set<String> seen)
      implements CborSerializable {

    static State empty(String phone) {
      return new State(phone, false, null, null, Map.of(), Set.of());
    }

    /** Remembers {@code key} among the recent ones, forgetting the oldest beyond the bound. */
    State remembering(String key) {
      return new State(
          phone, optedOut, optedOutAt, lastClassification, pendingReplies, recent(seen, key));
    }

    private static Set<String> recent(Set<String> seen, String key) {
      Set<String> keys = new LinkedHashSet<>(seen);
      keys.add(key);
      while (keys.size() > REMEMBERED_KEYS) {
        keys.remove(keys.iterator().next());
      }
      return keys;
    }

    State received(InboundMessage m) {
      Set<String> keys = recent(seen, m.key());
      boolean out =
          m.effect() == InboundEffect.OPTED_OUT
              || m.effect() == InboundEffect.ALREADY_OPTED_OUT
              || (optedOut && m.effect() != InboundEffect.OPTED_IN);
      Instant outAt = m.effect() == InboundEffect.OPTED_OUT ? m.at() : out ? optedOutAt : null;
      return new State(phone, out, outAt, lastClassification, pendingReplies, keys);
    }

    State withReplies(Map<String, Reply> replies) {
      return new State(phone, optedOut, optedOutAt, lastClassification, replies, seen);
    }
  }

  private final String tenantId;
  private final String phone;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ConversationPorts ports;
  private final Clock clock;
  private final String tag;
  // Not state: work on its way.
  private boolean loading;
  private boolean wakeAgain;
  private final Set<String> sending = new java.util.HashSet<>();
  private final Map<String, Integer> attempts = new HashMap<>();

  private ConversationEntity(
      String entityId,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      ConversationPorts ports,
      Clock clock,
      int tagSlices) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), entityId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.tenantId = entityId.substring(0, entityId.indexOf(':'));
    this.phone = entityId.substring(entityId.indexOf(':') + 1);
    this.ctx = ctx;
    this.timers = timers;
    this.ports = ports;
    this.clock = clock;
    this.tag = Tags.slice(TAG_PREFIX, entityId, tagSlices);
  }

  public static Behavior<Command> create(
      String entityId, ConversationPorts ports, Clock clock, int tagSlices) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new ConversationEntity(entityId, ctx, timers, ports, clock, tagSlices)));
  }

  /** Registers the sharded Conversation entity on this node. */
  public static void init(
      ActorSystem<?> system, ConversationPorts ports, Clock clock, int tagSlices) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), ports, clock, tagSlices)));
  }

  @Override
  public State emptyState() {
    return State.empty(phone);
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
            s -> {
              // Replies journaled but not done before a crash go now, with their keys.
              s.pendingReplies().values().forEach(this::send);
              ctx.getSelf().tell(Wake.INSTANCE);
            })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Wake.class, (s, c) -> onWake())
        .onCommand(
            Get.class,
            (s, c) ->
                Effect()
                    .reply(
                        c.replyTo(),
                        s.seen().isEmpty() && s.pendingReplies().isEmpty()
                            ? Rejection.notFound("no conversation with " + phone)
                            : StatusReply.success(s)))
        .onCommand(AgentReply.class, this::onAgentReply)
        .onCommand(Loaded.class, this::onLoaded)
        .onCommand(Answered.class, this::onAnswered)
        .onCommand(
            RetryReply.class,
            (s, c) -> {
              Reply r = s.pendingReplies().get(c.key());
              if (r != null) {
                send(r);
              }
              return Effect().noReply();
            })
        .build();
  }

  private ReplyEffect<Event, State> onAgentReply(State s, AgentReply c) {
    String key = c.reply().key();
    if (s.seen().contains(key) || s.pendingReplies().containsKey(key)) {
      return Effect().reply(c.replyTo(), StatusReply.success(Done.getInstance()));
    }
    return Effect()
        .persist(new ReplyPlanned(c.reply()))
        .thenRun(st -> send(c.reply()))
        .thenReply(c.replyTo(), st -> StatusReply.success(Done.getInstance()));
  }

  private ReplyEffect<Event, State> onWake() {
    if (loading) {
      wakeAgain = true;
      return Effect().noReply();
    }
    loading = true;
    ctx.pipeToSelf(
        ports
            .toAnswer(tenantId, phone)
            .thenCombine(ports.texts(tenantId), (list, texts) -> new Loaded(list, texts, null)),
        (ok, err) ->
            err == null ? ok : new Loaded(List.of(), null, String.valueOf(err.getMessage())));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onLoaded(State s, Loaded c) {
    loading = false;
    if (c.error() != null) {
      ctx.getLog()
          .warn(
              "conversation {}: could not load the messages to answer ({}); retrying",
              phone,
              c.error());
      timers.startSingleTimer("wake", Wake.INSTANCE, RETRY);
      return Effect().noReply();
    }
    List<Event> events = new ArrayList<>();
    for (InboundMessage m : c.messages()) {
      if (s.seen().contains(m.key())) {
        continue;
      }
      events.add(new InboundReceived(m));
      Reply.Kind kind =
          switch (m.effect()) {
            case OPTED_OUT -> Reply.Kind.OPT_OUT_CONFIRMATION;
            case OPTED_IN -> Reply.Kind.OPT_IN_CONFIRMATION;
            case HELP -> Reply.Kind.HELP;
            default -> null;
          };
      if (kind != null) {
        events.add(
            new ReplyPlanned(
                new Reply(
                    replyKey(m.key()),
                    kind,
                    m.provider(),
                    m.to(),
                    phone,
                    c.texts().text(kind),
                    m.key())));
      }
    }
    if (events.isEmpty()) {
      afterProcessing(c.messages());
      return Effect().noReply();
    }
    return Effect()
        .persist(events)
        .thenRun(
            st -> {
              afterProcessing(c.messages());
              events.stream()
                  .filter(e -> e instanceof ReplyPlanned)
                  .forEach(e -> send(((ReplyPlanned) e).reply()));
            })
        .thenNoReply();
  }

  /**
   * Marks the loaded messages answered (also one journaled before a crash but not marked); then
   * looks again if woken meanwhile.
   */
  private void afterProcessing(List<InboundMessage> loaded) {
    if (!loaded.isEmpty()) {
      ports.answered(tenantId, phone, loaded);
    }
    if (wakeAgain) {
      wakeAgain = false;
      ctx.getSelf().tell(Wake.INSTANCE);
    }
  }

  private void send(Reply r) {
    if (!sending.add(r.key())) {
      return;
    }
    ctx.pipeToSelf(
        ports.reply(tenantId, r),
        (result, err) ->
            new Answered(r.key(), result, err == null ? null : String.valueOf(err.getMessage())));
  }

  private ReplyEffect<Event, State> onAnswered(State s, Answered c) {
    sending.remove(c.key());
    if (!s.pendingReplies().containsKey(c.key())) {
      return Effect().noReply();
    }
    if (c.result() instanceof ConversationPorts.ReplyResult.Sent sent) {
      return Effect()
          .persist(new ReplyDone(c.key(), true, sent.providerMessageId(), clock.instant()))
          .thenNoReply();
    }
    if (c.result() instanceof ConversationPorts.ReplyResult.Refused refused) {
      ctx.getLog().warn("conversation {}: reply {} refused ({})", phone, c.key(), refused.why());
      return Effect()
          .persist(new ReplyDone(c.key(), false, refused.why(), clock.instant()))
          .thenNoReply();
    }
    // Not now (held, rate, provider down) waits without limit; an error counts.
    if (c.error() != null && attempts.merge(c.key(), 1, Integer::sum) >= MAX_REPLY_ATTEMPTS) {
      return Effect()
          .persist(new ReplyDone(c.key(), false, c.error(), clock.instant()))
          .thenNoReply();
    }
    timers.startSingleTimer("reply-" + c.key(), new RetryReply(c.key()), retryIn(c.result()));
    return Effect().noReply();
  }

  /**
   * When to try a reply again: after {@link #RETRY}, or when a deferral (the person's legal hours)
   * ends, looking again at least every {@link #MAX_RETRY} so the entity stays awake for it.
   */
  private Duration retryIn(ConversationPorts.ReplyResult result) {
    if (result instanceof ConversationPorts.ReplyResult.NotNow n && n.until() != null) {
      Duration wait = Duration.between(clock.instant(), n.until());
      return wait.compareTo(RETRY) < 0 ? RETRY : wait.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : wait;
    }
    return RETRY;
  }

  /** A reply's idempotency key, stable for its inbound message: {@code r_<32 hex>}. */
  static String replyKey(String inboundKey) {
    return Reply.key("r", inboundKey);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(InboundReceived.class, (s, e) -> s.received(e.message()))
        .onEvent(
            ReplyPlanned.class,
            (s, e) -> {
              Map<String, Reply> replies = new LinkedHashMap<>(s.pendingReplies());
              replies.put(e.reply().key(), e.reply());
              // A reply's key is remembered too: an agent's answer handed over twice goes once.
              return s.withReplies(replies).remembering(e.reply().key());
            })
        .onEvent(
            ReplyDone.class,
            (s, e) -> {
              Map<String, Reply> replies = new LinkedHashMap<>(s.pendingReplies());
              replies.remove(e.key());
              return s.withReplies(replies);
            })
        .build();
  }
}
