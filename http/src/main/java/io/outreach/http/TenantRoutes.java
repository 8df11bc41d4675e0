package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.outreach.engine.tenant.AgentPolicy;
import io.outreach.engine.tenant.SettingsPatch;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import io.outreach.engine.tenant.TenantId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.StatusReply;

/**
 * Tenants: {@code POST /v1/tenants} and suspension (role platform), {@code GET/PATCH /v1/tenant}
 * (the caller's own tenant, role admin), and {@code GET /v1/tenants/{id}} (platform: any tenant;
 * otherwise only the caller's own, and another tenant's id answers 404 like an unknown one).
 */
public final class TenantRoutes extends ApiDirectives {
  private final ClusterSharding sharding;
  private final Duration askTimeout;

  public TenantRoutes(ActorSystem<?> system, JwtAuth auth, long maxBodyBytes, Duration askTimeout) {
    super(system, auth, maxBodyBytes);
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
  }

  /** Body of {@code POST /v1/tenants}. */
  public record CreateTenant(String id, String name, String timezone, Long monthlyBudgetCents) {}

  /** Body of {@code POST /v1/tenants/{id}/suspend}. */
  public record SuspendTenant(String reason) {}

  /** A sender number as the API shows it, with its effective rate. */
  public record SenderView(String provider, String from, String kind, int mps) {}

  /** A tenant as the API shows it. */
  public record TenantView(
      String id,
      String name,
      String timezone,
      long monthlyBudgetCents,
      Long dailyBudgetCents,
      String status,
      String suspendedReason,
      Map<String, AgentPolicy> agentPolicies,
      Map<String, Boolean> flags,
      List<SenderView> senders,
      Instant createdAt,
      Instant updatedAt) {
    static TenantView of(Tenant t) {
      return new TenantView(
          t.id(),
          t.name(),
          t.timezone(),
          t.monthlyBudgetCents(),
          t.dailyBudgetCents(),
          t.status().name().toLowerCase(Locale.ROOT),
          t.suspendedReason(),
          t.agentPolicies(),
          t.flags(),
          t.senders().stream()
              .map(x -> new SenderView(x.provider(), x.from(), x.kind(), x.messagesPerSecond()))
              .toList(),
          t.createdAt(),
          t.updatedAt());
    }
  }

  public Route route() {
    return pathPrefix(
        "v1",
        () ->
            concat(
                path("tenants", () -> post(() -> endpoint("POST /v1/tenants", this::create))),
                path(
                    segment("tenants").slash(segment()),
                    id -> get(() -> endpoint("GET /v1/tenants/{id}", () -> getById(id)))),
                path(
                    segment("tenants").slash(segment()).slash("suspend"),
                    id -> post(() -> endpoint("POST /v1/tenants/{id}/suspend", () -> suspend(id)))),
                path(
                    segment("tenants").slash(segment()).slash("resume"),
                    id -> post(() -> endpoint("POST /v1/tenants/{id}/resume", () -> resume(id)))),
                path(
                    "tenant",
                    () ->
                        concat(
                            get(() -> endpoint("GET /v1/tenant", this::getOwn)),
                            patch(() -> endpoint("PATCH /v1/tenant", this::patchOwn))))));
  }

  private Route create() {
    return authenticated(
        Role.PLATFORM,
        p ->
            jsonBody(
                CreateTenant.class,
                body -> {
                  List<String> problems = new ArrayList<>();
                  if (body.id() == null || !TenantId.isValid(body.id())) {
                    problems.add("id: " + TenantId.rule());
                  }
                  if (body.name() == null) {
                    problems.add("name is required");
                  }
                  if (body.timezone() == null) {
                    problems.add("timezone is required");
                  }
                  if (body.monthlyBudgetCents() == null) {
                    problems.add("monthlyBudgetCents is required");
                  }
                  if (!problems.isEmpty()) {
                    return problem(Problem.Type.VALIDATION.with(String.join("; ", problems)));
                  }
                  return answer(
                      ask(
                          body.id(),
                          r ->
                              new TenantEntity.Create(
                                  body.name(),
                                  body.timezone(),
                                  body.monthlyBudgetCents(),
                                  p.subject(),
                                  r)),
                      t ->
                          respondWithHeader(
                              Location.create("/v1/tenants/" + t.id()),
                              () -> json(StatusCodes.CREATED, TenantView.of(t))));
                }));
  }

  private Route getById(String id) {
    return authenticated(
        new Role[] {Role.PLATFORM, Role.VIEWER},
        p -> {
          // Another tenant's id answers exactly like an unknown one: no existence leak.
          if (!p.hasAny(Role.PLATFORM) && !p.tenantId().equals(id)) {
            return problem(Problem.Type.NOT_FOUND.with("tenant " + id + " does not exist"));
          }
          if (!TenantId.isValid(id)) {
            return problem(Problem.Type.NOT_FOUND.with("tenant " + id + " does not exist"));
          }
          return answer(ask(id, TenantEntity.Get::new), t -> json(TenantView.of(t)));
        });
  }

  private Route getOwn() {
    return authenticated(
        Role.ADMIN,
        p -> answer(ask(p.tenantId(), TenantEntity.Get::new), t -> json(TenantView.of(t))));
  }

  private Route patchOwn() {
    return authenticated(
        Role.ADMIN,
        p ->
            jsonBody(
                SettingsPatch.class,
                patch ->
                    answer(
                        ask(
                            p.tenantId(),
                            r -> new TenantEntity.UpdateSettings(patch, p.subject(), r)),
                        t -> json(TenantView.of(t)))));
  }

  private Route suspend(String id) {
    return authenticated(
        Role.PLATFORM,
        p ->
            jsonBody(
                SuspendTenant.class,
                body ->
                    answer(
                        ask(id, r -> new TenantEntity.Suspend(body.reason(), p.subject(), r)),
                        t -> json(TenantView.of(t)))));
  }

  private Route resume(String id) {
    return authenticated(
        Role.PLATFORM,
        p ->
            answer(
                ask(id, r -> new TenantEntity.Resume(p.subject(), r)),
                t -> json(TenantView.of(t))));
  }

  private CompletionStage<Tenant> ask(
      String tenantId, Function<ActorRef<StatusReply<Tenant>>, TenantEntity.Command> command) {
    return sharding
        .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
        .askWithStatus(command::apply, askTimeout);
  }
}
