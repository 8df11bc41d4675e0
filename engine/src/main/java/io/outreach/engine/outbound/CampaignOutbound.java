package io.outreach.engine.outbound;

import io.outreach.engine.ResumableWork;
import io.outreach.engine.campaign.Attempt;
import io.outreach.engine.campaign.BlockEntity;
import io.outreach.engine.campaign.BlockOutcome;
import io.outreach.engine.campaign.BlockPorts;
import io.outreach.engine.campaign.BlockSpec;
import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.campaign.CampaignPorts;
import io.outreach.engine.campaign.CampaignSenders;
import io.outreach.engine.campaign.ContactHistory;
import io.outreach.engine.campaign.Recipient;
import io.outreach.engine.campaign.Recipients;
import io.outreach.engine.campaign.Send;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.ComplianceGate;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.ContactLedger;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.FollowUpPolicy;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.compliance.KillSwitch;
import io.outreach.engine.compliance.KillSwitches;
import io.outreach.engine.compliance.PlatformSwitchboard;
import io.outreach.engine.compliance.Purpose;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.ProviderThrottle;
import io.outreach.engine.spend.SpendLedger;
import io.outreach.engine.tenant.AgentPolicy;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The campaign side of the outbound path: what the Campaign and Block entities need from outside.
 * Recipients and their facts come from storage ports; senders, caps and permits from the tenant
 * (its settings, its kill switches and throttles); every call leaves through the {@link OneWayOut};
 * durable wake-ups are rows of {@link ResumableWork}. The entities reach each other through
 * sharding.
 */
public final class CampaignOutbound implements CampaignPorts, BlockPorts {
  private static final Logger log = LoggerFactory.getLogger(CampaignOutbound.class);

  private final ClusterSharding sharding;
  private final Recipients recipients;
  private final ContactHistory history;
  private final ResumableWork work;
  private final ContactLedger ledger;
  private final ContactRules rules;
  private final CampaignSenders senders;
  private final OneWayOut out;
  private final SpendLedger spend;
  private final Clock clock;
  private final Duration askTimeout;
  private final Executor blocking;

  /**
   * @param blocking where the storage ports' blocking calls run
   * @param askTimeout how long to wait for the tenant's answer
   */
  public CampaignOutbound(
      ClusterSharding sharding,
      Recipients recipients,
      ContactHistory history,
      ResumableWork work,
      ContactLedger ledger,
      ContactRules rules,
      CampaignSenders senders,
      OneWayOut out,
      SpendLedger spend,
      Clock clock,
      Duration askTimeout,
      Executor blocking) {
    this.sharding = sharding;
    this.recipients = recipients;
    this.history = history;
    this.work = work;
    this.ledger = ledger;
    this.rules = rules;
    this.senders = senders;
    this.out = out;
    this.spend = spend;
    this.clock = clock;
    this.askTimeout = askTimeout;
    this.blocking = blocking;
  }

  private CompletionStage<Tenant> tenant(String tenantId) {
    return sharding
        .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
        .askWithStatus(TenantEntity.Get::new, askTimeout);
  }

  // ---- campaign ----

  @Override
  public CompletionStage<Long> snapshotAudience(
      String tenantId, String campaignId, CampaignDefinition.Audience audience) {
    return CompletableFuture.supplyAsync(
        () -> recipients.snapshot(tenantId, campaignId, audience), blocking);
  }

  @Override
  public void settled(String tenantId, String campaignId) {
    CompletableFuture.runAsync(
        () ->
            work.done(
                CampaignEntity.ENTITY_TYPE_KEY.name(),
                CampaignEntity.entityId(tenantId, campaignId)),
        blocking);
  }

