package io.outreach.persistence;

import io.outreach.engine.ResumableWork;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The {@code resumable_work} table: entity ids with unfinished work. It is not a tenant table (ids
 * only, no RLS), so it is read without a tenant; rows are added and removed inside the tenant
 * transactions that start and finish the work.
 */
public final class ResumableWorkRepository implements ResumableWork {
  private final DataSource dataSource;

  public ResumableWorkRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  @Override
  public List<String> entityIds(String entityType) {
    return ids(
        "select entity_id from resumable_work where entity_type = ?"
            + " and (wake_at is null or wake_at <= now()) order by since",
        entityType,
        null);
  }

  @Override
  public List<String> dueIds(String entityType, Instant now) {
    return ids(
        "select entity_id from resumable_work where entity_type = ? and wake_at <= ? order by wake_at limit 10000",
        entityType,
        now);
  }

  private List<String> ids(String sql, String entityType, Instant now) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, entityType);
      if (now != null) {
        ps.setTimestamp(2, java.sql.Timestamp.from(now));
      }
      List<String> ids = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
      }
      return ids;
    } catch (SQLException e) {
      throw new DataAccessException("cannot read resumable work", e);
    }
  }

  /**
   * Marks {@code entityId} to be woken at {@code at} (a durable timer), or at the next start when
   * empty; replaces an earlier mark.
   */
  @Override
  public void wakeAt(String entityType, String entityId, Optional<Instant> at) {
    run(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "insert into resumable_work (entity_type, entity_id, since, wake_at) values (?, ?, now(), ?)"
                      + " on conflict (entity_type, entity_id) do update set wake_at = excluded.wake_at")) {
            ps.setString(1, entityType);
            ps.setString(2, entityId);
            ps.setTimestamp(3, at.map(java.sql.Timestamp::from).orElse(null));
            ps.executeUpdate();
          }
        });
  }

  /** Marks {@code entityId} as having work to resume after a crash (idempotent). */
  @Override
  public void register(String entityType, String entityId) {
    run(c -> add(c, entityType, entityId));
  }

  /** The work of {@code entityId} is done (idempotent). */
  @Override
  public void done(String entityType, String entityId) {
    run(c -> remove(c, entityType, entityId));
  }

  private interface Step {
    void apply(Connection c) throws SQLException;
  }

  private void run(Step step) {
    try (Connection c = dataSource.getConnection()) {
      step.apply(c);
    } catch (SQLException e) {
      throw new DataAccessException("cannot update resumable work", e);
    }
  }

  static void add(Connection c, String entityType, String entityId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into resumable_work (entity_type, entity_id, since) values (?, ?, now())"
                + " on conflict do nothing")) {
      ps.setString(1, entityType);
      ps.setString(2, entityId);
      ps.executeUpdate();
    }
  }

  static void remove(Connection c, String entityType, String entityId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("delete from resumable_work where entity_type = ? and entity_id = ?")) {
      ps.setString(1, entityType);
      ps.setString(2, entityId);
      ps.executeUpdate();
    }
  }
}
