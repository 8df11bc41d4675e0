package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.BlockReason;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A campaign's counters of recipients (their first message) as the API reports them, and of the
 * follow-ups sent or stopped. For a finished campaign {@code recipients = sent + failed +
 * sum(blocked)}; {@code deferred} recipients wait for a later time, {@code deferredBy} the kind of
 * rule ({@link BlockOutcome#deferralKind}). {@code delivered}, {@code replied} and {@code optedOut}
 * come from receipts and replies (the read model), not from the entity. Money in micro-dollars:
 * {@code estimatedMicros} what the planned first messages were estimated to cost, {@code
 * spentMicros} what every accepted message cost.
 */
public record CampaignCounts(
    long recipients,
    long sent,
    long delivered,
    long failed,
    long replied,
    long optedOut,
    Map<BlockReason, Long> blocked,
    long deferred,
    Map<String, Long> deferredBy,
    long followUpsSent,
    long followUpsStopped,
    long estimatedMicros,
    long spentMicros)
    implements CborSerializable {

  public CampaignCounts {
    // Counts snapshotted before deferrals were broken down have none.
    deferredBy = deferredBy == null ? Map.of() : deferredBy;
  }

  public static CampaignCounts of(long recipients) {
    return new CampaignCounts(
        recipients, 0, 0, 0, 0, 0, new EnumMap<>(BlockReason.class), 0, Map.of(), 0, 0, 0, 0);
  }

  public long blockedTotal() {
    return blocked.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Recipients not yet sent, failed or blocked. */
  public long pending() {
    return recipients - sent - failed - blockedTotal();
  }

  /** These counts plus one block's first-step outcome (and its current deferrals). */
  public CampaignCounts plus(BlockOutcome b) {
    Map<BlockReason, Long> merged = new EnumMap<>(BlockReason.class);
    merged.putAll(blocked);
    b.blocked().forEach((reason, n) -> merged.merge(reason, n, Long::sum));
    Map<String, Long> waiting = new TreeMap<>(deferredBy);
    b.deferredBy().forEach((kind, n) -> waiting.merge(kind, n, Long::sum));
    return new CampaignCounts(
        recipients,
        sent + b.sent(),
        delivered,
        failed + b.failed(),
        replied,
        optedOut,
        merged,
        deferred + b.deferred(),
        waiting,
        followUpsSent,
        followUpsStopped,
        estimatedMicros + b.estimatedMicros(),
        spentMicros + b.spentMicros());
  }

  /** These counts plus the follow-ups of a block that is done. */
  public CampaignCounts withFollowUps(BlockOutcome b) {
    return new CampaignCounts(
        recipients,
        sent,
        delivered,
        failed,
        replied,
        optedOut,
        blocked,
        deferred,
        deferredBy,
        followUpsSent + b.followUpsSent(),
        followUpsStopped + b.followUpsStopped(),
        estimatedMicros,
        spentMicros + b.followUpsSpentMicros());
  }
}
