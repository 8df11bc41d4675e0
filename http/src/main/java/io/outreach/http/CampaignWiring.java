package io.outreach.http;

import io.outreach.engine.campaign.BlockEntity;
import io.outreach.engine.campaign.BlockOutcome;
import io.outreach.engine.campaign.BlockPorts;
import io.outreach.engine.campaign.BlockSpec;
import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.campaign.CampaignPorts;
import io.outreach.engine.campaign.Recipient;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.compliance.KillSwitch;
import io.outreach.engine.compliance.KillSwitches;
import io.outreach.engine.compliance.PlatformSwitchboard;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import io.outreach.persistence.DncRepository;
import io.outreach.persistence.RecipientStore;
import io.outreach.persistence.ResumableWorkRepository;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/**
 * Connects the Campaign and Block entities to the world: recipients and DNC in PostgreSQL, kill
 * switches and suspension from the Tenant and PlatformSwitchboard entities, and the providers'
 * adapters. Registers both sharded entities.
 */
public final class CampaignWiring implements CampaignPorts, BlockPorts {
  /** The sender a tenant without configured senders uses in sandbox mode (API.md). */
  static final String SANDBOX_SHORT_CODE = "+15550100001";
  private static final Duration ASK = Duration.ofSeconds(10);

  private final ClusterSharding sharding;
  private final RecipientStore recipients;
  private final DncRepository dnc;
  private final Executor blocking;
  private final Supplier<Map<String, SmsProvider>> providers;
  private final Supplier<String> publicUrl;
  private final ResumableWorkRepository work;

  private CampaignWiring(
      ActorSystem<?> system,
      RecipientStore recipients,
      DncRepository dnc,
      Supplier<Map<String, SmsProvider>> providers,
      Supplier<String> publicUrl,
      ResumableWorkRepository work) {
    this.work = work;
    this.sharding = ClusterSharding.get(system);
    this.recipients = recipients;
    this.dnc = dnc;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.providers = providers;
    this.publicUrl = publicUrl;
  }

  /** Registers the Campaign and Block entities with these ports. */
  public static CampaignWiring init(
      ActorSystem<?> system,
      RecipientStore recipients,
      DncRepository dnc,
      Supplier<Map<String, SmsProvider>> providers,
      Supplier<String> publicUrl,
      ResumableWorkRepository work,
      int maxBlocksInFlight,
      int tagSlices) {
    CampaignWiring w = new CampaignWiring(system, recipients, dnc, providers, publicUrl, work);
    w.sharding.init(
        Entity.of(
            CampaignEntity.ENTITY_TYPE_KEY,
            ctx -> CampaignEntity.create(ctx.getEntityId(), w, Clock.systemUTC(), maxBlocksInFlight, tagSlices)));
    w.sharding.init(Entity.of(BlockEntity.ENTITY_TYPE_KEY, ctx -> BlockEntity.create(ctx.getEntityId(), w)));
    return w;
  }

  // ---- campaign ----

  @Override
  public CompletionStage<Long> snapshotAudience(
      String tenantId, String campaignId, CampaignDefinition.Audience audience) {
    return CompletableFuture.supplyAsync(() -> recipients.snapshot(tenantId, campaignId, audience), blocking);
  }

  @Override
  public void settled(String tenantId, String campaignId) {
    CompletableFuture.runAsync(
        () -> work.done(CampaignEntity.ENTITY_TYPE_KEY.name(), CampaignEntity.entityId(tenantId, campaignId)), blocking);
  }

  @Override
  public void startBlock(String tenantId, String campaignId, int block, CampaignDefinition d) {
    String provider = d.provider() == null ? "twilio" : d.provider();
    BlockSpec spec = new BlockSpec(tenantId, campaignId, block, d.channel(), provider, SANDBOX_SHORT_CODE, d.message());
    sharding.entityRefFor(BlockEntity.ENTITY_TYPE_KEY, spec.entityId()).tell(new BlockEntity.Start(spec));
  }

