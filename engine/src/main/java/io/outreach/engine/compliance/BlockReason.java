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
  FREQUENCY,
  BUDGET,
  DNC_STALE,
  REPLIED
}
