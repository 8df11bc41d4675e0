package io.outreach.engine.review;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tenant's review queue (implemented in PostgreSQL). Items are added by the agent's own
 * transaction (an enrichment job and its review are one write); a decision is recorded once, with
 * who took it and when, in the audit trail too. Blocking calls: run them off actor and HTTP
 * threads.
 */
public interface ReviewQueue {

  /**
   * Items of the tenant in queue order after position {@code after}, with {@code status} (all when
   * empty); at most {@code limit}.
   */
  List<Review> page(String tenantId, Optional<Review.Status> status, long after, int limit);

  /**
   * Records the decision on a pending item: approved (with the human's edits: the fields of {@code
   * draft} replace the agent's, the others stay; none when null) or rejected. Answers the decided
   * item.
   *
   * @throws io.outreach.engine.Refused not found (no such item of the tenant) or conflict (already
   *     decided)
   */
  Review decide(
      String tenantId,
      String reviewId,
      boolean approve,
      String actor,
      Map<String, Object> draft,
      String note,
      Instant at);

  /** The tenant's item {@code reviewId}, if there is one. */
  Optional<Review> get(String tenantId, String reviewId);
}
