package io.outreach.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.outreach.config.Settings;
import io.outreach.engine.JournalProbe;
import io.outreach.engine.LostNodeWork;
import io.outreach.engine.ResumableWork;
import io.outreach.engine.WakeUps;
import io.outreach.engine.campaign.BlockEntity;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.campaign.CampaignPreviews;
import io.outreach.engine.campaign.CampaignSenders;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.PlatformSwitchboard;
import io.outreach.engine.conversation.ConversationEntity;
import io.outreach.engine.conversation.ConversationInbox;
import io.outreach.engine.enrichment.Luci;
import io.outreach.engine.gianna.Gianna;
import io.outreach.engine.intake.ImportJob;
import io.outreach.engine.outbound.CallOutcomes;
import io.outreach.engine.outbound.CampaignOutbound;
import io.outreach.engine.outbound.ConversationOutbound;
import io.outreach.engine.outbound.OneWayOut;
import io.outreach.engine.spend.Prices;
import io.outreach.engine.tenant.TenantEntity;
import io.outreach.http.provider.AnthropicReplyModel;
import io.outreach.http.provider.ApolloEnrichmentAdapter;
import io.outreach.http.provider.ProviderHttp;
import io.outreach.http.provider.TenantAccounts;
import io.outreach.http.provider.TenantProviders;
import io.outreach.http.provider.VoiceCalls;
import io.outreach.http.sandbox.SandboxRoutes;
import io.outreach.http.sandbox.SandboxSettings;
import io.outreach.persistence.AuditRepository;
import io.outreach.persistence.BlockProjectionHandler;
import io.outreach.persistence.CampaignProjectionHandler;
import io.outreach.persistence.ConversationProjectionHandler;
import io.outreach.persistence.ConversationReadModel;
import io.outreach.persistence.ConversationStore;
import io.outreach.persistence.Database;
import io.outreach.persistence.DatabaseConfig;
import io.outreach.persistence.LeadImportProcessor;
import io.outreach.persistence.LeadRepository;
import io.outreach.persistence.Projections;
import io.outreach.persistence.RecipientStore;
import io.outreach.persistence.SpendViews;
import io.outreach.persistence.TenantProjection;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One engine node: the database (embedded or external, migrated and drift-checked), the actor
 * system with cluster, sharding and the journal on that database, and the HTTP server. {@link
 * #start} is what {@code main} runs; tests start one node (or several) with the same code.
 */
public final class Engine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Engine.class);

  private final ActorSystem<Void> system;
  private final Database database;
  private final ServerBinding binding;
  private final Settings settings;

  private Engine(
      ActorSystem<Void> system, Database database, ServerBinding binding, Settings settings) {
    this.system = system;
    this.database = database;
    this.binding = binding;
    this.settings = settings;
  }

  /** Starts a node from {@code config} (application.conf over the reference defaults). */
  public static Engine start(Config config) {
    return start(config, Clock.systemUTC());
  }

  /**
   * Starts a node whose campaigns decide by {@code campaignClock} (legal hours, frequency caps,
   * follow-up and deferral times); tests move it. Signatures and logs keep the system clock.
   */
  public static Engine start(Config config, Clock campaignClock) {
    long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
    Settings settings = Settings.from(config);
    Database database = Database.open(databaseConfig(settings));
    ActorSystem<Void> system = null;
    try {
      Config withJournal =
          ConfigFactory.parseMap(
                  Map.of(
                      "pekko-persistence-jdbc.shared-databases.slick.db.url", database.jdbcUrl(),
                      "pekko-persistence-jdbc.shared-databases.slick.db.user", database.appUser(),
                      "pekko-persistence-jdbc.shared-databases.slick.db.password",
                          database.appPassword()))
              .withFallback(settings.cluster().seedNodesConfig())
              .withFallback(config);
      system = ActorSystem.create(Behaviors.empty(), Settings.Cluster.SYSTEM_NAME, withJournal);
      ServerBinding binding = init(system, settings, database, campaignClock);
      ActorSystem<Void> started = system;
      // The database stops after the actors that write to it, also on SIGTERM (JVM hook).
      CoordinatedShutdown.get(system)
          .addTask(
              CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
              "stop-database",
              () ->
                  CompletableFuture.supplyAsync(
                      () -> {
                        database.close();
                        return Done.getInstance();
                      }));
      log.info(
          "engine ready on http://{}:{} in {} ms since JVM start ({} database)",
          settings.http().host(),
          binding.localAddress().getPort(),
          System.currentTimeMillis() - jvmStart,
          database.isEmbedded() ? "embedded" : "external");
      return new Engine(started, database, binding, settings);
    } catch (RuntimeException e) {
      if (system != null) {
        system.terminate();
        await(system.getWhenTerminated(), Duration.ofSeconds(30));
      }
      database.close();
      throw e;
    }
  }

  static DatabaseConfig databaseConfig(Settings s) {
    return new DatabaseConfig(
        s.db().url(),
        s.db().user(),
        s.db().password(),
        s.db().ownerUser(),
        s.db().ownerPassword(),
        s.dataDir(),
        s.db().poolSize());
  }

  /**
   * Starts this node's parts in order, each a step below: cluster membership, storage, the journal
   * check (a broken journal refuses to start), entities and the outbound path (and the agents),
   * projections, the work a crash interrupted, HTTP, and the providers (their sandbox twins are
   * served on the node's own address unless one runs standalone).
   */
  public static ServerBinding init(
      ActorSystem<?> system, Settings settings, Database database, Clock campaignClock) {
    Cluster cluster = joinCluster(system, settings);
    Storage storage = Storage.open(system, settings, database);
    ProviderSetup.checkAccounts(settings, storage);
    ActorRef<JournalProbe.Probe> probe = checkJournal(system, settings, cluster);
    Outbound outbound = startEntities(system, settings, storage, campaignClock);
    startProjections(system, settings, storage);
    resumeWork(system, storage.work(), campaignClock);
    ServerBinding binding =
        serveHttp(system, settings, database, storage, outbound, probe, cluster);
    outbound.bound(binding);
    ProviderSetup.connect(
        settings, outbound.sandboxProviders(), outbound.boundUrl(), outbound.providerUrls());
    return binding;
  }

  /** Management (probes), then membership: bootstrap, or a single node joining itself. */
  private static Cluster joinCluster(ActorSystem<?> system, Settings settings) {
    if (settings.managementEnabled()) {
      await(PekkoManagement.get(system).start(), Duration.ofSeconds(30));
    }
    Cluster cluster = Cluster.get(system);
    if (settings.cluster().bootstrap()) {
      ClusterBootstrap.get(system).start();
    } else if (settings.cluster().joinSelf()
        && system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    return cluster;
  }

  /** Writes a first event through the journal: a broken journal refuses to start. */
  private static ActorRef<JournalProbe.Probe> checkJournal(
      ActorSystem<?> system, Settings settings, Cluster cluster) {
    String nodeId = cluster.selfMember().address().hostPort().replaceAll("[^A-Za-z0-9]+", "-");
    ActorRef<JournalProbe.Probe> probe =
        system.systemActorOf(JournalProbe.create(nodeId), "journal-probe", Props.empty());
    try {
      Duration timeout = settings.journalCheckTimeout();
      await(probeJournal(system, probe, timeout), timeout.plusSeconds(1));
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "the event journal is not writable (check the database and pekko-persistence-jdbc"
              + " settings); refusing to start",
          e);
    }
    return probe;
  }

  /**
   * The outbound path as this node wires it: the providers' adapters (set once HTTP is bound), the
   * node's public URL, the one way out, and the campaign and conversation sides of it.
   */
  private record Outbound(
      AtomicReference<String> boundUrl,
      Supplier<String> publicUrl,
      Map<String, URI> providerUrls,
      TenantAccounts accounts,
      boolean sandboxProviders,
      ContactRules rules,
      CampaignPreviews previews,
      ConversationOutbound conversations,
      Agents agents,
      CallOutcomes calls) {

    /** HTTP is bound: the node's own address is known (its default public URL). */
    void bound(ServerBinding binding) {
      boundUrl.set("http://127.0.0.1:" + binding.localAddress().getPort());
    }
  }

  /** The sharded entities, and the outbound path they send through. */
  private static Outbound startEntities(
      ActorSystem<?> system, Settings settings, Storage storage, Clock campaignClock) {
    Config config = system.settings().config();
    TenantEntity.init(system, settings.tenantTagSlices(), settings.entityAskTimeout());
    PlatformSwitchboard.init(system);
    ImportJob.init(
        system,
        new LeadImportProcessor(
            storage.tenantJdbc(),
            storage.uploads(),
            storage.imports(),
            system.dispatchers().lookup(DispatcherSelector.blocking())));
    TenantProjection.init(system, storage.projectionPool(), settings.tenantTagSlices());

    boolean sandboxProviders = settings.sandboxProviders();
    ContactRules rules = ContactRules.from(config).forProviders(!sandboxProviders);
    CampaignSenders senders = new CampaignSenders(sandboxProviders, Prices.from(config));
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    ClusterSharding sharding = ClusterSharding.get(system);
    Duration ask = settings.entityAskTimeout();
    // The node's own URL is known once HTTP is bound; providers call back there unless a public
    // URL is configured.
    AtomicReference<String> boundUrl = new AtomicReference<>();
    Supplier<String> publicUrl = () -> settings.webhooks().publicUrl().orElseGet(boundUrl::get);
    TenantAccounts accounts =
        new TenantAccounts(
            storage.accounts(), tenantExists(sharding, ask), sandboxProviders, blocking);
    // Each provider's base URL, known once HTTP is bound (a twin may be served on this node).
    Map<String, URI> providerUrls = new java.util.concurrent.ConcurrentHashMap<>();
    // As many connections per provider host as a provider account may have calls open.
    ProviderHttp providerHttp =
        new ProviderHttp(
            system, config.getInt("outreach.throttle.max-concurrent"), Duration.ofSeconds(10));
    TenantProviders providers =
        new TenantProviders(accounts, providerHttp, providerUrls::get, VoiceCalls.from(config));
    OneWayOut out =
        OneWayOut.of(
            system, providers, new WebhookUrls(publicUrl), storage.contacts(), campaignClock, ask);
    RecipientStore recipients = new RecipientStore(storage.tenantJdbc());
    CampaignOutbound campaigns =
        new CampaignOutbound(
            sharding,
            recipients,
            storage.campaigns(),
            storage.work(),
            storage.contacts(),
            rules,
            senders,
            out,
            storage.spend(),
            campaignClock,
            ask,
            blocking);
    CampaignEntity.init(
        system,
        campaigns,
        campaignClock,
        settings.campaignBlocksInFlight(),
        settings.tenantTagSlices());
    BlockEntity.init(system, campaigns, campaignClock, settings.tenantTagSlices());
    ConversationOutbound conversations =
        new ConversationOutbound(
            sharding,
            new ConversationStore(storage.tenantJdbc(), Clock.systemUTC()),
            out,
            rules,
            ask,
            system
                .dispatchers()
                .lookup(DispatcherSelector.fromConfig(ConversationOutbound.DISPATCHER)));
    ConversationEntity.init(system, conversations, campaignClock, settings.tenantTagSlices());
    ConversationInbox.init(system, conversations);
    Agents agents =
        Agents.start(
            system,
            storage,
            new ApolloEnrichmentAdapter(accounts, providerHttp, providerUrls::get),
            new AnthropicReplyModel(
                system,
                accounts,
                () -> providerUrls.get("anthropic"),
                system.settings().config().getConfig("outreach.gianna")),
            ask);
    return new Outbound(
        boundUrl,
        publicUrl,
        providerUrls,
        accounts,
        sandboxProviders,
        rules,
        new CampaignPreviews(
            recipients, storage.campaigns(), storage.contacts(), rules, senders, campaignClock),
        conversations,
        agents,
        new CallOutcomes(out, storage.spend(), Prices.from(config), blocking));
  }

  /**
   * Whether a tenant exists, asked of its entity (the read model lags its creation): a refusal as
   * not found is false; no answer fails.
   */
  private static java.util.function.Function<String, CompletionStage<Boolean>> tenantExists(
      ClusterSharding sharding, Duration ask) {
    return tenantId ->
        sharding
            .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
            .askWithStatus(TenantEntity.Get::new, ask)
            .handle(
                (t, error) -> {
                  if (error == null) {
                    return true;
                  }
                  Throwable cause =
                      error instanceof java.util.concurrent.CompletionException
                          ? error.getCause()
                          : error;
                  if (cause instanceof org.apache.pekko.pattern.StatusReply.ErrorMessage m
                      && io.outreach.engine.Rejection.parse(m.getMessage())
                          .filter(r -> r.kind() == io.outreach.engine.Rejection.Kind.NOT_FOUND)
                          .isPresent()) {
                    return false;
                  }
                  throw new java.util.concurrent.CompletionException(cause);
                });
  }

  /** The read models the projections keep: conversations, campaigns, messages. */
  private static void startProjections(ActorSystem<?> system, Settings settings, Storage storage) {
    Projections.<ConversationEntity.Event>start(
        system,
        storage.projectionPool(),
        "conversations",
        ConversationEntity.TAG_PREFIX,
        settings.tenantTagSlices(),
        ConversationProjectionHandler::new);
    Projections.<CampaignEntity.Event>start(
        system,
        storage.projectionPool(),
        "campaigns",
        CampaignEntity.TAG_PREFIX,
        settings.tenantTagSlices(),
        CampaignProjectionHandler::new);
    Projections.<BlockEntity.Event>start(
        system,
        storage.projectionPool(),
        "messages",
        BlockEntity.TAG_PREFIX,
        settings.tenantTagSlices(),
        BlockProjectionHandler::new);
  }

  /**
   * Work a crash interrupted resumes by itself (at this node's start, and on the survivors when a
   * node is lost: {@link LostNodeWork}); waits for a time resume when it comes.
   */
  private static void resumeWork(ActorSystem<?> system, ResumableWork work, Clock campaignClock) {
    List<WakeUps.Waker<?>> unfinished =
        List.of(
            new WakeUps.Waker<>(ImportJob.ENTITY_TYPE_KEY, id -> ImportJob.Resume.INSTANCE),
            new WakeUps.Waker<>(CampaignEntity.ENTITY_TYPE_KEY, id -> CampaignEntity.Wake.INSTANCE),
            new WakeUps.Waker<>(BlockEntity.ENTITY_TYPE_KEY, id -> BlockEntity.Wake.INSTANCE),
            new WakeUps.Waker<>(
                ConversationEntity.ENTITY_TYPE_KEY, id -> ConversationEntity.Wake.INSTANCE),
            new WakeUps.Waker<>(
                ConversationInbox.ENTITY_TYPE_KEY, id -> ConversationInbox.Wake.INSTANCE),
            new WakeUps.Waker<>(Luci.ENTITY_TYPE_KEY, id -> Luci.Wake.INSTANCE),
            new WakeUps.Waker<>(Gianna.ENTITY_TYPE_KEY, id -> Gianna.Wake.INSTANCE));
    unfinished.forEach(w -> wake(system, work, w));
    LostNodeWork.init(system, work, unfinished);
    WakeUps.init(
        system,
        work,
        Duration.ofSeconds(1),
        campaignClock,
        List.of(
            new WakeUps.Waker<>(BlockEntity.ENTITY_TYPE_KEY, id -> BlockEntity.Wake.INSTANCE),
            new WakeUps.Waker<>(
                CampaignEntity.ENTITY_TYPE_KEY, id -> CampaignEntity.Wake.INSTANCE)));
  }

  private static <M> void wake(ActorSystem<?> system, ResumableWork work, WakeUps.Waker<M> w) {
    ResumableWork.wake(system, work, w.key(), w.wake());
  }

  /** The API, the webhooks ahead of it, operations and (in sandbox mode) the provider twins. */
  private static ServerBinding serveHttp(
      ActorSystem<?> system,
      Settings settings,
      Database database,
      Storage storage,
      Outbound outbound,
      ActorRef<JournalProbe.Probe> probe,
      Cluster cluster) {
    PrometheusMeterRegistry registry = Operations.metrics(database);
    Operations.watchNationalCopy(system, storage.dnc(), outbound.rules(), registry);
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    List<ReadinessCheck> checks =
        List.of(
            // Its own connection (Database.ping) on its own thread: load never reads as death.
            ReadinessCheck.blocking("database", database::ping),
            ReadinessCheck.of(
                "journal",
                () -> probeJournal(system, probe, Duration.ofSeconds(3)).thenApply(n -> true)),
            ReadinessCheck.of(
                "cluster",
                () ->
                    CompletableFuture.completedFuture(
                        cluster.selfMember().status() == MemberStatus.up())));
    JwtAuth auth = new JwtAuth(JwtSecret.resolve(settings), settings.auth().clockSkew());
    var http = settings.http();
    // The busiest requests (two receipts per message sent, every reply): ahead of the routes.
    var webhooks =
        new WebhookEndpoints(
            system,
            http.maxBodyBytes(),
            storage.receipts(),
            outbound.conversations(),
            outbound.accounts(),
            settings.webhooks(),
            outbound.publicUrl(),
            Clock.systemUTC(),
            outbound.calls(),
            VoiceCalls.from(system.settings().config()).optOutDigit());
    String region = settings.intake().defaultRegion();
    var routes =
        new java.util.ArrayList<>(
            List.of(
                // No two route groups share a path prefix.
                new OpsRoutes(system, registry, checks).route(),
                new TenantRoutes(system, auth, http.maxBodyBytes(), http.askTimeout()).route(),
                new AuditRoutes(system, auth, new AuditRepository(storage.tenantJdbc())).route(),
                new ImportRoutes(
                        system,
                        auth,
                        http.askTimeout(),
                        storage.imports(),
                        storage.uploads(),
                        settings.intake().maxUploadBytes(),
                        settings.intake().maxConcurrentUploads(),
                        region)
                    .route(),
                new LeadRoutes(system, auth, new LeadRepository(storage.tenantJdbc())).route(),
                new KillSwitchRoutes(system, auth, http.maxBodyBytes(), http.askTimeout()).route(),
                new SpendRoutes(
                        system,
                        auth,
                        http.askTimeout(),
                        new SpendViews(storage.tenantJdbc()),
                        Clock.systemUTC())
                    .route(),
                new ProviderRoutes(
                        system,
                        auth,
                        http.maxBodyBytes(),
                        outbound.accounts(),
                        settings.mode() == Settings.Mode.PRODUCTION)
                    .route(),
                new ConversationRoutes(
                        system, auth, new ConversationReadModel(storage.tenantJdbc()), region)
                    .route(),
                new CampaignRoutes(
                        system,
                        auth,
                        http.maxBodyBytes(),
                        http.askTimeout(),
                        storage.work(),
                        storage.campaigns(),
                        outbound.sandboxProviders(),
                        outbound.previews(),
                        outbound.accounts(),
                        outbound.agents().drafts(),
                        outbound.agents().followUps())
                    .route(),
                new DncRoutes(
                        system,
                        auth,
                        http.maxBodyBytes(),
                        storage.dnc(),
                        region,
                        settings.intake().maxUploadBytes())
                    .route(),
                new EnrichmentRoutes(
                        system,
                        auth,
                        http.maxBodyBytes(),
                        http.askTimeout(),
                        outbound.agents().enrichments(),
                        outbound.accounts(),
                        settings.mode() == Settings.Mode.PRODUCTION,
                        outbound.agents().luci().maxLeadIds(),
                        Clock.systemUTC())
                    .route(),
                new ReviewRoutes(system, auth, http.maxBodyBytes(), outbound.agents().reviews())
                    .route()));
    if (settings.serveSandbox()) {
      routes.add(
          new SandboxRoutes(system, SandboxSettings.DEFAULTS, auth, outbound.publicUrl()).route());
    }
    ServerBinding binding =
        await(
            new ApiServer(system, registry)
                .bind(system, http.host(), http.port(), List.of(webhooks), routes),
            Duration.ofSeconds(30));
    // The management port's /ready (what Kubernetes probes) says the same from now on.
    EngineReadiness.register(system, checks);
    return binding;
  }

  private static CompletionStage<Long> probeJournal(
      ActorSystem<?> system, ActorRef<JournalProbe.Probe> probe, Duration timeout) {
    return AskPattern.askWithStatus(probe, JournalProbe.Probe::new, timeout, system.scheduler());
  }

  static <T> T await(CompletionStage<T> stage, Duration timeout) {
    try {
      return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("timed out after " + timeout, e);
    }
  }

  public int httpPort() {
    return binding.localAddress().getPort();
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public Database database() {
    return database;
  }

  public Settings settings() {
    return settings;
  }

  /** Stops the node: HTTP, actors, then the database (the embedded one too). */
  @Override
  public void close() {
    system.terminate();
    await(system.getWhenTerminated(), Duration.ofSeconds(60));
    database.close();
  }
}
