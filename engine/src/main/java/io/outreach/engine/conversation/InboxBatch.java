package io.outreach.engine.conversation;

import java.util.List;

/**
 * What one pass over a tenant's inbox did: how many inbound messages it processed, whether it took
 * a full batch (more may wait), and the people whose Conversation has messages to answer.
 */
public record InboxBatch(int processed, boolean full, List<String> toAnswer) {}
