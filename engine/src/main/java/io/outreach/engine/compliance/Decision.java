package io.outreach.engine.compliance;

import java.time.Instant;

/** The ComplianceGate's answer for one contact; blocking answers name the rule that decided. */
public sealed interface Decision {

  /** The contact may be made now. */
  record Allow() implements Decision {}

  /** The contact must not be made; {@code rule} is the exact rule, e.g. {@code dnc:national}. */
  record Block(BlockReason reason, String rule) implements Decision {}

  /** The contact may be made later, not before {@code until}. */
  record Defer(Instant until, String rule) implements Decision {}

  Decision ALLOW = new Allow();
}
