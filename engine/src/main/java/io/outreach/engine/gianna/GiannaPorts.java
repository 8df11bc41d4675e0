package io.outreach.engine.gianna;

import io.outreach.engine.conversation.Reply;
import io.outreach.engine.spend.SpendLedger;
import io.outreach.engine.tenant.Tenant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** What a tenant's {@link Gianna} needs from outside. */
public interface GiannaPorts {

  /** The tenant: its policy for Gianna, its kill switches, its budgets. */
  CompletionStage<Tenant> tenant(String tenantId);

  /** Whether a platform kill switch is engaged (it stops every agent). */
  CompletionStage<Boolean> platformStopped();

  /**
   * The tenant's oldest replies waiting for classification whose retry time (if any) has come, at
   * most {@code limit}, with the thread before each; never one of {@code inFlight} (the keys of
   * replies other passes are classifying).
   */
  CompletionStage<List<PendingReply>> pending(
      String tenantId, int limit, Collection<String> inFlight);

  /** When the earliest reply waiting for a retry falls due, if one waits. */
  CompletionStage<Optional<java.time.Instant>> nextRetry(String tenantId);

  /**
   * The model the tenant's replies are classified with, or empty when it has no key (then the
   * offline rules classify, at no cost).
   */
  CompletionStage<Optional<String>> model(String tenantId);

  /** Classifies with the tenant's model (never the rules: Gianna falls back to them itself). */
  CompletionStage<Classification> classify(String tenantId, ReplyClassifier.Request request);

  /** What one classification by {@code model} may cost at most (micro-dollars), to reserve. */
  long worstCost(String model, ReplyClassifier.Request request);

  /** What {@code usage} cost (micro-dollars). */
  long cost(Classification.Usage usage);

  /** The spend ledger (LLM tokens are charged to the tenant's and Gianna's budgets). */
  SpendLedger ledger();

  /**
   * Records a batch's outcomes in one transaction: classifications on the thread and the
   * conversation, opt-outs added (never removed), answers to send and review items, each decision
   * in the audit trail; failures to retry keep their replies waiting. Answers the replies to hand
   * to the people's Conversations, which are kept until {@link #handedOver} says they were.
   */
  CompletionStage<List<Reply>> record(String tenantId, List<GiannaOutcome> outcomes);

  /**
   * Replies recorded but not yet handed over (after a crash between the two, or a review approved),
   * but for those in reply to one of {@code inFlight}: the pass that recorded them hands them over.
   */
  CompletionStage<List<Reply>> notHandedOver(String tenantId, Collection<String> inFlight);

  /**
   * Approved reviews whose answer a crash kept from the hand-overs (between the decision and {@link
   * GiannaStorage#decided}) join them, for {@link #notHandedOver} to find.
   */
  CompletionStage<Void> catchUp(String tenantId);

  /** Hands a reply to the person's Conversation, which journals and sends it. */
  CompletionStage<Void> handOver(String tenantId, Reply reply);

  /** The Conversation has these replies. */
  CompletionStage<Void> handedOver(String tenantId, List<String> replyKeys);

  /** Gianna is idle: its marker for a restart is removed if nothing waits. */
  CompletionStage<Void> settle(String tenantId);
}
