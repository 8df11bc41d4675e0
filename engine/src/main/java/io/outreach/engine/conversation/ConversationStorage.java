package io.outreach.engine.conversation;

import java.util.List;

/**
 * The stored inbound messages the inboxes and conversations work through (implemented in
 * PostgreSQL). Blocking calls: run them off actor and HTTP threads.
 */
public interface ConversationStorage {

  /**
   * Processes the tenant's oldest stored inbound messages, a batch in one transaction, exactly once
   * each: threads, conversations, the stop of a replied person's follow-ups, campaign counts.
   */
  InboxBatch processInbox(String tenantId);

  /** Removes the inbox's restart marker if no stored message is left to process. */
  void settleInbox(String tenantId);

  /** The person's processed inbound messages that still want an answer, oldest first. */
  List<InboundMessage> toAnswer(String tenantId, String phone);

  /** Marks these messages answered. */
  void answered(String tenantId, String phone, List<InboundMessage> messages);
}
