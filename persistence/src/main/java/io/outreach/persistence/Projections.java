package io.outreach.persistence;

import com.zaxxer.hikari.HikariDataSource;
import io.outreach.engine.Tags;
import java.util.Optional;
import java.util.function.Supplier;
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
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;
import org.apache.pekko.projection.jdbc.javadsl.JdbcProjection;

/**
 * Starts an exactly-once JDBC projection of one entity type's events: one projection per tag slice
 * ({@code <prefix>-0 ..}), spread over the cluster as a sharded daemon process, writing in the same
 * transaction as its offset.
 */
public final class Projections {
  private Projections() {}

  /** The tenant a persistence id ({@code Type|tenant:...}) belongs to. */
  static String tenantOf(String persistenceId) {
    String entityId = persistenceId.substring(persistenceId.indexOf('|') + 1);
    int colon = entityId.indexOf(':');
    return colon < 0 ? entityId : entityId.substring(0, colon);
  }

  /**
   * A handler's writes for one event, on the projection's connection bound to the event's tenant.
   */
  @FunctionalInterface
  interface TenantWrite {
    void apply(java.sql.Connection c, String tenantId) throws java.sql.SQLException;
  }

  /**
   * Runs {@code write} in the projection's transaction, bound to the tenant of the event's
   * persistence id, so row-level security checks a projection's writes too.
   */
  static void inTenantOf(HikariJdbcSession session, String persistenceId, TenantWrite write)
      throws Exception {
    String tenantId = tenantOf(persistenceId);
    session.withConnection(
        c -> {
          TenantJdbc.bindTenant(c, tenantId);
          write.apply(c, tenantId);
          return null;
        });
  }

  /** Starts projection {@code name} of the events tagged {@code <tagPrefix>-i}, i < slices. */
  public static <E> void start(
      ActorSystem<?> system,
      HikariDataSource sessions,
      String name,
      String tagPrefix,
      int slices,
      Supplier<JdbcHandler<EventEnvelope<E>, HikariJdbcSession>> handler) {
    ShardedDaemonProcess.get(system)
        .init(
            ProjectionBehavior.Command.class,
            name + "-projection",
            slices,
            i ->
                ProjectionBehavior.create(
                    projection(system, sessions, name, Tags.slice(tagPrefix, i), handler)),
            ShardedDaemonProcessSettings.create(system),
            Optional.of(ProjectionBehavior.stopMessage()));
  }

  private static <E> ExactlyOnceProjection<Offset, EventEnvelope<E>> projection(
      ActorSystem<?> system,
      HikariDataSource sessions,
      String name,
      String tag,
      Supplier<JdbcHandler<EventEnvelope<E>, HikariJdbcSession>> handler) {
    return JdbcProjection.exactlyOnce(
        ProjectionId.of(name, tag),
        EventSourcedProvider.<E>eventsByTag(system, JdbcReadJournal.Identifier(), tag),
        () -> new HikariJdbcSession(sessions),
        handler::get,
        system);
  }
}
