package io.outreach.engine.campaign;

import io.outreach.engine.compliance.FollowUpPolicy;
import io.outreach.engine.compliance.FrequencyCap;
import io.outreach.engine.spend.Budgets;
import io.outreach.engine.spend.Prices;
import io.outreach.engine.tenant.AgentPolicy;
import io.outreach.engine.tenant.ContactCap;
import io.outreach.engine.tenant.Sender;
import io.outreach.engine.tenant.Tenant;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Which provider and sender numbers a campaign of a tenant sends through, and under which of the
 * tenant's own caps: decided when each block starts (from the tenant's settings then) and for a
 * preview.
 *
 * @param sandbox the providers are the sandbox twins: a tenant without senders of the provider
 *     sends from the sandbox short code
 * @param prices what a segment costs through each provider (the twins cost what their providers do,
 *     so a sandbox run spends as production would)
 */
public record CampaignSenders(boolean sandbox, Prices prices) {

  /**
   * The provider a campaign uses: its own choice, else the tenant's first sender's, else Twilio.
   */
  public static String provider(CampaignDefinition d, Tenant tenant) {
    if (d.provider() != null) {
      return d.provider();
    }
    return tenant.senders().isEmpty() ? "twilio" : tenant.senders().get(0).provider();
  }

  /** The sender numbers a tenant's campaign on {@code provider} uses; empty when it has none. */
  public List<Sender> senders(Tenant tenant, String provider) {
    List<Sender> own = tenant.senders(provider);
    if (own.isEmpty() && sandbox && Sender.SANDBOX.provider().equals(provider)) {
      return List.of(Sender.SANDBOX);
    }
    return own;
  }

  /** The senders' combined rate (messages per second) for a campaign on {@code provider}. */
  public double messagesPerSecond(Tenant tenant, String provider) {
    return senders(tenant, provider).stream().mapToDouble(Sender::messagesPerSecond).sum();
  }

  /** The tenant's own frequency caps (empty: the engine's defaults hold). */
  public static List<FrequencyCap> caps(Tenant tenant) {
    return tenant.frequencyCaps().stream().map(ContactCap::toCap).toList();
  }

  /**
   * What block {@code block} of the campaign runs with, from the tenant's settings now; empty when
   * the tenant has no sender for the campaign's provider (launch refuses such a campaign; one that
   * lost its senders since waits).
   */
  public Optional<BlockSpec> spec(
      String tenantId, String campaignId, int block, CampaignDefinition d, Tenant tenant) {
    String provider = provider(d, tenant);
    List<String> numbers = senders(tenant, provider).stream().map(Sender::from).toList();
    if (numbers.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new BlockSpec(
            tenantId,
            campaignId,
            block,
            d.channel(),
            provider,
            numbers,
            d.message(),
            d.steps(),
            d.window(),
            caps(tenant),
            budgets(d, tenant),
            prices.segment(provider),
            followUpPolicy(tenant),
            d.calls() ? prices.voiceMinute(provider) : 0));
  }

  /**
   * Cathy's guardrails as the tenant sets them now ({@code agentPolicies.cathy}), each unset field
   * at its default; the tenant's days for the daily cap.
   */
  public static FollowUpPolicy followUpPolicy(Tenant tenant) {
    AgentPolicy p = tenant.agentPolicies().get(FollowUpPolicy.AGENT);
    Integer max = p == null ? null : p.maxFollowUps();
    Integer spacingHours = p == null ? null : p.minSpacingHours();
    return new FollowUpPolicy(
        max == null ? FollowUpPolicy.DEFAULT_MAX : max,
        spacingHours == null ? FollowUpPolicy.DEFAULT_SPACING : Duration.ofHours(spacingHours),
        p == null ? null : p.dailyCap(),
        tenant.timezone());
  }

  /** The budgets a campaign's sends fall under: the tenant's month and day, its own. */
  public static Budgets budgets(CampaignDefinition d, Tenant tenant) {
    return new Budgets(
        tenant.monthlyBudgetCents(), tenant.dailyBudgetCents(), d.budgetCents(), tenant.timezone());
  }
}