  @Override
  public void startBlock(String tenantId, String campaignId, int block, CampaignDefinition d) {
    tenant(tenantId)
        .thenAccept(
            t -> {
              Optional<BlockSpec> spec = senders.spec(tenantId, campaignId, block, d, t);
              if (spec.isEmpty()) {
                // Launch refuses a campaign without senders; one that lost them since waits.
                log.warn(
                    "campaign {}:{} has no {} sender; block {} waits",
                    tenantId,
                    campaignId,
                    CampaignSenders.provider(d, t),
                    block);
                return;
              }
              block(spec.get().entityId()).tell(new BlockEntity.Start(spec.get()));
            })
        .exceptionally(
            e -> {
              log.warn(
                  "block {} of {}:{} not started: {}", block, tenantId, campaignId, e.toString());
              return null;
            });
  }

  @Override
  public void tellBlock(
      String tenantId, String campaignId, int block, BlockEntity.Command command) {
    block(BlockSpec.entityId(tenantId, campaignId, block)).tell(command);
  }

  private org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef<BlockEntity.Command> block(
      String entityId) {
    return sharding.entityRefFor(BlockEntity.ENTITY_TYPE_KEY, entityId);
  }

  // ---- block ----

  @Override
  public CompletionStage<List<Recipient>> recipients(BlockSpec spec) {
    return CompletableFuture.supplyAsync(
        () -> recipients.block(spec.tenantId(), spec.campaignId(), spec.block()), blocking);
  }

  @Override
  public ContactRules rules(BlockSpec spec) {
    return spec.rules(rules);
  }

  @Override
  public CompletionStage<GateFacts> gateFacts(BlockSpec spec, List<String> phones) {
    return CompletableFuture.supplyAsync(
        () -> ledger.planFacts(spec.tenantId(), phones, spec.rules(rules), clock.instant()),
        blocking);
  }

  @Override
  public CompletionStage<Permits> permits(BlockSpec spec, String sender, int wanted) {
    // A call's lane is the account's calls lane; a message's its sender number.
    Channel channel =
        ProviderThrottle.CALLS.equals(sender) ? Channel.VOICE : textChannel(spec.channel());
    return out.permits(
        spec.tenantId(), spec.provider(), sender, spec.campaignId(), null, channel, wanted);
  }

  /** The channel of a block's messages: SMS, also in a call campaign that follows up by text. */
  private static Channel textChannel(Channel campaign) {
    return campaign == Channel.VOICE ? Channel.SMS : campaign;
  }

  @Override
  public CompletionStage<Optional<String>> followUpsHeld(BlockSpec spec) {
    CompletionStage<KillSwitches> platform =
        sharding
            .entityRefFor(PlatformSwitchboard.ENTITY_TYPE_KEY, PlatformSwitchboard.ID)
            .askWithStatus(PlatformSwitchboard.Get::new, askTimeout);
    return tenant(spec.tenantId())
        .thenCombine(
            platform,
            (Tenant t, KillSwitches p) -> {
              List<KillSwitch> switches = new ArrayList<>(p.all());
              switches.addAll(t.killSwitches().all());
              Contact cathy =
                  new Contact(
                      t.id(),
                      spec.campaignId(),
                      FollowUpPolicy.AGENT,
                      spec.channel(),
                      null,
                      List.of(),
                      null,
                      null,
                      Purpose.AGENT,
                      null);
              Optional<String> hold =
                  ComplianceGate.hold(cathy, switches, t.status() == Tenant.Status.SUSPENDED);
              AgentPolicy policy = t.agentPolicies().get(FollowUpPolicy.AGENT);
              return hold.isEmpty() && policy != null && !policy.enabled()
                  ? Optional.of("agent-disabled")
                  : hold;
            });
  }

  /**
   * Numbers a campaign of the tenant has sent to before: their first message carried the opt-out
   * disclosure already.
   */
  @Override
  public CompletionStage<Set<String>> contactedBefore(BlockSpec spec, List<String> phones) {
    return CompletableFuture.supplyAsync(
        () -> history.contacted(spec.tenantId(), phones), blocking);
  }

