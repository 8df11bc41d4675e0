package io.outreach.http;

import io.outreach.engine.campaign.Attempt;
import io.outreach.engine.campaign.BlockEntity;
import io.outreach.engine.campaign.BlockOutcome;
import io.outreach.engine.campaign.BlockPorts;
import io.outreach.engine.campaign.BlockSpec;
import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.campaign.CampaignPorts;
import io.outreach.engine.campaign.CampaignPreview;
import io.outreach.engine.campaign.Recipient;
import io.outreach.engine.campaign.Send;
import io.outreach.engine.compliance.ContactLedger;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.tenant.Sender;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import io.outreach.persistence.RecipientStore;
import io.outreach.persistence.ResumableWorkRepository;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects the Campaign and Block entities to the world: recipients and the person ledger in
 * PostgreSQL, senders and permits from the Tenant entity (kill switches, suspension, throttles),
 * durable wake-ups, and the providers' adapters. Registers both sharded entities.
 */
public final class CampaignWiring implements CampaignPorts, BlockPorts {
  private static final Logger log = LoggerFactory.getLogger(CampaignWiring.class);
  private static final Duration ASK = Duration.ofSeconds(10);

  private final ClusterSharding sharding;
  private final RecipientStore recipients;
  private final Executor blocking;
  private final Supplier<Map<String, SmsProvider>> providers;
  private final Supplier<String> publicUrl;
  private final ResumableWorkRepository work;
  private final boolean sandbox;
  private final ContactLedger ledger;
  private final ContactRules rules;
  private final Clock clock;
  private final OneWayOut out;
  private final io.outreach.persistence.CampaignReadModel readModel;

  private CampaignWiring(
      ActorSystem<?> system,
      RecipientStore recipients,
      Supplier<Map<String, SmsProvider>> providers,
      Supplier<String> publicUrl,
      ResumableWorkRepository work,
      boolean sandbox,
      ContactLedger ledger,
      ContactRules rules,
      Clock clock,
      OneWayOut out,
      io.outreach.persistence.CampaignReadModel readModel) {
    this.work = work;
    this.ledger = ledger;
    this.rules = rules;
    this.clock = clock;
    this.sharding = ClusterSharding.get(system);
    this.recipients = recipients;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.out = out;
    this.readModel = readModel;
    this.providers = providers;
    this.publicUrl = publicUrl;
    this.sandbox = sandbox;
  }

  /**
   * Registers the Campaign and Block entities with these ports. {@code sandbox}: the providers are
   * the sandbox twins, so a tenant without senders sends from the sandbox short code.
   */
  public static CampaignWiring init(
      ActorSystem<?> system,
      RecipientStore recipients,
      Supplier<Map<String, SmsProvider>> providers,
      Supplier<String> publicUrl,
      ResumableWorkRepository work,
      boolean sandbox,
      ContactLedger ledger,
      ContactRules rules,
      Clock clock,
      OneWayOut out,
      io.outreach.persistence.CampaignReadModel readModel,
      int maxBlocksInFlight,
      int tagSlices) {
    CampaignWiring w =
        new CampaignWiring(
            system,
            recipients,
            providers,
            publicUrl,
            work,
            sandbox,
            ledger,
            rules,
            clock,
            out,
            readModel);
    w.sharding.init(
        Entity.of(
            CampaignEntity.ENTITY_TYPE_KEY,
            ctx ->
                CampaignEntity.create(ctx.getEntityId(), w, clock, maxBlocksInFlight, tagSlices)));
    w.sharding.init(
        Entity.of(
            BlockEntity.ENTITY_TYPE_KEY,
            ctx -> BlockEntity.create(ctx.getEntityId(), w, clock, tagSlices)));
    return w;
  }

  /** The senders a tenant's campaign on {@code provider} uses; empty when it has none. */
  List<String> senders(Tenant tenant, String provider) {
    List<String> own = tenant.senders(provider).stream().map(Sender::from).toList();
    if (own.isEmpty() && sandbox && Sender.SANDBOX.provider().equals(provider)) {
      return List.of(Sender.SANDBOX.from());
    }
    return own;
  }

