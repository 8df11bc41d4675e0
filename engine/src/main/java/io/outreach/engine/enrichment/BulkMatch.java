package io.outreach.engine.enrichment;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;

/**
 * The enrichment provider's answer to one bulk match of at most {@link
 * EnrichmentProvider#MAX_PER_CALL} people.
 */
public sealed interface BulkMatch {

  /**
   * Answered: {@code people} in the order asked, null where nobody matched; {@code credits} what
   * the call consumed (it may be fractional); {@code windows} the rate limits left.
   */
  record Matched(List<EnrichedPerson> people, BigDecimal credits, RateWindows windows)
      implements BulkMatch {}

  /** 429: too many calls; {@code retryAfter} when given (else null), the provider's message. */
  record Throttled(Duration retryAfter, String message) implements BulkMatch {}

  /** Refused for good (no account, a bad key, a request it will never take): the job fails. */
  record Refused(int status, String reason) implements BulkMatch {}

  /** Not answered (5xx, a timeout, a broken connection): the same call is tried again later. */
  record Unavailable(String reason) implements BulkMatch {}
}
