package io.outreach.engine.cathy;

import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.conversation.Reply;
import io.outreach.engine.review.Review;
import io.outreach.engine.review.ReviewKind;
import io.outreach.engine.review.ReviewQueue;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Review kind {@code follow_up}: a follow-up step Cathy drafted, waiting for a human before its
 * campaign may launch. The item is queued from the campaign's own journal (its {@code Created}
 * event, by the campaign projection), so a campaign and its reviews never part. Approving gives the
 * step the draft's {@code message} as the human left it (an edit must be a template naming no field
 * the first message does not); rejecting removes the step, and the next one follows the message
 * before it. The decision is stored before the campaign hears of it; a crash in between is caught
 * up when the campaign is launched ({@link #catchUp}).
 */
public final class FollowUpReviews implements ReviewKind {
  /** The review kind's name. */
  public static final String KIND = "follow_up";

  private final ReviewQueue queue;
  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final Executor blocking;

  public FollowUpReviews(
      ReviewQueue queue, ClusterSharding sharding, Duration askTimeout, Executor blocking) {
    this.queue = queue;
    this.sharding = sharding;
    this.askTimeout = askTimeout;
    this.blocking = blocking;
  }

  @Override
  public String kind() {
    return KIND;
  }

  /** The id of the review of step {@code index} (from 0) of campaign {@code campaignId}. */
  static String reviewId(String campaignId, int index) {
    return "rev_" + Reply.key("x", "follow-up:" + campaignId + ":" + index).substring(2, 26);
  }

  /** The review item of step {@code index} of a created campaign (its step waits for it). */
  public static Review.Request request(
      String campaignId, CampaignDefinition d, int index, CampaignDefinition.FollowUpStep step) {
    Map<String, Object> draft = new LinkedHashMap<>();
    draft.put("campaignId", campaignId);
    draft.put("step", index + 1);
    draft.put("afterHours", step.afterHours());
    draft.put("channel", d.channel(index + 1).name().toLowerCase(java.util.Locale.ROOT));
    draft.put("brief", step.brief());
    draft.put("message", step.message());
    draft.put("firstMessage", d.message());
    draft.put("drafter", step.drafter());
    String summary =
        "follow-up "
            + (index + 1)
            + " of campaign "
            + d.name()
            + ", "
            + step.afterHours()
            + " h after the message before it: "
            + step.message();
    return new Review.Request(step.review(), KIND, campaignId, summary, draft);
  }

  @Override
  public String problem(Review review, Map<String, Object> edits) {
    if (!edits.containsKey("message")) {
      return null;
    }
    if (!(edits.get("message") instanceof String text)) {
      return "draft.message must be the follow-up's text";
    }
    String problem =
        FollowUpDrafts.problem(text.strip(), (String) review.draft().get("firstMessage"));
    return problem == null ? null : "draft.message: " + problem;
  }

  @Override
  public CompletionStage<Void> approved(String tenantId, Review review) {
    return decide(tenantId, review);
  }

  @Override
  public CompletionStage<Void> rejected(String tenantId, Review review) {
    return decide(tenantId, review);
  }

  /** Tells the review's campaign what was decided. */
  private CompletionStage<Void> decide(String tenantId, Review review) {
    String campaignId = (String) review.draft().get("campaignId");
    String text =
        review.status() == Review.Status.APPROVED
            ? ((String) review.draft().get("message")).strip()
            : null;
    return sharding
        .entityRefFor(CampaignEntity.ENTITY_TYPE_KEY, CampaignEntity.entityId(tenantId, campaignId))
        .<org.apache.pekko.Done>askWithStatus(
            r -> new CampaignEntity.DecideFollowUp(review.id(), text, review.decidedBy(), r),
            askTimeout)
        .thenApply(done -> null);
  }

  /**
   * Tells campaign {@code d} of the decisions it has not heard of (a crash between a decision and
   * the campaign): what a launch does before it asks.
   */
  public CompletionStage<Void> catchUp(String tenantId, CampaignDefinition d) {
    CompletionStage<Void> all = CompletableFuture.completedFuture(null);
    for (String id : d.reviewsPending().keySet()) {
      all =
          all.thenCompose(
                  x -> CompletableFuture.supplyAsync(() -> queue.get(tenantId, id), blocking))
              .thenCompose(
                  (Optional<Review> r) ->
                      r.isPresent() && r.get().status() != Review.Status.PENDING
                          ? decide(tenantId, r.get())
                          : CompletableFuture.completedFuture(null));
    }
    return all;
  }
}
