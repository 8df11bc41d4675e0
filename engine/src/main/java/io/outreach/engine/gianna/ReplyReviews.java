package io.outreach.engine.gianna;

import io.outreach.engine.conversation.Reply;
import io.outreach.engine.review.Review;
import io.outreach.engine.review.ReviewKind;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Review kind {@code reply}: a person's reply whose answer Gianna drafted but may not send by
 * herself (or could not classify). Approving sends the draft's {@code answer}, as the human left it
 * (edited or not), through the one way out like any message: it waits with Gianna's hand-overs and
 * the person's Conversation sends it, once (its key comes from the review's id); an approval with
 * an empty answer sends nothing. Rejecting sends nothing. A crash between the decision and this is
 * caught up by Gianna (an approved review whose answer was not handed over): by her first pass
 * after she starts, and by one pass every {@code Gianna.CATCH_UP} while she runs.
 */
public final class ReplyReviews implements ReviewKind {
  /** The review kind's name. */
  public static final String KIND = "reply";

  private final GiannaStorage store;
  private final ClusterSharding sharding;
  private final Executor blocking;

  public ReplyReviews(GiannaStorage store, ClusterSharding sharding, Executor blocking) {
    this.store = store;
    this.sharding = sharding;
    this.blocking = blocking;
  }

  @Override
  public String kind() {
    return KIND;
  }

  /** The answer an approved review sends, or null when its draft has none. */
  public static Reply answer(Review review) {
    Map<String, Object> d = review.draft();
    Object answer = d.get("answer");
    if (!(answer instanceof String text) || text.isBlank()) {
      return null;
    }
    return new Reply(
        Reply.key("a", review.id()),
        Reply.Kind.AGENT_ANSWER,
        (String) d.get("provider"),
        (String) d.get("from"),
        (String) d.get("phone"),
        text.strip(),
        (String) d.get("inReplyTo"));
  }

  @Override
  public CompletionStage<Void> approved(String tenantId, Review review) {
    return CompletableFuture.runAsync(
            () -> store.decided(tenantId, review.id(), true, answer(review)), blocking)
        .thenRun(
            () ->
                sharding.entityRefFor(Gianna.ENTITY_TYPE_KEY, tenantId).tell(Gianna.Wake.INSTANCE));
  }

  @Override
  public CompletionStage<Void> rejected(String tenantId, Review review) {
    return CompletableFuture.runAsync(
        () -> store.decided(tenantId, review.id(), false, null), blocking);
  }
}
