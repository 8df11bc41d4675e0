package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.engine.spend.Budgets;
import io.outreach.engine.spend.Prices;
import io.outreach.engine.spend.SpendLedger;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import io.outreach.persistence.SpendViews;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /v1/spend} (role viewer): the tenant's budgets this month and today (limit, spent,
 * held for work under way), what each campaign and agent has spent and holds, and the ledger's
 * latest entries ({@code ?limit=}, default 50; {@code ?kind=} one kind of entry). Money in cents,
 * rounded up (the ledger keeps micro-dollars).
 */
public final class SpendRoutes extends ApiDirectives {
  private static final List<String> KINDS =
      List.of("reserve", "commit", "release", "hold", "settle", "alert");

  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final SpendViews spend;
  private final Clock clock;

  public SpendRoutes(
      ActorSystem<?> system, JwtAuth auth, Duration askTimeout, SpendViews spend, Clock clock) {
    super(system, auth, 0);
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
    this.spend = spend;
    this.clock = clock;
  }

  /** One budget: its bucket, limit, spent and held (null limit: none is set). */
  public record BudgetView(String bucket, Long limitCents, long spentCents, long reservedCents) {}

  /** A campaign's or an agent's spend. */
  public record OwnerView(String id, long spentCents, long reservedCents) {}

  /** A ledger entry. */
  public record EntryView(
      long id,
      Instant at,
      String kind,
      String campaignId,
      String agent,
      long amountCents,
      long amountMicros,
      JsonNode detail) {}

  /** The answer of {@code GET /v1/spend}. */
  public record SpendView(
      Map<String, BudgetView> budgets,
      long spentCents,
      long reservedCents,
      List<OwnerView> campaigns,
      List<OwnerView> agents,
      List<EntryView> entries) {}

  public Route route() {
    return path(
        segment("v1").slash("spend"),
        () ->
            get(
                () ->
                    endpoint(
                        "GET /v1/spend",
                        () ->
                            authenticated(
                                Role.VIEWER,
                                p ->
                                    parameterOptional(
                                        "kind",
                                        kind ->
                                            parameterOptional(
                                                "limit",
                                                limit -> {
                                                  Optional<String> k = kind.map(SpendRoutes::kind);
                                                  int n =
                                                      ListPage.request(limit, Optional.empty())
                                                          .limit();
                                                  return answer(
                                                      sharding
                                                          .entityRefFor(
                                                              TenantEntity.ENTITY_TYPE_KEY,
                                                              p.tenantId())
                                                          .askWithStatus(
                                                              TenantEntity.Get::new, askTimeout)
                                                          .thenCompose(
                                                              t -> blocking(() -> view(t, k, n))),
                                                      this::json);
                                                }))))));
  }

  private static String kind(String kind) {
    if (!KINDS.contains(kind)) {
      throw new ProblemException(
          Problem.Type.VALIDATION.with("kind must be one of " + String.join(", ", KINDS)));
    }
    return kind;
  }

  private SpendView view(Tenant t, Optional<String> kind, int limit) {
    List<SpendLedger.Budget> periods =
        new Budgets(t.monthlyBudgetCents(), t.dailyBudgetCents(), null, t.timezone())
            .forCampaign("-", clock.instant());
    Map<String, SpendViews.BucketView> rows = new LinkedHashMap<>();
    spend
        .buckets(t.id(), periods.stream().map(SpendLedger.Budget::bucket).toList())
        .forEach(b -> rows.put(b.bucket(), b));
    Map<String, BudgetView> budgets = new LinkedHashMap<>();
    for (SpendLedger.Budget b : periods) {
      SpendViews.BucketView row = rows.get(b.bucket());
      budgets.put(
          b.bucket().startsWith("tenant-month:") ? "monthly" : "daily",
          new BudgetView(
              b.bucket(),
              Prices.cents(b.limitMicros()),
              row == null ? 0 : Prices.cents(row.committedMicros()),
              row == null ? 0 : Prices.cents(row.reservedMicros())));
    }
    BudgetView month = budgets.get("monthly");
    List<EntryView> entries = new ArrayList<>();
    for (SpendViews.EntryView e : spend.entries(t.id(), kind, limit)) {
      entries.add(
          new EntryView(
              e.id(),
              e.at(),
              e.kind(),
              e.campaignId(),
              e.agent(),
              Prices.cents(e.amountMicros()),
              e.amountMicros(),
              tree(e.detail())));
    }
    return new SpendView(
        budgets,
        month.spentCents(),
        month.reservedCents(),
        owners(t.id(), false),
        owners(t.id(), true),
        entries);
  }

  private List<OwnerView> owners(String tenantId, boolean agents) {
    return spend.byOwner(tenantId, agents).stream()
        .map(
            o ->
                new OwnerView(
                    o.owner(), Prices.cents(o.committedMicros()), Prices.cents(o.reservedMicros())))
        .toList();
  }

  private JsonNode tree(String json) {
    try {
      return mapper.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