  /** A permitted batch through the one way out. */
  @Override
  public CompletionStage<List<Attempt>> attempt(
      BlockSpec spec, List<Attempt.Request> batch, Permits permits) {
    List<OneWayOut.Outbound> outbound =
        batch.stream()
            .map(
                r ->
                    new OneWayOut.Outbound(
                        r.contact(), r.send().from(), r.send().body(), r.send().idempotencyKey()))
            .toList();
    return out.attempt(spec.tenantId(), spec.provider(), outbound, permits, spec.rules(rules))
        .thenApply(
            results -> {
              List<Attempt> attempts = new ArrayList<>(batch.size());
              for (int i = 0; i < batch.size(); i++) {
                Send x = batch.get(i).send();
                OneWayOut.Result r = results.get(i);
                attempts.add(
                    r instanceof OneWayOut.Result.Called c
                        ? new Attempt.Dispatched(x.recipient(), x.step(), c.answer())
                        : r instanceof OneWayOut.Result.Stopped st
                            ? new Attempt.Stopped(x.recipient(), x.step(), st.decision())
                            : new Attempt.Returned(x.recipient(), x.step()));
              }
              return attempts;
            });
  }

  // ---- spend ----

  /** The block's reservation: one per block, grown by each plan or batch of follow-ups. */
  private static String reservation(BlockSpec spec) {
    return spec.entityId();
  }

  @Override
  public CompletionStage<SpendLedger.Grant> reserve(
      BlockSpec spec, String requestKey, long micros) {
    return CompletableFuture.supplyAsync(
        () ->
            spend.reserve(
                spec.tenantId(),
                reservation(spec),
                requestKey,
                spec.budgets().forCampaign(spec.campaignId(), clock.instant()),
                micros,
                spec.campaignId(),
                null),
        blocking);
  }

  @Override
  public CompletionStage<Void> charge(BlockSpec spec, List<SpendLedger.Charge> charges) {
    return CompletableFuture.runAsync(
        () -> {
          for (SpendLedger.Alert a : spend.commit(spec.tenantId(), reservation(spec), charges)) {
            log.info(
                "tenant {} campaign {}: budget {} at {}%",
                spec.tenantId(), spec.campaignId(), a.bucket(), a.percent());
          }
        },
        blocking);
  }

  @Override
  public CompletionStage<Void> release(BlockSpec spec, List<SpendLedger.Charge> holds) {
    return CompletableFuture.runAsync(
        () -> spend.release(spec.tenantId(), reservation(spec), holds), blocking);
  }

  private void tellCampaign(BlockSpec spec, CampaignEntity.Command command) {
    sharding
        .entityRefFor(
            CampaignEntity.ENTITY_TYPE_KEY,
            CampaignEntity.entityId(spec.tenantId(), spec.campaignId()))
        .tell(command);
  }

  @Override
  public void progress(BlockSpec spec, BlockOutcome outcome) {
    tellCampaign(spec, new CampaignEntity.BlockProgress(outcome));
  }

  @Override
  public void waiting(BlockSpec spec, BlockOutcome outcome) {
    tellCampaign(spec, new CampaignEntity.BlockWaiting(outcome));
  }

  @Override
  public void due(BlockSpec spec) {
    tellCampaign(spec, new CampaignEntity.BlockDue(spec.block()));
  }

  @Override
  public void finished(BlockSpec spec, BlockOutcome outcome) {
    tellCampaign(spec, new CampaignEntity.BlockFinished(outcome));
  }

  @Override
  public void completed(BlockSpec spec, BlockOutcome outcome) {
    CompletableFuture.runAsync(
        () -> work.done(BlockEntity.ENTITY_TYPE_KEY.name(), spec.entityId()), blocking);
    tellCampaign(spec, new CampaignEntity.BlockDone(outcome));
  }

  @Override
  public void wakeAt(BlockSpec spec, Optional<Instant> at) {
    CompletableFuture.runAsync(
            () -> work.wakeAt(BlockEntity.ENTITY_TYPE_KEY.name(), spec.entityId(), at), blocking)
        .exceptionally(
            e -> {
              log.warn(
                  "could not store the wake-up of block {}: {}", spec.entityId(), e.toString());
              return null;
            });
  }
}
