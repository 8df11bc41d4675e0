package io.outreach.persistence;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One embedded {@link Database} per test class, on its own temporary data directory: starting
 * PostgreSQL takes seconds, so tests in a class share it and keep their rows apart by tenant.
 *
 * <p>Use as {@code @RegisterExtension static final EmbeddedDatabaseExtension DB = new
 * EmbeddedDatabaseExtension();}.
 */
final class EmbeddedDatabaseExtension implements BeforeAllCallback, AfterAllCallback {

  private Path dataDir;
  private Database database;

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    dataDir = Files.createTempDirectory("outreach-db-test");
    database = Database.open(DatabaseConfig.embedded(dataDir, 4));
  }

  @Override
  public void afterAll(ExtensionContext context) {
    try {
      if (database != null) {
        database.close();
      }
    } finally {
      deleteRecursively(dataDir);
    }
  }

  Database database() {
    return database;
  }

  /**
   * The single number {@code sql} (a {@code count(*)}, say) answers with {@code params}, as the
   * application role bound to {@code tenant}: what that tenant can see.
   */
  long count(String tenant, String sql, Object... params) {
    return database
        .tenantJdbc()
        .inTenant(
            tenant,
            c -> {
              try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < params.length; i++) {
                  ps.setObject(i + 1, params[i]);
                }
                try (ResultSet rs = ps.executeQuery()) {
                  rs.next();
                  return rs.getLong(1);
                }
              }
            });
  }

  /** A connection as the schema owner, for changes made behind Flyway's back. */
  Connection ownerConnection() throws SQLException {
    return ownerConnection(database);
  }

  static Connection ownerConnection(Database db) throws SQLException {
    return DriverManager.getConnection(db.jdbcUrl(), Database.EMBEDDED_OWNER, "");
  }

  static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
