package io.outreach.engine.review;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * What approving or rejecting an item of one kind does; each kind registers one with {@link
 * Reviews}. The decision is stored before the kind acts, so a kind acts idempotently and also
 * catches up on decisions a crash left unacted upon (its owner reconciles from the queue).
 */
public interface ReviewKind {

  /** The kind's name in the queue: {@code enrichment}, later {@code reply}. */
  String kind();

  /**
   * The item was approved; {@code review.draft()} is the draft as approved (a human may have edited
   * it).
   */
  CompletionStage<Void> approved(String tenantId, Review review);

  /** The item was rejected. */
  CompletionStage<Void> rejected(String tenantId, Review review);

  /**
   * What is wrong with a human's {@code edits} to pending item {@code review} (the fields that
   * replace the agent's), checked before the approval is recorded; null when they can be approved.
   */
  default String problem(Review review, Map<String, Object> edits) {
    return null;
  }
}
