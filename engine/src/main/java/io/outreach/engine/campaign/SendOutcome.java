package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.BlockReason;
import java.time.Instant;

/**
 * What one send of a block came to at {@code at} ({@link BlockEntity.Outcomes}); provider id,
 * reason and rule as they apply; for a sent message with a follow-up, when that is due ({@code
 * nextStepAt}, so read models can show it).
 */
public record SendOutcome(
    long recipient,
    int step,
    Kind kind,
    String providerMessageId,
    String reason,
    BlockReason blockReason,
    Instant until,
    Instant at,
    Instant nextStepAt)
    implements CborSerializable {

  /** What a send came to. */
  public enum Kind {
    /** The provider accepted it (final). */
    SENT,
    /** The provider refused it after the retries (final). */
    FAILED,
    /** The gate stopped it at the moment of sending, or its template could not render (final). */
    BLOCKED,
    /** The gate asked to wait until {@code until} (not final). */
    DEFERRED
  }

  long slot() {
    return Send.slot(recipient, step);
  }
}
