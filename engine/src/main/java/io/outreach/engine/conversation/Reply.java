package io.outreach.engine.conversation;

import io.outreach.engine.CborSerializable;

/**
 * A message the engine sends a person in answer to theirs: the one confirmation of an opt-out or
 * opt-in, or the help text; from the tenant's number they wrote to, through the same provider, with
 * its own idempotency key so a resend after a crash is not delivered twice.
 */
public record Reply(
    String key, Kind kind, String provider, String from, String to, String body, String inReplyTo)
    implements CborSerializable {

  /** What a reply is. */
  public enum Kind {
    OPT_OUT_CONFIRMATION,
    OPT_IN_CONFIRMATION,
    HELP
  }
}
