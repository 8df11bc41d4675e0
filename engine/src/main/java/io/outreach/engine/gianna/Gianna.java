package io.outreach.engine.gianna;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.conversation.Reply;
import io.outreach.engine.conversation.ReplyTexts;
import io.outreach.engine.spend.Budgets;
import io.outreach.engine.spend.SpendLedger;
import io.outreach.engine.tenant.AgentPolicy;
import io.outreach.engine.tenant.Tenant;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gianna, a tenant's reply agent (entity id: the tenant). The tenant's inbox leaves each plain
 * reply waiting for her; she takes them a batch per pass, oldest first, classifies them (the
 * tenant's model, or the offline {@link RuleClassifier} when it has no key or its budget is spent),
 * decides with {@link GiannaPolicy}, and records every outcome in one transaction (the waiting
 * replies are her state: nothing is journaled here, and the tenant's marker wakes her after a
 * crash). Answers and opt-out confirmations go on to the person's Conversation, which sends them
 * through the one way out.
 *
 * <ul>
 *   <li>A kill switch covering her (scope {@code agent} target {@code gianna}, the tenant's, the
 *       platform's) or a suspension: she takes no action and classifies nothing; waiting replies
 *       wait, and she looks again every {@link #HELD_RECHECK}. A batch classified while a switch
 *       was engaged is dropped, not acted upon. With her policy disabled, replies are marked
 *       skipped.
 *   <li>Model calls reserve their worst cost against the tenant's budgets and Gianna's daily one
 *       before they are made and commit what their tokens cost; what the grant does not cover is
 *       classified by the rules, at no cost.
 *   <li>A failure worth another try (a rate limit, an overload, a time-out) waits its backoff
 *       ({@link GiannaSettings#backoff}, or the provider's {@code retry-after} if longer) up to
 *       {@code max-attempts}; then, like every other failure, it goes to the review queue
 *       unclassified: a failure is never a guess.
 * </ul>
 *
 * <p>Several passes run at once, up to {@link GiannaSettings#passesInFlight} (each a batch: a round
 * of model calls, then a transaction), so one pass's model calls overlap another's writes. Batches
 * are claimed one at a time: she keeps the keys of the replies in flight and a claim skips them, so
 * no reply is in two passes, and at most {@code passes-in-flight} batches are in memory; the rest
 * waits in its rows. The holds are checked before each batch is claimed and again before its
 * outcomes are recorded, for each batch on its own.
 *
 * <p>No timer is longer than {@link #MAX_WAIT}, so a Gianna with work never idles long enough to be
 * passivated.
 */
public final class Gianna {
  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Gianna");

  /** The agent's name in policies, kill switches, budgets, the ledger and the audit trail. */
  public static final String AGENT = "gianna";

  // Futures' callbacks run off the actor: they log here, never through its context.
  private static final Logger LOG = LoggerFactory.getLogger(Gianna.class);

  static final Duration HELD_RECHECK = Duration.ofSeconds(2);
  static final Duration RETRY = Duration.ofSeconds(2);
  static final Duration SETTLE = Duration.ofSeconds(2);
  static final Duration MAX_WAIT = Duration.ofSeconds(30);

  /**
   * How often a claim catches up on approved reviews a crash kept from the hand-overs ({@link
   * GiannaPorts#catchUp}): it reads every approved review of the tenant, which on every claim cost
   * up to a second each (a plan gone quadratic before statistics caught up) in the classify
   * benchmark. The first claim after she starts catches up too.
   */
  static final Duration CATCH_UP = Duration.ofSeconds(30);

  private Gianna() {}

  /** Commands of Gianna. */
  public sealed interface Command extends CborSerializable {}

  /** Replies are waiting (told by the inbox, at start, and by her own timers). */
  public enum Wake implements Command {
    INSTANCE
  }

  /**
   * Internal: a claim is done: the batch it took for a pass under {@code tenant} (empty when none
   * waits; then {@code nextIn}, if not null, is when a reply waiting for a retry falls due), or a
   * hold ({@code held}), or a failure ({@code error}).
   */
  record Claimed(
      Tenant tenant, List<PendingReply> batch, boolean held, Duration nextIn, String error)
      implements Command {

    static Claimed of(Tenant tenant, List<PendingReply> batch) {
      return new Claimed(tenant, batch, false, null, null);
    }

    static Claimed none(Duration nextIn) {
      return new Claimed(null, List.of(), false, nextIn, null);
    }

    static Claimed heldBack() {
      return new Claimed(null, List.of(), true, null, null);
    }

    static Claimed failed(String error) {
      return new Claimed(null, List.of(), false, null, error);
    }
  }

  /**
   * Internal: a pass is done (or failed): its replies ({@code keys}) are no longer in flight;
   * {@code held}: a switch engaged while it classified, and nothing of it was acted upon.
   */
  record Passed(List<String> keys, boolean held, String error) implements Command {}

  /** Internal: idle for {@link #SETTLE}. */
  enum Settle implements Command {
    INSTANCE
  }

  public static Behavior<Command> create(
      String tenantId, GiannaPorts ports, GiannaSettings settings, Executor blocking, Clock clock) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new Run(tenantId, ports, settings, blocking, clock, ctx, timers).behavior()));
  }

  /** Registers the sharded Giannas (one per tenant) on this node. */
  public static void init(
      ActorSystem<?> system,
      GiannaPorts ports,
      GiannaSettings settings,
      Executor blocking,
      Clock clock) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                ENTITY_TYPE_KEY,
                ctx -> create(ctx.getEntityId(), ports, settings, blocking, clock)));
  }

  /** What holds Gianna back for {@code tenant}: a kill switch, a suspension; else empty. */
  static Optional<String> held(Tenant tenant, boolean platformStopped) {
    return tenant.agentHeld(AGENT, platformStopped);
  }

  private static final class Run {
    private final String tenantId;
    private final GiannaPorts ports;
    private final GiannaSettings settings;
    private final Executor blocking;
    private final Clock clock;
    private final ActorContext<Command> ctx;
    private final TimerScheduler<Command> timers;
    // The keys of the replies the passes in flight classify: no claim takes them again.
    private final Set<String> inFlight = new HashSet<>();
    private int passes;
    private boolean claiming;
    // Replies may wait that no claim looked for yet: a wake came, a claim took a whole batch, or
    // the last pass ended.
    private boolean more;
    // When a claim last caught up on approved reviews (null: none since she started, or it failed).
    private Instant caughtUpAt;

    Run(
        String tenantId,
        GiannaPorts ports,
        GiannaSettings settings,
        Executor blocking,
        Clock clock,
        ActorContext<Command> ctx,
        TimerScheduler<Command> timers) {
      this.tenantId = tenantId;
      this.ports = ports;
      this.settings = settings;
      this.blocking = blocking;
      this.clock = clock;
      this.ctx = ctx;
      this.timers = timers;
    }

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessageEquals(Wake.INSTANCE, this::onWake)
          .onMessage(Claimed.class, this::onClaimed)
          .onMessage(Passed.class, this::onPassed)
          .onMessageEquals(Settle.INSTANCE, this::onSettle)
          .build();
    }

    private Behavior<Command> onWake() {
      more = true;
      claimIfRoom();
      return Behaviors.same();
    }

    private Behavior<Command> onSettle() {
      if (passes == 0 && !claiming) {
        ports.settle(tenantId);
      }
      return Behaviors.same();
    }

    /**
     * Claims the next batch if replies may wait, no claim is under way and a pass has room. The
     * claim skips the replies in flight as they are now: none is added before it ends (claims are
     * one at a time), so it never takes one of them.
     */
    private void claimIfRoom() {
      if (!more || claiming || passes >= settings.passesInFlight()) {
        return;
      }
      more = false;
      claiming = true;
      timers.cancel(Settle.INSTANCE);
      timers.cancel(Wake.INSTANCE);
      Instant now = clock.instant();
      boolean catchUp = caughtUpAt == null || !now.isBefore(caughtUpAt.plus(CATCH_UP));
      if (catchUp) {
        caughtUpAt = now;
      }
      ctx.pipeToSelf(
          claim(List.copyOf(inFlight), catchUp),
          (c, err) -> err == null ? c : Claimed.failed(String.valueOf(err)));
    }

    private Behavior<Command> onClaimed(Claimed c) {
      claiming = false;
      if (c.error() != null) {
        ctx.getLog().warn("gianna of {}: claim failed ({}); retrying", tenantId, c.error());
        caughtUpAt = null;
        more = false;
        timers.startSingleTimer(Wake.INSTANCE, RETRY);
      } else if (c.held()) {
        timers.startSingleTimer(Wake.INSTANCE, HELD_RECHECK);
      } else if (!c.batch().isEmpty()) {
        // A whole batch: more may wait behind it.
        more |= c.batch().size() == settings.batch();
        pass(c.tenant(), c.batch());
      } else if (passes == 0 && !more) {
        idle(c.nextIn());
      }
      claimIfRoom();
      return Behaviors.same();
    }

    private Behavior<Command> onPassed(Passed p) {
      passes--;
      p.keys().forEach(inFlight::remove);
      if (p.error() != null) {
        ctx.getLog().warn("gianna of {}: pass failed ({}); retrying", tenantId, p.error());
        more = false;
        timers.startSingleTimer(Wake.INSTANCE, RETRY);
      } else if (p.held()) {
        timers.startSingleTimer(Wake.INSTANCE, HELD_RECHECK);
      } else if (passes == 0) {
        // The last pass is done: one more claim finds what came meanwhile, or else when the next
        // retry falls due, now that every pass has recorded its own.
        more = true;
      }
      claimIfRoom();
      return Behaviors.same();
    }

    /** Nothing waits now: wake for the next retry, else settle. */
    private void idle(Duration nextIn) {
      if (nextIn != null) {
        timers.startSingleTimer(Wake.INSTANCE, nextIn.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : nextIn);
      } else {
        timers.startSingleTimer(Settle.INSTANCE, SETTLE);
      }
    }

    private void pass(Tenant tenant, List<PendingReply> batch) {
      List<String> keys = batch.stream().map(PendingReply::key).toList();
      inFlight.addAll(keys);
      passes++;
      ctx.pipeToSelf(
          classify(tenant, batch),
          (held, err) ->
              err == null
                  ? new Passed(keys, held, null)
                  : new Passed(keys, false, String.valueOf(err)));
    }

    /**
     * Catches up on approved reviews (when {@code catchUp}), hands over what was recorded and not
     * handed over (but for the replies in flight), checks the holds and takes the oldest replies
     * waiting but for those in flight; none waiting, asks when the next retry falls due.
     */
    private CompletionStage<Claimed> claim(List<String> skipping, boolean catchUp) {
      return (catchUp ? ports.catchUp(tenantId) : CompletableFuture.<Void>completedFuture(null))
          .thenCompose(x -> ports.notHandedOver(tenantId, skipping))
          .thenCompose(this::handOver)
          .thenCompose(x -> ports.tenant(tenantId).thenCombine(ports.platformStopped(), Held::new))
          .thenCompose(
              h -> {
                if (h.reason().isPresent()) {
                  LOG.debug("gianna of {}: held by {}", tenantId, h.reason().get());
                  return CompletableFuture.completedFuture(Claimed.heldBack());
                }
                return ports
                    .pending(tenantId, settings.batch(), skipping)
                    .thenCompose(
                        batch ->
                            batch.isEmpty()
                                ? nextRetry().thenApply(Claimed::none)
                                : CompletableFuture.completedFuture(Claimed.of(h.tenant(), batch)));
              });
    }

    /** When the earliest reply waiting for a retry falls due (whichever pass put it there). */
    private CompletionStage<Duration> nextRetry() {
      return ports
          .nextRetry(tenantId)
          .thenApply(
              at ->
                  at.map(
                          t -> {
                            Duration in = Duration.between(clock.instant(), t);
                            return in.isNegative() ? Duration.ZERO : in;
                          })
                      .orElse(null));
    }

    private CompletionStage<Void> handOver(List<Reply> replies) {
      if (replies.isEmpty()) {
        return CompletableFuture.completedFuture(null);
      }
      CompletableFuture<?>[] all =
          replies.stream()
              .map(r -> ports.handOver(tenantId, r).toCompletableFuture())
              .toArray(CompletableFuture[]::new);
      return CompletableFuture.allOf(all)
          .thenCompose(x -> ports.handedOver(tenantId, replies.stream().map(Reply::key).toList()));
    }

    private record Held(Tenant tenant, boolean platformStopped) {
      Optional<String> reason() {
        return held(tenant, platformStopped);
      }
    }

    /**
     * One pass over a claimed batch: classify, decide, record, hand over. Answers whether a hold
     * engaged meanwhile (then nothing of it was recorded).
     */
    private CompletionStage<Boolean> classify(Tenant tenant, List<PendingReply> pending) {
      AgentPolicy policy = tenant.agentPolicies().get(AGENT);
      Instant now = clock.instant();
      if (policy == null || !policy.enabled()) {
        List<GiannaOutcome> skipped =
            pending.stream().map(r -> GiannaOutcome.skipped(r, now)).toList();
        return ports.record(tenantId, skipped).thenApply(x -> false);
      }
      return ports
          .model(tenantId)
          .thenCompose(
              model ->
                  model.isEmpty()
                      ? CompletableFuture.completedFuture(
                          pending.stream().map(r -> rules(r)).toList())
                      : withModel(tenant, policy, model.get(), pending))
          .thenCompose(results -> act(tenant, policy, pending, results));
    }

    private static Classification rules(PendingReply r) {
      return RuleClassifier.classify(r.body());
    }

    private ReplyClassifier.Request request(Tenant tenant, PendingReply r) {
      return new ReplyClassifier.Request(tenantId, tenant.program(), r.body(), r.thread());
    }

    /**
     * Classifies with the model as far as the budgets' grant goes (the rest by the rules), charging
     * each call's tokens and releasing the rest of the reservation, in that order.
     */
    private CompletionStage<List<Classification>> withModel(
        Tenant tenant, AgentPolicy policy, String model, List<PendingReply> pending) {
      List<Long> worst =
          pending.stream().map(r -> ports.worstCost(model, request(tenant, r))).toList();
      long wanted = worst.stream().mapToLong(Long::longValue).sum();
      String reservation = "gianna:" + pending.get(0).key() + ":" + pending.get(0).attempts();
      List<SpendLedger.Budget> budgets =
          new Budgets(
                  tenant.monthlyBudgetCents(), tenant.dailyBudgetCents(), null, tenant.timezone())
              .forAgent(AGENT, policy.dailyBudgetCents(), clock.instant());
      SpendLedger ledger = ports.ledger();
      return CompletableFuture.supplyAsync(
              () -> ledger.reserve(tenantId, reservation, "batch", budgets, wanted, null, AGENT),
              blocking)
          .thenCompose(
              grant -> {
                long left = grant.grantedMicros();
                List<CompletableFuture<Classification>> calls = new ArrayList<>();
                for (int i = 0; i < pending.size(); i++) {
                  PendingReply r = pending.get(i);
                  if (worst.get(i) <= left) {
                    left -= worst.get(i);
                    calls.add(ports.classify(tenantId, request(tenant, r)).toCompletableFuture());
                  } else {
                    calls.add(CompletableFuture.completedFuture(overBudget(r, grant)));
                  }
                }
                return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
                    .thenApply(x -> calls.stream().map(CompletableFuture::join).toList());
              })
          .thenCompose(
              results ->
                  CompletableFuture.supplyAsync(
                      () -> {
                        List<SpendLedger.Charge> charges = new ArrayList<>();
                        for (int i = 0; i < pending.size(); i++) {
                          long cost = ports.cost(usage(results.get(i)));
                          if (cost > 0) {
                            PendingReply r = pending.get(i);
                            charges.add(new SpendLedger.Charge(r.key() + ":" + r.attempts(), cost));
                          }
                        }
                        ledger.commit(tenantId, reservation, charges);
                        ledger.release(tenantId, reservation);
                        return results;
                      },
                      blocking));
    }

    /** The rules' answer for a reply the budget did not cover, saying so. */
    private static Classification overBudget(PendingReply r, SpendLedger.Grant grant) {
      Classification.Classified c = RuleClassifier.classify(r.body());
      String rule = grant.exhausted().map(Budgets::rule).orElse("budget");
      return new Classification.Classified(
          c.category(),
          c.confidence(),
          null,
          RuleClassifier.NAME + " (" + rule + ")",
          Classification.Usage.NONE);
    }

    private static Classification.Usage usage(Classification c) {
      Classification.Usage u =
          c instanceof Classification.Classified k
              ? k.usage()
              : ((Classification.Failed) c).usage();
      return u == null ? Classification.Usage.NONE : u;
    }

    /** What goes to the person: the answer, or the confirmation of an opt-out; else null. */
    private static Reply handOver(Tenant tenant, PendingReply r, GiannaPolicy.Verdict verdict) {
      return switch (verdict.action()) {
        case ANSWER ->
            new Reply(
                Reply.key("g", r.key()),
                Reply.Kind.AGENT_ANSWER,
                r.provider(),
                r.to(),
                r.phone(),
                verdict.answer(),
                r.key());
        case OPT_OUT ->
            new Reply(
                Reply.key("g", r.key()),
                Reply.Kind.OPT_OUT_CONFIRMATION,
                r.provider(),
                r.to(),
                r.phone(),
                new ReplyTexts(tenant.program(), tenant.helpContact()).optOutConfirmation(),
                r.key());
        case REVIEW -> null;
      };
    }

    /**
     * Decides each reply, re-checks the holds, records the batch and hands the answers over;
     * answers whether a hold engaged.
     */
    private CompletionStage<Boolean> act(
        Tenant tenant,
        AgentPolicy policy,
        List<PendingReply> pending,
        List<Classification> results) {
      Instant now = clock.instant();
      List<GiannaOutcome> outcomes = new ArrayList<>();
      for (int i = 0; i < pending.size(); i++) {
        PendingReply r = pending.get(i);
        Classification c = results.get(i);
        if (c instanceof Classification.Failed f
            && f.retryable()
            && r.attempts() + 1 < settings.maxAttempts()) {
          Duration wait = settings.backoff(r.attempts() + 1);
          if (f.retryAfter().compareTo(wait) > 0) {
            wait = f.retryAfter();
          }
          outcomes.add(GiannaOutcome.retry(r, c, now.plus(wait)));
        } else {
          GiannaPolicy.Verdict verdict = GiannaPolicy.decide(c, policy, settings);
          outcomes.add(GiannaOutcome.decided(r, c, verdict, handOver(tenant, r, verdict), now));
        }
      }
      // A switch engaged while the batch was classified: nothing of it is acted upon.
      return ports
          .tenant(tenantId)
          .thenCombine(ports.platformStopped(), Held::new)
          .thenCompose(
              h -> {
                if (h.reason().isPresent()) {
                  LOG.info(
                      "gianna of {}: {} replies classified while {} engaged: not acted upon",
                      tenantId,
                      pending.size(),
                      h.reason().get());
                  return CompletableFuture.completedFuture(true);
                }
                return ports
                    .record(tenantId, outcomes)
                    .thenCompose(this::handOver)
                    .thenApply(x -> false);
              });
    }
  }
}
