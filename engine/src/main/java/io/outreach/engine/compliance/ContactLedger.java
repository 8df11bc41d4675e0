package io.outreach.engine.compliance;

import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * The per-person ledger every outbound contact is reserved in at the moment it is made: the
 * ComplianceGate's send-time decision (opt-out, do-not-contact, the national copy's age, stop on
 * reply, legal hours, frequency caps) is taken on the person's current facts under the person's
 * lock, the contact is recorded, and the provider call starts before the lock is released. So
 * limits hold exactly across campaigns, agents and nodes, and an opt-out that has been stored is
 * seen by every contact that starts after it.
 */
public interface ContactLedger {

  /**
   * The facts of these numbers as they stand (do-not-contact, opt-outs, the national copy's date,
   * prior contacts and replies), read without locks: what a batch is planned and a campaign
   * previewed on; {@link #reserve} decides again at the moment of sending.
   */
  GateFacts planFacts(String tenantId, List<String> phones, ContactRules rules, Instant now);

  /** A contact to make, recorded under its idempotency key (a resend is the same contact). */
  record Candidate(Contact contact, String key, String sender) {}

  /**
   * Decides each candidate at {@code now} under its person's lock and records and {@code
   * dispatch}es the allowed ones (starting their provider calls) before the locks are released.
   * Answers the decisions in candidate order. Blocking: call it off actor and HTTP threads.
   *
   * @param rules the legal and tenant rules the gate applies
   * @param killSwitches engaged switches that cover the batch (normally none: the throttle holds a
   *     batch a switch covers before it gets here)
   */
  List<Decision> reserve(
      String tenantId,
      List<Candidate> candidates,
      ContactRules rules,
      List<KillSwitch> killSwitches,
      Instant now,
      Consumer<Candidate> dispatch);
}
