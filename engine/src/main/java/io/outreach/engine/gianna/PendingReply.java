package io.outreach.engine.gianna;

import io.outreach.engine.CborSerializable;
import java.time.Instant;
import java.util.List;

/**
 * A person's reply waiting for Gianna: its key (the inbound message's), the provider and the
 * tenant's number it came to ({@code to}, which an answer is sent from), the person ({@code
 * phone}), its text, when it arrived, how often its classification failed before, and the thread
 * before it.
 */
public record PendingReply(
    String key,
    String provider,
    String phone,
    String to,
    String body,
    Instant at,
    int attempts,
    List<ReplyClassifier.Turn> thread)
    implements CborSerializable {

  public PendingReply {
    thread = thread == null ? List.of() : List.copyOf(thread);
  }
}
