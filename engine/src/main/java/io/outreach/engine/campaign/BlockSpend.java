package io.outreach.engine.campaign;

import io.outreach.engine.campaign.BlockEntity.ChargeAgain;
import io.outreach.engine.campaign.BlockEntity.Charged;
import io.outreach.engine.campaign.BlockEntity.Command;
import io.outreach.engine.campaign.BlockEntity.Reserved;
import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.spend.Budgets;
import io.outreach.engine.spend.SpendLedger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * A block's money: before its first messages (and each batch of follow-ups) are journaled it
 * reserves what they are estimated to cost against the tenant's budgets, and what the grant does
 * not cover is blocked with reason {@code budget} (in recipient order: the first go); each accepted
 * send is charged at its cost once (its idempotency key), retried until the ledger has it, and
 * charged again after a restart (a charge counts once); the unspent rest is released when the first
 * step is done and when the block is. A block's requests reach the ledger one after the other, in
 * the order the block made them, and a release comes after every accepted send's charge (those not
 * in yet are sent once more just before it): it never overtakes a charge (it would give back money
 * already spent, for another block to take) nor a reservation. A block that is not budgeted
 * (started before spend control) does none of this.
 */
final class BlockSpend {
  static final Duration CHARGE_RETRY = Duration.ofSeconds(2);
  static final Duration FOLLOW_UPS_HELD = Duration.ofSeconds(5);

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final BlockPorts ports;
  // Accepted sends not yet charged (key to cost), in the order they were accepted.
  private final Map<String, Long> uncharged = new LinkedHashMap<>();
  private boolean charging;
  // What holds the follow-ups (logged once per hold).
  private String heldBy;
  // The keys of the charge request on its way.
  private List<String> sent = List.of();
  // Futures' callbacks run off the actor: they log here, never through its context.
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BlockSpend.class);
  // The block's last request to the ledger: the next one starts after it (whatever its outcome).
  private CompletableFuture<?> last = CompletableFuture.completedFuture(null);

  BlockSpend(ActorContext<Command> ctx, TimerScheduler<Command> timers, BlockPorts ports) {
    this.ctx = ctx;
    this.timers = timers;
    this.ports = ports;
  }

  /** Reserves the plan's cost; the answer comes back as {@link Reserved}. */
  void reserve(BlockSpec spec, BlockEntity.Planned plan) {
    long wanted = plan.sends().stream().mapToLong(spec::reserved).sum();
    ctx.pipeToSelf(
        inOrder(() -> ports.reserve(spec, "plan", wanted)),
        (g, err) -> new Reserved(plan, null, g, err == null ? null : String.valueOf(err), null));
  }

  /** Reserves the follow-ups' cost; the answer comes back as {@link Reserved}. */
  void reserve(BlockSpec spec, BlockPlan.FollowUps followUps) {
    List<Send> sends = followUps.sends();
    long wanted = sends.stream().mapToLong(spec::reserved).sum();
    String key =
        sends.isEmpty()
            ? "step:none"
            : "step:"
                + sends.get(0).step()
                + ":"
                + sends.get(0).recipient()
                + "-"
                + sends.get(sends.size() - 1).recipient()
                + ":"
                + sends.size();
    // Cathy's kill switch or her policy turned off holds follow-ups before anything is reserved.
    ctx.pipeToSelf(
        ports
            .followUpsHeld(spec)
            .thenCompose(
                held ->
                    held.isPresent()
                        ? CompletableFuture.completedFuture(
                            new Reserved(null, followUps, null, null, held.get()))
                        : inOrder(() -> ports.reserve(spec, key, wanted))
                            .thenApply(g -> new Reserved(null, followUps, g, null, null))),
        (r, err) ->
            err == null ? r : new Reserved(null, followUps, null, String.valueOf(err), null));
  }

  /**
   * Follow-ups held by Cathy's kill switch or her disabled policy: nothing is planned, and the
   * block looks again every {@link #FOLLOW_UPS_HELD} (their timers do not fire meanwhile; once
   * released they go at the senders' pace). Answers whether {@code c} was such a hold.
   */
  boolean held(BlockState s, Reserved c) {
    if (c.heldBy() == null) {
      heldBy = null;
      return false;
    }
    if (!c.heldBy().equals(heldBy)) {
      heldBy = c.heldBy();
      ctx.getLog().info("block {}: follow-ups held by {}", s.spec().entityId(), heldBy);
    }
    timers.startSingleTimer("follow-ups-held", BlockEntity.Wake.INSTANCE, FOLLOW_UPS_HELD);
    return true;
  }

  /**
   * What the ledger's grant lets the block journal: the plan it was asked for (while the block is
   * still loading), or the follow-ups (while it is active), with what does not fit blocked.
   */
  static List<BlockEntity.Event> allowed(BlockState s, Reserved c, Instant now) {
    if (c.plan() != null && s.status() == BlockEntity.Status.LOADING) {
      return List.of(trim(s.spec(), c.plan(), c.grant()));
    }
    if (c.followUps() != null && s.active()) {
      return trim(s.spec(), c.followUps(), c.grant(), now).events();
    }
    return List.of();
  }

  /** The plan as the grant allows: sends that do not fit are blocked, naming the budget. */
  static BlockEntity.Planned trim(
      BlockSpec spec, BlockEntity.Planned plan, SpendLedger.Grant grant) {
    long estimated = plan.sends().stream().mapToLong(x -> spec.cost(x)).sum();
    List<BlockedRecipient> blocked = new ArrayList<>(plan.blocked());
    List<Send> sends = new ArrayList<>();
    long left = grant.grantedMicros();
    for (Send x : plan.sends()) {
      long cost = spec.reserved(x);
      if (cost <= left) {
        sends.add(x);
        left -= cost;
      } else {
        blocked.add(new BlockedRecipient(x.recipient(), BlockReason.BUDGET, rule(grant)));
      }
    }
    return new BlockEntity.Planned(blocked, sends, estimated);
  }

  /** The follow-ups as the grant allows: those that do not fit are blocked, naming the budget. */
  static BlockPlan.FollowUps trim(
      BlockSpec spec, BlockPlan.FollowUps followUps, SpendLedger.Grant grant, Instant now) {
    List<Send> sends = new ArrayList<>();
    List<SendOutcome> blocked = new ArrayList<>(followUps.blocked());
    long left = grant.grantedMicros();
    for (Send x : followUps.sends()) {
      long cost = spec.reserved(x);
      if (cost <= left) {
        sends.add(x);
        left -= cost;
      } else {
        blocked.add(
            new SendOutcome(
                x.recipient(),
                x.step(),
                SendOutcome.Kind.BLOCKED,
                null,
                rule(grant),
                BlockReason.BUDGET,
                null,
                now,
                null));
      }
    }
    return new BlockPlan.FollowUps(sends, blocked);
  }

  private static String rule(SpendLedger.Grant grant) {
    return grant.exhausted().map(Budgets::rule).orElse("budget");
  }

  /** Charges the sends a journaled batch of outcomes says were accepted. */
  void charge(BlockState state, BlockEntity.Event event) {
    if (event instanceof BlockEntity.Outcomes o) {
      charge(state, o.outcomes());
    }
  }

  private void charge(BlockState state, java.util.Collection<SendOutcome> outcomes) {
    if (!state.spec().budgeted()) {
      return;
    }
    for (SendOutcome o : outcomes) {
      if (o.kind() == SendOutcome.Kind.SENT) {
        Send x = state.sends().get(o.slot());
        if (x != null) {
          long cost = state.cost(o.slot());
          // A call is charged at its final status, for the minutes it took (not here).
          if (cost > 0) {
            uncharged.put(x.idempotencyKey(), cost);
          }
        }
      }
    }
    chargeAgain(state);
  }

  /** After a restart: charges every accepted send again (each counts once). */
  void chargeAll(BlockState state) {
    charge(state, state.outcomes().values());
  }

  /** Sends what is not charged yet, one request at a time. */
  void chargeAgain(BlockState state) {
    if (charging || uncharged.isEmpty()) {
      return;
    }
    charging = true;
    List<SpendLedger.Charge> charges = new ArrayList<>();
    uncharged.forEach((key, micros) -> charges.add(new SpendLedger.Charge(key, micros)));
    List<String> keys = List.copyOf(uncharged.keySet());
    sent = keys;
    // Piped as the keys, never as the ledger's null: an answer that finds the block passivated is a
    // dead letter, and Pekko's dead-letter log fails on a null message.
    ctx.pipeToSelf(
        inOrder(() -> ports.charge(state.spec(), charges)).thenApply(v -> keys),
        (ok, err) -> new Charged(keys, err == null ? null : String.valueOf(err)));
  }

  /** The ledger's answer: charged keys are done; on a failure everything is tried again soon. */
  void charged(BlockState state, Charged c) {
    charging = false;
    sent = List.of();
    if (c.error() != null) {
      ctx.getLog()
          .warn("block {}: charges not stored ({}); retrying", state.spec().entityId(), c.error());
      timers.startSingleTimer("charge", ChargeAgain.INSTANCE, CHARGE_RETRY);
      return;
    }
    c.keys().forEach(uncharged::remove);
    chargeAgain(state);
  }

  /**
   * Gives back the unspent part of the reservation (the first step is done, or all is), after the
   * requests made before it, but for what its placed calls may still cost: each call's limit stays
   * held until its final status commits its cost (the ledger skips the calls that have ended). A
   * release that fails is made again when the block next releases or recovers.
   */
  void release(BlockState state) {
    BlockSpec spec = state.spec();
    if (!spec.budgeted()) {
      return;
    }
    String block = spec.entityId();
    // Accepted sends whose charge was not sent yet go first (one on its way is ahead in the chain
    // already), so the release never gives back what they cost; the chain runs on even if the
    // block stops now.
    List<SpendLedger.Charge> charges = new ArrayList<>();
    uncharged.forEach(
        (key, micros) -> {
          if (!sent.contains(key)) {
            charges.add(new SpendLedger.Charge(key, micros));
          }
        });
    if (!charges.isEmpty()) {
      inOrder(() -> ports.charge(spec, charges))
          .whenComplete(
              (ok, err) -> {
                if (err != null) {
                  LOG.warn("block {}: last charges not stored ({})", block, err.toString());
                }
              });
    }
    List<SpendLedger.Charge> holds = callHolds(state);
    inOrder(() -> ports.release(spec, holds))
        .whenComplete(
            (ok, err) -> {
              if (err != null) {
                LOG.warn("block {}: reservation not released ({})", block, err.toString());
              }
            });
  }

  /** The block's placed calls, each under its charge key with the most it can cost. */
  static List<SpendLedger.Charge> callHolds(BlockState state) {
    BlockSpec spec = state.spec();
    List<SpendLedger.Charge> holds = new ArrayList<>();
    for (SendOutcome o : state.outcomes().values()) {
      Send x = state.sends().get(o.slot());
      if (o.kind() == SendOutcome.Kind.SENT && x != null && spec.isCall(x.step())) {
        holds.add(
            new SpendLedger.Charge(
                io.outreach.engine.spend.CallMinutes.chargeKey(
                    spec.campaignId(), x.recipient(), x.step()),
                spec.reserved(x)));
      }
    }
    return holds;
  }

  /** Runs {@code request} once the block's previous request to the ledger has ended. */
  private <T> CompletableFuture<T> inOrder(
      java.util.function.Supplier<java.util.concurrent.CompletionStage<T>> request) {
    CompletableFuture<T> next =
        last.handle((x, e) -> null).thenCompose(x -> request.get().toCompletableFuture());
    last = next;
    return next;
  }
}
