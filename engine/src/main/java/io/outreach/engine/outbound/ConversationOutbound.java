package io.outreach.engine.outbound;

import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.compliance.Purpose;
import io.outreach.engine.conversation.ConversationEntity;
import io.outreach.engine.conversation.ConversationInbox;
import io.outreach.engine.conversation.ConversationPorts;
import io.outreach.engine.conversation.ConversationStorage;
import io.outreach.engine.conversation.InboundMessage;
import io.outreach.engine.conversation.InboxBatch;
import io.outreach.engine.conversation.InboxPorts;
import io.outreach.engine.conversation.Reply;
import io.outreach.engine.conversation.ReplyTexts;
import io.outreach.engine.gianna.Gianna;
import io.outreach.engine.lead.LeadNormalizer;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The conversation side of the outbound path: what the tenants' inboxes and the Conversation
 * entities need from outside. The inbound messages the webhooks stored (processed on a dispatcher
 * of their own, so answering webhooks keeps priority), the tenant's keyword answers, and the one
 * way out for the replies (transactional contacts: the gate lets them past opt-outs and legal
 * hours, never past a kill switch).
 */
public final class ConversationOutbound implements ConversationPorts, InboxPorts {
  /** The dispatcher of the conversations' database work (a few threads: see reference.conf). */
  public static final String DISPATCHER = "outreach.conversations-dispatcher";

  /** How long an opt-out's answer waits for calls to the person already under way. */
  static final Duration QUIET = Duration.ofSeconds(5);

  /** The agent whose answers go out as {@link Reply.Kind#AGENT_ANSWER}. */
  public static final String AGENT_ANSWERING = "gianna";

  /** How long a reply waits for a permit before its Conversation tries it again later. */
  static final Duration PERMIT_WAIT = Duration.ofSeconds(3);

  private final ClusterSharding sharding;
  private final ConversationStorage store;
  private final OneWayOut out;
  private final ContactRules rules;
  private final Duration askTimeout;
  private final Executor blocking;
  private final Map<String, LeadNormalizer> places = new ConcurrentHashMap<>();

  /**
   * @param blocking where the storage's blocking calls run (the {@link #DISPATCHER})
   * @param askTimeout how long to wait for the tenant's answer
   */
  public ConversationOutbound(
      ClusterSharding sharding,
      ConversationStorage store,
      OneWayOut out,
      ContactRules rules,
      Duration askTimeout,
      Executor blocking) {
    this.sharding = sharding;
    this.store = store;
    this.out = out;
    this.rules = rules;
    this.askTimeout = askTimeout;
    this.blocking = blocking;
  }

  /**
   * The person's opt-out is stored: completes once every call to them that started before it has
   * reached its provider (at most {@link #QUIET}), so none reaches them after the webhook's answer.
   */
  public CompletionStage<Void> silenced(String tenantId, String phone) {
    return out.quiet(tenantId, phone, QUIET);
  }

  /** Wakes the tenant's inbox: an inbound message was stored. */
  public void wakeInbox(String tenantId) {
    sharding
        .entityRefFor(ConversationInbox.ENTITY_TYPE_KEY, tenantId)
        .tell(ConversationInbox.Wake.INSTANCE);
  }

  @Override
  public CompletionStage<InboxBatch> processNext(String tenantId) {
    return CompletableFuture.supplyAsync(() -> store.processInbox(tenantId), blocking);
  }

  @Override
  public void classify(String tenantId) {
    sharding.entityRefFor(Gianna.ENTITY_TYPE_KEY, tenantId).tell(Gianna.Wake.INSTANCE);
  }

  @Override
  public void answer(String tenantId, String phone) {
    sharding
        .entityRefFor(
            ConversationEntity.ENTITY_TYPE_KEY, ConversationEntity.entityId(tenantId, phone))
        .tell(ConversationEntity.Wake.INSTANCE);
  }

  @Override
  public CompletionStage<Void> settle(String tenantId) {
    return CompletableFuture.runAsync(() -> store.settleInbox(tenantId), blocking);
  }

  @Override
  public CompletionStage<List<InboundMessage>> toAnswer(String tenantId, String phone) {
    return CompletableFuture.supplyAsync(() -> store.toAnswer(tenantId, phone), blocking);
  }

  @Override
  public CompletionStage<Void> answered(
      String tenantId, String phone, List<InboundMessage> messages) {
    return CompletableFuture.runAsync(() -> store.answered(tenantId, phone, messages), blocking);
  }

  @Override
  public CompletionStage<ReplyTexts> texts(String tenantId) {
    return tenant(tenantId).thenApply(t -> new ReplyTexts(t.program(), t.helpContact()));
  }

