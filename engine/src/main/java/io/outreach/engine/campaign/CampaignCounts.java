package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.BlockReason;
import java.util.EnumMap;
import java.util.Map;

/**
 * A campaign's counters as the API reports them. For a finished campaign {@code recipients =
 * sent + failed + sum(blocked)}.
 */
public record CampaignCounts(
    long recipients,
    long sent,
    long delivered,
    long failed,
    long replied,
    long optedOut,
    Map<BlockReason, Long> blocked,
    long deferred)
    implements CborSerializable {

  public static CampaignCounts of(long recipients) {
    return new CampaignCounts(recipients, 0, 0, 0, 0, 0, new EnumMap<>(BlockReason.class), 0);
  }

  public long blockedTotal() {
    return blocked.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Recipients not yet sent, failed or blocked. */
  public long pending() {
    return recipients - sent - failed - blockedTotal();
  }

  /** These counts plus one block's outcome. */
  public CampaignCounts plus(BlockOutcome b) {
    Map<BlockReason, Long> merged = new EnumMap<>(BlockReason.class);
    merged.putAll(blocked);
    b.blocked().forEach((reason, n) -> merged.merge(reason, n, Long::sum));
    return new CampaignCounts(
        recipients, sent + b.sent(), delivered, failed + b.failed(), replied, optedOut, merged, deferred);
  }
}
