package io.outreach.engine.compliance;

import io.outreach.engine.dnc.DncRegistry;

/**
 * The one decision every outbound contact passes, whoever makes it (a campaign block, an agent):
 * a pure function of the contact and the facts fetched for its batch, so it is exact and
 * testable, and every decision names its rule for the audit trail.
 *
 * <p>Rules in order of precedence; the first that applies decides:
 *
 * <ol>
 *   <li>{@code kill-switch:<scope>} and {@code tenant-suspended}: nothing covered starts;
 *   <li>{@code invalid:no-phone}: no number to contact on a phone channel;
 *   <li>{@code opt-out}: the person revoked consent for the whole tenant;
 *   <li>{@code dnc:tenant}, {@code dnc:national}: on a do-not-contact list.
 * </ol>
 *
 * Legal hours, frequency caps and the staleness of the national copy join the same function
 * (compliance-and-pacing issue).
 */
public final class ComplianceGate {

  public Decision decide(Contact contact, GateFacts facts) {
    for (KillSwitch k : facts.killSwitches()) {
      if (k.covers(contact)) {
        return new Decision.Block(BlockReason.KILL_SWITCH, "kill-switch:" + k.scope().code());
      }
    }
    if (facts.tenantSuspended()) {
      return new Decision.Block(BlockReason.KILL_SWITCH, "tenant-suspended");
    }
    if (contact.phone() == null) {
      return new Decision.Block(BlockReason.INVALID, "invalid:no-phone");
    }
    if (facts.optedOut().contains(contact.phone())) {
      return new Decision.Block(BlockReason.OPT_OUT, "opt-out");
    }
    DncRegistry.Listing listing = facts.dnc().get(contact.phone());
    if (listing != null) {
      return new Decision.Block(
          BlockReason.DNC, listing == DncRegistry.Listing.TENANT ? "dnc:tenant" : "dnc:national");
    }
    return Decision.ALLOW;
  }
}