  @Override
  public CompletionStage<ReplyResult> reply(String tenantId, Reply reply) {
    if (reply.from() == null || reply.to() == null) {
      return CompletableFuture.completedFuture(
          new ReplyResult.Refused("no number to reply from or to"));
    }
    if (reply.kind() != Reply.Kind.AGENT_ANSWER) {
      Purpose purpose =
          reply.kind() == Reply.Kind.OPT_OUT_CONFIRMATION
              ? Purpose.OPT_OUT_CONFIRMATION
              : Purpose.HELP_REPLY;
      return send(
          tenantId,
          reply,
          new Contact(
              tenantId, null, null, Channel.SMS, reply.to(), List.of(), null, null, purpose, null));
    }
    // An agent's answer passes the rules outreach does but the caps, at the person's hours.
    return tenant(tenantId)
        .thenCompose(
            t -> {
              Optional<LeadNormalizer.Place> place = place(t.timezone(), reply.to());
              List<ZoneId> zones =
                  place.map(p -> p.timezones().stream().map(ZoneId::of).toList()).orElse(List.of());
              return send(
                  tenantId,
                  reply,
                  new Contact(
                      tenantId,
                      null,
                      AGENT_ANSWERING,
                      Channel.SMS,
                      reply.to(),
                      zones,
                      place.map(LeadNormalizer.Place::usState).orElse(null),
                      null,
                      Purpose.AGENT_REPLY,
                      null));
            });
  }

  private CompletionStage<ReplyResult> send(String tenantId, Reply reply, Contact contact) {
    OneWayOut.Outbound outbound =
        new OneWayOut.Outbound(contact, reply.from(), reply.body(), reply.key());
    return permits(tenantId, reply, contact.agent(), System.nanoTime() + PERMIT_WAIT.toNanos())
        .thenCompose(
            (Permits p) -> {
              if (p.granted() == 0) {
                return CompletableFuture.completedFuture(
                    (ReplyResult) new ReplyResult.NotNow(p.heldBy().orElse("rate")));
              }
              return out.attempt(tenantId, reply.provider(), List.of(outbound), p, rules)
                  .thenCompose(results -> outcome(results.get(0)));
            });
  }

  private CompletionStage<Tenant> tenant(String tenantId) {
    return sharding
        .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
        .askWithStatus(TenantEntity.Get::new, askTimeout);
  }

  /** Where the person is, as a lead of the tenant would be placed (its zone when unknown). */
  private Optional<LeadNormalizer.Place> place(String tenantZone, String phone) {
    String zone = tenantZone == null ? "UTC" : tenantZone;
    return places.computeIfAbsent(zone, z -> new LeadNormalizer("US", ZoneId.of(z))).place(phone);
  }

  /**
   * A permit for the reply (no campaign, no agent: the throttle gives it priority over campaigns on
   * the sender), asking again when told while {@link #PERMIT_WAIT} lasts; a hold (a kill switch, an
   * open breaker) answers at once.
   */
  private CompletionStage<Permits> permits(
      String tenantId, Reply reply, String agent, long untilNanos) {
    return out.permits(tenantId, reply.provider(), reply.from(), null, agent, Channel.SMS, 1)
        .thenCompose(
            p -> {
              long again = Math.max(1, p.askAgainIn().toMillis());
              if (p.granted() > 0
                  || p.heldBy().isPresent()
                  || System.nanoTime() + again * 1_000_000 > untilNanos) {
                return CompletableFuture.completedFuture(p);
              }
              return CompletableFuture.runAsync(
                      () -> {}, CompletableFuture.delayedExecutor(again, TimeUnit.MILLISECONDS))
                  .thenCompose(x -> permits(tenantId, reply, agent, untilNanos));
            });
  }

  private static CompletionStage<ReplyResult> outcome(OneWayOut.Result r) {
    if (r instanceof OneWayOut.Result.Called c) {
      return c.answer()
          .thenApply(
              (SendResult s) ->
                  s instanceof SendResult.Accepted a
                      ? new ReplyResult.Sent(a.providerMessageId())
                      : ((SendResult.Rejected) s).retryable()
                          ? new ReplyResult.NotNow(((SendResult.Rejected) s).reason())
                          : new ReplyResult.Refused(((SendResult.Rejected) s).reason()));
    }
    if (r instanceof OneWayOut.Result.Stopped s && s.decision() instanceof Decision.Block b) {
      return CompletableFuture.completedFuture(new ReplyResult.Refused(b.rule()));
    }
    if (r instanceof OneWayOut.Result.Stopped s && s.decision() instanceof Decision.Defer d) {
      return CompletableFuture.completedFuture(new ReplyResult.NotNow(d.rule(), d.until()));
    }
    return CompletableFuture.completedFuture(new ReplyResult.NotNow("not now"));
  }
}
