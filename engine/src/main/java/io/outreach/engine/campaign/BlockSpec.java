package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.FollowUpPolicy;
import io.outreach.engine.compliance.FrequencyCap;
import io.outreach.engine.spend.Budgets;
import java.util.List;

/**
 * What a block needs to run, handed over by its campaign: whose recipients (block {@code block} of
 * the campaign's snapshot), which messages (step 0 and the follow-ups), through which provider and
 * from which sender numbers, in which local window, under the tenant's own frequency caps (empty:
 * the engine's defaults), under which budgets ({@code null}: a block started before spend control,
 * not budgeted), what one segment costs ({@code segmentMicros}) and one started minute of a call
 * ({@code minuteMicros}). A step is a call when its channel is voice ({@link #isCall}).
 */
public record BlockSpec(
    String tenantId,
    String campaignId,
    int block,
    Channel channel,
    String provider,
    List<String> senders,
    String message,
    List<CampaignDefinition.FollowUpStep> steps,
    CampaignDefinition.SendWindow window,
    List<FrequencyCap> frequencyCaps,
    Budgets budgets,
    long segmentMicros,
    FollowUpPolicy followUpPolicy,
    long minuteMicros)
    implements CborSerializable {

  /** A spec without calls priced (blocks started before voice). */
  public BlockSpec(
      String tenantId,
      String campaignId,
      int block,
      Channel channel,
      String provider,
      List<String> senders,
      String message,
      List<CampaignDefinition.FollowUpStep> steps,
      CampaignDefinition.SendWindow window,
      List<FrequencyCap> frequencyCaps,
      Budgets budgets,
      long segmentMicros,
      FollowUpPolicy followUpPolicy) {
    this(
        tenantId,
        campaignId,
        block,
        channel,
        provider,
        senders,
        message,
        steps,
        window,
        frequencyCaps,
        budgets,
        segmentMicros,
        followUpPolicy,
        0);
  }

  /** A spec without Cathy's guardrails (blocks started before them). */
  public BlockSpec(
      String tenantId,
      String campaignId,
      int block,
      Channel channel,
      String provider,
      List<String> senders,
      String message,
      List<CampaignDefinition.FollowUpStep> steps,
      CampaignDefinition.SendWindow window,
      List<FrequencyCap> frequencyCaps,
      Budgets budgets,
      long segmentMicros) {
    this(
        tenantId,
        campaignId,
        block,
        channel,
        provider,
        senders,
        message,
        steps,
        window,
        frequencyCaps,
        budgets,
        segmentMicros,
        null);
  }

  /** A spec whose sends are not priced or budgeted (blocks started before spend control). */
  public BlockSpec(
      String tenantId,
      String campaignId,
      int block,
      Channel channel,
      String provider,
      List<String> senders,
      String message,
      List<CampaignDefinition.FollowUpStep> steps,
      CampaignDefinition.SendWindow window,
      List<FrequencyCap> frequencyCaps) {
    this(
        tenantId,
        campaignId,
        block,
        channel,
        provider,
        senders,
        message,
        steps,
        window,
        frequencyCaps,
        null,
        0);
  }

  /** Whether the block's sends are reserved and charged against the tenant's budgets. */
  public boolean budgeted() {
    return budgets != null;
  }

  /**
   * What a send is expected to cost through the block's provider, in micro-dollars: a message its
   * segments, a call the started minutes it is expected to take (its actual cost comes with its
   * final status).
   */
  public long cost(Send x) {
    return isCall(x.step())
        ? Math.multiplyExact(minuteMicros, io.outreach.engine.spend.CallMinutes.estimated(x.body()))
        : cost(x.body());
  }

  /**
   * What the spend ledger holds for a send until its cost is known, in micro-dollars: a message its
   * cost; a call the most it can cost, the started minutes of its limit ({@link
   * io.outreach.engine.spend.CallMinutes#limit}), at which the provider ends it.
   */
  public long reserved(Send x) {
    return isCall(x.step())
        ? Math.multiplyExact(minuteMicros, io.outreach.engine.spend.CallMinutes.limit(x.body()))
        : cost(x.body());
  }

  /** The channel of step {@code step}: the campaign's, unless the follow-up names its own. */
  public Channel channel(int step) {
    if (step == 0 || step > steps.size() || steps.get(step - 1).channel() == null) {
      return channel;
    }
    return steps.get(step - 1).channel();
  }

  /** Whether step {@code step} is a call. */
  public boolean isCall(int step) {
    return channel(step) == Channel.VOICE;
  }

  /**
   * The throttle lane of a send: its sender number for a message; for a call the account's one
   * calls-per-second lane ({@link io.outreach.engine.provider.ProviderThrottle#CALLS}).
   */
  public String lane(Send x) {
    return isCall(x.step()) ? io.outreach.engine.provider.ProviderThrottle.CALLS : x.from();
  }

  /** What a message of this body costs through the block's provider, in micro-dollars. */
  public long cost(String body) {
    return Math.multiplyExact(
        segmentMicros, (long) io.outreach.engine.message.Segments.count(body).segments());
  }

  public BlockSpec {
    senders = List.copyOf(senders);
    steps = steps == null ? List.of() : List.copyOf(steps);
    frequencyCaps = frequencyCaps == null ? List.of() : List.copyOf(frequencyCaps);
    if (senders.isEmpty()) {
      throw new IllegalArgumentException("a block needs at least one sender");
    }
  }

  /** The id of this block's entity. */
  public String entityId() {
    return entityId(tenantId, campaignId, block);
  }

  /** The id of block {@code block}'s entity of the campaign: {@code tenant:campaign:block}. */
  public static String entityId(String tenantId, String campaignId, int block) {
    return CampaignEntity.entityId(tenantId, campaignId) + ":" + block;
  }

  /** The provider idempotency key of a recipient's step: {@code campaignId:recipient:step}. */
  public String idempotencyKey(long recipient, int step) {
    return campaignId + ":" + recipient + ":" + step;
  }

  /**
   * The rules this block's contacts are decided by: {@code rules} with the tenant's own caps and
   * Cathy's guardrails over follow-ups.
   */
  public io.outreach.engine.compliance.ContactRules rules(
      io.outreach.engine.compliance.ContactRules rules) {
    io.outreach.engine.compliance.ContactRules own =
        frequencyCaps.isEmpty() ? rules : rules.withTenantCaps(frequencyCaps);
    return followUpPolicy == null ? own : own.withFollowUps(followUpPolicy);
  }

  /**
   * The number of messages a recipient can get: the first and each follow-up, no more follow-ups
   * than Cathy allows.
   */
  public int stepCount() {
    int followUps =
        followUpPolicy == null
            ? steps.size()
            : Math.min(steps.size(), followUpPolicy.maxFollowUps());
    return 1 + followUps;
  }

  /** The template of step {@code step} (0 is the campaign's message). */
  public String message(int step) {
    return step == 0 ? message : steps.get(step - 1).message();
  }

  /**
   * The sender of a number: the same for a number every time (rendezvous hashing over the senders,
   * so adding a sender moves only the numbers it wins and removing one only its own).
   */
  public String senderFor(String phone) {
    return StickySender.choose(senders, phone);
  }
}
