package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The engine refuses a schema changed behind Flyway's back, and reopens an unchanged one (with its
 * data) without complaint. Each test restarts PostgreSQL on its own data directory, which is why
 * these live in an integration test.
 */
class SchemaDriftIT {

  private Path dataDir;

  @BeforeEach
  void createDataDir() throws IOException {
    dataDir = Files.createTempDirectory("outreach-drift-test");
  }

  @AfterEach
  void deleteDataDir() {
    EmbeddedDatabaseExtension.deleteRecursively(dataDir);
  }

  @Test
  void cleanReopenSucceedsAndKeepsData() {
    try (Database db = open()) {
      db.tenantJdbc().inTenant("acme", c -> insertTenant(c, "acme"));
    }

    try (Database db = open()) {
      assertThat(db.ping()).isTrue();
      String name =
          db.tenantJdbc()
              .inTenant(
                  "acme",
                  c -> {
                    try (Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("select name from tenants")) {
                      return rs.next() ? rs.getString(1) : null;
                    }
                  });
      assertThat(name).isEqualTo("Acme");
    }
  }

  @Test
  void changesBehindFlywaysBackAreRefused() throws SQLException {
    try (Database db = open();
        Connection owner = EmbeddedDatabaseExtension.ownerConnection(db);
        Statement st = owner.createStatement()) {
      st.execute("alter table tenants add column nickname text");
      st.execute("drop policy tenant_isolation on audit_log");
      st.execute("alter table event_journal alter column writer type varchar(100)");
      st.execute("alter table tenants no force row level security");
    }

    assertThatThrownBy(this::open)
        .isInstanceOf(SchemaDriftException.class)
        .hasMessageStartingWith("schema drift: ")
        .hasMessageContaining(
            "column tenants.nickname (text) exists in the database but not in migrations")
        .hasMessageContaining("policy tenant_isolation on audit_log missing")
        .hasMessageContaining(
            "column event_journal.writer differs: database has character varying(100) not null,"
                + " migrations define character varying(255) not null")
        .hasMessageContaining(
            "row level security on tenants differs: database has enabled, not forced,"
                + " migrations define enabled, forced")
        .satisfies(e -> assertThat(((SchemaDriftException) e).differences()).hasSize(4));

    // The failed open stopped its server and dropped its scratch schema.
    try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(dataDir);
        Connection c = DriverManager.getConnection(server.superuserJdbcUrl("outreach"));
        PreparedStatement ps =
            c.prepareStatement("select count(*) from pg_namespace where nspname like ?")) {
      ps.setString(1, "drift\\_probe\\_%");
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        assertThat(rs.getInt(1)).isZero();
      }
    }
  }

  private Database open() {
    return Database.open(DatabaseConfig.embedded(dataDir, 2));
  }

  private static Void insertTenant(Connection c, String tenant) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into tenants (tenant_id, name, timezone, monthly_budget_cents, status,"
                + " created_at, updated_at) values (?, 'Acme', 'America/New_York', 500000,"
                + " 'active', now(), now())")) {
      ps.setString(1, tenant);
      ps.executeUpdate();
    }
    return null;
  }
}
