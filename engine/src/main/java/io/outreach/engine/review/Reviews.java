package io.outreach.engine.review;

import io.outreach.engine.Refused;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The review queue as the API works it: lists items, and records a human's decision before handing
 * it to the {@link ReviewKind} registered for the item's kind. An item whose kind no longer has a
 * handler can still be listed, and deciding it is refused.
 */
public final class Reviews {
  private final ReviewQueue queue;
  private final Map<String, ReviewKind> kinds;
  private final Executor blocking;
  private final Clock clock;

  public Reviews(ReviewQueue queue, List<ReviewKind> kinds, Executor blocking, Clock clock) {
    this.queue = queue;
    this.kinds = kinds.stream().collect(Collectors.toMap(ReviewKind::kind, Function.identity()));
    this.blocking = blocking;
    this.clock = clock;
  }

  /** Items of the tenant in queue order (see {@link ReviewQueue#page}). */
  public CompletionStage<List<Review>> page(
      String tenantId, Optional<Review.Status> status, long after, int limit) {
    return CompletableFuture.supplyAsync(
        () -> queue.page(tenantId, status, after, limit), blocking);
  }

  /**
   * Approves a pending item, with the human's edited {@code draft} (or null for the agent's own)
   * and an optional {@code note}, then lets its kind act on it. Fails with {@link Refused} when
   * there is no such item (not found) or it was decided before (conflict).
   */
  public CompletionStage<Review> approve(
      String tenantId, String reviewId, String actor, Map<String, Object> draft, String note) {
    return decide(tenantId, reviewId, true, actor, draft, note);
  }

  /** Rejects a pending item, with an optional {@code note}, then lets its kind act on it. */
  public CompletionStage<Review> reject(
      String tenantId, String reviewId, String actor, String note) {
    return decide(tenantId, reviewId, false, actor, null, note);
  }

  private CompletionStage<Review> decide(
      String tenantId,
      String reviewId,
      boolean approve,
      String actor,
      Map<String, Object> draft,
      String note) {
    return CompletableFuture.supplyAsync(
            () -> {
              Review pending =
                  queue
                      .get(tenantId, reviewId)
                      .orElseThrow(
                          () -> Refused.notFound("review " + reviewId + " does not exist"));
              ReviewKind kind = kinds.get(pending.kind());
              if (kind == null) {
                throw Refused.conflict("reviews of kind " + pending.kind() + " cannot be decided");
              }
              String problem = draft == null ? null : kind.problem(pending, draft);
              if (problem != null) {
                throw Refused.invalid(problem);
              }
              return queue.decide(tenantId, reviewId, approve, actor, draft, note, clock.instant());
            },
            blocking)
        .thenCompose(
            review -> {
              ReviewKind kind = kinds.get(review.kind());
              CompletionStage<Void> acted =
                  approve ? kind.approved(tenantId, review) : kind.rejected(tenantId, review);
              return acted.thenApply(ignored -> review);
            });
  }
}
