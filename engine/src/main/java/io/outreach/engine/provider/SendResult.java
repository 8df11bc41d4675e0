package io.outreach.engine.provider;

import java.time.Duration;
import java.util.Optional;

/** A provider's answer to one send. */
public sealed interface SendResult {

  /** The provider took the message; {@code providerMessageId} names it in later receipts. */
  record Accepted(String providerMessageId) implements SendResult {}

  /**
   * The provider refused the message. {@code retryable} is true for throttling (429, with the
   * provider's {@code Retry-After} when given) and server errors (5xx); other 4xx are final.
   */
  record Rejected(int status, String reason, boolean retryable, Optional<Duration> retryAfter)
      implements SendResult {}
}
