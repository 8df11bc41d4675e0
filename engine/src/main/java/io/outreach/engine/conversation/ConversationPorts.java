package io.outreach.engine.conversation;

import io.outreach.engine.CborSerializable;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** What a Conversation entity needs from outside. */
public interface ConversationPorts {

  /**
   * The person's inbound messages that the tenant's inbox handed over to answer (their opt-out or
   * opt-in to confirm, their HELP), oldest first.
   */
  CompletionStage<List<InboundMessage>> toAnswer(String tenantId, String phone);

  /**
   * These messages are answered (journaled with their replies); when none is left, the person needs
   * no waking at the next start.
   */
  CompletionStage<Void> answered(String tenantId, String phone, List<InboundMessage> messages);

  /** The tenant's keyword answers. */
  CompletionStage<ReplyTexts> texts(String tenantId);

  /** Sends a reply through the one way out (the ComplianceGate decides it as transactional). */
  CompletionStage<ReplyResult> reply(String tenantId, Reply reply);

  /** How a reply went. */
  sealed interface ReplyResult extends CborSerializable {
    /** The provider accepted it. */
    record Sent(String providerMessageId) implements ReplyResult {}

    /**
     * Not now (a kill switch, the rate, a provider that is down, the person's legal hours): try
     * again later, not before {@code until} when it is known.
     */
    record NotNow(String why, java.time.Instant until) implements ReplyResult {
      public NotNow(String why) {
        this(why, null);
      }
    }

    /** The provider refused it for good, or the gate stopped it. */
    record Refused(String why) implements ReplyResult {}
  }
}
