package io.outreach.engine.enrichment;

import io.outreach.engine.CborSerializable;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.Locale;

/**
 * An enrichment job as it is stored: its status, its leads' outcomes so far ({@code matched} and
 * {@code notFound} by the provider, {@code cached} answered by the cache, {@code skipped} erased or
 * not matchable; the rest pending), what it used and cost, its estimate, the review it waits for,
 * what holds it ({@code heldBy}: a kill switch, the agent disabled, a suspension) and why it ended
 * ({@code reason}: {@code budget}, {@code rejected}, {@code provider-refused}, {@code
 * provider-unavailable}; {@code detail} says more).
 */
public record EnrichmentView(
    String id,
    Status status,
    String importId,
    int leads,
    int uncached,
    int matched,
    int notFound,
    int cached,
    int skipped,
    int batches,
    BigDecimal credits,
    long costMicros,
    long estimateMicros,
    String reviewId,
    String heldBy,
    String reason,
    String detail,
    String createdBy,
    Instant createdAt,
    Instant startedAt,
    Instant finishedAt)
    implements CborSerializable {

  /** A job's lifecycle. {@code QUEUED} (approved or not needing approval) waits for its turn. */
  public enum Status {
    AWAITING_APPROVAL,
    QUEUED,
    RUNNING,
    COMPLETED,
    FAILED,
    REJECTED;

    /** The stored code: {@code awaiting_approval}, {@code queued}, ... */
    public String code() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Status of(String code) {
      return valueOf(code.toUpperCase(Locale.ROOT));
    }

    /** Whether the job is over. */
    public boolean finished() {
      return this == COMPLETED || this == FAILED || this == REJECTED;
    }
  }

  /** Leads not handled yet. */
  public int pending() {
    return Math.max(0, leads - matched - notFound - cached - skipped);
  }

  /** Leads the job enriched: matched by the provider, or found in the cache. */
  public int enriched() {
    return matched + cached;
  }
}
