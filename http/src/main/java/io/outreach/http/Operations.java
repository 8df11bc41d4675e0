package io.outreach.http;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.persistence.Database;
import io.outreach.persistence.DncRepository;
import io.outreach.persistence.SpendRepository;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What operators watch: the metrics registry, and the national do-not-call copy's age. */
final class Operations {
  private static final Logger log = LoggerFactory.getLogger(Operations.class);

  private Operations() {}

  /**
   * Budget alerts raised by this process, by threshold ({@code
   * outreach_budget_alerts_total{percent="50|80|100"}}); each is also a ledger entry and an audit
   * row ({@code budget.alert}), where its tenant, bucket and campaign or agent are.
   */
  static void countBudgetAlerts(SpendRepository spend, PrometheusMeterRegistry registry) {
    for (int percent : new int[] {50, 80, 100}) {
      FunctionCounter.builder("outreach.budget.alerts", spend, s -> s.alertsRaised(percent))
          .tag("percent", Integer.toString(percent))
          .description("budget alerts raised (50, 80 and 100 percent of a budget)")
          .register(registry);
    }
  }

  /**
   * The national do-not-call copy's age as a metric ({@code outreach_dnc_national_copy_age_days},
   * -1 with no copy) and, while it is too old (or missing where one is required), an ERROR every
   * hour: campaign sends are held until a fresh copy is loaded.
   */
  static void watchNationalCopy(
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

  @SuppressWarnings("resource")
  static PrometheusMeterRegistry metrics(Database database) {
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
}
