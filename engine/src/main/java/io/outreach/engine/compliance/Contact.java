package io.outreach.engine.compliance;

import io.outreach.engine.campaign.CampaignDefinition.SendWindow;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Objects;

/**
 * One intended contact, as the ComplianceGate sees it: who would be contacted ({@code phone},
 * E.164, null when the lead has none), on which channel, on whose behalf (a campaign, or an agent
 * such as {@code cathy}; either may be null), and what legal hours apply to them: the recipient's
 * {@code zones} (all of them when the area code spans several), the two-letter {@code usState}
 * whose rules apply (null when unknown or outside the US) and the campaign's {@code window} (null
 * when it has none). {@code purpose} decides which rules hold; a {@link Purpose#FOLLOW_UP} carries
 * {@code firstMessageAt}, when the campaign first wrote to this person, which stop-on-reply
 * compares the person's last message with, and only a follow-up carries it.
 */
public record Contact(
    String tenantId,
    String campaignId,
    String agent,
    Channel channel,
    String phone,
    List<ZoneId> zones,
    String usState,
    SendWindow window,
    Purpose purpose,
    Instant firstMessageAt) {

  public Contact {
    zones = zones == null ? List.of() : List.copyOf(zones);
    Objects.requireNonNull(purpose, "purpose");
    if ((purpose == Purpose.FOLLOW_UP) != (firstMessageAt != null)) {
      throw new IllegalArgumentException(
          "firstMessageAt is required for a follow-up, and only for one");
    }
  }

  /**
   * A campaign's first message with no zones, state or window known: what callers that predate
   * legal hours build. {@link ComplianceGate#decide(Contact, GateFacts)} needs no more; the clocked
   * decision blocks it as {@code hours:no-zone}, since its local time is unknown.
   */
  public Contact(String tenantId, String campaignId, String agent, Channel channel, String phone) {
    this(
        tenantId, campaignId, agent, channel, phone, List.of(), null, null, Purpose.CAMPAIGN, null);
  }
}
