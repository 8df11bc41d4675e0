package io.outreach.engine.campaign;

import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.spend.SpendLedger;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/** What a Block entity needs from outside. */
public interface BlockPorts {

  /** The block's recipients (at most 500), in recipient order. */
  CompletionStage<List<Recipient>> recipients(BlockSpec spec);

  /** The legal and tenant rules the block's contacts are decided by. */
  ContactRules rules(BlockSpec spec);

  /** The ComplianceGate's facts for these numbers, fetched once when the block plans. */
  CompletionStage<GateFacts> gateFacts(BlockSpec spec, List<String> phones);

  /** Which of these numbers the tenant has contacted before (they need no opt-out disclosure). */
  CompletionStage<Set<String>> contactedBefore(BlockSpec spec, List<String> phones);

  /**
   * Asks the tenant's throttle of {@code sender} for up to {@code wanted} provider calls. Every
   * call needs a permit, asked for just before it: the throttle is also where kill switches and
   * suspension hold a tenant's sends, so once engaging a switch has returned no new call starts.
   */
  CompletionStage<Permits> permits(BlockSpec spec, String sender, int wanted);

  /**
   * Sends a batch on {@code permits}: each passes the ComplianceGate's send-time checks against the
   * person's ledger and is dispatched to the provider (within the permits' lease), or stopped;
   * permits the batch does not use go back to the throttle. Completes once every dispatched call
   * has started.
   */
  CompletionStage<List<Attempt>> attempt(
      BlockSpec spec, List<Attempt.Request> batch, Permits permits);

  /**
   * Adds up to {@code micros} to the block's reservation against its budgets (the tenant's month
   * and day, the campaign's own); each {@code requestKey} is granted once.
   */
  CompletionStage<SpendLedger.Grant> reserve(BlockSpec spec, String requestKey, long micros);

  /**
   * What holds the block's follow-ups now: Cathy's kill switch (or a wider one), her policy turned
   * off, a suspension; empty when they may go.
   */
  CompletionStage<java.util.Optional<String>> followUpsHeld(BlockSpec spec);

  /** Charges accepted sends to the block's reservation (each key once). */
  CompletionStage<Void> charge(BlockSpec spec, List<SpendLedger.Charge> charges);

  /**
   * Gives back what the block's reservation holds and has not spent (idempotent), but for {@code
   * holds}: the placed calls whose cost is not committed yet keep their amount until it is.
   */
  CompletionStage<Void> release(BlockSpec spec, List<SpendLedger.Charge> holds);

  /** The block's counts so far (told after each journaled batch of outcomes). */
  void progress(BlockSpec spec, BlockOutcome outcome);

  /**
   * Every first message left waits for a later time: the block gave its campaign slot back
   * (repeating it is harmless).
   */
  void waiting(BlockSpec spec, BlockOutcome outcome);

  /**
   * A waiting block has first messages due and asks its campaign for a slot ({@link
   * BlockEntity.Grant}).
   */
  void due(BlockSpec spec);

  /** Every recipient's first message has an outcome (repeating it is harmless). */
  void finished(BlockSpec spec, BlockOutcome outcome);

  /**
   * Every step of every recipient is done; the block needs no more waking (repeating it is
   * harmless).
   */
  void completed(BlockSpec spec, BlockOutcome outcome);

  /**
   * Wake the block at {@code at} even after a restart (a durable timer), called when the block goes
   * idle with only future work left; empty: the block is busy again, wake it at the next start
   * only.
   */
  void wakeAt(BlockSpec spec, Optional<Instant> at);
}
