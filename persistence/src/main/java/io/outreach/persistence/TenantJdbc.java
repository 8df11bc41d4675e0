package io.outreach.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The only way to run tenant SQL: every unit of work runs in one transaction whose {@code
 * app.tenant_id} setting names the tenant, so PostgreSQL's row-level-security policies admit that
 * tenant's rows and no others.
 *
 * <p>The setting is bound with {@code set_config(..., true)}, the function form of {@code SET
 * LOCAL}: it ends with the transaction, so a pooled connection never carries one tenant's id into
 * the next borrower's work. A connection used without binding a tenant sees no tenant rows at all,
 * which makes a forgotten binding fail closed.
 */
public final class TenantJdbc {

  /**
   * Work to run inside a tenant's transaction. It must not commit, roll back or change auto-commit:
   * {@link TenantJdbc#inTenant} owns the transaction.
   *
   * @param <T> what the work returns
   */
  @FunctionalInterface
  public interface SqlWork<T> {
    /** Runs statements on {@code c}, already bound to the tenant. */
    T apply(Connection c) throws SQLException;
  }

  /**
   * One tenant's part of a transaction shared by several tenants ({@link TenantJdbc#inTenants}).
   *
   * @param <K> the tenant's share of the work
   */
  @FunctionalInterface
  public interface TenantPart<K> {
    /** Runs statements on {@code c}, bound to {@code tenantId} until the next part rebinds it. */
    void apply(Connection c, String tenantId, K share) throws SQLException;
  }

  private final DataSource dataSource;

  public TenantJdbc(DataSource dataSource) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
  }

  /**
   * Runs {@code work} in a new transaction bound to {@code tenantId} and commits it. Any exception
   * rolls the whole transaction back and is rethrown; a {@link SQLException} is wrapped in a {@link
   * DataAccessException}.
   *
   * @throws IllegalArgumentException if {@code tenantId} is null or blank
   */
  public <T> T inTenant(String tenantId, SqlWork<T> work) {
    requireTenant(tenantId);
    Objects.requireNonNull(work, "work");
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        bind(c, tenantId);
        T result = work.apply(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException | Error e) {
        rollbackAfter(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw new DataAccessException("tenant transaction for " + tenantId + " failed", e);
    }
  }

  /**
   * Runs each tenant's share of {@code work} in ONE transaction (a group commit: one fsync for many
   * small writes), binding the transaction to each tenant before its part runs, so every statement
   * still sees only its own tenant's rows. All parts commit together or none does.
   */
  public <K> void inTenants(java.util.Map<String, K> work, TenantPart<K> part) {
    Objects.requireNonNull(part, "part");
    work.keySet().forEach(TenantJdbc::requireTenant);
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        for (java.util.Map.Entry<String, K> e : work.entrySet()) {
          bind(c, e.getKey());
          part.apply(c, e.getKey(), e.getValue());
        }
        c.commit();
      } catch (SQLException | RuntimeException | Error e) {
        rollbackAfter(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw new DataAccessException("group transaction for " + work.keySet() + " failed", e);
    }
  }

  /**
   * Binds {@code tenantId} to the transaction already open on {@code c}, for code that owns its
   * transaction (projection handlers inside pekko-projection's JdbcSession). The binding ends when
   * that transaction ends.
   *
   * @throws IllegalArgumentException if {@code tenantId} is null or blank
   * @throws IllegalStateException if {@code c} is in auto-commit mode, where the binding would end
   *     with the very statement that sets it and the following work would see no rows
   */
  public static void bindTenant(Connection c, String tenantId) {
    requireTenant(tenantId);
    try {
      if (c.getAutoCommit()) {
        throw new IllegalStateException("bindTenant needs a connection with auto-commit off");
      }
      bind(c, tenantId);
    } catch (SQLException e) {
      throw new DataAccessException("could not bind tenant " + tenantId, e);
    }
  }

  private static void bind(Connection c, String tenantId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("select set_config('app.tenant_id', ?, true)")) {
      ps.setString(1, tenantId);
      ps.execute();
    }
  }

  private static void requireTenant(String tenantId) {
    if (tenantId == null || tenantId.isBlank()) {
      throw new IllegalArgumentException("tenant id must not be null or blank");
    }
  }

  private static void rollbackAfter(Connection c, Throwable failure) {
    try {
      c.rollback();
    } catch (SQLException rollbackFailure) {
      // The original failure is what the caller needs; the pool discards a broken connection.
      failure.addSuppressed(rollbackFailure);
    }
  }
}
