package io.outreach.engine.conversation;

import io.outreach.engine.message.OptOutKeywords;
import java.util.Optional;

/**
 * What an inbound message did to the person's consent, decided in the transaction that stored it
 * (before the webhook was answered), under the person's lock.
 */
public enum InboundEffect {
  /** A plain reply. */
  NONE,
  /** A STOP (or synonym): the person is now opted out of the whole tenant. */
  OPTED_OUT,
  /** A STOP from someone already opted out: nothing changes, and nothing is sent. */
  ALREADY_OPTED_OUT,
  /** A START (UNSTOP, YES) after an opt-out: the person is opted in again. */
  OPTED_IN,
  /** HELP or INFO: answered with the tenant's help text. */
  HELP;

  /**
   * The keyword an inbound message carries: the provider's own opt-out match (Twilio's {@code
   * OptOutType} STOP, START or HELP) wins over ours, which reads the whole body.
   */
  public static Optional<OptOutKeywords.Keyword> keyword(String body, String providerOptOutType) {
    if (providerOptOutType != null) {
      switch (providerOptOutType.trim().toUpperCase(java.util.Locale.ROOT)) {
        case "STOP":
          return Optional.of(OptOutKeywords.Keyword.OPT_OUT);
        case "START":
          return Optional.of(OptOutKeywords.Keyword.OPT_IN);
        case "HELP":
          return Optional.of(OptOutKeywords.Keyword.HELP);
        default:
          break;
      }
    }
    return body == null ? Optional.empty() : OptOutKeywords.classify(body);
  }
}