  // ---- block ----

  @Override
  public CompletionStage<List<Recipient>> recipients(BlockSpec spec) {
    return CompletableFuture.supplyAsync(
        () -> recipients.block(spec.tenantId(), spec.campaignId(), spec.block()), blocking);
  }

  @Override
  public CompletionStage<GateFacts> gateFacts(BlockSpec spec, List<String> phones) {
    CompletableFuture<Map<String, io.outreach.engine.dnc.DncRegistry.Listing>> listed =
        CompletableFuture.supplyAsync(() -> dnc.listed(spec.tenantId(), phones), blocking);
    return stops(spec.tenantId())
        .thenCombine(
            listed,
            // Opt-outs arrive with the inbound issue; until then nobody has opted out here.
            (stops, dncListed) -> new GateFacts(stops.switches(), stops.suspended(), dncListed, Set.of()));
  }

  /** What stops a tenant's contacts: engaged kill switches (platform and tenant), suspension. */
  private record TenantStops(List<KillSwitch> switches, boolean suspended) {}

  /** Asks the entities that own them, so an engagement that has returned is always seen. */
  private CompletionStage<TenantStops> stops(String tenantId) {
    CompletionStage<Tenant> tenant =
        sharding.entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId).askWithStatus(TenantEntity.Get::new, ASK);
    CompletionStage<KillSwitches> platform =
        sharding
            .entityRefFor(PlatformSwitchboard.ENTITY_TYPE_KEY, PlatformSwitchboard.ID)
            .askWithStatus(PlatformSwitchboard.Get::new, ASK);
    return tenant.thenCombine(
        platform,
        (t, p) -> {
          List<KillSwitch> switches = new ArrayList<>(p.all());
          switches.addAll(t.killSwitches().all());
          return new TenantStops(switches, t.status() == Tenant.Status.SUSPENDED);
        });
  }

  @Override
  public CompletionStage<java.util.Optional<String>> stopped(BlockSpec spec) {
    Contact contact = new Contact(spec.tenantId(), spec.campaignId(), null, spec.channel(), null);
    return stops(spec.tenantId())
        .thenApply(
            s -> {
              java.util.Optional<String> rule =
                  s.switches().stream().filter(k -> k.covers(contact)).map(k -> "kill-switch:" + k.scope().code()).findFirst();
              return rule.isPresent() || !s.suspended() ? rule : java.util.Optional.of("tenant-suspended");
            });
  }

  @Override
  public CompletionStage<Set<String>> contactedBefore(BlockSpec spec, List<String> phones) {
    // Conversations (inbound issue) will know; until then every first message of a campaign
    // carries the disclosure, which is never wrong, only sometimes repeated.
    return CompletableFuture.completedFuture(Set.of());
  }

  @Override
  public CompletionStage<SendResult> send(BlockSpec spec, SmsRequest request) {
    SmsProvider provider = providers.get().get(spec.provider());
    if (provider == null) {
      return CompletableFuture.completedFuture(
          new SendResult.Rejected(0, "no " + spec.provider() + " account is configured", false, java.util.Optional.empty()));
    }
    String callback =
        spec.provider().equals("twilio")
            ? publicUrl.get() + "/webhooks/twilio/" + spec.tenantId() + "/status"
            : publicUrl.get() + "/webhooks/signalhouse/" + spec.tenantId();
    return provider.send(
        new SmsRequest(request.tenantId(), request.from(), request.to(), request.body(), request.idempotencyKey(), callback));
  }

  @Override
  public void finished(BlockSpec spec, BlockOutcome outcome) {
    sharding
        .entityRefFor(CampaignEntity.ENTITY_TYPE_KEY, CampaignEntity.entityId(spec.tenantId(), spec.campaignId()))
        .tell(new CampaignEntity.BlockFinished(outcome));
  }
}
