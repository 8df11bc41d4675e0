package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import java.util.List;

/**
 * A message to send: one recipient's step, from its sticky sender, with its idempotency key {@code
 * campaignId:recipient:step}, and the time zones and US state the recipient's legal hours are
 * judged in. Journaled before the provider is called.
 */
public record Send(
    long recipient,
    int step,
    String to,
    String from,
    String body,
    String idempotencyKey,
    List<String> zones,
    String state)
    implements CborSerializable {

  public Send {
    zones = zones == null ? List.of() : List.copyOf(zones);
  }

  /** The same send with another body (a follow-up rendered when it falls due). */
  Send withBody(String text) {
    return new Send(recipient, step, to, from, text, idempotencyKey, zones, state);
  }

  /** The slot key of a recipient's step in a block's maps. */
  public static long slot(long recipient, int step) {
    return recipient * 16 + step;
  }

  public long slot() {
    return slot(recipient, step);
  }
}
