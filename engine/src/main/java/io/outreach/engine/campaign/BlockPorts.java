package io.outreach.engine.campaign;

import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsRequest;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/** What a Block entity needs from outside. */
public interface BlockPorts {

  /** The block's recipients (at most 500), in recipient order. */
  CompletionStage<List<Recipient>> recipients(BlockSpec spec);

  /** The ComplianceGate's facts for these numbers, fetched once for the block. */
  CompletionStage<GateFacts> gateFacts(BlockSpec spec, List<String> phones);

  /** Which of these numbers the tenant has contacted before (they need no opt-out disclosure). */
  CompletionStage<Set<String>> contactedBefore(BlockSpec spec, List<String> phones);

  /**
   * The rule of a kill switch (or suspension) that stops the tenant's contacts right now, checked
   * just before each provider call, so that once engaging a switch has returned no new call
   * starts; empty when sending may go on.
   */
  CompletionStage<java.util.Optional<String>> stopped(BlockSpec spec);

  /** Sends one message through the block's provider (the one way out, past the gate). */
  CompletionStage<SendResult> send(BlockSpec spec, SmsRequest request);

  /** Tells the campaign this block finished (repeating it is harmless). */
  void finished(BlockSpec spec, BlockOutcome outcome);
}
