package io.outreach.http;

import io.outreach.engine.campaign.Attempt;
import io.outreach.engine.campaign.BlockEntity;
import io.outreach.engine.campaign.BlockOutcome;
import io.outreach.engine.campaign.BlockPorts;
import io.outreach.engine.campaign.BlockSpec;
import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.campaign.CampaignPreview;
import io.outreach.engine.campaign.CampaignPorts;
import io.outreach.engine.campaign.Recipient;
import io.outreach.engine.campaign.Send;
import io.outreach.engine.compliance.ContactLedger;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.provider.DispatchPacer;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.ProviderThrottle;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import io.outreach.engine.tenant.Sender;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
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
  private final DispatchPacer pacer = new DispatchPacer();
  // Send-time checks and dispatch have threads of their own: a queue behind other blocking work
  // (reads, loads) would hold permitted calls back and release them in a bunch.
  private final Executor sends;

  private CampaignWiring(
      ActorSystem<?> system,
      RecipientStore recipients,
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
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.sends = system.dispatchers().lookup(DispatcherSelector.fromConfig("outreach.sends-dispatcher"));
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
      int maxBlocksInFlight,
      int tagSlices) {
    CampaignWiring w =
        new CampaignWiring(system, recipients, providers, publicUrl, work, sandbox, ledger, rules, clock);
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

  static List<io.outreach.engine.compliance.FrequencyCap> caps(Tenant t) {
    return t.frequencyCaps().stream().map(io.outreach.engine.tenant.ContactCap::toCap).toList();
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

  // ---- preview ----

  /**
   * What launching the campaign now would do (a dry run, no side effects): its snapshot if it was
   * launched, else its audience as it stands, a page of 500 at a time. Blocking.
   */
  CampaignPreview.Result preview(
      String tenantId, String campaignId, CampaignDefinition d, Tenant tenant, java.math.BigDecimal centsPerSegment) {
    String provider = provider(d, tenant);
    double mps = 0;
    for (String sender : senders(tenant, provider)) {
      mps +=
          tenant.senders(provider).stream().filter(s -> s.from().equals(sender)).findFirst()
              .map(Sender::messagesPerSecond).orElse(Sender.SANDBOX.messagesPerSecond());
    }
    Instant now = clock.instant();
    ContactRules tenantRules = caps(tenant).isEmpty() ? rules : rules.withTenantCaps(caps(tenant));
    CampaignPreview preview =
        new CampaignPreview(tenantId, campaignId, d, CampaignPreview.startOf(d, now), mps, centsPerSegment);
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
        RecipientStore.Page page = recipients.audiencePage(tenantId, d.audience(), after, no, CampaignEntity.BLOCK_SIZE);
        if (page.recipients().isEmpty()) {
          break;
        }
        preview.add(page.recipients(), ledger.planFacts(tenantId, phones(page.recipients()), tenantRules, now));
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
                  new BlockSpec(
                      tenantId, campaignId, block, d.channel(), provider, senders, d.message(), d.steps(), d.window(),
                      caps(t));
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
    return CompletableFuture.supplyAsync(
        () -> ledger.planFacts(spec.tenantId(), phones, spec.rules(rules), clock.instant()), blocking);
  }

  @Override
  public CompletionStage<Permits> permits(BlockSpec spec, String sender, int wanted) {
    return sharding
        .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, spec.tenantId())
        .ask(
            r -> new TenantEntity.AcquirePermits(spec.provider(), sender, spec.campaignId(), null, spec.channel(), wanted, r),
            ASK);
  }

  @Override
  public CompletionStage<Set<String>> contactedBefore(BlockSpec spec, List<String> phones) {
    // Conversations (inbound issue) will know; until then every first message of a campaign
    // carries the disclosure, which is never wrong, only sometimes repeated.
    return CompletableFuture.completedFuture(Set.of());
  }

  /**
   * Reserves the batch in the person ledger (the gate's send-time checks under each person's
   * lock) and starts the allowed calls inside that reservation, while their permits' lease
   * lasts. Every permit ends at its throttle: with the call's outcome, or unused.
   */
  @Override
  public CompletionStage<List<Attempt>> attempt(BlockSpec spec, List<Attempt.Request> batch, Permits permits) {
    return CompletableFuture.supplyAsync(
            () -> {
              Map<String, CompletionStage<SendResult>> calls = new HashMap<>();
              List<Attempt> attempts = new ArrayList<>(batch.size());
              if (!batch.isEmpty() && permits.usableAt(clock.instant())) {
                Map<String, Send> byKey = new HashMap<>();
                List<ContactLedger.Candidate> candidates = new ArrayList<>();
                for (Attempt.Request r : batch) {
                  byKey.put(r.send().idempotencyKey(), r.send());
                  candidates.add(new ContactLedger.Candidate(r.contact(), r.send().idempotencyKey(), r.send().from()));
                }
                List<Decision> decisions =
                    ledger.reserve(
                        spec.tenantId(), candidates, spec.rules(rules), List.of(), clock.instant(),
                        c -> {
                          if (paced(c.sender(), permits)) {
                            calls.put(c.key(), send(spec, byKey.get(c.key()), permits.trial()));
                          }
                        });
                for (int i = 0; i < batch.size(); i++) {
                  Send x = batch.get(i).send();
                  Decision d = decisions.get(i);
                  CompletionStage<SendResult> call = calls.get(x.idempotencyKey());
                  attempts.add(
                      call != null
                          ? new Attempt.Dispatched(x.recipient(), x.step(), call)
                          : d instanceof Decision.Allow
                              ? new Attempt.Returned(x.recipient(), x.step())
                              : new Attempt.Stopped(x.recipient(), x.step(), d));
                }
              } else {
                batch.forEach(r -> attempts.add(new Attempt.Returned(r.send().recipient(), r.send().step())));
              }
              release(spec, batch.isEmpty() ? null : batch.get(0).send().from(), permits, permits.granted() - calls.size());
              return attempts;
            },
            sends)
        .whenComplete(
            (ok, err) -> {
              if (err != null) {
                release(spec, batch.isEmpty() ? null : batch.get(0).send().from(), permits, permits.granted());
              }
            });
  }

  /** Waits for the sender's turn at its rate, while the permits' lease lasts. */
  private boolean paced(String sender, Permits permits) {
    Duration left = Duration.between(clock.instant(), permits.issuedAt().plus(Permits.LEASE));
    try {
      return !left.isNegative() && pacer.await(sender, permits.mps(), left) && permits.usableAt(clock.instant());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Gives {@code n} unused permits back to their throttle. */
  private void release(BlockSpec spec, String sender, Permits permits, int n) {
    for (int i = 0; i < n; i++) {
      callEnded(spec, new ProviderThrottle.Ended(sender, ProviderThrottle.CallOutcome.UNUSED, null, permits.trial()));
    }
  }

  private void callEnded(BlockSpec spec, ProviderThrottle.Ended ended) {
    sharding
        .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, spec.tenantId())
        .tell(new TenantEntity.CallEnded(spec.provider(), ended));
  }

  /** One provider call; the status callback names the message, so its receipts find it at once. */
  private CompletionStage<SendResult> send(BlockSpec spec, Send x, boolean trial) {
    SmsProvider provider = providers.get().get(spec.provider());
    if (provider == null) {
      callEnded(spec, new ProviderThrottle.Ended(x.from(), ProviderThrottle.CallOutcome.UNUSED, null, trial));
      return CompletableFuture.completedFuture(
          new SendResult.Rejected(0, "no " + spec.provider() + " account is configured", false, Optional.empty()));
    }
    String ref = "?ref=" + URLEncoder.encode(x.idempotencyKey(), StandardCharsets.UTF_8);
    String callback =
        spec.provider().equals("twilio")
            ? publicUrl.get() + "/webhooks/twilio/" + spec.tenantId() + "/status" + ref
            : publicUrl.get() + "/webhooks/signalhouse/" + spec.tenantId() + ref;
    return provider
        .send(new SmsRequest(spec.tenantId(), x.from(), x.to(), x.body(), x.idempotencyKey(), callback))
        .whenComplete((result, error) -> callEnded(spec, ended(x.from(), result, error, trial)));
  }

  /** What a call's answer tells its throttle. */
  static ProviderThrottle.Ended ended(String sender, SendResult result, Throwable error, boolean trial) {
    if (error != null) {
      return new ProviderThrottle.Ended(sender, ProviderThrottle.CallOutcome.FAILED, null, trial);
    }
    if (result instanceof SendResult.Rejected r) {
      ProviderThrottle.CallOutcome outcome =
          r.status() == 429
              ? ProviderThrottle.CallOutcome.THROTTLED
              : r.retryable() ? ProviderThrottle.CallOutcome.FAILED : ProviderThrottle.CallOutcome.REFUSED;
      return new ProviderThrottle.Ended(sender, outcome, r.retryAfter().orElse(null), trial);
    }
    return new ProviderThrottle.Ended(sender, ProviderThrottle.CallOutcome.SUCCEEDED, null, trial);
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
