package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.BlockReason;
import java.time.Instant;
import java.util.Map;

/**
 * What one block of at most 500 recipients has come to: for the first message, how many were sent,
 * failed or blocked (by reason) and how many wait for a later time ({@code deferred}, by the kind
 * of rule that defers them in {@code deferredBy}: {@code hours}, {@code frequency}, {@code
 * dncStale}, and the earliest of their times, {@code nextDueAt}); how many follow-ups were sent or
 * stopped (a reply, a rule); and in micro-dollars what its first messages were estimated to cost
 * when it planned ({@code estimatedMicros}), and what its accepted first messages and follow-ups
 * cost ({@code spentMicros}, {@code followUpsSpentMicros}).
 */
public record BlockOutcome(
    int block,
    long sent,
    long failed,
    Map<BlockReason, Long> blocked,
    long deferred,
    Map<String, Long> deferredBy,
    Instant nextDueAt,
    long followUpsSent,
    long followUpsStopped,
    long estimatedMicros,
    long spentMicros,
    long followUpsSpentMicros)
    implements CborSerializable {

  /** An outcome without spend (of a block that is not budgeted). */
  public BlockOutcome(
      int block,
      long sent,
      long failed,
      Map<BlockReason, Long> blocked,
      long deferred,
      Map<String, Long> deferredBy,
      Instant nextDueAt,
      long followUpsSent,
      long followUpsStopped) {
    this(
        block,
        sent,
        failed,
        blocked,
        deferred,
        deferredBy,
        nextDueAt,
        followUpsSent,
        followUpsStopped,
        0,
        0,
        0);
  }

  public BlockOutcome {
    // Outcomes journaled before deferrals were broken down have neither.
    deferredBy = deferredBy == null ? Map.of() : Map.copyOf(deferredBy);
  }

  /** An outcome with no deferral. */
  public static BlockOutcome of(
      int block,
      long sent,
      long failed,
      Map<BlockReason, Long> blocked,
      long followUpsSent,
      long followUpsStopped) {
    return new BlockOutcome(
        block, sent, failed, blocked, 0, Map.of(), null, followUpsSent, followUpsStopped);
  }

  /**
   * The kind of rule a deferral names, as counts report it: {@code hours:federal} is {@code hours}.
   */
  public static String deferralKind(String rule) {
    if (rule == null) {
      return "other";
    }
    int colon = rule.indexOf(':');
    String kind = colon < 0 ? rule : rule.substring(0, colon);
    return rule.startsWith("dnc:national-copy") ? "dncStale" : kind;
  }
}
