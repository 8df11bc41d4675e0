package io.outreach.engine.compliance;

/**
 * Why a contact was not made, as campaign counts report it ({@code counts.blocked.*}). Each
 * blocking {@link Decision} names also the exact rule that decided it.
 */
public enum BlockReason {
  KILL_SWITCH,
  INVALID,
  OPT_OUT,
  DNC,
  /** The national do-not-call copy is too old, or none is loaded while one is required. */
  DNC_STALE,
  /** A follow-up to a person who has answered since the campaign first wrote to them. */
  REPLIED,
  /**
   * Frequency caps defer rather than block (see {@link ComplianceGate}); kept because journaled
   * outcomes and the API's {@code blocked.frequency} name it.
   */
  FREQUENCY,
  BUDGET
}
