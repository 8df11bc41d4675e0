package io.outreach.engine.campaign;

import java.util.List;

/**
 * A campaign's recipients: the audience snapshot taken at launch (numbered {@code 0..n-1}, a block
 * of {@link CampaignEntity#BLOCK_SIZE} at a time), and the audience as it stands for a preview
 * before launch. Blocking calls: run them off actor and HTTP threads.
 */
public interface Recipients {

  /** A page of an audience as it stands, and the position to continue after. */
  record Page(List<Recipient> recipients, long last) {}

  /**
   * Copies the audience into the campaign's recipients and answers how many there are; a second
   * call answers the same count without copying again.
   */
  long snapshot(String tenantId, String campaignId, CampaignDefinition.Audience audience);

  /** Whether the campaign's audience has been snapshotted. */
  boolean snapshotted(String tenantId, String campaignId);

  /** Recipients {@code block * 500 ..} of the snapshot, in recipient order. */
  List<Recipient> block(String tenantId, String campaignId, int block);

  /**
   * Up to {@code limit} leads of the audience as it stands, after position {@code after}, numbered
   * from {@code firstNo}.
   */
  Page audiencePage(
      String tenantId, CampaignDefinition.Audience audience, long after, long firstNo, int limit);
}
