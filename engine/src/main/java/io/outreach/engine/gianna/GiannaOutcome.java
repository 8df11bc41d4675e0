package io.outreach.engine.gianna;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.conversation.Reply;
import java.time.Instant;

/**
 * What Gianna made of one reply, to be recorded in one transaction with the others of its batch:
 * the classification (or failure) and the verdict acted upon, with the reply to hand to the
 * person's Conversation (the answer, or the confirmation of an opt-out if it is a new one); or, for
 * a failure worth another try, when to try again ({@code retryAt}); or, with neither, a reply
 * skipped because Gianna is off.
 */
public record GiannaOutcome(
    PendingReply reply,
    Classification classification,
    GiannaPolicy.Verdict verdict,
    Reply handOver,
    Instant retryAt,
    Instant at)
    implements CborSerializable {

  /** An outcome to act upon. */
  public static GiannaOutcome decided(
      PendingReply reply,
      Classification c,
      GiannaPolicy.Verdict verdict,
      Reply handOver,
      Instant at) {
    return new GiannaOutcome(reply, c, verdict, handOver, null, at);
  }

  /** A failure to try again at {@code retryAt}. */
  public static GiannaOutcome retry(PendingReply reply, Classification c, Instant retryAt) {
    return new GiannaOutcome(reply, c, null, null, retryAt, retryAt);
  }

  /** A reply Gianna does not classify: she is off for the tenant. */
  public static GiannaOutcome skipped(PendingReply reply, Instant at) {
    return new GiannaOutcome(reply, null, null, null, null, at);
  }
}
