package io.outreach.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;
import java.util.TreeSet;

/**
 * Markers in {@code resumable_work} for work that is stored in tenant tables and done later (an
 * inbox to process, replies to send), which a crash must not lose. The transaction that stores the
 * work adds its marker; the worker removes it when a check finds no work left. Under read committed
 * that check cannot see work stored by a transaction still open, so a marker could be removed just
 * after that transaction found it present: adding takes a shared advisory lock on the marker and
 * removing an exclusive one, in a transaction of its own that holds nothing else (so it cannot
 * deadlock), and the check runs after the lock is granted, when the adder has committed.
 */
final class WorkMarkers {
  private WorkMarkers() {}

  /** Adds the markers in {@code c}'s transaction, which holds their shared locks until it ends. */
  static void add(Connection c, String entityType, Collection<String> entityIds)
      throws SQLException {
    if (entityIds.isEmpty()) {
      return;
    }
    TreeSet<String> ids = new TreeSet<>(entityIds);
    // One statement: the insert reads the locking subquery's row, so the locks are held first.
    try (PreparedStatement ps =
        c.prepareStatement(
            "with locked as (select count(pg_advisory_xact_lock_shared(k)) from unnest(?::bigint[]) as t(k))"
                + " insert into resumable_work (entity_type, entity_id, since)"
                + " select ?, id, now() from unnest(?::text[]) as t(id), locked on conflict do nothing")) {
      ps.setArray(
          1,
          c.createArrayOf(
              "bigint", ids.stream().map(id -> key(entityType, id)).sorted().distinct().toArray()));
      ps.setString(2, entityType);
      ps.setArray(3, c.createArrayOf("text", ids.toArray()));
      ps.executeUpdate();
    }
  }

  /**
   * Removes the marker in a new transaction of {@code tenantId} if {@code stillWorkSql} (a query
   * whose parameters are {@code params}) finds no row: its work is done, and none was added by a
   * transaction open meanwhile.
   */
  static void removeIfDone(
      TenantJdbc tenantJdbc,
      String tenantId,
      String entityType,
      String entityId,
      String stillWorkSql,
      String... params) {
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps = c.prepareStatement("select pg_advisory_xact_lock(?)")) {
            ps.setLong(1, key(entityType, entityId));
            ps.executeQuery().close();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "delete from resumable_work where entity_type = ? and entity_id = ? and not exists ("
                      + stillWorkSql
                      + ")")) {
            ps.setString(1, entityType);
            ps.setString(2, entityId);
            for (int i = 0; i < params.length; i++) {
              ps.setString(3 + i, params[i]);
            }
            ps.executeUpdate();
          }
          return null;
        });
  }

  /** The marker's lock key (person keys hash {@code tenant|phone}; these {@code type|id}). */
  private static long key(String entityType, String entityId) {
    return PersonLocks.key(entityType, entityId);
  }
}
