package io.outreach.persistence;

import com.zaxxer.hikari.HikariDataSource;
import io.outreach.engine.Tags;
import io.outreach.engine.tenant.TenantEntity;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.ExactlyOnceProjection;
import org.apache.pekko.projection.javadsl.SourceProvider;
import org.apache.pekko.projection.jdbc.javadsl.JdbcProjection;

/**
 * Projects Tenant events into the {@code tenants} read model and the {@code audit_log}, one
 * exactly-once projection per tag slice, spread over the cluster as a sharded daemon process.
 */
public final class TenantProjection {
  private TenantProjection() {}

  /** Starts the projection; {@code sessions} is the projections' own pool (auto-commit off). */
  public static void init(ActorSystem<?> system, HikariDataSource sessions, int tagSlices) {
    ShardedDaemonProcess.get(system)
        .init(
            ProjectionBehavior.Command.class,
            "tenant-projection",
            tagSlices,
            i -> ProjectionBehavior.create(projection(system, sessions, Tags.slice(TenantEntity.TAG_PREFIX, i))),
            ShardedDaemonProcessSettings.create(system),
            Optional.of(ProjectionBehavior.stopMessage()));
  }

  private static ExactlyOnceProjection<Offset, EventEnvelope<TenantEntity.Event>> projection(
      ActorSystem<?> system, HikariDataSource sessions, String tag) {
    SourceProvider<Offset, EventEnvelope<TenantEntity.Event>> source =
        EventSourcedProvider.eventsByTag(system, JdbcReadJournal.Identifier(), tag);
    return JdbcProjection.exactlyOnce(
        ProjectionId.of("tenants", tag),
        source,
        () -> new HikariJdbcSession(sessions),
        TenantProjectionHandler::new,
        system);
  }
}
