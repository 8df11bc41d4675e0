package io.outreach.persistence;

import com.zaxxer.hikari.HikariDataSource;
import io.outreach.engine.tenant.TenantEntity;
import org.apache.pekko.actor.typed.ActorSystem;

/** Projects Tenant events into the {@code tenants} read model and the {@code audit_log}. */
public final class TenantProjection {
  private TenantProjection() {}

  /** Starts the projection; {@code sessions} is the projections' own pool (auto-commit off). */
  public static void init(ActorSystem<?> system, HikariDataSource sessions, int tagSlices) {
    Projections.<TenantEntity.Event>start(
        system,
        sessions,
        "tenants",
        TenantEntity.TAG_PREFIX,
        tagSlices,
        TenantProjectionHandler::new);
  }
}
