package io.outreach.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.outreach.config.Settings;
import io.outreach.engine.JournalProbe;
import io.outreach.engine.ResumableWork;
import io.outreach.engine.WakeUps;
import io.outreach.engine.campaign.BlockEntity;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.PlatformSwitchboard;
import io.outreach.engine.conversation.ConversationEntity;
import io.outreach.engine.conversation.ConversationInbox;
import io.outreach.engine.intake.ImportJob;
import io.outreach.engine.intake.UploadStore;
import io.outreach.engine.provider.ProviderThrottle;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.tenant.TenantEntity;
import io.outreach.http.provider.ProviderHttp;
import io.outreach.http.provider.SignalHouseSmsAdapter;
import io.outreach.http.provider.TwilioSmsAdapter;
import io.outreach.http.sandbox.SandboxRoutes;
import io.outreach.http.sandbox.SandboxSettings;
import io.outreach.persistence.AuditRepository;
import io.outreach.persistence.BlockProjectionHandler;
import io.outreach.persistence.CampaignProjectionHandler;
import io.outreach.persistence.CampaignReadModel;
import io.outreach.persistence.ContactLedgerRepository;
import io.outreach.persistence.ConversationProjectionHandler;
import io.outreach.persistence.ConversationReadModel;
import io.outreach.persistence.ConversationStore;
import io.outreach.persistence.Database;
import io.outreach.persistence.DatabaseConfig;
import io.outreach.persistence.DncRepository;
import io.outreach.persistence.FileUploadStore;
import io.outreach.persistence.ImportLedger;
import io.outreach.persistence.LeadImportProcessor;
import io.outreach.persistence.LeadRepository;
import io.outreach.persistence.Projections;
import io.outreach.persistence.RecipientStore;
import io.outreach.persistence.ResumableWorkRepository;
import io.outreach.persistence.TenantJdbc;
import io.outreach.persistence.TenantProjection;
import io.outreach.persistence.WebhookReceipts;
import java.lang.management.ManagementFactory;
import java.net.URI;
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
    return start(config, java.time.Clock.systemUTC());
  }

  /**
   * Starts a node whose campaigns decide by {@code campaignClock} (legal hours, frequency caps,
   * follow-up and deferral times); tests move it. Signatures and logs keep the system clock.
   */
  public static Engine start(Config config, java.time.Clock campaignClock) {
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
              .withFallback(config);
      system = ActorSystem.create(Behaviors.empty(), "outreach", withJournal);
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

  /**
   * The national do-not-call copy's age as a metric ({@code outreach_dnc_national_copy_age_days},
   * -1 with no copy) and, while it is too old (or missing where one is required), an ERROR every
   * hour: campaign sends are held until a fresh copy is loaded.
   */
  private static void watchNationalCopy(
      ActorSystem<?> system,
      DncRepository dnc,
      ContactRules rules,
      PrometheusMeterRegistry registry) {
    Gauge.builder(
            "outreach.dnc.national.copy.age.days",
            dnc,
            d ->
                d.nationalCopyAsOf()
                    .map(
                        asOf ->
                            (double)
                                java.time.temporal.ChronoUnit.DAYS.between(
                                    asOf, java.time.LocalDate.now(java.time.ZoneOffset.UTC)))
                    .orElse(-1.0))
        .register(registry);
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    system
        .scheduler()
        .scheduleAtFixedRate(
            Duration.ofSeconds(10),
            Duration.ofHours(1),
            () ->
                CompletableFuture.runAsync(
                    () -> {
                      var asOf = dnc.nationalCopyAsOf();
                      boolean required =
                          rules.nationalCopyRequired() == ContactRules.Requirement.ON;
                      boolean stale =
                          asOf.map(
                                  d ->
                                      d.atStartOfDay(java.time.ZoneOffset.UTC)
                                          .toInstant()
                                          .plus(rules.nationalCopyMaxAge())
                                          .isBefore(java.time.Instant.now()))
                              .orElse(required);
                      if (stale) {
                        log.error(
                            "the national do-not-call copy is {} (at most {} days old is allowed): every campaign send is held"
                                + " until a fresh copy is loaded (POST /v1/dnc/national)",
                            asOf.map(d -> "dated " + d).orElse("missing"),
                            rules.nationalCopyMaxAge().toDays());
                      }
                    },
                    blocking),
            system.executionContext());
  }

  /** Cents per SMS segment by provider, {@code outreach.pricing} (see reference.conf). */
  static Map<String, java.math.BigDecimal> pricing(Config config) {
    Config p = config.getConfig("outreach.pricing");
    Map<String, java.math.BigDecimal> cents = new java.util.HashMap<>();
    for (String provider : p.root().keySet()) {
      cents.put(provider, new java.math.BigDecimal(p.getString(provider + ".sms-segment-cents")));
    }
    return cents;
  }

  /** The per-account throttle limits, {@code outreach.throttle} (see reference.conf). */
  static ProviderThrottle.Limits throttleLimits(Config config) {
    Config t = config.getConfig("outreach.throttle");
    return new ProviderThrottle.Limits(
        t.getInt("max-concurrent"),
        t.getInt("breaker.max-failures"),
        t.getDuration("breaker.reset-timeout"),
        t.getDuration("breaker.max-reset-timeout"));
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
   * Starts this node's parts in order: management, cluster membership, entities, the journal check
   * (a broken journal refuses to start), then HTTP.
   */
  public static ServerBinding init(
      ActorSystem<?> system, Settings settings, Database database, java.time.Clock campaignClock) {
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

    TenantEntity.init(
        system, settings.tenantTagSlices(), throttleLimits(system.settings().config()));
    PlatformSwitchboard.init(system);
    UploadStore uploads = new FileUploadStore(settings.dataDir().resolve("uploads"));
    ImportLedger ledger = new ImportLedger(database.tenantJdbc());
    ImportJob.init(
        system,
        new LeadImportProcessor(
            database.tenantJdbc(),
            uploads,
            ledger,
            system.dispatchers().lookup(DispatcherSelector.blocking())));
    int projectionSessions =
        system
            .settings()
            .config()
            .getInt(
                "pekko.projection.jdbc.blocking-jdbc-dispatcher.thread-pool-executor.fixed-pool-size");
    // Every projection writes through this pool, one connection per thread of its dispatcher.
    HikariDataSource projectionPool =
        database.newPool("outreach-projections", projectionSessions, false);
    TenantProjection.init(system, projectionPool, settings.tenantTagSlices());

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

    // The node's own URL is known once HTTP is bound; providers call back and the sandbox runs
    // there unless a public URL or a standalone sandbox is configured.
    AtomicReference<String> boundUrl = new AtomicReference<>();
    Supplier<String> publicUrl = () -> settings.webhooks().publicUrl().orElseGet(boundUrl::get);
    AtomicReference<Map<String, SmsProvider>> providers = new AtomicReference<>(Map.of());
    DncRepository dnc = new DncRepository(database.tenantJdbc(), database.dataSource());
    ResumableWorkRepository work = new ResumableWorkRepository(database.dataSource());
    // Connections of their own (one per writer): persist-before-2xx never waits behind other work.
    WebhookReceipts receipts =
        new WebhookReceipts(
            new TenantJdbc(database.newPool("outreach-webhooks", 2, false)),
            java.time.Clock.systemUTC(),
            2);
    // Deliveries accepted before the HTTP server stopped are written before the database stops.
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseServiceStop(),
            "webhook-receipts",
            () ->
                CompletableFuture.supplyAsync(
                    () -> {
                      receipts.close();
                      return Done.getInstance();
                    }));
    boolean sandboxProviders = settings.serveSandbox() || settings.sandboxUrl().isPresent();
    ContactRules rules =
        ContactRules.from(system.settings().config()).forProviders(!sandboxProviders);
    // The send path's own connections, one per thread of its dispatcher.
    ContactLedgerRepository contacts =
        new ContactLedgerRepository(new TenantJdbc(database.newPool("outreach-sends", 16, false)));
    OneWayOut out = new OneWayOut(system, providers::get, publicUrl, contacts, campaignClock);
    CampaignReadModel campaignReads = new CampaignReadModel(database.tenantJdbc());
    CampaignWiring wiring =
        CampaignWiring.init(
            system,
            new RecipientStore(database.tenantJdbc()),
            providers::get,
            publicUrl,
            work,
            sandboxProviders,
            contacts,
            rules,
            campaignClock,
            out,
            campaignReads,
            settings.campaignBlocksInFlight(),
            settings.tenantTagSlices());
    ConversationWiring conversations =
        ConversationWiring.init(
            system,
            new ConversationStore(database.tenantJdbc(), java.time.Clock.systemUTC()),
            out,
            rules,
            campaignClock,
            settings.tenantTagSlices());
    Projections.<ConversationEntity.Event>start(
        system,
        projectionPool,
        "conversations",
        ConversationEntity.TAG_PREFIX,
        settings.tenantTagSlices(),
        ConversationProjectionHandler::new);
    Projections.<CampaignEntity.Event>start(
        system,
        projectionPool,
        "campaigns",
        CampaignEntity.TAG_PREFIX,
        settings.tenantTagSlices(),
        CampaignProjectionHandler::new);
    Projections.<BlockEntity.Event>start(
        system,
        projectionPool,
        "messages",
        BlockEntity.TAG_PREFIX,
        settings.tenantTagSlices(),
        BlockProjectionHandler::new);

    // Work a crash interrupted resumes by itself; waits for a time resume when it comes.
    ResumableWork.wake(system, work, ImportJob.ENTITY_TYPE_KEY, id -> ImportJob.Resume.INSTANCE);
    ResumableWork.wake(
        system, work, CampaignEntity.ENTITY_TYPE_KEY, id -> CampaignEntity.Wake.INSTANCE);
    ResumableWork.wake(system, work, BlockEntity.ENTITY_TYPE_KEY, id -> BlockEntity.Wake.INSTANCE);
    ResumableWork.wake(
        system, work, ConversationEntity.ENTITY_TYPE_KEY, id -> ConversationEntity.Wake.INSTANCE);
    ResumableWork.wake(
        system, work, ConversationInbox.ENTITY_TYPE_KEY, id -> ConversationInbox.Wake.INSTANCE);
    WakeUps.init(
        system,
        work,
        Duration.ofSeconds(1),
        campaignClock,
        List.of(
            new WakeUps.Waker<>(BlockEntity.ENTITY_TYPE_KEY, id -> BlockEntity.Wake.INSTANCE),
            new WakeUps.Waker<>(
                CampaignEntity.ENTITY_TYPE_KEY, id -> CampaignEntity.Wake.INSTANCE)));

    PrometheusMeterRegistry registry = metrics(database);
    watchNationalCopy(system, dnc, rules, registry);
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    List<ReadinessCheck> checks =
        List.of(
            check("database", () -> CompletableFuture.supplyAsync(database::ping, blocking)),
            check(
                "journal",
                () -> probeJournal(system, probe, Duration.ofSeconds(3)).thenApply(n -> true)),
            check(
                "cluster",
                () ->
                    CompletableFuture.completedFuture(
                        cluster.selfMember().status() == MemberStatus.up())));

    JwtAuth auth = new JwtAuth(JwtSecret.resolve(settings), settings.auth().clockSkew());
    var http = settings.http();
    // The busiest requests (two receipts per message sent, every reply): served ahead of the
    // routes.
    var webhooks =
        new WebhookEndpoints(
            system,
            http.maxBodyBytes(),
            receipts,
            conversations,
            settings.webhooks(),
            publicUrl,
            java.time.Clock.systemUTC());
    var routes =
        new java.util.ArrayList<>(
            List.of(
                // No two route groups share a path prefix.
                new OpsRoutes(system, registry, checks).route(),
                new TenantRoutes(system, auth, http.maxBodyBytes(), http.askTimeout()).route(),
                new AuditRoutes(system, auth, new AuditRepository(database.tenantJdbc())).route(),
                new ImportRoutes(
                        system,
                        auth,
                        http.askTimeout(),
                        ledger,
                        uploads,
                        settings.intake().maxUploadBytes(),
                        settings.intake().defaultRegion())
                    .route(),
                new LeadRoutes(system, auth, new LeadRepository(database.tenantJdbc())).route(),
                new KillSwitchRoutes(system, auth, http.maxBodyBytes(), http.askTimeout()).route(),
                new ConversationRoutes(
                        system,
                        auth,
                        new ConversationReadModel(database.tenantJdbc()),
                        settings.intake().defaultRegion())
                    .route(),
                new CampaignRoutes(
                        system,
                        auth,
                        http.maxBodyBytes(),
                        http.askTimeout(),
                        work,
                        campaignReads,
                        sandboxProviders,
                        wiring,
                        pricing(system.settings().config()))
                    .route(),
                new DncRoutes(
                        system,
                        auth,
                        http.maxBodyBytes(),
                        dnc,
                        settings.intake().defaultRegion(),
                        settings.intake().maxUploadBytes())
                    .route()));
    if (settings.serveSandbox()) {
      routes.add(new SandboxRoutes(system, SandboxSettings.DEFAULTS, publicUrl).route());
    }
    ServerBinding binding =
        await(
            new ApiServer(system, registry)
                .bind(system, http.host(), http.port(), List.of(webhooks), routes),
            Duration.ofSeconds(30));
    boundUrl.set("http://127.0.0.1:" + binding.localAddress().getPort());
    if (settings.serveSandbox() || settings.sandboxUrl().isPresent()) {
      String sandbox = settings.sandboxUrl().orElseGet(boundUrl::get) + "/sandbox";
      SandboxSettings creds = SandboxSettings.DEFAULTS;
      // As many connections per provider host as a provider account may have calls open.
      ProviderHttp providerHttp =
          new ProviderHttp(
              system,
              throttleLimits(system.settings().config()).maxConcurrent(),
              Duration.ofSeconds(10));
      providers.set(
          Map.of(
              "twilio",
              new TwilioSmsAdapter(
                  providerHttp,
                  URI.create(sandbox + "/twilio"),
                  creds.twilioAccountSid(),
                  creds.twilioAuthToken()),
              "signalhouse",
              new SignalHouseSmsAdapter(
                  providerHttp, URI.create(sandbox + "/signalhouse"), creds.signalHouseApiKey())));
    }
    return binding;
  }

  private static CompletionStage<Long> probeJournal(
      ActorSystem<?> system, ActorRef<JournalProbe.Probe> probe, Duration timeout) {
    return AskPattern.askWithStatus(probe, JournalProbe.Probe::new, timeout, system.scheduler());
  }

  private static ReadinessCheck check(
      String name, java.util.function.Supplier<CompletionStage<Boolean>> check) {
    return new ReadinessCheck() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public CompletionStage<Boolean> check() {
        return check.get();
      }
    };
  }

  @SuppressWarnings("resource")
  private static PrometheusMeterRegistry metrics(Database database) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    if (database.dataSource() instanceof HikariDataSource hikari) {
      HikariPoolMXBean pool = hikari.getHikariPoolMXBean();
      String name = hikari.getPoolName();
      Gauge.builder("db.pool.connections.active", pool, HikariPoolMXBean::getActiveConnections)
          .tag("pool", name)
          .register(registry);
      Gauge.builder("db.pool.connections.idle", pool, HikariPoolMXBean::getIdleConnections)
          .tag("pool", name)
          .register(registry);
      Gauge.builder(
              "db.pool.connections.pending", pool, HikariPoolMXBean::getThreadsAwaitingConnection)
          .tag("pool", name)
          .register(registry);
      Gauge.builder("db.pool.connections.max", hikari, HikariDataSource::getMaximumPoolSize)
          .tag("pool", name)
          .register(registry);
    }
    return registry;
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
