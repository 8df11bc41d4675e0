package io.outreach.engine.gianna;

import io.outreach.engine.CborSerializable;
import java.time.Duration;

/**
 * A classifier's answer about one reply: a category with a confidence (and, from a model, a drafted
 * answer and the tokens it cost), or a failure. A failure is never a guess: malformed output, a
 * refusal, an answer cut at {@code max_tokens} and provider errors are all failures; {@code
 * retryAfter} says when a retry may succeed (rate limits, overload), null when retrying is useless.
 */
public sealed interface Classification extends CborSerializable {

  /** What was spent to get the answer: the model and its tokens (none for rules). */
  record Usage(String model, long inputTokens, long outputTokens) implements CborSerializable {
    public static final Usage NONE = new Usage(null, 0, 0);
  }

  /** The reply is {@code category}, with {@code confidence} in [0, 1]. */
  record Classified(
      ReplyCategory category, double confidence, String draft, String classifier, Usage usage)
      implements Classification {
    public Classified {
      if (!(confidence >= 0 && confidence <= 1)) {
        throw new IllegalArgumentException("confidence must be in [0, 1]: " + confidence);
      }
    }
  }

  /** No classification: {@code reason} says why. */
  record Failed(String reason, Duration retryAfter, String classifier, Usage usage)
      implements Classification {

    /** A failure a retry will not mend (malformed output, a refusal, a bad key). */
    public static Failed finalFailure(String reason, String classifier, Usage usage) {
      return new Failed(reason, null, classifier, usage);
    }

    public boolean retryable() {
      return retryAfter != null;
    }
  }
}
