package io.outreach.http;

import io.outreach.engine.campaign.Attempt;
import io.outreach.engine.campaign.BlockEntity;
import io.outreach.engine.campaign.BlockOutcome;
import io.outreach.engine.campaign.BlockPorts;
import io.outreach.engine.campaign.BlockSpec;
import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.campaign.CampaignPorts;
import io.outreach.engine.campaign.Recipient;
import io.outreach.engine.campaign.Send;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.ContactLedger;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.compliance.KillSwitch;
import io.outreach.engine.compliance.KillSwitches;
import io.outreach.engine.compliance.PlatformSwitchboard;
import io.outreach.engine.dnc.DncRegistry;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import io.outreach.engine.tenant.Sender;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import io.outreach.persistence.DncRepository;
import io.outreach.persistence.RecipientStore;
import io.outreach.persistence.ResumableWorkRepository;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
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
 * Connects the Campaign and Block entities to the world: recipients and DNC in PostgreSQL, kill
 * switches, suspension and senders from the Tenant and PlatformSwitchboard entities, durable
 * wake-ups, and the providers' adapters. Registers both sharded entities.
 */
public final class CampaignWiring implements CampaignPorts, BlockPorts {
  private static final Logger log = LoggerFactory.getLogger(CampaignWiring.class);
  private static final Duration ASK = Duration.ofSeconds(10);
  static final Duration HOLD_RECHECK = Duration.ofSeconds(1);

  private final ClusterSharding sharding;
  private final RecipientStore recipients;
  private final DncRepository dnc;
  private final Executor blocking;
  private final Supplier<Map<String, SmsProvider>> providers;
  private final Supplier<String> publicUrl;
  private final ResumableWorkRepository work;
  private final boolean sandbox;
  private final ContactLedger ledger;
  private final ContactRules rules;
  private final Clock clock;

  private CampaignWiring(
      ActorSystem<?> system,
      RecipientStore recipients,
      DncRepository dnc,
      Supplier<Map<String, SmsProvider>> providers,
      Supplier<String> publicUrl,
      ResumableWorkRepository work,
      boolean sandbox,
      ContactLedger ledger,
      ContactRules rules,
      Clock clock) {
    this.work = work;
    this.ledger = ledger;
    this.rules = rules;
    this.clock = clock;
    this.sharding = ClusterSharding.get(system);
    this.recipients = recipients;
    this.dnc = dnc;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
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
      DncRepository dnc,
      Supplier<Map<String, SmsProvider>> providers,
      Supplier<String> publicUrl,
      ResumableWorkRepository work,
      boolean sandbox,
      ContactLedger ledger,
      ContactRules rules,
      Clock clock,
      int maxBlocksInFlight,
      int tagSlices) {
    CampaignWiring w =
        new CampaignWiring(system, recipients, dnc, providers, publicUrl, work, sandbox, ledger, rules, clock);
    w.sharding.init(
        Entity.of(
            CampaignEntity.ENTITY_TYPE_KEY,
            ctx -> CampaignEntity.create(ctx.getEntityId(), w, clock, maxBlocksInFlight, tagSlices)));
    w.sharding.init(
        Entity.of(BlockEntity.ENTITY_TYPE_KEY, ctx -> BlockEntity.create(ctx.getEntityId(), w, clock, tagSlices)));
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

  /** The provider a campaign uses: its own choice, else the tenant's first sender's, else Twilio. */
  static String provider(CampaignDefinition d, Tenant tenant) {
    if (d.provider() != null) {
      return d.provider();
    }
    return tenant.senders().isEmpty() ? "twilio" : tenant.senders().get(0).provider();
  }

  private CompletionStage<Tenant> tenant(String tenantId) {
    return sharding.entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId).askWithStatus(TenantEntity.Get::new, ASK);
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
    tenant(tenantId)
        .thenAccept(
            t -> {
              String provider = provider(d, t);
              List<String> senders = senders(t, provider);
              if (senders.isEmpty()) {
                // Launch refuses a campaign without senders; one that lost them since waits.
                log.warn("campaign {}:{} has no {} sender; block {} waits", tenantId, campaignId, provider, block);
                return;
              }
              BlockSpec spec =
                  new BlockSpec(tenantId, campaignId, block, d.channel(), provider, senders, d.message(), d.steps(), d.window());
              sharding.entityRefFor(BlockEntity.ENTITY_TYPE_KEY, spec.entityId()).tell(new BlockEntity.Start(spec));
            })
        .exceptionally(
            e -> {
              log.warn("block {} of {}:{} not started: {}", block, tenantId, campaignId, e.toString());
              return null;
            });
  }

  @Override
  public void tellBlock(String tenantId, String campaignId, int block, BlockEntity.Command command) {
    sharding.entityRefFor(BlockEntity.ENTITY_TYPE_KEY, tenantId + ":" + campaignId + ":" + block).tell(command);
  }

  // ---- block ----

  @Override
  public CompletionStage<List<Recipient>> recipients(BlockSpec spec) {
    return CompletableFuture.supplyAsync(
        () -> recipients.block(spec.tenantId(), spec.campaignId(), spec.block()), blocking);
  }

