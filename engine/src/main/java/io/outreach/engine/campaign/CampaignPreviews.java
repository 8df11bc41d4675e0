package io.outreach.engine.campaign;

import io.outreach.engine.compliance.ContactLedger;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.tenant.Tenant;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Campaign previews: what launching a campaign now would do (a dry run, no side effects), fed a
 * page of 500 recipients at a time to a {@link CampaignPreview} with the same facts the send path
 * reads. Blocking: run it off actor and HTTP threads.
 */
public final class CampaignPreviews {
  private final Recipients recipients;
  private final ContactHistory history;
  private final ContactLedger ledger;
  private final ContactRules rules;
  private final CampaignSenders senders;
  private final Clock clock;

  public CampaignPreviews(
      Recipients recipients,
      ContactHistory history,
      ContactLedger ledger,
      ContactRules rules,
      CampaignSenders senders,
      Clock clock) {
    this.recipients = recipients;
    this.history = history;
    this.ledger = ledger;
    this.rules = rules;
    this.senders = senders;
    this.clock = clock;
  }

  /**
   * The preview of the campaign: of its snapshot if it was launched, else of its audience as it
   * stands; its cost at the price table's segment price of the campaign's provider.
   */
  public CampaignPreview.Result preview(
      String tenantId, String campaignId, CampaignDefinition d, Tenant tenant) {
    String provider = CampaignSenders.provider(d, tenant);
    Instant now = clock.instant();
    List<io.outreach.engine.compliance.FrequencyCap> caps = CampaignSenders.caps(tenant);
    ContactRules tenantRules = caps.isEmpty() ? rules : rules.withTenantCaps(caps);
    CampaignPreview preview =
        new CampaignPreview(
            tenantId,
            campaignId,
            d,
            CampaignPreview.startOf(d, now),
            senders.messagesPerSecond(tenant, provider),
            senders.prices().segment(provider));
    if (recipients.snapshotted(tenantId, campaignId)) {
      for (int b = 0; ; b++) {
        List<Recipient> page = recipients.block(tenantId, campaignId, b);
        if (page.isEmpty()) {
          break;
        }
        preview.add(
            page,
            ledger.planFacts(tenantId, phones(page), tenantRules, now),
            history.contacted(tenantId, phones(page)));
      }
    } else {
      long after = 0;
      long no = 0;
      while (true) {
        Recipients.Page page =
            recipients.audiencePage(tenantId, d.audience(), after, no, CampaignEntity.BLOCK_SIZE);
        if (page.recipients().isEmpty()) {
          break;
        }
        preview.add(
            page.recipients(),
            ledger.planFacts(tenantId, phones(page.recipients()), tenantRules, now),
            history.contacted(tenantId, phones(page.recipients())));
        after = page.last();
        no += page.recipients().size();
      }
    }
    return preview.result();
  }

  private static List<String> phones(List<Recipient> page) {
    return page.stream().map(Recipient::phone).filter(Objects::nonNull).toList();
  }
}
