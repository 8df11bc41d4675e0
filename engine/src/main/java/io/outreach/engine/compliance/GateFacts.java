package io.outreach.engine.compliance;

import io.outreach.engine.dnc.DncRegistry;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the gate needs to know to decide a batch of contacts, fetched once per batch (a block of
 * at most 500 recipients) through the ports: engaged kill switches, whether the tenant is
 * suspended, do-not-contact listings and opt-outs of the batch's numbers.
 */
public record GateFacts(
    List<KillSwitch> killSwitches,
    boolean tenantSuspended,
    Map<String, DncRegistry.Listing> dnc,
    Set<String> optedOut) {}
