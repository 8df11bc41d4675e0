package io.outreach.engine.tenant;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.outreach.engine.CborSerializable;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A change to a tenant's settings: null fields stay as they are; {@code agentPolicies} replaces the
 * named agents' policies; {@code flags} sets the named flags (null removes one); {@code senders}
 * replaces the sender numbers; {@code frequencyCaps} replaces the tenant's caps (an empty list
 * restores the engine's defaults); {@code programName} and {@code helpContact} go into the answers
 * to HELP and to opt-outs (an empty string restores the default: the tenant's name, no contact);
 * {@code dailyBudgetCents} caps a day's spend (-1: no daily budget).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SettingsPatch(
    String name,
    String timezone,
    Long monthlyBudgetCents,
    Map<String, AgentPolicy> agentPolicies,
    Map<String, Boolean> flags,
    List<Sender> senders,
    List<ContactCap> frequencyCaps,
    String programName,
    String helpContact,
    Long dailyBudgetCents)
    implements CborSerializable {

  /** A patch that leaves the daily budget as it is. */
  public SettingsPatch(
      String name,
      String timezone,
      Long monthlyBudgetCents,
      Map<String, AgentPolicy> agentPolicies,
      Map<String, Boolean> flags,
      List<Sender> senders,
      List<ContactCap> frequencyCaps,
      String programName,
      String helpContact) {
    this(
        name,
        timezone,
        monthlyBudgetCents,
        agentPolicies,
        flags,
        senders,
        frequencyCaps,
        programName,
        helpContact,
        null);
  }

  private static final Pattern FLAG = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");

  public boolean isEmpty() {
    return name == null
        && timezone == null
        && monthlyBudgetCents == null
        && (agentPolicies == null || agentPolicies.isEmpty())
        && (flags == null || flags.isEmpty())
        && senders == null
        && frequencyCaps == null
        && programName == null
        && helpContact == null
        && dailyBudgetCents == null;
  }

  /** Every problem with this patch; empty when it can be applied. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    if (name != null) {
      nameProblem(name, problems);
    }
    if (timezone != null) {
      timezoneProblem(timezone, problems);
    }
    if (monthlyBudgetCents != null) {
      budgetProblem(monthlyBudgetCents, problems);
    }
    if (dailyBudgetCents != null && dailyBudgetCents < -1) {
      problems.add("dailyBudgetCents must be a number of cents, or -1 for no daily budget");
    }
    if (agentPolicies != null) {
      agentPolicies.forEach(
          (agent, policy) -> {
            String p =
                policy == null
                    ? "agentPolicies." + agent + " must be an object"
                    : policy.problem(agent);
            if (p != null) {
              problems.add(p);
            }
          });
    }
    if (flags != null) {
      flags.keySet().stream()
          .filter(k -> !FLAG.matcher(k).matches())
          .forEach(k -> problems.add("flags: '" + k + "' is not a flag name (a-z, 0-9, _ . -)"));
    }
    if (senders != null) {
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (int i = 0; i < senders.size(); i++) {
        Sender s = senders.get(i);
        String p = s == null ? "senders[" + i + "] must be an object" : s.problem(i);
        if (p != null) {
          problems.add(p);
        } else if (!seen.add(s.from())) {
          problems.add("senders[" + i + "].from " + s.from() + " is listed twice");
        }
      }
    }
    if (programName != null && programName.trim().length() > 40) {
      problems.add("programName must be at most 40 characters (it starts every keyword answer)");
    }
    if (helpContact != null && helpContact.trim().length() > 80) {
      problems.add("helpContact must be at most 80 characters (an email, a phone number or a URL)");
    }
    if (frequencyCaps != null) {
      for (int i = 0; i < frequencyCaps.size(); i++) {
        ContactCap cap = frequencyCaps.get(i);
        String p = cap == null ? "frequencyCaps[" + i + "] must be an object" : cap.problem(i);
        if (p != null) {
          problems.add(p);
        }
      }
    }
    return problems;
  }

  static void nameProblem(String name, List<String> problems) {
    if (name.isBlank() || name.trim().length() > 200) {
      problems.add("name must be 1-200 characters");
    } else if (name.chars().anyMatch(Character::isISOControl)) {
      problems.add("name must not contain control characters");
    }
  }

  static void timezoneProblem(String timezone, List<String> problems) {
    if (!ZoneId.getAvailableZoneIds().contains(timezone)) {
      problems.add("timezone '" + timezone + "' is not an IANA time zone id");
    }
  }

  static void budgetProblem(long cents, List<String> problems) {
    if (cents < 0) {
      problems.add("monthlyBudgetCents must not be negative");
    }
  }
}
