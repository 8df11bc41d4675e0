package io.outreach.engine.conversation;

import java.util.List;

/**
 * What one pass over a tenant's inbox did: how many inbound messages it processed, whether it took
 * a full batch (more may wait), the people whose Conversation has messages to answer, and whether
 * replies now wait for the tenant's Gianna.
 */
public record InboxBatch(int processed, boolean full, List<String> toAnswer, boolean classify) {}
