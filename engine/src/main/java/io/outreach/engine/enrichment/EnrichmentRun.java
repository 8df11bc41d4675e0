package io.outreach.engine.enrichment;

import static io.outreach.engine.enrichment.Luci.AGENT;
import static io.outreach.engine.enrichment.Luci.MAX_FAILURES;
import static io.outreach.engine.enrichment.Luci.MAX_WAIT;
import static io.outreach.engine.enrichment.Luci.MIN_WAIT;
import static io.outreach.engine.enrichment.Luci.SENDER;
import static io.outreach.engine.enrichment.Luci.STORE_RETRY;
import static io.outreach.engine.enrichment.Luci.message;

import io.outreach.engine.enrichment.Luci.Answered;
import io.outreach.engine.enrichment.Luci.Applied;
import io.outreach.engine.enrichment.Luci.Charged;
import io.outreach.engine.enrichment.Luci.Command;
import io.outreach.engine.enrichment.Luci.Finished;
import io.outreach.engine.enrichment.Luci.PermitsAnswered;
import io.outreach.engine.enrichment.Luci.Ports;
import io.outreach.engine.enrichment.Luci.Prepared;
import io.outreach.engine.enrichment.Luci.Started;
import io.outreach.engine.enrichment.Luci.Step;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.ProviderThrottle;
import io.outreach.engine.spend.Budgets;
import io.outreach.engine.spend.SpendLedger;
import io.outreach.engine.tenant.Tenant;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How {@link Luci} runs one job at a time: a permit from the Tenant before each step (a kill
 * switch, a suspension or a disabled policy holds the job, its {@code heldBy} saying which), the
 * cache and the walk of pending leads ({@link EnrichmentStore#prepare}), one bulk match of at most
 * what the reservation's rest covers at the worst case, its answer written once and then charged,
 * and Apollo's limits (a window reported empty is waited out; a 429 backs off). Lives as long as
 * the agent; touched by its actor only.
 */
final class EnrichmentRun {
  private static final Logger LOG = LoggerFactory.getLogger(EnrichmentRun.class);

  private final String tenantId;
  private final Ports ports;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final Supplier<CompletionStage<Tenant>> tenant;
  private final Runnable whenDone;
  private final EnrichmentCost cost;

  // The job being run, its grant and what it has spent; null when idle.
  private EnrichmentView job;
  private SpendLedger.Grant grant;
  private long committed;
  private EnrichmentStore.Batch batch;
  private BulkMatch.Matched answered;
  private long answeredCost;
  private Permits permit;
  private String heldBy;
  // Apollo's limits are the account's: they hold across jobs.
  private Instant quietUntil = Instant.EPOCH;
  private int throttledInARow;
  private int failuresInARow;
  // What the next Step does: start the job, take a step, write an answer, charge, finish.
  private Runnable next;

  /**
   * @param tenant reads the tenant (its budgets and policy)
   * @param whenDone runs when a job has ended, to look for the next
   */
  EnrichmentRun(
      String tenantId,
      Ports ports,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      Supplier<CompletionStage<Tenant>> tenant,
      Runnable whenDone) {
    this.tenantId = tenantId;
    this.ports = ports;
    this.ctx = ctx;
    this.timers = timers;
    this.tenant = tenant;
    this.whenDone = whenDone;
    this.cost = new EnrichmentCost(ports.prices());
  }

  /** Whether a job is being run. */
  boolean busy() {
    return job != null;
  }

  /**
   * Reserves the job's estimate (again: a repeat answers the first grant), and charges its written
   * calls again (a charge counts once), in case a crash came between a write and its charge.
   */
  void start(EnrichmentView j) {
    job = j;
    batch = null;
    answered = null;
    heldBy = j.heldBy();
    throttledInARow = 0;
    failuresInARow = 0;
    ctx.getLog().info("luci of {}: running enrichment {}", tenantId, j.id());
    ctx.pipeToSelf(
        tenant
            .get()
            .thenCompose(
                t ->
                    blocking(
                        () -> {
                          SpendLedger.Grant g = Luci.reserve(ports, tenantId, j, t);
                          List<SpendLedger.Charge> charges =
                              ports.store().charges(tenantId, j.id());
                          ports.ledger().commit(tenantId, j.id(), charges);
                          return g;
                        })),
        (g, err) -> new Started(j, g, err == null ? null : message(err)));
  }

  Behavior<Command> onStarted(Started s) {
    if (s.error() != null) {
      LOG.warn("luci of {}: job {} not started ({}); retrying", tenantId, s.job().id(), s.error());
      retryIn(STORE_RETRY, () -> start(s.job()));
      return Behaviors.same();
    }
    grant = s.grant();
    committed = s.job().costMicros();
    step();
    return Behaviors.same();
  }

  Behavior<Command> onStep() {
    Runnable r = next;
    next = null;
    if (r != null) {
      r.run();
    }
    return Behaviors.same();
  }

  /** The next step of the job: after any quiet time Apollo asked for, a permit. */
  private void step() {
    Instant now = ports.clock().instant();
    if (now.isBefore(quietUntil)) {
      retryIn(Duration.between(now, quietUntil), this::step);
      return;
    }
    ctx.pipeToSelf(
        ports
            .throttles()
            .acquire(tenantId, EnrichmentProvider.APOLLO, SENDER, null, AGENT, null, 1),
        (p, err) ->
            new PermitsAnswered(
                err == null ? p : Permits.held("tenant-unanswered", Duration.ofSeconds(1))));
  }

  Behavior<Command> onPermits(PermitsAnswered a) {
    Permits p = a.permits();
    if (job == null) {
      if (p.granted() > 0) {
        permit = p;
        endPermit(ProviderThrottle.CallOutcome.UNUSED, null);
      }
      return Behaviors.same();
    }
    if (p.granted() == 0) {
      hold(p.heldBy().orElse(null));
      Duration again = p.askAgainIn();
      retryIn(again.compareTo(MIN_WAIT) < 0 ? MIN_WAIT : again, this::step);
      return Behaviors.same();
    }
    hold(null);
    permit = p;
    if (batch != null) {
      call();
      return Behaviors.same();
    }
    int calls = cost.callsFor(grant.grantedMicros() - committed);
    Instant now = ports.clock().instant();
    String id = job.id();
    ctx.pipeToSelf(
        blocking(
            () ->
                ports
                    .store()
                    .prepare(tenantId, id, calls, now.minus(ports.settings().cacheTtl()), now)),
        (b, err) -> new Prepared(b, err == null ? null : message(err)));
    return Behaviors.same();
  }

  /** Records what holds the job, when that changes (for {@code GET /v1/enrichments/{id}}). */
  private void hold(String rule) {
    if (Objects.equals(rule, heldBy)) {
      return;
    }
    heldBy = rule;
    String id = job.id();
    if (rule != null) {
      ctx.getLog().info("luci of {}: enrichment {} held by {}", tenantId, id, rule);
    }
    blocking(
        () -> {
          ports.store().held(tenantId, id, rule);
          return null;
        });
  }

  Behavior<Command> onPrepared(Prepared p) {
    if (p.error() != null) {
      endPermit(ProviderThrottle.CallOutcome.UNUSED, null);
      LOG.warn("luci of {}: leads not read ({}); retrying", tenantId, p.error());
      retryIn(STORE_RETRY, this::step);
      return Behaviors.same();
    }
    EnrichmentStore.Batch b = p.batch();
    if (!b.toCall().isEmpty()) {
      batch = b;
      call();
      return Behaviors.same();
    }
    endPermit(ProviderThrottle.CallOutcome.UNUSED, null);
    if (b.needsCall()) {
      String exhausted = grant.exhausted().map(Budgets::rule).orElse("budget:estimate");
      finish(
          EnrichmentView.Status.FAILED,
          "budget",
          exhausted + ": what is left of the reservation does not cover another lead");
    } else if (b.more()) {
      step();
    } else {
      finish(EnrichmentView.Status.COMPLETED, null, null);
    }
    return Behaviors.same();
  }

  /** Calls Apollo with the prepared batch while the permit is usable, else asks for another. */
  private void call() {
    if (!permit.usableAt(ports.clock().instant())) {
      endPermit(ProviderThrottle.CallOutcome.UNUSED, null);
      step();
      return;
    }
    List<PersonQuery> people = batch.toCall().stream().map(EnrichmentStore.Pending::query).toList();
    CompletionStage<BulkMatch> call;
    try {
      call = ports.provider().bulkMatch(tenantId, people);
    } catch (RuntimeException e) {
      call = CompletableFuture.completedFuture(new BulkMatch.Unavailable(e.toString()));
    }
    ctx.pipeToSelf(
        call, (r, err) -> new Answered(err == null ? r : new BulkMatch.Unavailable(message(err))));
  }

  Behavior<Command> onAnswered(Answered a) {
    Instant now = ports.clock().instant();
    BulkMatch result = a.result();
    if (result instanceof BulkMatch.Matched m) {
      endPermit(ProviderThrottle.CallOutcome.SUCCEEDED, null);
      throttledInARow = 0;
      failuresInARow = 0;
      quietUntil = m.windows().nextCallAt(now);
      answered = m;
      answeredCost = cost.cost(m.credits());
      write();
    } else if (result instanceof BulkMatch.Throttled t) {
      throttledInARow++;
      Duration wait = RateWindows.afterThrottle(t.retryAfter(), t.message(), throttledInARow, now);
      endPermit(ProviderThrottle.CallOutcome.THROTTLED, wait);
      quietUntil = now.plus(wait);
      ctx.getLog()
          .info("luci of {}: Apollo throttled ({}); waiting {}", tenantId, t.message(), wait);
      step();
    } else if (result instanceof BulkMatch.Unavailable u) {
      endPermit(ProviderThrottle.CallOutcome.FAILED, null);
      failuresInARow++;
      if (failuresInARow >= MAX_FAILURES) {
        batch = null;
        finish(
            EnrichmentView.Status.FAILED,
            "provider-unavailable",
            "Apollo did not answer " + failuresInARow + " times in a row: " + u.reason());
      } else {
        Duration wait = RateWindows.backoff(failuresInARow);
        ctx.getLog()
            .warn("luci of {}: Apollo unavailable ({}); again in {}", tenantId, u.reason(), wait);
        retryIn(wait, this::step);
      }
    } else if (result instanceof BulkMatch.Refused r) {
      endPermit(ProviderThrottle.CallOutcome.REFUSED, null);
      batch = null;
      finish(
          EnrichmentView.Status.FAILED,
          "provider-refused",
          "Apollo refused the call (" + r.status() + "): " + r.reason());
    }
    return Behaviors.same();
  }

  /** Writes the answer (once, whatever the retries), then charges it. */
  private void write() {
    String id = job.id();
    EnrichmentStore.Batch b = batch;
    BulkMatch.Matched m = answered;
    long c = answeredCost;
    Instant now = ports.clock().instant();
    ctx.pipeToSelf(
        blocking(
            () -> {
              ports.store().apply(tenantId, id, b, m.people(), m.credits(), c, now);
              return c;
            }),
        (x, err) -> new Applied(c, err == null ? null : message(err)));
  }

  Behavior<Command> onApplied(Applied a) {
    if (a.error() != null) {
      // Apollo answered (and charged): the answer is written however long the store takes.
      LOG.warn("luci of {}: answer not written ({}); retrying", tenantId, a.error());
      retryIn(STORE_RETRY, this::write);
      return Behaviors.same();
    }
    failuresInARow = 0;
    committed += a.costMicros();
    charge();
    return Behaviors.same();
  }

  private void charge() {
    String key = job.id() + ":" + batch.batchNo();
    long micros = answeredCost;
    String id = job.id();
    ctx.pipeToSelf(
        blocking(
            () ->
                ports.ledger().commit(tenantId, id, List.of(new SpendLedger.Charge(key, micros)))),
        (alerts, err) -> new Charged(err == null ? null : message(err)));
  }

  Behavior<Command> onCharged(Charged c) {
    if (c.error() != null) {
      LOG.warn("luci of {}: charge not stored ({}); retrying", tenantId, c.error());
      retryIn(STORE_RETRY, this::charge);
      return Behaviors.same();
    }
    batch = null;
    answered = null;
    step();
    return Behaviors.same();
  }

  /** Ends the job, then gives back what its reservation did not spend and looks for the next. */
  private void finish(EnrichmentView.Status status, String reason, String detail) {
    String id = job.id();
    Instant now = ports.clock().instant();
    ctx.getLog()
        .info(
            "luci of {}: enrichment {} {}{}",
            tenantId,
            id,
            status.code(),
            reason == null ? "" : " (" + reason + ")");
    next = () -> finish(status, reason, detail);
    ctx.pipeToSelf(
        blocking(
            () -> {
              ports.store().finish(tenantId, id, status, reason, detail, now);
              release(id);
              return null;
            }),
        (x, err) -> new Finished(err == null ? null : message(err)));
  }

  Behavior<Command> onFinished(Finished f) {
    if (f.error() != null) {
      LOG.warn("luci of {}: job not ended ({}); retrying", tenantId, f.error());
      retryIn(STORE_RETRY, next);
      return Behaviors.same();
    }
    next = null;
    job = null;
    grant = null;
    permit = null;
    whenDone.run();
    return Behaviors.same();
  }

  private Void release(String jobId) {
    ports.ledger().release(tenantId, jobId);
    return null;
  }

  /** Tells the throttle how the permitted call ended (always once per permit). */
  private void endPermit(ProviderThrottle.CallOutcome outcome, Duration retryAfter) {
    if (permit == null) {
      return;
    }
    ports
        .throttles()
        .ended(
            tenantId,
            EnrichmentProvider.APOLLO,
            new ProviderThrottle.Ended(SENDER, outcome, retryAfter, permit.trial()));
    permit = null;
  }

  /** Runs {@code again} after {@code wait}. */
  private void retryIn(Duration wait, Runnable again) {
    next = again;
    waitFor(wait);
  }

  private void waitFor(Duration d) {
    Duration wait = d.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : d;
    timers.startSingleTimer(Step.INSTANCE, Step.INSTANCE, wait);
  }

  private <T> CompletableFuture<T> blocking(Supplier<T> work) {
    return CompletableFuture.supplyAsync(work, ports.blocking());
  }
}
