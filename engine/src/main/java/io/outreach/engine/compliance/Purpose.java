package io.outreach.engine.compliance;

/**
 * Why a contact is made, which decides the rules it must pass. Marketing contacts (a campaign's
 * first message, its follow-ups, an agent's outreach) pass every rule. Transactional replies answer
 * the person's own message (a STOP, a HELP), so legal hours, frequency caps, the do-not-contact
 * lists and stop-on-reply do not hold them back; kill switches still do.
 */
public enum Purpose {
  /** A campaign's first message to a person. */
  CAMPAIGN,
  /** A later step of a campaign; the contact carries when the campaign first wrote to them. */
  FOLLOW_UP,
  /** Outreach an agent starts. */
  AGENT,
  /**
   * An agent's answer to the person's own reply (drafted by Gianna, sent automatically or after a
   * human approved it): every rule holds it back except the frequency caps, which space out
   * outreach, not answers to a question the person just asked.
   */
  AGENT_REPLY,
  /** The one confirmation of an opt-out, sent even though the number has opted out. */
  OPT_OUT_CONFIRMATION,
  /** The answer to HELP, which carriers require even for numbers that opted out. */
  HELP_REPLY;

  /** Whether this answers the person's own message rather than reaching out to them. */
  public boolean transactional() {
    return this == OPT_OUT_CONFIRMATION || this == HELP_REPLY;
  }
}
