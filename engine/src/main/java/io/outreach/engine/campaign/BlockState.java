package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.campaign.BlockEntity.Status;
import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.FollowUpPolicy;
import io.outreach.engine.compliance.Purpose;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The state a {@link BlockEntity} journals: its spec, plan and outcomes so far. Intents and final
 * outcomes are keyed by slot ({@link Send#slot}); {@code deferred} holds the not-before instant of
 * intents the gate deferred and {@code deferredRules} the rule that deferred them; {@code waiting}
 * says the block gave its campaign slot back. Its methods are pure: what is due, which follow-ups
 * come next, when to wake, the block's counts, and each event applied.
 *
 * <p>It lives in its own file, not nested in the entity as our other aggregates' states are, only
 * because the block's commands, events and handlers together with it went past the 600 lines a
 * source file may have; the entity's commands and events stay nested in {@link BlockEntity}.
 */
public record BlockState(
    BlockSpec spec,
    Status status,
    boolean paused,
    boolean waiting,
    List<BlockedRecipient> blocked,
    Map<Long, Send> sends,
    Map<Long, SendOutcome> outcomes,
    Map<Long, Instant> deferred,
    Map<Long, String> deferredRules,
    long estimatedMicros)
    implements CborSerializable {

  public BlockState {
    // Snapshots taken before deferrals kept their rule have none.
    deferredRules = deferredRules == null ? Map.of() : deferredRules;
  }

  static BlockState empty() {
    return new BlockState(
        null, Status.NEW, false, false, List.of(), Map.of(), Map.of(), Map.of(), Map.of(), 0);
  }

  // ---- events applied ----

  /** {@link BlockEntity.Started}: loading, nothing planned yet. */
  BlockState started(BlockSpec spec) {
    return new BlockState(
        spec, Status.LOADING, paused, false, List.of(), Map.of(), Map.of(), Map.of(), Map.of(), 0);
  }

  /** {@link BlockEntity.Planned}: sending the first messages. */
  BlockState planned(BlockEntity.Planned e) {
    return new BlockState(
        spec,
        Status.SENDING,
        paused,
        false,
        e.blocked(),
        withSlots(Map.of(), e.sends()),
        Map.of(),
        Map.of(),
        Map.of(),
        e.estimatedMicros());
  }

  /** {@link BlockEntity.StepPlanned}: follow-up intents added. */
  BlockState withSends(List<Send> more) {
    return new BlockState(
        spec,
        status,
        paused,
        waiting,
        blocked,
        withSlots(sends, more),
        outcomes,
        deferred,
        deferredRules,
        estimatedMicros);
  }

  /** {@link BlockEntity.Outcomes}: a final outcome replaces a deferral; a deferral is noted. */
  BlockState withOutcomes(List<SendOutcome> batch) {
    Map<Long, SendOutcome> finals = new HashMap<>(outcomes);
    Map<Long, Instant> later = new HashMap<>(deferred);
    Map<Long, String> rules = new HashMap<>(deferredRules);
    for (SendOutcome o : batch) {
      if (o.kind() == SendOutcome.Kind.DEFERRED) {
        later.put(o.slot(), o.until());
        rules.put(o.slot(), o.reason());
      } else {
        finals.put(o.slot(), o);
        later.remove(o.slot());
        rules.remove(o.slot());
      }
    }
    return new BlockState(
        spec, status, paused, waiting, blocked, sends, finals, later, rules, estimatedMicros);
  }

  BlockState with(Status s) {
    return new BlockState(
        spec,
        s,
        paused,
        waiting,
        blocked,
        sends,
        outcomes,
        deferred,
        deferredRules,
        estimatedMicros);
  }

  BlockState withFlags(boolean paused, boolean waiting) {
    return new BlockState(
        spec,
        status,
        paused,
        waiting,
        blocked,
        sends,
        outcomes,
        deferred,
        deferredRules,
        estimatedMicros);
  }

  private static Map<Long, Send> withSlots(Map<Long, Send> before, List<Send> more) {
    Map<Long, Send> all = new HashMap<>(before);
    more.forEach(x -> all.put(x.slot(), x));
    return all;
  }

  /**
   * The events that journal {@code batch}: the outcomes (if any), then {@link BlockEntity.Finished}
   * once every first message has a final outcome, then {@link BlockEntity.Done} once every step
   * has; empty when none applies.
   */
  List<BlockEntity.Event> eventsFor(List<SendOutcome> batch) {
    List<BlockEntity.Event> events = new ArrayList<>();
    BlockState after = this;
    if (!batch.isEmpty()) {
      events.add(new BlockEntity.Outcomes(batch));
      after = after.withOutcomes(batch);
    }
    if (after.status == Status.SENDING && after.firstStepDone()) {
      events.add(new BlockEntity.Finished(after.outcome()));
      after = after.with(Status.FOLLOWING);
    }
    if (after.status == Status.FOLLOWING && after.allDone()) {
      events.add(new BlockEntity.Done(after.outcome()));
    }
    return events;
  }

  // ---- what the state says ----

  /** Sending first messages or follow-ups: sends may be under way. */
  boolean active() {
    return status == Status.SENDING || status == Status.FOLLOWING;
  }

  boolean hasFinalOutcome(long slot) {
    return outcomes.containsKey(slot);
  }

  /** Every first-step intent has a final outcome. */
  boolean firstStepDone() {
    return sends.values().stream()
        .filter(x -> x.step() == 0)
        .allMatch(x -> outcomes.containsKey(x.slot()));
  }

  /** Some first message has no final outcome yet. */
  boolean firstStepOpen() {
    return !firstStepDone();
  }

  /** Nothing is left: every intent has a final outcome and no follow-up remains. */
  boolean allDone() {
    return sends.keySet().stream().allMatch(outcomes::containsKey) && followUps().isEmpty();
  }

  /** Intents without a final outcome whose time has come. */
  List<Send> due(Instant now) {
    List<Send> due = new ArrayList<>();
    for (Send x : sends.values()) {
      Instant notBefore = deferred.get(x.slot());
      if (!outcomes.containsKey(x.slot()) && (notBefore == null || !notBefore.isAfter(now))) {
        due.add(x);
      }
    }
    return due;
  }

  /**
   * The next step of each recipient whose last message was sent and that has one more step: due
   * {@code afterHours} after that message, unless already planned.
   */
  Map<Send, Instant> followUps() {
    Map<Send, Instant> next = new LinkedHashMap<>();
    for (SendOutcome o : outcomes.values()) {
      int step = o.step() + 1;
      if (o.kind() == SendOutcome.Kind.SENT
          && step < spec.stepCount()
          && !sends.containsKey(Send.slot(o.recipient(), step))) {
        Send prior = sends.get(o.slot());
        Instant at = o.at().plus(Duration.ofHours(spec.steps().get(step - 1).afterHours()));
        next.put(
            new Send(
                o.recipient(),
                step,
                prior.to(),
                prior.from(),
                null,
                spec.idempotencyKey(o.recipient(), step),
                prior.zones(),
                prior.state()),
            at);
      }
    }
    return next;
  }

  /**
   * When the step after {@code x} falls due if {@code x} is accepted at {@code at}; null if none.
   */
  Instant nextStepAt(Send x, Instant at) {
    return x.step() + 1 < spec.stepCount()
        ? at.plus(Duration.ofHours(spec.steps().get(x.step()).afterHours()))
        : null;
  }

  /**
   * The earliest instant at which something will be due, if any. A waiting block's first messages
   * that are due already wait for a slot, not for a time, and are left out.
   */
  Optional<Instant> nextWake(Instant now) {
    Optional<Instant> deferredNext =
        deferred.entrySet().stream()
            .filter(e -> !outcomes.containsKey(e.getKey()))
            .filter(
                e -> !(waiting && sends.get(e.getKey()).step() == 0 && !e.getValue().isAfter(now)))
            .map(Map.Entry::getValue)
            .min(Instant::compareTo);
    Optional<Instant> followUpNext = followUps().values().stream().min(Instant::compareTo);
    return deferredNext.isEmpty()
        ? followUpNext
        : followUpNext.isEmpty() || deferredNext.get().isBefore(followUpNext.get())
            ? deferredNext
            : followUpNext;
  }

  /** How the gate sees a send: the recipient's zones and state, the window, first or follow-up. */
  Contact contact(Send x) {
    List<ZoneId> zones = new ArrayList<>();
    for (String z : x.zones()) {
      try {
        zones.add(ZoneId.of(z));
      } catch (DateTimeException e) {
        // An unknown zone id is skipped; with none left the gate blocks the send (hours:no-zone).
      }
    }
    SendOutcome first = outcomes.get(Send.slot(x.recipient(), 0));
    boolean followUp = x.step() > 0;
    // Follow-ups are Cathy's: her kill switch and guardrails cover them.
    return new Contact(
        spec.tenantId(),
        spec.campaignId(),
        followUp ? FollowUpPolicy.AGENT : null,
        spec.channel(x.step()),
        x.to(),
        zones,
        x.state(),
        spec.window(),
        followUp ? Purpose.FOLLOW_UP : Purpose.CAMPAIGN,
        followUp ? first.at() : null);
  }

  BlockOutcome outcome() {
    return outcome(Map.of());
  }

  /**
   * The block's counts; first messages {@code held} (slot to rule: a stale national copy holds them
   * in memory) count as deferred by that rule.
   */
  BlockOutcome outcome(Map<Long, String> held) {
    long sent = 0;
    long failed = 0;
    long deferredNow = 0;
    long followUpsSent = 0;
    long followUpsStopped = 0;
    long spent = 0;
    long followUpsSpent = 0;
    Map<BlockReason, Long> byReason = new EnumMap<>(BlockReason.class);
    blocked.forEach(b -> byReason.merge(b.reason(), 1L, Long::sum));
    for (SendOutcome o : outcomes.values()) {
      long cost = o.kind() == SendOutcome.Kind.SENT ? cost(o.slot()) : 0;
      if (o.step() > 0) {
        followUpsSpent += cost;
        if (o.kind() == SendOutcome.Kind.SENT) {
          followUpsSent++;
        } else {
          followUpsStopped++;
        }
        continue;
      }
      spent += cost;
      switch (o.kind()) {
        case SENT -> sent++;
        case FAILED -> failed++;
        case BLOCKED -> byReason.merge(o.blockReason(), 1L, Long::sum);
        default -> {}
      }
    }
    Map<String, Long> deferredBy = new TreeMap<>();
    Instant nextDueAt = null;
    for (Send x : sends.values()) {
      long slot = x.slot();
      if (x.step() != 0 || outcomes.containsKey(slot)) {
        continue;
      }
      String rule =
          held.containsKey(slot)
              ? held.get(slot)
              : deferred.containsKey(slot) ? deferredRules.get(slot) : null;
      if (rule == null) {
        continue;
      }
      deferredNow++;
      deferredBy.merge(BlockOutcome.deferralKind(rule), 1L, Long::sum);
      Instant until = held.containsKey(slot) ? null : deferred.get(slot);
      if (until != null && (nextDueAt == null || until.isBefore(nextDueAt))) {
        nextDueAt = until;
      }
    }
    return new BlockOutcome(
        spec.block(),
        sent,
        failed,
        byReason,
        deferredNow,
        deferredBy,
        nextDueAt,
        followUpsSent,
        followUpsStopped,
        estimatedMicros,
        spent,
        followUpsSpent);
  }

  /** What the send of {@code slot} costs (0 for a block that is not budgeted). */
  long cost(long slot) {
    Send x = sends.get(slot);
    // A call's cost is known at its final status, and charged then (CallOutcomes), not here.
    return x == null || x.body() == null || !spec.budgeted() || spec.isCall(x.step())
        ? 0
        : spec.cost(x);
  }
}
