package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/**
 * A campaign as its entity reports it; {@code nextDueAt} is the earliest time a deferred first
 * message falls due (null when none waits).
 */
public record CampaignView(
    String id,
    String name,
    String state,
    CampaignCounts counts,
    long pending,
    int blocks,
    int blocksFinished,
    int blocksWaiting,
    Instant nextDueAt,
    Instant createdAt,
    Instant startAt)
    implements CborSerializable {

  /**
   * The view of a campaign: its journaled counts plus the {@code live} counts of blocks still
   * sending their first messages (or waiting to), and the earliest time a deferred first message of
   * theirs falls due.
   */
  static CampaignView of(CampaignEntity.State s, Map<Integer, BlockOutcome> live) {
    CampaignCounts counts = s.counts();
    Instant nextDueAt = null;
    for (int b = 0; b < s.nextBlock(); b++) {
      BlockOutcome block = live.getOrDefault(b, s.waiting().get(b));
      if (block == null || s.finished().contains(b)) {
        continue;
      }
      counts = counts.plus(block);
      if (block.nextDueAt() != null
          && (nextDueAt == null || block.nextDueAt().isBefore(nextDueAt))) {
        nextDueAt = block.nextDueAt();
      }
    }
    CampaignEntity.Status status =
        s.status() == CampaignEntity.Status.LAUNCHING ? CampaignEntity.Status.RUNNING : s.status();
    return new CampaignView(
        s.campaignId(),
        s.definition().name(),
        status.name().toLowerCase(Locale.ROOT),
        counts,
        counts.pending(),
        s.blocks(),
        s.finished().size(),
        s.waiting().size(),
        nextDueAt,
        s.createdAt(),
        s.startAt());
  }
}
