package io.outreach.engine.conversation;

import io.outreach.engine.CborSerializable;

/**
 * A message the engine sends a person in answer to theirs: the one confirmation of an opt-out or
 * opt-in, the help text, or an agent's answer; from the tenant's number they wrote to, through the
 * same provider, with its own idempotency key so a resend after a crash is not delivered twice.
 */
public record Reply(
    String key, Kind kind, String provider, String from, String to, String body, String inReplyTo)
    implements CborSerializable {

  /**
   * A reply's idempotency key, stable for what it answers: {@code <prefix>_<32 hex>} of SHA-256
   * over {@code seed} (an inbound message's key, a review's id).
   */
  public static String key(String prefix, String seed) {
    try {
      byte[] d =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(seed.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return prefix + "_" + java.util.HexFormat.of().formatHex(d, 0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What a reply is. */
  public enum Kind {
    OPT_OUT_CONFIRMATION,
    OPT_IN_CONFIRMATION,
    HELP,
    /** An agent's answer to the person's reply (Gianna's, automatic or approved by a human). */
    AGENT_ANSWER
  }
}
