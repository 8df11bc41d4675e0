package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;

/**
 * A message to send: one recipient's step, from its sticky sender, with its idempotency key
 * {@code campaignId:recipient:step}. Journaled before the provider is called.
 */
public record Send(long recipient, int step, String to, String from, String body, String idempotencyKey)
    implements CborSerializable {

  /** The slot key of a recipient's step in a block's maps. */
  public static long slot(long recipient, int step) {
    return recipient * 16 + step;
  }

  public long slot() {
    return slot(recipient, step);
  }
}
