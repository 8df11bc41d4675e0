package io.outreach.engine.tenant;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.FollowUpPolicy;
import java.util.List;
import java.util.Set;

/**
 * What one agent (Gianna, Cathy, Luci) may do for a tenant. For every agent: whether it runs at all
 * ({@code enabled}), whether its actions wait for a human ({@code humanReview}), the classification
 * confidence below which it defers to a human ({@code confidenceThreshold}), the spend it may
 * approve on its own ({@code spendApprovalCents}) and what it may spend in a day ({@code
 * dailyBudgetCents}, none when null). Gianna's own: the categories it may answer by itself ({@code
 * autoAnswer}) and the confidence at which a reply read as an opt-out is one ({@code
 * optOutThreshold}). Cathy's own: follow-ups per recipient ({@code maxFollowUps}), the least time
 * between two contacts ({@code minSpacingHours}), follow-ups per day across the tenant ({@code
 * dailyCap}), and whether follow-ups the model drafts go out without a human ({@code
 * draftedFollowUps}). A null field takes the agent's default.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AgentPolicy(
    boolean enabled,
    boolean humanReview,
    Double confidenceThreshold,
    Long spendApprovalCents,
    Long dailyBudgetCents,
    List<String> autoAnswer,
    Double optOutThreshold,
    Integer maxFollowUps,
    Integer minSpacingHours,
    Integer dailyCap,
    Boolean draftedFollowUps)
    implements CborSerializable {

  /** The reply categories Gianna knows (see {@code io.outreach.engine.gianna.ReplyCategory}). */
  public static final Set<String> CATEGORIES =
      Set.of(
          "interested",
          "not_interested",
          "question",
          "opt_out",
          "wrong_number",
          "hostile",
          "other");

  public AgentPolicy {
    autoAnswer = autoAnswer == null ? null : List.copyOf(autoAnswer);
  }

  /** A policy with a daily budget and no agent-specific settings. */
  public AgentPolicy(
      boolean enabled,
      boolean humanReview,
      Double confidenceThreshold,
      Long spendApprovalCents,
      Long dailyBudgetCents) {
    this(
        enabled,
        humanReview,
        confidenceThreshold,
        spendApprovalCents,
        dailyBudgetCents,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  /** A policy without a daily budget of its own. */
  public AgentPolicy(
      boolean enabled, boolean humanReview, Double confidenceThreshold, Long spendApprovalCents) {
    this(enabled, humanReview, confidenceThreshold, spendApprovalCents, null);
  }

  /** The agents a policy can name. */
  public static final Set<String> AGENTS = Set.of("gianna", "cathy", "luci");

  /**
   * Gianna and Luci start disabled and reviewed by a human until a tenant admin opts in, with their
   * own defaults (Gianna answers only at 0.9 confidence or more). Cathy starts enabled: the
   * follow-up steps she runs are written by the campaign's author, and her guardrails (three per
   * recipient, a day apart) hold them from the first campaign; what she would draft herself still
   * waits for a human.
   */
  public static AgentPolicy initial(String agent) {
    return new AgentPolicy(agent.equals(FollowUpPolicy.AGENT), true, null, 0L);
  }

  /** A problem with this policy for {@code agent}, or null when it is valid. */
  String problem(String agent) {
    if (!AGENTS.contains(agent)) {
      return "agentPolicies: unknown agent '" + agent + "' (known: gianna, cathy, luci)";
    }
    String at = "agentPolicies." + agent + ".";
    if (confidenceThreshold != null && (confidenceThreshold < 0 || confidenceThreshold > 1)) {
      return at + "confidenceThreshold must be between 0 and 1";
    }
    if (optOutThreshold != null && (optOutThreshold < 0 || optOutThreshold > 1)) {
      return at + "optOutThreshold must be between 0 and 1";
    }
    if (spendApprovalCents != null && spendApprovalCents < 0) {
      return at + "spendApprovalCents must not be negative";
    }
    if (dailyBudgetCents != null && dailyBudgetCents < 0) {
      return at + "dailyBudgetCents must not be negative";
    }
    if (autoAnswer != null) {
      for (String c : autoAnswer) {
        if (!CATEGORIES.contains(c)) {
          return at + "autoAnswer: unknown category '" + c + "' (known: " + CATEGORIES + ")";
        }
        if (c.equals("opt_out")) {
          return at + "autoAnswer cannot hold opt_out: an opt-out is confirmed, not answered";
        }
      }
    }
    if (maxFollowUps != null && (maxFollowUps < 0 || maxFollowUps > 10)) {
      return at + "maxFollowUps must be from 0 to 10";
    }
    if (minSpacingHours != null && (minSpacingHours < 1 || minSpacingHours > 24 * 30)) {
      return at + "minSpacingHours must be from 1 to 720";
    }
    if (dailyCap != null && dailyCap < 0) {
      return at + "dailyCap must not be negative";
    }
    return null;
  }
}
