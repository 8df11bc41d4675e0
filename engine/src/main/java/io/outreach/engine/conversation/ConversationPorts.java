package io.outreach.engine.conversation;

import io.outreach.engine.CborSerializable;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** What a Conversation entity needs from outside. */
public interface ConversationPorts {

  /** The person's stored inbound messages not processed yet, oldest first. */
  CompletionStage<List<InboundMessage>> pending(String tenantId, String phone);

  /**
   * These inbound messages are processed (journaled). In one transaction each one not marked
   * before is marked and has its effect on campaigns, exactly once: the campaigns that wrote to
   * the person count the reply (and the opt-out), and their follow-ups not yet due are cancelled
   * (stop on reply). When none is left, the person needs no waking.
   */
  CompletionStage<Void> processed(String tenantId, String phone, List<InboundMessage> messages);

  /** The tenant's keyword answers. */
  CompletionStage<ReplyTexts> texts(String tenantId);

  /** Sends a reply through the one way out (the ComplianceGate decides it as transactional). */
  CompletionStage<ReplyResult> reply(String tenantId, Reply reply);

  /** How a reply went. */
  sealed interface ReplyResult extends CborSerializable {
    /** The provider accepted it. */
    record Sent(String providerMessageId) implements ReplyResult {}

    /** Not now (a kill switch, the rate, a provider that is down): try again later. */
    record NotNow(String why) implements ReplyResult {}

    /** The provider refused it for good, or the gate stopped it. */
    record Refused(String why) implements ReplyResult {}
  }
}
