package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.outreach.engine.Rejection;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.compliance.KillSwitch;
import io.outreach.engine.compliance.KillSwitches;
import io.outreach.engine.compliance.PlatformSwitchboard;
import io.outreach.engine.tenant.TenantEntity;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.StatusReply;

/**
 * Kill switches: {@code POST /v1/kill-switches} engages one (tenant scopes: role operator, so
 * whoever sees a problem can stop it; scope platform: role platform), {@code DELETE
 * /v1/kill-switches/{id}} releases it (role admin, or platform for platform switches), {@code GET
 * /v1/kill-switches} lists the tenant's and the platform's engaged switches.
 */
public final class KillSwitchRoutes extends ApiDirectives {
  private final ClusterSharding sharding;
  private final Duration askTimeout;

  public KillSwitchRoutes(
      ActorSystem<?> system, JwtAuth auth, long maxBodyBytes, Duration askTimeout) {
    super(system, auth, maxBodyBytes);
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
  }

  /** Body of {@code POST /v1/kill-switches}. */
  public record EngageKillSwitch(String scope, String target) {}

  /** A kill switch as the API shows it. */
  public record KillSwitchView(
      String id, String scope, String target, String engagedBy, Instant engagedAt) {
    static KillSwitchView of(KillSwitch k) {
      return new KillSwitchView(k.id(), k.scope().code(), k.target(), k.engagedBy(), k.engagedAt());
    }
  }

  public Route route() {
    return concat(
        path(
            segment("v1").slash("kill-switches"),
            () ->
                concat(
                    post(
                        () ->
                            endpoint(
                                "POST /v1/kill-switches",
                                () ->
                                    authenticated(
                                        new Role[] {Role.OPERATOR, Role.PLATFORM}, this::engage))),
                    get(
                        () ->
                            endpoint(
                                "GET /v1/kill-switches",
                                () ->
                                    authenticated(
                                        new Role[] {Role.VIEWER, Role.PLATFORM}, this::list))))),
        path(
            segment("v1").slash("kill-switches").slash(segment()),
            id ->
                delete(
                    () ->
                        endpoint(
                            "DELETE /v1/kill-switches/{id}",
                            () ->
                                authenticated(
                                    new Role[] {Role.ADMIN, Role.PLATFORM},
                                    p -> release(p, id))))));
  }

  private Route engage(Principal p) {
    return jsonBody(
        EngageKillSwitch.class,
        body -> {
          KillSwitch.Scope scope;
          try {
            scope = KillSwitch.Scope.valueOf(String.valueOf(body.scope()).toUpperCase(Locale.ROOT));
          } catch (IllegalArgumentException e) {
            return problem(
                Problem.Type.VALIDATION.with(
                    "scope must be tenant, campaign, agent, channel or platform"));
          }
          CompletionStage<KillSwitch> engaged;
          if (scope == KillSwitch.Scope.PLATFORM) {
            if (!p.hasAny(Role.PLATFORM)) {
              return problem(Problem.Type.FORBIDDEN.with("scope platform needs the role platform"));
            }
            String reason =
                body.target() == null || body.target().isBlank() ? "all" : body.target();
            engaged =
                platform()
                    .askWithStatus(
                        r -> new PlatformSwitchboard.Engage(reason, p.subject(), r), askTimeout);
          } else {
            if (!p.hasAny(Role.OPERATOR)) {
              return problem(
                  Problem.Type.FORBIDDEN.with("tenant kill switches need the role operator"));
            }
            String target =
                scope == KillSwitch.Scope.TENANT && body.target() == null
                    ? p.tenantId()
                    : body.target();
            if (scope == KillSwitch.Scope.CAMPAIGN) {
              // A campaign switch names one of the tenant's campaigns: an unknown id is refused
              // rather than kept as a switch that can never match.
              if (target == null || !CampaignRoutes.isCampaignId(target)) {
                return problem(Problem.Type.VALIDATION.with("target is not a campaign id"));
              }
              return answer(
                  sharding
                      .entityRefFor(
                          CampaignEntity.ENTITY_TYPE_KEY,
                          CampaignEntity.entityId(p.tenantId(), target))
                      .askWithStatus(CampaignEntity.GetDefinition::new, askTimeout),
                  d -> engageInTenant(p, scope, target));
            }
            return engageInTenant(p, scope, target);
          }
          return answer(engaged, k -> json(StatusCodes.CREATED, KillSwitchView.of(k)));
        });
  }

  private Route engageInTenant(Principal p, KillSwitch.Scope scope, String target) {
    CompletionStage<KillSwitch> engaged =
        tenant(p.tenantId())
            .askWithStatus(
                r -> new TenantEntity.EngageKillSwitch(scope, target, p.subject(), r), askTimeout);
    return answer(engaged, k -> json(StatusCodes.CREATED, KillSwitchView.of(k)));
  }

  private Route release(Principal p, String id) {
    CompletionStage<KillSwitch> released;
    if (id.startsWith("ksp_") && p.hasAny(Role.PLATFORM)) {
      released =
          platform()
              .askWithStatus(r -> new PlatformSwitchboard.Release(id, p.subject(), r), askTimeout);
    } else if (id.startsWith("kst_") && p.hasAny(Role.ADMIN)) {
      released =
          tenant(p.tenantId())
              .askWithStatus(
                  r -> new TenantEntity.ReleaseKillSwitch(id, p.subject(), r), askTimeout);
    } else {
      return problem(Problem.Type.NOT_FOUND.with("kill switch " + id + " is not engaged"));
    }
    return answer(released, k -> complete(StatusCodes.NO_CONTENT));
  }

  private Route list(Principal p) {
    CompletionStage<KillSwitches> platformSwitches =
        platform().askWithStatus(PlatformSwitchboard.Get::new, askTimeout);
    CompletionStage<List<KillSwitch>> tenantSwitches =
        tenant(p.tenantId())
            .<io.outreach.engine.tenant.Tenant>askWithStatus(TenantEntity.Get::new, askTimeout)
            .thenApply(t -> t.killSwitches().all())
            .exceptionally(
                e -> {
                  // A platform token's tenant may not exist; it then sees platform switches only.
                  Throwable cause = e.getCause() != null ? e.getCause() : e;
                  if (cause instanceof StatusReply.ErrorMessage m
                      && Rejection.parse(m.getMessage())
                          .map(r -> r.kind() == Rejection.Kind.NOT_FOUND)
                          .orElse(false)) {
                    return List.of();
                  }
                  throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
                });
    return answer(
        platformSwitches.thenCombine(
            tenantSwitches,
            (pl, te) -> {
              List<KillSwitchView> all = new ArrayList<>();
              pl.all().forEach(k -> all.add(KillSwitchView.of(k)));
              te.forEach(k -> all.add(KillSwitchView.of(k)));
              return new ListPage<>(all, null);
            }),
        this::json);
  }

  private org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef<PlatformSwitchboard.Command>
      platform() {
    return sharding.entityRefFor(PlatformSwitchboard.ENTITY_TYPE_KEY, PlatformSwitchboard.ID);
  }

  private org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef<TenantEntity.Command> tenant(
      String id) {
    return sharding.entityRefFor(TenantEntity.ENTITY_TYPE_KEY, id);
  }
}
