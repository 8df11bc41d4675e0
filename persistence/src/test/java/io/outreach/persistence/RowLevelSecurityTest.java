package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Row-level security keeps each tenant's rows invisible and unwritable to every other tenant. */
class RowLevelSecurityTest {

  @RegisterExtension static final EmbeddedDatabaseExtension DB = new EmbeddedDatabaseExtension();

  private static TenantJdbc jdbc;

  @BeforeAll
  static void insertTwoTenants() {
    jdbc = DB.database().tenantJdbc();
    for (String tenant : new String[] {"aaa", "bbb"}) {
      jdbc.inTenant(
          tenant,
          c -> {
            insertTenant(c, tenant);
            try (PreparedStatement ps =
                c.prepareStatement(
                    "insert into audit_log (tenant_id, at, actor, action, subject)"
                        + " values (?, now(), 'test', 'created', ?)")) {
              ps.setString(1, tenant);
              ps.setString(2, tenant);
              ps.executeUpdate();
            }
            return null;
          });
    }
  }

  @Test
  void withoutTenantNothingIsVisible() throws SQLException {
    try (Connection c = DB.database().dataSource().getConnection()) {
      assertThat(count(c, "select count(*) from tenants")).isZero();
      assertThat(count(c, "select count(*) from audit_log")).isZero();
    }
  }

  @Test
  void tenantSeesOnlyItsOwnRows() {
    assertThat((int) jdbc.inTenant("aaa", c -> count(c, "select count(*) from tenants")))
        .isEqualTo(1);
    assertThat(
            (int)
                jdbc.inTenant(
                    "aaa", c -> count(c, "select count(*) from tenants where tenant_id = 'bbb'")))
        .isZero();
    assertThat(
            (int)
                jdbc.inTenant(
                    "aaa", c -> count(c, "select count(*) from audit_log where tenant_id = 'bbb'")))
        .isZero();
  }

  @Test
  void updateAndDeleteOfAnotherTenantsRowsTouchNothing() {
    int updated =
        jdbc.inTenant(
            "aaa", c -> update(c, "update tenants set name = 'stolen' where tenant_id = 'bbb'"));
    int deleted =
        jdbc.inTenant("aaa", c -> update(c, "delete from audit_log where tenant_id = 'bbb'"));
    int deletedTenants =
        jdbc.inTenant("aaa", c -> update(c, "delete from tenants where tenant_id = 'bbb'"));

    assertThat(updated).isZero();
    assertThat(deleted).isZero();
    assertThat(deletedTenants).isZero();
    assertThat(
            (int)
                jdbc.inTenant(
                    "bbb", c -> count(c, "select count(*) from tenants where name = 'tenant bbb'")))
        .isEqualTo(1);
    assertThat((int) jdbc.inTenant("bbb", c -> count(c, "select count(*) from audit_log")))
        .isEqualTo(1);
  }

  @Test
  void insertForAnotherTenantIsRejected() {
    assertThatThrownBy(() -> jdbc.inTenant("aaa", c -> insertTenant(c, "bbb-2")))
        .isInstanceOf(DataAccessException.class)
        .hasMessageContaining("new row violates row-level security policy")
        .satisfies(e -> assertThat(((DataAccessException) e).sqlState()).isEqualTo("42501"));
  }

  @Test
  void movingARowToAnotherTenantIsRejected() {
    assertThatThrownBy(
            () ->
                jdbc.inTenant(
                    "aaa",
                    c ->
                        update(
                            c, "update audit_log set tenant_id = 'bbb' where tenant_id = 'aaa'")))
        .isInstanceOf(DataAccessException.class)
        .satisfies(e -> assertThat(((DataAccessException) e).sqlState()).isEqualTo("42501"));
  }

  @Test
  void appRoleCannotSwitchRowSecurityOff() {
    assertThatThrownBy(
            () ->
                jdbc.inTenant(
                    "aaa",
                    c -> {
                      update(c, "set local row_security = off");
                      return count(c, "select count(*) from tenants");
                    }))
        .isInstanceOf(DataAccessException.class)
        .hasMessageContaining("row-level security")
        .satisfies(e -> assertThat(((DataAccessException) e).sqlState()).isEqualTo("42501"));
  }

  @Test
  void appRoleCannotDisableThePolicy() throws SQLException {
    try (Connection c = DB.database().dataSource().getConnection();
        Statement st = c.createStatement()) {
      assertThatThrownBy(() -> st.execute("alter table tenants disable row level security"))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
      assertThatThrownBy(() -> st.execute("drop policy tenant_isolation on audit_log"))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
    }
  }

  @Test
  void appRoleHasNoBypassAndOwnsNothing() throws SQLException {
    String app = DB.database().appUser();
    try (Connection c = DB.database().dataSource().getConnection();
        PreparedStatement role =
            c.prepareStatement(
                "select rolsuper, rolbypassrls, rolcreaterole from pg_roles where rolname = ?");
        PreparedStatement owned =
            c.prepareStatement(
                "select tablename, tableowner from pg_tables where schemaname = 'public'")) {
      role.setString(1, app);
      try (ResultSet rs = role.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getBoolean("rolsuper")).isFalse();
        assertThat(rs.getBoolean("rolbypassrls")).isFalse();
        assertThat(rs.getBoolean("rolcreaterole")).isFalse();
      }
      int tables = 0;
      try (ResultSet rs = owned.executeQuery()) {
        while (rs.next()) {
          tables++;
          assertThat(rs.getString("tableowner"))
              .as("owner of %s", rs.getString("tablename"))
              .isEqualTo(Database.EMBEDDED_OWNER);
        }
      }
      assertThat(tables).isGreaterThanOrEqualTo(8);
    }
  }

  @Test
  void everyTenantTableHasForcedRowSecurityAndThePolicy() throws SQLException {
    try (Connection c = DB.database().dataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                """
                select c.relname, c.relrowsecurity, c.relforcerowsecurity,
                       (select count(*) from pg_policies p
                        where p.schemaname = 'public' and p.tablename = c.relname
                          and p.policyname = 'tenant_isolation') as policies
                from pg_class c
                join pg_namespace n on n.oid = c.relnamespace
                join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id'
                where n.nspname = 'public' and c.relkind = 'r'
                """)) {
      int tenantTables = 0;
      while (rs.next()) {
        tenantTables++;
        String table = rs.getString(1);
        assertThat(rs.getBoolean(2)).as("RLS enabled on %s", table).isTrue();
        assertThat(rs.getBoolean(3)).as("RLS forced on %s", table).isTrue();
        assertThat(rs.getInt(4)).as("tenant_isolation policy on %s", table).isEqualTo(1);
      }
      assertThat(tenantTables).isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  void appRoleCannotWriteMigrationHistory() throws SQLException {
    try (Connection c = DB.database().dataSource().getConnection();
        Statement st = c.createStatement()) {
      assertThatThrownBy(() -> st.executeUpdate("delete from flyway_schema_history"))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
    }
  }

  private static Void insertTenant(Connection c, String tenant) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into tenants (tenant_id, name, timezone, monthly_budget_cents, status,"
                + " created_at, updated_at) values (?, ?, 'UTC', 10000, 'active', ?, ?)")) {
      Timestamp now = Timestamp.from(Instant.now());
      ps.setString(1, tenant);
      ps.setString(2, "tenant " + tenant);
      ps.setTimestamp(3, now);
      ps.setTimestamp(4, now);
      ps.executeUpdate();
    }
    return null;
  }

  private static int count(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static int update(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      return st.executeUpdate(sql);
    }
  }
}
