package io.outreach.engine.conversation;

import java.util.concurrent.CompletionStage;

/** What a tenant's {@link ConversationInbox} needs from outside. */
public interface InboxPorts {

  /**
   * Processes the tenant's oldest stored inbound messages, a batch in one transaction, exactly once
   * each (see {@code ConversationStore.processInbox}).
   */
  CompletionStage<InboxBatch> processNext(String tenantId);

  /** Wakes the tenant's Gianna: replies wait for classification. */
  void classify(String tenantId);

  /** Wakes the person's Conversation: it has inbound messages to answer. */
  void answer(String tenantId, String phone);

  /**
   * The inbox has been idle a while: its marker for a restart is removed if no message is left (see
   * {@code ConversationStore.settleInbox}).
   */
  CompletionStage<Void> settle(String tenantId);
}
