package io.outreach.engine.compliance;

import io.outreach.engine.dnc.DncRegistry;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What the gate needs to know to decide a batch of contacts, fetched once per batch (a block of at
 * most 500 recipients) through the ports: engaged kill switches, whether the tenant is suspended,
 * do-not-contact listings and opt-outs of the batch's numbers, the tenant's contact {@code rules},
 * the as-of date of the national do-not-call copy in force (empty when none is loaded), and per
 * number its {@code priorContacts} (tenant-wide, any campaign or agent, at least as far back as the
 * longest frequency cap) and its {@code lastInbound} message, if any.
 */
public record GateFacts(
    List<KillSwitch> killSwitches,
    boolean tenantSuspended,
    Map<String, DncRegistry.Listing> dnc,
    Set<String> optedOut,
    ContactRules rules,
    Optional<LocalDate> nationalCopyAsOf,
    Map<String, List<Instant>> priorContacts,
    Map<String, Instant> lastInbound) {

  public GateFacts {
    Objects.requireNonNull(rules, "rules");
    Objects.requireNonNull(nationalCopyAsOf, "nationalCopyAsOf");
    Objects.requireNonNull(priorContacts, "priorContacts");
    Objects.requireNonNull(lastInbound, "lastInbound");
  }

  /**
   * The facts callers that predate legal hours fetch: {@link ContactRules#defaults()}, no national
   * copy loaded (which the default {@code auto} requirement tolerates), no prior contacts and no
   * inbound messages. {@link ComplianceGate#decide(Contact, GateFacts)} ignores all of these.
   */
  public GateFacts(
      List<KillSwitch> killSwitches,
      boolean tenantSuspended,
      Map<String, DncRegistry.Listing> dnc,
      Set<String> optedOut) {
    this(
        killSwitches,
        tenantSuspended,
        dnc,
        optedOut,
        ContactRules.defaults(),
        Optional.empty(),
        Map.of(),
        Map.of());
  }
}
