package io.outreach.engine.cathy;

import io.outreach.engine.Refused;
import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.compliance.FollowUpPolicy;
import io.outreach.engine.compliance.PlatformSwitchboard;
import io.outreach.engine.gianna.Classification;
import io.outreach.engine.message.MessageTemplate;
import io.outreach.engine.message.TemplateException;
import io.outreach.engine.spend.Budgets;
import io.outreach.engine.spend.Prices;
import io.outreach.engine.spend.SpendLedger;
import io.outreach.engine.tenant.AgentPolicy;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Cathy drafting a campaign's follow-ups: each step created with a {@code brief} instead of a
 * {@code message} gets its text from the tenant's model (the offline draft without a key) before
 * the campaign is created. The draft waits for a human in the review queue (kind {@link
 * FollowUpReviews#KIND}) unless the tenant lets drafted follow-ups go without one ({@code
 * agentPolicies.cathy.draftedFollowUps}); a campaign launches only once none waits.
 *
 * <ul>
 *   <li>Cathy must be enabled and not held (a kill switch covering her, the tenant's or the
 *       platform's, or a suspension): else the request is refused (conflict) and nothing is made.
 *   <li>Each model call reserves its worst cost against the tenant's budgets and Cathy's daily one
 *       first (what they do not cover is refused, not drafted more cheaply) and commits what its
 *       tokens cost.
 *   <li>A draft must be a template of at most {@link #MAX_TEXT} characters using no placeholder the
 *       first message does not (each recipient must have what it names); anything else, a refusal,
 *       an answer cut short and provider errors fail the request with {@link Unavailable}: never a
 *       guess, and nothing is created.
 * </ul>
 *
 * The offline draft (no key) is the first message again, introduced as a follow-up: deterministic,
 * in the author's own words, and reviewed like any draft.
 */
public final class FollowUpDrafts {
  /** The agent's name in policies, kill switches, budgets, the ledger and the audit trail. */
  public static final String AGENT = FollowUpPolicy.AGENT;

  /** Who drafted a step without a model. */
  public static final String OFFLINE = "offline";

  /** How the offline draft introduces the first message again. */
  static final String OFFLINE_LEAD = "Following up on my last message: ";

  /** The longest drafted text: four SMS segments of GSM-7. */
  public static final int MAX_TEXT = 612;

  /** A draft the model could not give now; {@code retryAfter} says when to ask again. */
  public static final class Unavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Duration retryAfter;

    Unavailable(String message, Duration retryAfter) {
      super(message);
      this.retryAfter = retryAfter;
    }

    /** When a retry may succeed; null when the model's answer was unusable as it stands. */
    public Duration retryAfter() {
      return retryAfter;
    }
  }

  private final FollowUpModel model;
  private final SpendLedger ledger;
  private final Prices prices;
  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final Executor blocking;
  private final Clock clock;

  public FollowUpDrafts(
      FollowUpModel model,
      SpendLedger ledger,
      Prices prices,
      ClusterSharding sharding,
      Duration askTimeout,
      Executor blocking,
      Clock clock) {
    this.model = model;
    this.ledger = ledger;
    this.prices = prices;
    this.sharding = sharding;
    this.askTimeout = askTimeout;
    this.blocking = blocking;
    this.clock = clock;
  }

  /**
   * The definition of the tenant's campaign {@code campaignId} with every step that has a brief
   * drafted (the definition itself when none has), as the tenant's policies and switches and the
   * platform's are now. Fails with {@link Refused} (Cathy disabled or held, a budget spent) or
   * {@link Unavailable} (no usable draft).
   */
  public CompletionStage<CampaignDefinition> draft(
      String tenantId, String campaignId, CampaignDefinition d) {
    if (!d.undrafted()) {
      return CompletableFuture.completedFuture(d);
    }
    return sharding
        .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
        .askWithStatus(TenantEntity.Get::new, askTimeout)
        .thenCombine(PlatformSwitchboard.stopped(sharding, askTimeout), Map::entry)
        .thenCompose(held -> draft(held.getKey(), held.getValue(), campaignId, d));
  }

  private CompletionStage<CampaignDefinition> draft(
      Tenant tenant, boolean platformStopped, String campaignId, CampaignDefinition d) {
    Optional<String> held = tenant.agentHeld(AGENT, platformStopped);
    if (held.isPresent()) {
      return CompletableFuture.failedFuture(
          Refused.conflict(
              "Cathy is held by "
                  + held.get()
                  + ": she drafts no follow-up until it is released; write the step's message"));
    }
    AgentPolicy policy = tenant.agentPolicies().get(AGENT);
    if (policy == null || !policy.enabled()) {
      return CompletableFuture.failedFuture(
          Refused.conflict(
              "Cathy is disabled for this tenant (agentPolicies.cathy.enabled): write the step's"
                  + " message"));
    }
    boolean withoutHuman = Boolean.TRUE.equals(policy.draftedFollowUps());
    CompletionStage<List<CampaignDefinition.FollowUpStep>> steps =
        CompletableFuture.completedFuture(new ArrayList<>(d.steps()));
    for (int i = 0; i < d.steps().size(); i++) {
      int at = i;
      CampaignDefinition.FollowUpStep step = d.steps().get(i);
      if (!step.undrafted()) {
        continue;
      }
      steps =
          steps.thenCompose(
              done ->
                  text(tenant, policy, campaignId, d, at)
                      .thenApply(
                          drafted -> {
                            String review =
                                withoutHuman ? null : FollowUpReviews.reviewId(campaignId, at);
                            done.set(at, step.drafted(drafted.text(), drafted.by(), review));
                            return done;
                          }));
    }
    return steps.thenApply(d::withSteps);
  }

  private record Text(String text, String by) {}

  /** Step {@code at}'s text, from the model or, without a key, offline. */
  private CompletionStage<Text> text(
      Tenant tenant, AgentPolicy policy, String campaignId, CampaignDefinition d, int at) {
    CampaignDefinition.FollowUpStep step = d.steps().get(at);
    FollowUpDraft.Request request =
        new FollowUpDraft.Request(
            tenant.program(), d.channel(at + 1), d.message(), step.brief(), step.afterHours());
    return CompletableFuture.supplyAsync(() -> model.model(tenant.id()), blocking)
        .thenCompose(
            name ->
                name.isEmpty()
                    ? CompletableFuture.completedFuture(
                        new Text(OFFLINE_LEAD + d.message(), OFFLINE))
                    : withModel(tenant, policy, campaignId + ":" + at, name.get(), request)
                        .thenApply(text -> new Text(text, "anthropic:" + name.get())));
  }

  /** Reserves the call's worst cost, calls, commits what it cost, and checks the text. */
  private CompletionStage<String> withModel(
      Tenant tenant, AgentPolicy policy, String key, String name, FollowUpDraft.Request request) {
    String tenantId = tenant.id();
    String reservation = "cathy:" + key;
    long chars = request.firstMessage().length() + request.brief().length();
    long worst = prices.llmWorst(name, chars, model.maxTokens());
    List<SpendLedger.Budget> budgets =
        new Budgets(tenant.monthlyBudgetCents(), tenant.dailyBudgetCents(), null, tenant.timezone())
            .forAgent(AGENT, policy.dailyBudgetCents(), clock.instant());
    return CompletableFuture.supplyAsync(
            () -> ledger.reserve(tenantId, reservation, "draft", budgets, worst, null, AGENT),
            blocking)
        .thenCompose(
            grant -> {
              if (grant.grantedMicros() < worst) {
                ledger.release(tenantId, reservation);
                throw Refused.conflict(
                    "the budget does not cover Cathy's draft ("
                        + grant.exhausted().map(Budgets::rule).orElse("budget")
                        + "): write the step's message");
              }
              return model.draft(tenantId, request);
            })
        .thenApplyAsync(
            answer -> {
              long cost = cost(usage(answer));
              ledger.commit(
                  tenantId,
                  reservation,
                  cost > 0 ? List.of(new SpendLedger.Charge(reservation, cost)) : List.of());
              ledger.release(tenantId, reservation);
              if (answer instanceof FollowUpDraft.Failed f) {
                throw new Unavailable(
                    "Cathy could not draft the follow-up: " + f.reason(), f.retryAfter());
              }
              String text = ((FollowUpDraft.Drafted) answer).text().strip();
              String problem = problem(text, request.firstMessage());
              if (problem != null) {
                throw new Unavailable(
                    "Cathy's draft was not usable (" + problem + "); ask again or write it", null);
              }
              return text;
            },
            blocking);
  }

  /**
   * What is wrong with {@code text} as a follow-up to {@code firstMessage}: empty, too long, not a
   * template, or naming a field the first message does not; null when nothing is.
   */
  public static String problem(String text, String firstMessage) {
    if (text == null || text.isBlank()) {
      return "the text is empty";
    }
    if (text.length() > MAX_TEXT) {
      return "the text is longer than " + MAX_TEXT + " characters";
    }
    try {
      var fields = new HashSet<>(MessageTemplate.parse(text).fieldNames());
      if (firstMessage != null) {
        fields.removeAll(MessageTemplate.parse(firstMessage).fieldNames());
      }
      return fields.isEmpty() ? null : "it names fields the first message does not: " + fields;
    } catch (TemplateException e) {
      return "not a template: " + e.getMessage();
    }
  }

  private long cost(Classification.Usage usage) {
    return usage == null || usage.model() == null
        ? 0
        : prices.llm(usage.model(), usage.inputTokens(), usage.outputTokens());
  }

  private static Classification.Usage usage(FollowUpDraft d) {
    return d instanceof FollowUpDraft.Drafted k ? k.usage() : ((FollowUpDraft.Failed) d).usage();
  }
}
