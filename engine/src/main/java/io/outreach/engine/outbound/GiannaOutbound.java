package io.outreach.engine.outbound;

import io.outreach.engine.compliance.PlatformSwitchboard;
import io.outreach.engine.conversation.ConversationEntity;
import io.outreach.engine.conversation.Reply;
import io.outreach.engine.gianna.Classification;
import io.outreach.engine.gianna.GiannaOutcome;
import io.outreach.engine.gianna.GiannaPorts;
import io.outreach.engine.gianna.GiannaStorage;
import io.outreach.engine.gianna.PendingReply;
import io.outreach.engine.gianna.ReplyClassifier;
import io.outreach.engine.gianna.ReplyModel;
import io.outreach.engine.spend.Prices;
import io.outreach.engine.spend.SpendLedger;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Gianna's side of the outbound path: her rows, the tenant's model, the spend ledger, and the hand
 * over of her answers to the people's Conversations, which send them through the one way out.
 */
public final class GiannaOutbound implements GiannaPorts {
  private final ClusterSharding sharding;
  private final GiannaStorage store;
  private final ReplyModel model;
  private final SpendLedger ledger;
  private final Prices prices;
  private final Duration askTimeout;
  private final Executor blocking;

  public GiannaOutbound(
      ClusterSharding sharding,
      GiannaStorage store,
      ReplyModel model,
      SpendLedger ledger,
      Prices prices,
      Duration askTimeout,
      Executor blocking) {
    this.sharding = sharding;
    this.store = store;
    this.model = model;
    this.ledger = ledger;
    this.prices = prices;
    this.askTimeout = askTimeout;
    this.blocking = blocking;
  }

  @Override
  public CompletionStage<Tenant> tenant(String tenantId) {
    return sharding
        .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
        .askWithStatus(TenantEntity.Get::new, askTimeout);
  }

  @Override
  public CompletionStage<Boolean> platformStopped() {
    return PlatformSwitchboard.stopped(sharding, askTimeout);
  }

  @Override
  public CompletionStage<List<PendingReply>> pending(
      String tenantId, int limit, Collection<String> inFlight) {
    return CompletableFuture.supplyAsync(() -> store.pending(tenantId, limit, inFlight), blocking);
  }

  @Override
  public CompletionStage<Optional<java.time.Instant>> nextRetry(String tenantId) {
    return CompletableFuture.supplyAsync(() -> store.nextRetry(tenantId), blocking);
  }

  @Override
  public CompletionStage<Optional<String>> model(String tenantId) {
    return CompletableFuture.supplyAsync(() -> model.model(tenantId), blocking);
  }

  @Override
  public CompletionStage<Classification> classify(
      String tenantId, ReplyClassifier.Request request) {
    return model.classify(tenantId, request);
  }

  @Override
  public long worstCost(String modelName, ReplyClassifier.Request request) {
    long chars = request.body() == null ? 0 : request.body().length();
    for (ReplyClassifier.Turn t : request.thread()) {
      chars += t.body() == null ? 0 : t.body().length();
    }
    return prices.llmWorst(modelName, chars, model.maxTokens());
  }

  @Override
  public long cost(Classification.Usage usage) {
    if (usage == null || usage.model() == null) {
      return 0;
    }
    return prices.llm(usage.model(), usage.inputTokens(), usage.outputTokens());
  }

  @Override
  public SpendLedger ledger() {
    return ledger;
  }

  @Override
  public CompletionStage<List<Reply>> record(String tenantId, List<GiannaOutcome> outcomes) {
    return CompletableFuture.supplyAsync(() -> store.record(tenantId, outcomes), blocking);
  }

  @Override
  public CompletionStage<List<Reply>> notHandedOver(String tenantId, Collection<String> inFlight) {
    return CompletableFuture.supplyAsync(() -> store.notHandedOver(tenantId, inFlight), blocking);
  }

  @Override
  public CompletionStage<Void> catchUp(String tenantId) {
    return CompletableFuture.runAsync(() -> store.catchUp(tenantId), blocking);
  }

  @Override
  public CompletionStage<Void> handOver(String tenantId, Reply reply) {
    return sharding
        .entityRefFor(
            ConversationEntity.ENTITY_TYPE_KEY, ConversationEntity.entityId(tenantId, reply.to()))
        .askWithStatus(
            (org.apache.pekko.actor.typed.ActorRef<
                        org.apache.pekko.pattern.StatusReply<org.apache.pekko.Done>>
                    r) -> new ConversationEntity.AgentReply(reply, r),
            askTimeout)
        .thenApply(done -> null);
  }

  @Override
  public CompletionStage<Void> handedOver(String tenantId, List<String> replyKeys) {
    return CompletableFuture.runAsync(() -> store.handedOver(tenantId, replyKeys), blocking);
  }

  @Override
  public CompletionStage<Void> settle(String tenantId) {
    return CompletableFuture.runAsync(() -> store.settle(tenantId), blocking);
  }
}
