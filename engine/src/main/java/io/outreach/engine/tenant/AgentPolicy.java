package io.outreach.engine.tenant;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.outreach.engine.CborSerializable;
import java.util.Set;

/**
 * What one agent (Gianna, Cathy, Luci) may do for a tenant: whether it runs at all, whether its
 * actions wait for a human, the classification confidence below which it defers to a human, and the
 * spend it may approve on its own, and what it may spend in a day ({@code dailyBudgetCents}, none
 * when null).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AgentPolicy(
    boolean enabled,
    boolean humanReview,
    Double confidenceThreshold,
    Long spendApprovalCents,
    Long dailyBudgetCents)
    implements CborSerializable {

  /** A policy without a daily budget of its own. */
  public AgentPolicy(
      boolean enabled, boolean humanReview, Double confidenceThreshold, Long spendApprovalCents) {
    this(enabled, humanReview, confidenceThreshold, spendApprovalCents, null);
  }

  /** The agents a policy can name. */
  public static final Set<String> AGENTS = Set.of("gianna", "cathy", "luci");

  /** Agents start disabled and reviewed by a human until a tenant admin opts in. */
  public static AgentPolicy initial() {
    return new AgentPolicy(false, true, 0.8, 0L);
  }

  /** A problem with this policy for {@code agent}, or null when it is valid. */
  String problem(String agent) {
    if (!AGENTS.contains(agent)) {
      return "agentPolicies: unknown agent '" + agent + "' (known: gianna, cathy, luci)";
    }
    if (confidenceThreshold != null && (confidenceThreshold < 0 || confidenceThreshold > 1)) {
      return "agentPolicies." + agent + ".confidenceThreshold must be between 0 and 1";
    }
    if (spendApprovalCents != null && spendApprovalCents < 0) {
      return "agentPolicies." + agent + ".spendApprovalCents must not be negative";
    }
    if (dailyBudgetCents != null && dailyBudgetCents < 0) {
      return "agentPolicies." + agent + ".dailyBudgetCents must not be negative";
    }
    return null;
  }
}
