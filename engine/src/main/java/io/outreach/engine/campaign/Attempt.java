package io.outreach.engine.campaign;

import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.provider.SendResult;
import java.util.concurrent.CompletionStage;

/**
 * What became of one send at the moment of sending, after the send-time checks of the
 * ComplianceGate (opt-outs, do-not-contact, legal hours, frequency caps, against the person's
 * ledger): the provider was called, or the gate stopped or deferred it.
 */
public sealed interface Attempt {

  /** A send to attempt, with how the ComplianceGate sees it. */
  record Request(Send send, Contact contact) {}

  /** The send's slot: recipient and step. */
  long recipient();

  int step();

  /** The provider was called; {@code answer} completes with its answer. */
  record Dispatched(long recipient, int step, CompletionStage<SendResult> answer)
      implements Attempt {}

  /** The gate decided not now ({@link Decision.Defer}) or not at all ({@link Decision.Block}). */
  record Stopped(long recipient, int step, Decision decision) implements Attempt {}

  /** Not attempted (its permit's lease ran out first): ask for a permit again. */
  record Returned(long recipient, int step) implements Attempt {}
}
