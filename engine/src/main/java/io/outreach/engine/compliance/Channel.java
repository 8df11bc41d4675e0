package io.outreach.engine.compliance;

/** How a contact reaches a person. */
public enum Channel {
  SMS,
  VOICE
}
