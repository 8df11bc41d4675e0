package io.outreach.engine.campaign;

import java.util.concurrent.CompletionStage;

/** What a Campaign entity needs from outside: the audience snapshot and its blocks. */
public interface CampaignPorts {

  /**
   * Copies the audience into the campaign's recipients (numbered 0..n-1 in a stable order) and
   * answers how many there are. Idempotent: a second call for the same campaign answers the same
   * count without copying again.
   */
  CompletionStage<Long> snapshotAudience(
      String tenantId, String campaignId, CampaignDefinition.Audience audience);

  /** The campaign has nothing left to resume after a crash (completed or cancelled). */
  void settled(String tenantId, String campaignId);

  /** Starts block {@code block} of the campaign (recipients {@code block*500 ..}). */
  void startBlock(String tenantId, String campaignId, int block, CampaignDefinition definition);

  /** Tells a started block of the campaign to pause, resume or cancel. */
  void tellBlock(String tenantId, String campaignId, int block, BlockEntity.Command command);
}