  @Override
  public CompletionStage<GateFacts> gateFacts(BlockSpec spec, List<String> phones) {
    CompletableFuture<Map<String, DncRegistry.Listing>> listed =
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
    CompletionStage<KillSwitches> platform =
        sharding
            .entityRefFor(PlatformSwitchboard.ENTITY_TYPE_KEY, PlatformSwitchboard.ID)
            .askWithStatus(PlatformSwitchboard.Get::new, ASK);
    return tenant(tenantId)
        .thenCombine(
            platform,
            (t, p) -> {
              List<KillSwitch> switches = new ArrayList<>(p.all());
              switches.addAll(t.killSwitches().all());
              return new TenantStops(switches, t.status() == Tenant.Status.SUSPENDED);
            });
  }

  @Override
  public CompletionStage<Permits> permits(BlockSpec spec, String sender, int wanted) {
    Contact contact = new Contact(spec.tenantId(), spec.campaignId(), null, spec.channel(), null);
    return stops(spec.tenantId())
        .thenApply(
            s -> {
              Optional<String> rule =
                  s.switches().stream().filter(k -> k.covers(contact)).map(k -> "kill-switch:" + k.scope().code()).findFirst();
              if (rule.isEmpty() && s.suspended()) {
                rule = Optional.of("tenant-suspended");
              }
              return rule.isPresent() ? Permits.held(rule.get(), HOLD_RECHECK) : Permits.granted(wanted);
            });
  }

  @Override
  public CompletionStage<Set<String>> contactedBefore(BlockSpec spec, List<String> phones) {
    // Conversations (inbound issue) will know; until then every first message of a campaign
    // carries the disclosure, which is never wrong, only sometimes repeated.
    return CompletableFuture.completedFuture(Set.of());
  }

  /**
   * Reserves the batch in the person ledger (the gate's send-time checks under each person's
   * lock) and starts the allowed calls inside that reservation.
   */
  @Override
  public CompletionStage<List<Attempt>> attempt(BlockSpec spec, List<Attempt.Request> batch) {
    return CompletableFuture.supplyAsync(
        () -> {
          Map<String, Send> byKey = new HashMap<>();
          List<ContactLedger.Candidate> candidates = new ArrayList<>();
          for (Attempt.Request r : batch) {
            byKey.put(r.send().idempotencyKey(), r.send());
            candidates.add(new ContactLedger.Candidate(r.contact(), r.send().idempotencyKey(), r.send().from()));
          }
          Map<String, CompletionStage<SendResult>> calls = new HashMap<>();
          List<Decision> decisions =
              ledger.reserve(
                  spec.tenantId(), candidates, rules, List.of(), clock.instant(),
                  c -> calls.put(c.key(), send(spec, byKey.get(c.key()))));
          List<Attempt> attempts = new ArrayList<>(batch.size());
          for (int i = 0; i < batch.size(); i++) {
            Send x = batch.get(i).send();
            Decision d = decisions.get(i);
            attempts.add(
                d instanceof Decision.Allow
                    ? new Attempt.Dispatched(x.recipient(), x.step(), calls.get(x.idempotencyKey()))
                    : new Attempt.Stopped(x.recipient(), x.step(), d));
          }
          return attempts;
        },
        blocking);
  }

  /** One provider call; the status callback names the message, so its receipts find it at once. */
  private CompletionStage<SendResult> send(BlockSpec spec, Send x) {
    SmsProvider provider = providers.get().get(spec.provider());
    if (provider == null) {
      return CompletableFuture.completedFuture(
          new SendResult.Rejected(0, "no " + spec.provider() + " account is configured", false, Optional.empty()));
    }
    String ref = "?ref=" + URLEncoder.encode(x.idempotencyKey(), StandardCharsets.UTF_8);
    String callback =
        spec.provider().equals("twilio")
            ? publicUrl.get() + "/webhooks/twilio/" + spec.tenantId() + "/status" + ref
            : publicUrl.get() + "/webhooks/signalhouse/" + spec.tenantId() + ref;
    return provider.send(new SmsRequest(spec.tenantId(), x.from(), x.to(), x.body(), x.idempotencyKey(), callback));
  }

  private void tellCampaign(BlockSpec spec, CampaignEntity.Command command) {
    sharding
        .entityRefFor(CampaignEntity.ENTITY_TYPE_KEY, CampaignEntity.entityId(spec.tenantId(), spec.campaignId()))
        .tell(command);
  }

  @Override
  public void progress(BlockSpec spec, BlockOutcome outcome) {
    tellCampaign(spec, new CampaignEntity.BlockProgress(outcome));
  }

  @Override
  public void finished(BlockSpec spec, BlockOutcome outcome) {
    tellCampaign(spec, new CampaignEntity.BlockFinished(outcome));
  }

  @Override
  public void completed(BlockSpec spec, BlockOutcome outcome) {
    CompletableFuture.runAsync(() -> work.done(BlockEntity.ENTITY_TYPE_KEY.name(), spec.entityId()), blocking);
    tellCampaign(spec, new CampaignEntity.BlockDone(outcome));
  }

  @Override
  public void wakeAt(BlockSpec spec, Optional<Instant> at) {
    CompletableFuture.runAsync(() -> work.wakeAt(BlockEntity.ENTITY_TYPE_KEY.name(), spec.entityId(), at), blocking)
        .exceptionally(
            e -> {
              log.warn("could not store the wake-up of block {}: {}", spec.entityId(), e.toString());
              return null;
            });
  }
}
