package io.outreach.engine.enrichment;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.Refused;
import io.outreach.engine.Rejection;
import io.outreach.engine.outbound.Throttles;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.review.Review;
import io.outreach.engine.spend.Budgets;
import io.outreach.engine.spend.Prices;
import io.outreach.engine.spend.SpendLedger;
import io.outreach.engine.tenant.AgentPolicy;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LUCI, a tenant's enrichment agent (entity id: the tenant). It accepts jobs ({@link Submit}: a
 * list of leads or an import), prices them at their worst case, reserves that in the spend ledger,
 * and sends a job whose estimate exceeds the tenant's approval threshold to the review queue first.
 * It runs the tenant's jobs one at a time, oldest first, from their stored rows (nothing is
 * journaled here: the rows are the state, and the tenant's marker wakes it after a crash):
 *
 * <ul>
 *   <li>each step first asks the Tenant for a permit, as every provider call does: a kill switch
 *       (scope {@code agent}, target {@code luci}, or wider), a suspension or a disabled policy
 *       holds the job (its {@code heldBy} says which) until released, and engaging a switch answers
 *       only once no permit issued before it can start a call;
 *   <li>leads the cache holds (within the TTL) are answered from it at no cost, the rest go to
 *       Apollo ten at a time, each call carrying no more leads than what is left of the reservation
 *       covers at their worst case; when it covers none, the job stops with reason {@code budget};
 *   <li>a call's answer is written once (leads filled, cache, counts), then charged under the key
 *       {@code <job id>:<batch no>}; the rest of the reservation is released when the job ends;
 *   <li>Apollo's limits hold: a window its headers report empty is waited out, a 429 backs off (its
 *       {@code Retry-After}, the window its message names, else doubling from 1 s to 60 s), and a
 *       5xx or time-out is tried again up to {@link #MAX_FAILURES} times in a row.
 * </ul>
 *
 * No timer is longer than {@link #MAX_WAIT}, so a Luci with a job never idles long enough to be
 * passivated and lose its waits.
 */
public final class Luci {
  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Luci");

  /** The agent's name in policies, kill switches, budgets and the ledger. */
  public static final String AGENT = "luci";

  /** The review kind of a job that waits for approval. */
  public static final String REVIEW_KIND = "enrichment";

  /** The permit requests' sender: Apollo has no sender numbers, the whole account is paced. */
  static final String SENDER = "apollo";

  static final Duration MAX_WAIT = Duration.ofSeconds(30);

  static final Duration MIN_WAIT = Duration.ofMillis(20);

  /** Failures in a row (5xx, time-outs) after which a job fails {@code provider-unavailable}. */
  static final int MAX_FAILURES = 8;

  /** How soon a failed read or write of the job's rows is tried again. */
  static final Duration STORE_RETRY = Duration.ofSeconds(2);

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Logger LOG = LoggerFactory.getLogger(Luci.class);

  private Luci() {}

  /** Commands of the agent. */
  public sealed interface Command extends CborSerializable {}

  /** Accept a job for {@code source}, requested by {@code actor}; answers the stored job. */
  public record Submit(
      JobSource source, String actor, ActorRef<StatusReply<EnrichmentView>> replyTo)
      implements Command {}

  /** Look for work: at start (the tenant's marker), after an approval, after a submission. */
  public enum Wake implements Command {
    INSTANCE
  }

  record TenantRead(Submit submit, Tenant tenant, String error) implements Command {}

  record Created(Submit submit, EnrichmentView job, Throwable error) implements Command {}

  record Loaded(EnrichmentStore.Next next, String error) implements Command {}

  record Started(EnrichmentView job, SpendLedger.Grant grant, String error) implements Command {}

  record PermitsAnswered(Permits permits) implements Command {}

  record Prepared(EnrichmentStore.Batch batch, String error) implements Command {}

  record Answered(BulkMatch result) implements Command {}

  record Applied(long costMicros, String error) implements Command {}

  record Charged(String error) implements Command {}

  record Finished(String error) implements Command {}

  /** Internal: a wait is over, take the next step. */
  enum Step implements Command {
    INSTANCE
  }

  /** What LUCI needs from outside. */
  public record Ports(
      EnrichmentStore store,
      SpendLedger ledger,
      EnrichmentProvider provider,
      Throttles throttles,
      Prices prices,
      LuciSettings settings,
      Executor blocking,
      Clock clock,
      Duration askTimeout) {}

  /** Registers the sharded agent (one per tenant) on this node. */
  public static void init(ActorSystem<?> system, Ports ports) {
    ClusterSharding sharding = ClusterSharding.get(system);
    sharding.init(
        Entity.of(
            ENTITY_TYPE_KEY,
            ctx ->
                Behaviors.setup(
                    c ->
                        Behaviors.withTimers(
                            timers ->
                                new Agent(ctx.getEntityId(), ports, sharding, c, timers)
                                    .behavior()))));
  }

  /** A new job id: {@code enr_} and 20 hex digits. */
  static String newJobId() {
    byte[] b = new byte[10];
    RANDOM.nextBytes(b);
    return "enr_" + HexFormat.of().formatHex(b);
  }

  /** The running agent of one tenant; its fields are touched by its actor only. */
  private static final class Agent {
    private final String tenantId;
    private final Ports ports;
    private final ClusterSharding sharding;
    private final ActorContext<Command> ctx;
    private final TimerScheduler<Command> timers;
    private final EnrichmentCost cost;
    private final EnrichmentRun run;

    private boolean loading;
    private boolean loadAgain;

    Agent(
        String tenantId,
        Ports ports,
        ClusterSharding sharding,
        ActorContext<Command> ctx,
        TimerScheduler<Command> timers) {
      this.tenantId = tenantId;
      this.ports = ports;
      this.sharding = sharding;
      this.ctx = ctx;
      this.timers = timers;
      this.cost = new EnrichmentCost(ports.prices());
      this.run = new EnrichmentRun(tenantId, ports, ctx, timers, this::tenant, this::load);
    }

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessage(Submit.class, this::onSubmit)
          .onMessage(TenantRead.class, this::onTenantRead)
          .onMessage(Created.class, this::onCreated)
          .onMessageEquals(Wake.INSTANCE, this::onWake)
          .onMessage(Loaded.class, this::onLoaded)
          .onMessage(Started.class, run::onStarted)
          .onMessage(PermitsAnswered.class, run::onPermits)
          .onMessage(Prepared.class, run::onPrepared)
          .onMessage(Answered.class, run::onAnswered)
          .onMessage(Applied.class, run::onApplied)
          .onMessage(Charged.class, run::onCharged)
          .onMessage(Finished.class, run::onFinished)
          .onMessageEquals(Step.INSTANCE, run::onStep)
          .build();
    }

    // ---- accepting jobs ----

    private Behavior<Command> onSubmit(Submit s) {
      ctx.pipeToSelf(tenant(), (t, err) -> new TenantRead(s, t, err == null ? null : message(err)));
      return Behaviors.same();
    }

    private Behavior<Command> onTenantRead(TenantRead r) {
      if (r.error() != null) {
        r.submit().replyTo().tell(StatusReply.error(r.error()));
        return Behaviors.same();
      }
      AgentPolicy policy = policy(r.tenant());
      if (!policy.enabled()) {
        r.submit()
            .replyTo()
            .tell(
                Rejection.conflict(
                    "the agent luci is disabled for this tenant; enable it with PATCH /v1/tenant"
                        + " {\"agentPolicies\": {\"luci\": {\"enabled\": true, ...}}}"));
        return Behaviors.same();
      }
      Submit s = r.submit();
      Tenant t = r.tenant();
      String jobId = newJobId();
      ctx.pipeToSelf(
          blocking(() -> accept(jobId, s, t, policy)), (job, err) -> new Created(s, job, err));
      return Behaviors.same();
    }

    /**
     * Stores the job (and its review), then reserves its estimate (a failure is retried at start).
     */
    private EnrichmentView accept(String jobId, Submit s, Tenant t, AgentPolicy policy) {
      Instant now = ports.clock().instant();
      EnrichmentView created =
          ports
              .store()
              .create(
                  tenantId,
                  jobId,
                  s.source(),
                  s.actor(),
                  now.minus(ports.settings().cacheTtl()),
                  now,
                  (leads, uncached) -> terms(jobId, leads, uncached, policy));
      try {
        reserve(ports, tenantId, created, t);
      } catch (RuntimeException e) {
        LOG.warn("luci of {}: job {} not reserved yet ({})", tenantId, jobId, e.toString());
      }
      return created;
    }

    private EnrichmentStore.JobTerms terms(
        String jobId, int leads, int uncached, AgentPolicy policy) {
      long estimate = cost.estimate(uncached);
      if (!EnrichmentCost.needsApproval(estimate, policy.spendApprovalCents())) {
        return new EnrichmentStore.JobTerms(estimate, null);
      }
      Map<String, Object> draft = new LinkedHashMap<>();
      draft.put("enrichmentId", jobId);
      draft.put("leads", leads);
      draft.put("uncached", uncached);
      draft.put("estimatedCostCents", Prices.cents(estimate));
      draft.put("approvalThresholdCents", policy.spendApprovalCents());
      String summary =
          String.format(
              "LUCI: enrich %d leads (%d to send to Apollo) for at most $%.2f, above the"
                  + " approval threshold of $%.2f",
              leads, uncached, Prices.cents(estimate) / 100.0, policy.spendApprovalCents() / 100.0);
      return new EnrichmentStore.JobTerms(
          estimate,
          new Review.Request(
              "rev_" + jobId.substring(4), REVIEW_KIND, jobId, summary, Map.copyOf(draft)));
    }

    private Behavior<Command> onCreated(Created c) {
      if (c.error() != null) {
        Throwable cause = unwrap(c.error());
        c.submit()
            .replyTo()
            .tell(
                cause instanceof Refused r
                    ? r.rejection().reply()
                    : StatusReply.error(String.valueOf(cause.getMessage())));
        return Behaviors.same();
      }
      c.submit().replyTo().tell(StatusReply.success(c.job()));
      if (c.job().status() == EnrichmentView.Status.QUEUED) {
        onWake();
      }
      return Behaviors.same();
    }

    // ---- running jobs, one at a time ----

    private Behavior<Command> onWake() {
      if (run.busy()) {
        return Behaviors.same();
      }
      if (loading) {
        loadAgain = true;
        return Behaviors.same();
      }
      load();
      return Behaviors.same();
    }

    private void load() {
      loading = true;
      loadAgain = false;
      ctx.pipeToSelf(
          blocking(() -> ports.store().next(tenantId, ports.clock().instant())),
          (n, err) -> new Loaded(n, err == null ? null : message(err)));
    }

    private Behavior<Command> onLoaded(Loaded l) {
      loading = false;
      if (l.error() != null) {
        LOG.warn("luci of {}: jobs not read ({}); retrying", tenantId, l.error());
        timers.startSingleTimer(Wake.INSTANCE, Wake.INSTANCE, STORE_RETRY);
        return Behaviors.same();
      }
      for (String rejected : l.next().rejected()) {
        blocking(
            () -> {
              ports.ledger().release(tenantId, rejected);
              return null;
            });
      }
      Optional<EnrichmentView> next = l.next().run();
      if (next.isPresent()) {
        run.start(next.get());
      } else if (loadAgain) {
        load();
      } else {
        blocking(
            () -> {
              ports.store().settle(tenantId);
              return null;
            });
      }
      return Behaviors.same();
    }

    private CompletionStage<Tenant> tenant() {
      return sharding
          .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
          .askWithStatus(TenantEntity.Get::new, ports.askTimeout());
    }

    private <T> CompletableFuture<T> blocking(Supplier<T> work) {
      return CompletableFuture.supplyAsync(work, ports.blocking());
    }
  }

  /**
   * Reserves a job's estimate against the tenant's budgets and LUCI's daily one (key {@code
   * estimate}: a repeat answers the first grant).
   */
  static SpendLedger.Grant reserve(Ports ports, String tenantId, EnrichmentView j, Tenant t) {
    List<SpendLedger.Budget> budgets =
        new Budgets(t.monthlyBudgetCents(), t.dailyBudgetCents(), null, t.timezone())
            .forAgent(AGENT, policy(t).dailyBudgetCents(), ports.clock().instant());
    return ports
        .ledger()
        .reserve(tenantId, j.id(), "estimate", budgets, j.estimateMicros(), null, AGENT);
  }

  static AgentPolicy policy(Tenant t) {
    AgentPolicy p = t.agentPolicies().get(AGENT);
    return p == null ? AgentPolicy.initial(AGENT) : p;
  }

  static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  static String message(Throwable t) {
    Throwable cause = unwrap(t);
    return cause.getMessage() == null ? cause.toString() : cause.getMessage();
  }
}
