package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.Channel;

/**
 * What a block needs to run, handed over by its campaign: whose recipients (block {@code block}
 * of the campaign's snapshot), which message, and through which provider and sender.
 */
public record BlockSpec(
    String tenantId,
    String campaignId,
    int block,
    Channel channel,
    String provider,
    String from,
    String message)
    implements CborSerializable {

  public String entityId() {
    return tenantId + ":" + campaignId + ":" + block;
  }

  /** The provider idempotency key of a recipient's step: {@code campaignId:recipient:step}. */
  public String idempotencyKey(long recipient, int step) {
    return campaignId + ":" + recipient + ":" + step;
  }
}
