package io.outreach.engine.gianna;

import io.outreach.engine.conversation.Reply;
import java.util.Collection;
import java.util.List;

/**
 * Gianna's rows (implemented in PostgreSQL): the replies waiting for her, what she made of them,
 * and the replies to hand over. Blocking calls: run them off actor and HTTP threads.
 */
public interface GiannaStorage {

  /** See {@link GiannaPorts#pending}. */
  List<PendingReply> pending(String tenantId, int limit, Collection<String> inFlight);

  /** See {@link GiannaPorts#nextRetry}. */
  java.util.Optional<java.time.Instant> nextRetry(String tenantId);

  /** See {@link GiannaPorts#record}. */
  List<Reply> record(String tenantId, List<GiannaOutcome> outcomes);

  /** See {@link GiannaPorts#notHandedOver}. */
  List<Reply> notHandedOver(String tenantId, Collection<String> inFlight);

  /** See {@link GiannaPorts#catchUp}. */
  void catchUp(String tenantId);

  /** See {@link GiannaPorts#handedOver}. */
  void handedOver(String tenantId, List<String> replyKeys);

  /**
   * A human decided a {@code reply} review: the reply's row says so and, when approved with an
   * answer, the answer waits with the hand-overs (with Gianna's marker), in one transaction.
   */
  void decided(String tenantId, String reviewId, boolean approved, Reply answer);

  /** See {@link GiannaPorts#settle}. */
  void settle(String tenantId);
}
