package io.outreach.engine.tenant;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.ComplianceGate;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.KillSwitches;
import io.outreach.engine.compliance.Purpose;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** A tenant's profile and settings as the Tenant entity holds them. */
public record Tenant(
    String id,
    String name,
    String timezone,
    long monthlyBudgetCents,
    Status status,
    String suspendedReason,
    SortedMap<String, AgentPolicy> agentPolicies,
    SortedMap<String, Boolean> flags,
    KillSwitches killSwitches,
    List<Sender> senders,
    List<ContactCap> frequencyCaps,
    String programName,
    String helpContact,
    Instant createdAt,
    Instant updatedAt,
    Long dailyBudgetCents)
    implements CborSerializable {

  public Tenant {
    senders = senders == null ? List.of() : List.copyOf(senders);
    frequencyCaps = frequencyCaps == null ? List.of() : List.copyOf(frequencyCaps);
  }

  /** The program name keyword answers start with: the tenant's own, else its name. */
  public String program() {
    return programName == null || programName.isBlank() ? name : programName;
  }

  /** The sender numbers of {@code provider}, in the order the tenant listed them. */
  public List<Sender> senders(String provider) {
    return senders.stream().filter(s -> s.provider().equalsIgnoreCase(provider)).toList();
  }

  /**
   * What holds agent {@code agent} back for this tenant: a kill switch covering it (scope {@code
   * agent} naming it, the tenant's, the platform's when {@code platformStopped}) or a suspension;
   * empty when it may act.
   */
  public java.util.Optional<String> agentHeld(String agent, boolean platformStopped) {
    if (platformStopped) {
      return java.util.Optional.of("kill-switch:platform");
    }
    Contact contact =
        new Contact(id, null, agent, Channel.SMS, null, List.of(), null, null, Purpose.AGENT, null);
    return ComplianceGate.hold(contact, killSwitches.all(), status == Status.SUSPENDED);
  }

  /** Whether the tenant may act; a suspended tenant's outbound work stops. */
  public enum Status {
    ACTIVE,
    SUSPENDED
  }

  static Tenant created(TenantEntity.Created e) {
    SortedMap<String, AgentPolicy> policies = new TreeMap<>();
    AgentPolicy.AGENTS.forEach(a -> policies.put(a, AgentPolicy.initial(a)));
    return new Tenant(
        e.tenantId(),
        e.name(),
        e.timezone(),
        e.monthlyBudgetCents(),
        Status.ACTIVE,
        null,
        policies,
        new TreeMap<>(),
        KillSwitches.none(),
        List.of(),
        List.of(),
        null,
        null,
        e.at(),
        e.at(),
        null);
  }

  Tenant apply(SettingsPatch p, Instant at) {
    SortedMap<String, AgentPolicy> policies = new TreeMap<>(agentPolicies);
    if (p.agentPolicies() != null) {
      policies.putAll(p.agentPolicies());
    }
    SortedMap<String, Boolean> newFlags = new TreeMap<>(flags);
    if (p.flags() != null) {
      for (Map.Entry<String, Boolean> f : p.flags().entrySet()) {
        // A null value removes the flag, as in JSON merge patch (RFC 7396).
        if (f.getValue() == null) {
          newFlags.remove(f.getKey());
        } else {
          newFlags.put(f.getKey(), f.getValue());
        }
      }
    }
    return new Tenant(
        id,
        p.name() != null ? p.name().trim() : name,
        p.timezone() != null ? p.timezone() : timezone,
        p.monthlyBudgetCents() != null ? p.monthlyBudgetCents() : monthlyBudgetCents,
        status,
        suspendedReason,
        policies,
        newFlags,
        killSwitches,
        p.senders() != null ? p.senders() : senders,
        p.frequencyCaps() != null ? p.frequencyCaps() : frequencyCaps,
        p.programName() != null ? blankToNull(p.programName()) : programName,
        p.helpContact() != null ? blankToNull(p.helpContact()) : helpContact,
        createdAt,
        at,
        p.dailyBudgetCents() == null
            ? dailyBudgetCents
            : p.dailyBudgetCents() < 0 ? null : p.dailyBudgetCents());
  }

  Tenant suspend(String reason, Instant at) {
    return new Tenant(
        id,
        name,
        timezone,
        monthlyBudgetCents,
        Status.SUSPENDED,
        reason,
        agentPolicies,
        flags,
        killSwitches,
        senders,
        frequencyCaps,
        programName,
        helpContact,
        createdAt,
        at,
        dailyBudgetCents);
  }

  Tenant resume(Instant at) {
    return new Tenant(
        id,
        name,
        timezone,
        monthlyBudgetCents,
        Status.ACTIVE,
        null,
        agentPolicies,
        flags,
        killSwitches,
        senders,
        frequencyCaps,
        programName,
        helpContact,
        createdAt,
        at,
        dailyBudgetCents);
  }

  Tenant withKillSwitches(KillSwitches next) {
    return new Tenant(
        id,
        name,
        timezone,
        monthlyBudgetCents,
        status,
        suspendedReason,
        agentPolicies,
        flags,
        next,
        senders,
        frequencyCaps,
        programName,
        helpContact,
        createdAt,
        updatedAt,
        dailyBudgetCents);
  }

  private static String blankToNull(String s) {
    return s.isBlank() ? null : s.trim();
  }
}
