package io.outreach.engine.campaign;

import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.ComplianceGate;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.compliance.Purpose;
import io.outreach.engine.message.MessageTemplate;
import io.outreach.engine.message.OptOutDisclosure;
import io.outreach.engine.message.Rendered;
import io.outreach.engine.message.Segments;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A campaign's dry run, with no side effects: what launching it now would do, decided by the same
 * {@link ComplianceGate} on the same facts the send path reads, at the moment each recipient would
 * be sent. Recipients are taken in order at the senders' combined rate from the start; those
 * outside their legal hours are deferred to their opening. Fed a page of recipients at a time, so
 * memory does not grow with the audience.
 */
public final class CampaignPreview {
  /** The schedule is bucketed by minute, or by hour when it would have more entries than this. */
  static final int MAX_SCHEDULE_ENTRIES = 500;

  private final ComplianceGate gate = new ComplianceGate();
  private final String tenantId;
  private final String campaignId;
  private final CampaignDefinition definition;
  private final MessageTemplate template;
  private final long segmentMicros;
  private final double messagesPerSecond;
  private final Instant start;
  private final Map<BlockReason, Long> blocked = new EnumMap<>(BlockReason.class);
  private final TreeMap<Instant, Long> byMinute = new TreeMap<>();
  private final TreeMap<Instant, Long> deferredUntil = new TreeMap<>();
  private long recipients;
  private long eligible;
  private long deferred;
  private long micros;
  private Instant next;

  /** The outcome of a preview, as {@code GET /v1/campaigns/{id}/preview} reports it. */
  public record Result(
      long recipients,
      long eligible,
      Map<BlockReason, Long> blocked,
      long deferred,
      List<Slot> deferredUntil,
      long estimatedCostCents,
      List<Slot> schedule) {}

  /** A number of sends at (the start of) a minute or an hour. */
  public record Slot(Instant at, long count) {}

  /**
   * @param messagesPerSecond the combined rate of the senders the campaign would use
   * @param segmentMicros what one SMS segment costs through the campaign's provider, in
   *     micro-dollars
   */
  public CampaignPreview(
      String tenantId,
      String campaignId,
      CampaignDefinition definition,
      Instant start,
      double messagesPerSecond,
      long segmentMicros) {
    this.tenantId = tenantId;
    this.campaignId = campaignId;
    this.definition = definition;
    this.template = MessageTemplate.parse(definition.message());
    this.start = start;
    this.next = start;
    this.messagesPerSecond = Math.max(0.001, messagesPerSecond);
    this.segmentMicros = segmentMicros;
  }

  /** A contact as the send path would build it for a recipient's first message. */
  public Contact contactOf(Recipient r) {
    List<ZoneId> zones = new ArrayList<>();
    for (String z : r.timezones()) {
      try {
        zones.add(ZoneId.of(z));
      } catch (DateTimeException e) {
        // skipped, as the send path does
      }
    }
    return new Contact(
        tenantId,
        campaignId,
        null,
        definition.channel(),
        r.phone(),
        zones,
        r.state(),
        definition.window(),
        Purpose.CAMPAIGN,
        null);
  }

  /**
   * Adds a page of recipients (in recipient order) with the gate's facts for their numbers and
   * which of them the tenant has written to before: the plan-time checks, the template, then the
   * send-time rules at each one's turn.
   */
  public void add(List<Recipient> page, GateFacts facts, java.util.Set<String> contactedBefore) {
    Duration spacing = Duration.ofNanos((long) (1_000_000_000L / messagesPerSecond));
    for (Recipient r : page) {
      recipients++;
      Contact contact = contactOf(r);
      Decision planned = gate.decide(contact, facts);
      if (planned instanceof Decision.Block b && b.reason() != BlockReason.KILL_SWITCH) {
        blocked.merge(b.reason(), 1L, Long::sum);
        continue;
      }
      Rendered rendered = template.render(r.fields());
      if (rendered instanceof Rendered.Missing) {
        blocked.merge(BlockReason.INVALID, 1L, Long::sum);
        continue;
      }
      Decision atTurn = gate.decide(contact, facts, next);
      if (atTurn instanceof Decision.Block b) {
        blocked.merge(b.reason(), 1L, Long::sum);
        continue;
      }
      Instant at = next;
      if (atTurn instanceof Decision.Defer d) {
        deferred++;
        at = d.until();
        deferredUntil.merge(at.truncatedTo(ChronoUnit.MINUTES), 1L, Long::sum);
      } else {
        next = next.plus(spacing);
      }
      eligible++;
      byMinute.merge(at.truncatedTo(ChronoUnit.MINUTES), 1L, Long::sum);
      // The first message a person gets carries the disclosure, as the block will send it.
      String body = ((Rendered.Text) rendered).body();
      if (!contactedBefore.contains(r.phone())) {
        body = OptOutDisclosure.withDisclosure(body);
      }
      micros += Math.multiplyExact(segmentMicros, (long) Segments.count(body).segments());
    }
  }

  public Result result() {
    long cents = io.outreach.engine.spend.Prices.cents(micros);
    return new Result(
        recipients,
        eligible,
        Map.copyOf(blocked),
        deferred,
        slots(deferredUntil),
        cents,
        slots(byMinute));
  }

  private static List<Slot> slots(TreeMap<Instant, Long> byMinute) {
    TreeMap<Instant, Long> buckets = byMinute;
    if (byMinute.size() > MAX_SCHEDULE_ENTRIES) {
      buckets = new TreeMap<>();
      for (Map.Entry<Instant, Long> e : byMinute.entrySet()) {
        buckets.merge(e.getKey().truncatedTo(ChronoUnit.HOURS), e.getValue(), Long::sum);
      }
    }
    return buckets.entrySet().stream().map(e -> new Slot(e.getKey(), e.getValue())).toList();
  }

  /** When the preview starts: the campaign's start if it is later than now. */
  public static Instant startOf(CampaignDefinition d, Instant now) {
    return d.startAt() != null && d.startAt().isAfter(now) ? d.startAt() : now;
  }
}
