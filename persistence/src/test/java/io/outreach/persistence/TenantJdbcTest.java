package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** TenantJdbc commits or rolls back whole units of work and never leaks a tenant binding. */
class TenantJdbcTest {

  @RegisterExtension static final EmbeddedDatabaseExtension DB = new EmbeddedDatabaseExtension();

  @Test
  void commitsWork() {
    TenantJdbc jdbc = DB.database().tenantJdbc();
    jdbc.inTenant("commit", c -> audit(c, "commit", "kept"));

    assertThat((int) jdbc.inTenant("commit", c -> auditCount(c, "kept"))).isEqualTo(1);
  }

  @Test
  void rollsBackWhenWorkThrows() {
    TenantJdbc jdbc = DB.database().tenantJdbc();
    IllegalStateException boom = new IllegalStateException("boom");

    assertThatThrownBy(
            () ->
                jdbc.inTenant(
                    "rollback",
                    c -> {
                      audit(c, "rollback", "lost");
                      throw boom;
                    }))
        .isSameAs(boom);
    assertThat((int) jdbc.inTenant("rollback", c -> auditCount(c, "lost"))).isZero();
  }

  @Test
  void rollsBackAndWrapsSqlErrors() {
    TenantJdbc jdbc = DB.database().tenantJdbc();

    assertThatThrownBy(
            () ->
                jdbc.inTenant(
                    "sql-error",
                    c -> {
                      audit(c, "sql-error", "lost");
                      try (Statement st = c.createStatement()) {
                        return st.executeQuery("select no_such_column from tenants");
                      }
                    }))
        .isInstanceOf(DataAccessException.class)
        .hasCauseInstanceOf(SQLException.class)
        .satisfies(e -> assertThat(((DataAccessException) e).sqlState()).isEqualTo("42703"));
    assertThat((int) jdbc.inTenant("sql-error", c -> auditCount(c, "lost"))).isZero();
  }

  @Test
  void bindingEndsWithTheTransaction() throws SQLException {
    // One connection in the pool, so the next borrower gets the very connection just used.
    try (HikariDataSource single = singleConnectionPool()) {
      TenantJdbc jdbc = new TenantJdbc(single);
      jdbc.inTenant("leak", c -> audit(c, "leak", "row"));

      try (Connection c = single.getConnection();
          Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "select current_setting('app.tenant_id', true), (select count(*) from"
                      + " audit_log)")) {
        rs.next();
        assertThat(rs.getString(1)).isNullOrEmpty();
        assertThat(rs.getInt(2)).isZero();
      }
    }
  }

  @Test
  void bindTenantWorksInsideACallersTransaction() throws SQLException {
    try (Connection c = DB.database().dataSource().getConnection()) {
      c.setAutoCommit(false);
      TenantJdbc.bindTenant(c, "projection");
      audit(c, "projection", "from-handler");
      c.commit();
    }
    assertThat(
            (int)
                DB.database()
                    .tenantJdbc()
                    .inTenant("projection", c -> auditCount(c, "from-handler")))
        .isEqualTo(1);
  }

  @Test
  void bindTenantRefusesAutoCommit() throws SQLException {
    try (Connection c = DB.database().dataSource().getConnection()) {
      assertThatThrownBy(() -> TenantJdbc.bindTenant(c, "x"))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void rejectsMissingTenant() {
    TenantJdbc jdbc = DB.database().tenantJdbc();
    for (String bad : new String[] {null, "", "  "}) {
      assertThatThrownBy(() -> jdbc.inTenant(bad, c -> 1))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> TenantJdbc.bindTenant(null, bad))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  private static HikariDataSource singleConnectionPool() {
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(DB.database().jdbcUrl());
    hc.setUsername(DB.database().appUser());
    hc.setPassword(DB.database().appPassword());
    hc.setMaximumPoolSize(1);
    return new HikariDataSource(hc);
  }

  private static Void audit(Connection c, String tenant, String subject) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into audit_log (tenant_id, at, actor, action, subject)"
                + " values (?, now(), 'test', 'tested', ?)")) {
      ps.setString(1, tenant);
      ps.setString(2, subject);
      ps.executeUpdate();
    }
    return null;
  }

  private static int auditCount(Connection c, String subject) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("select count(*) from audit_log where subject = ?")) {
      ps.setString(1, subject);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }
}
