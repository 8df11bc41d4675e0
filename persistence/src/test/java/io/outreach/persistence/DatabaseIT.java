package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * External mode, exercised against a PostgreSQL started here but reached by URL, user and password
 * exactly as a production database would be.
 */
class DatabaseIT {

  private Path dataDir;

  @BeforeEach
  void createDataDir() throws IOException {
    dataDir = Files.createTempDirectory("outreach-external-test");
  }

  @AfterEach
  void deleteDataDir() {
    EmbeddedDatabaseExtension.deleteRecursively(dataDir);
  }

  @Test
  void externalModeMigratesAsOwnerRunsAsAppRoleAndPingsHonestly() throws SQLException {
    // Embedded mode once, to create the roles and the database an operator would provision.
    try (Database embedded = Database.open(DatabaseConfig.embedded(dataDir, 1))) {
      assertThat(embedded.isEmbedded()).isTrue();
    }

    EmbeddedPostgresServer server = EmbeddedPostgresServer.start(dataDir);
    String url = "jdbc:postgresql://localhost:" + server.port() + "/outreach";
    DatabaseConfig cfg =
        new DatabaseConfig(
            Optional.of(url),
            Optional.of("outreach_app"),
            Optional.of(""),
            Optional.of("outreach_owner"),
            Optional.of(""),
            dataDir,
            2);
    try (Database db = Database.open(cfg)) {
      assertThat(db.isEmbedded()).isFalse();
      assertThat(db.ping()).isTrue();
      assertThat(db.jdbcUrl()).isEqualTo(url);
      assertThat(db.appUser()).isEqualTo("outreach_app");
      try (Connection c = db.dataSource().getConnection();
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("select current_user")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("outreach_app");
      }
      // Every pooled connection bounds its statements, shorter than a request may take.
      for (javax.sql.DataSource pool : List.of(db.dataSource(), db.newPool("extra", 1, false))) {
        try (Connection c = pool.getConnection();
            Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("show statement_timeout")) {
          rs.next();
          assertThat(rs.getString(1))
              .isEqualTo(Database.STATEMENT_TIMEOUT.toSeconds() + "s")
              .isNotEqualTo("0");
        }
      }

      server.close();
      assertThat(db.ping()).isFalse();
    } finally {
      server.close(); // zonky ignores a second close
    }
  }

  @Test
  void configNeverPrintsPasswords() {
    DatabaseConfig cfg =
        new DatabaseConfig(
            Optional.of("jdbc:postgresql://db/outreach"),
            Optional.of("app"),
            Optional.of("s3cret-app"),
            Optional.of("owner"),
            Optional.of("s3cret-owner"),
            dataDir,
            4);
    assertThat(cfg.toString()).doesNotContain("s3cret").contains("app", "owner");
  }
}
