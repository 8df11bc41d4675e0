package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import java.time.Instant;
import java.util.Locale;

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

  static CampaignView of(CampaignEntity.State s, CampaignCounts counts, Instant nextDueAt) {
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
