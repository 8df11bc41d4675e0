package io.outreach.engine.cathy;

import io.outreach.engine.compliance.Channel;
import io.outreach.engine.gianna.Classification;
import java.time.Duration;

/**
 * What Cathy's model answers about one follow-up to draft: its text, or a failure. A failure is
 * never a guess: output that does not parse, a refusal, an answer cut at {@code max_tokens} and
 * provider errors are all failures; {@code retryAfter} says when a retry may succeed (rate limits,
 * overload, time-outs), null when retrying is useless.
 */
public sealed interface FollowUpDraft {

  /**
   * One follow-up to draft: the business ({@code programName}), the step's channel, the campaign's
   * first message (a template: the draft may use its placeholders and no others), the author's
   * {@code brief} and how long after the message before it the follow-up goes.
   */
  record Request(
      String programName, Channel channel, String firstMessage, String brief, int afterHours) {}

  /** The drafted text (a template), with what it cost. */
  record Drafted(String text, Classification.Usage usage) implements FollowUpDraft {}

  /** No draft: {@code reason} says why. */
  record Failed(String reason, Duration retryAfter, Classification.Usage usage)
      implements FollowUpDraft {}
}