  static List<io.outreach.engine.compliance.FrequencyCap> caps(Tenant t) {
    return t.frequencyCaps().stream().map(io.outreach.engine.tenant.ContactCap::toCap).toList();
  }

  /**
   * The provider a campaign uses: its own choice, else the tenant's first sender's, else Twilio.
   */
  static String provider(CampaignDefinition d, Tenant tenant) {
    if (d.provider() != null) {
      return d.provider();
    }
    return tenant.senders().isEmpty() ? "twilio" : tenant.senders().get(0).provider();
  }

  private CompletionStage<Tenant> tenant(String tenantId) {
    return sharding
        .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
        .askWithStatus(TenantEntity.Get::new, ASK);
  }

  // ---- preview ----

  /**
   * What launching the campaign now would do (a dry run, no side effects): its snapshot if it was
   * launched, else its audience as it stands, a page of 500 at a time. Blocking.
   */
  CampaignPreview.Result preview(
      String tenantId,
      String campaignId,
      CampaignDefinition d,
      Tenant tenant,
      java.math.BigDecimal centsPerSegment) {
    String provider = provider(d, tenant);
    double mps = 0;
    for (String sender : senders(tenant, provider)) {
      mps +=
          tenant.senders(provider).stream()
              .filter(s -> s.from().equals(sender))
              .findFirst()
              .map(Sender::messagesPerSecond)
              .orElse(Sender.SANDBOX.messagesPerSecond());
    }
    Instant now = clock.instant();
    ContactRules tenantRules = caps(tenant).isEmpty() ? rules : rules.withTenantCaps(caps(tenant));
    CampaignPreview preview =
        new CampaignPreview(
            tenantId, campaignId, d, CampaignPreview.startOf(d, now), mps, centsPerSegment);
    if (recipients.snapshotted(tenantId, campaignId)) {
      for (int b = 0; ; b++) {
        List<Recipient> page = recipients.block(tenantId, campaignId, b);
        if (page.isEmpty()) {
          break;
        }
        preview.add(page, ledger.planFacts(tenantId, phones(page), tenantRules, now));
      }
    } else {
      long after = 0;
      long no = 0;
      while (true) {
        RecipientStore.Page page =
            recipients.audiencePage(tenantId, d.audience(), after, no, CampaignEntity.BLOCK_SIZE);
        if (page.recipients().isEmpty()) {
          break;
        }
        preview.add(
            page.recipients(),
            ledger.planFacts(tenantId, phones(page.recipients()), tenantRules, now));
        after = page.last();
        no += page.recipients().size();
      }
    }
    return preview.result();
  }

  private static List<String> phones(List<Recipient> page) {
    return page.stream().map(Recipient::phone).filter(java.util.Objects::nonNull).toList();
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
              String provider = provider(d, t);
              List<String> senders = senders(t, provider);
              if (senders.isEmpty()) {
                // Launch refuses a campaign without senders; one that lost them since waits.
                log.warn(
                    "campaign {}:{} has no {} sender; block {} waits",
                    tenantId,
                    campaignId,
                    provider,
                    block);
                return;
              }
              BlockSpec spec =
                  new BlockSpec(
                      tenantId,
                      campaignId,
                      block,
                      d.channel(),
                      provider,
                      senders,
                      d.message(),
                      d.steps(),
                      d.window(),
                      caps(t));
              sharding
                  .entityRefFor(BlockEntity.ENTITY_TYPE_KEY, spec.entityId())
                  .tell(new BlockEntity.Start(spec));
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
    sharding
        .entityRefFor(BlockEntity.ENTITY_TYPE_KEY, tenantId + ":" + campaignId + ":" + block)
        .tell(command);
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
    return out.permits(
        spec.tenantId(), spec.provider(), sender, spec.campaignId(), null, spec.channel(), wanted);
  }

  /**
   * Numbers a campaign of the tenant has sent to before: their first message carried the opt-out
   * disclosure already.
   */
  @Override
  public CompletionStage<Set<String>> contactedBefore(BlockSpec spec, List<String> phones) {
    return CompletableFuture.supplyAsync(
        () -> readModel.contacted(spec.tenantId(), phones), blocking);
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
