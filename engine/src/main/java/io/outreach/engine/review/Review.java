package io.outreach.engine.review;

import java.time.Instant;
import java.util.Map;

/**
 * One item of a tenant's review queue: work of {@code kind} about {@code subject} (an enrichment
 * job's id, later a conversation's drafted answer) that waits for a human. {@code draft} is what
 * the agent proposes, as JSON; a human may approve it as it is or edited, or reject it. {@code seq}
 * orders the queue (and pages it).
 */
public record Review(
    String id,
    long seq,
    String kind,
    String subject,
    String summary,
    Map<String, Object> draft,
    Status status,
    Instant createdAt,
    String decidedBy,
    Instant decidedAt) {

  public Review {
    draft = draft == null ? Map.of() : draft;
  }

  /** Where a review stands. */
  public enum Status {
    PENDING,
    APPROVED,
    REJECTED;

    public String code() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A new pending item to add to the queue. */
  public record Request(
      String id, String kind, String subject, String summary, Map<String, Object> draft) {}
}
