package io.outreach.engine.spend;

import io.outreach.engine.CborSerializable;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * The budgets a tenant's work falls under, in cents as the tenant set them: its month (always), its
 * day (if set), a campaign's own (if set), an agent's day (if set). Periods are the tenant's own
 * calendar ({@code timezone}); each becomes a {@link SpendLedger.Budget} bucket named {@code
 * tenant-month:2026-12}, {@code tenant-day:2026-12-02}, {@code campaign:<id>}, {@code
 * agent-day:<agent>:2026-12-02}.
 */
public record Budgets(long monthlyCents, Long dailyCents, Long campaignCents, String timezone)
    implements CborSerializable {

  /** The budgets a campaign's sends fall under at {@code now}. */
  public List<SpendLedger.Budget> forCampaign(String campaignId, Instant now) {
    List<SpendLedger.Budget> out = tenant(now);
    if (campaignCents != null) {
      out.add(new SpendLedger.Budget("campaign:" + campaignId, Prices.micros(campaignCents)));
    }
    return out;
  }

  /** The budgets an agent's work falls under at {@code now}, with its daily budget (if any). */
  public List<SpendLedger.Budget> forAgent(String agent, Long agentDailyCents, Instant now) {
    List<SpendLedger.Budget> out = tenant(now);
    if (agentDailyCents != null) {
      out.add(
          new SpendLedger.Budget(
              "agent-day:" + agent + ":" + day(now), Prices.micros(agentDailyCents)));
    }
    return out;
  }

  private List<SpendLedger.Budget> tenant(Instant now) {
    List<SpendLedger.Budget> out = new ArrayList<>();
    ZonedDateTime local = now.atZone(zone());
    out.add(
        new SpendLedger.Budget(
            "tenant-month:" + local.format(DateTimeFormatter.ofPattern("yyyy-MM")),
            Prices.micros(monthlyCents)));
    if (dailyCents != null) {
      out.add(new SpendLedger.Budget("tenant-day:" + day(now), Prices.micros(dailyCents)));
    }
    return out;
  }

  private String day(Instant now) {
    return now.atZone(zone()).toLocalDate().toString();
  }

  private ZoneId zone() {
    try {
      return ZoneId.of(timezone);
    } catch (DateTimeException | NullPointerException e) {
      return ZoneOffset.UTC;
    }
  }

  /** The rule a recipient blocked by {@code bucket} names: {@code budget:campaign} and the like. */
  public static String rule(String bucket) {
    int colon = bucket.indexOf(':');
    return "budget:" + (colon < 0 ? bucket : bucket.substring(0, colon));
  }
}
