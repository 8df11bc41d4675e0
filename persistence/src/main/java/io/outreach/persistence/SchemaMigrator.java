package io.outreach.persistence;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the schema to the version this build's Flyway migrations define, after checking that the
 * schema still is what the migrations already applied say it is.
 *
 * <p>Flyway alone only notices an edited migration file (checksum validation, left on here). It
 * does not notice a column added by hand or a policy dropped in an emergency. So before migrating
 * an existing schema, the same migrations are applied, up to the live version, to a scratch schema
 * {@code drift_probe_<random>} in the same database; the two schemas' catalog fingerprints must
 * match, else {@link SchemaDriftException} names each difference. The scratch schema is always
 * dropped.
 *
 * <p>The migrating role needs CREATE on the database (to create the scratch schema). Migration runs
 * under a PostgreSQL advisory lock, so nodes starting together neither migrate twice nor compare a
 * schema another node is changing; the data source must therefore allow at least three connections.
 */
public final class SchemaMigrator {

  private static final Logger log = LoggerFactory.getLogger(SchemaMigrator.class);

  /** Placeholder in the migrations naming the runtime role that gets DML grants. */
  public static final String APP_ROLE_PLACEHOLDER = "appRole";

  private static final String HISTORY_TABLE = "flyway_schema_history";
  private static final String LOCATION = "classpath:db/migration";
  private static final String LOCK_KEY = "io.outreach.persistence.SchemaMigrator";
  private static final Pattern SIMPLE_IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  private static final SecureRandom random = new SecureRandom();

  private SchemaMigrator() {}

  /**
   * Checks the current schema of {@code owner}'s connections for drift, then applies pending
   * migrations.
   *
   * @param owner connections as the role that owns (or will own) every object in the schema
   * @param appRole the runtime role that the migrations grant data access to; a plain lowercase
   *     identifier, because Flyway pastes it into the SQL unquoted
   * @throws SchemaDriftException if the live schema differs from what its migrations define, or is
   *     at a version newer than this build knows
   */
  public static void migrate(DataSource owner, String appRole) {
    Objects.requireNonNull(owner, "owner");
    if (appRole == null || !SIMPLE_IDENTIFIER.matcher(appRole).matches()) {
      throw new IllegalArgumentException(
          "appRole must be a lowercase SQL identifier ([a-z_][a-z0-9_]*), was: " + appRole);
    }
    Map<String, String> placeholders = Map.of(APP_ROLE_PLACEHOLDER, appRole);
    try (Connection lock = owner.getConnection()) {
      String schema = currentSchema(lock);
      advisoryLock(lock, true);
      try {
        Flyway live = configure(owner, schema, placeholders).load();
        checkDrift(owner, live, schema, placeholders);
        MigrateResult result = live.migrate();
        if (result.migrationsExecuted == 0) {
          log.info("schema {} is up to date at version {}", schema, result.initialSchemaVersion);
        } else {
          log.info(
              "schema {} migrated from version {} to {}: {}",
              schema,
              Optional.ofNullable(result.initialSchemaVersion).orElse("<empty>"),
              result.targetSchemaVersion,
              result.migrations.stream()
                  .map(m -> "V" + m.version + " " + m.description)
                  .collect(Collectors.joining(", ")));
        }
      } finally {
        advisoryLock(lock, false);
      }
    } catch (SQLException e) {
      throw new DataAccessException("schema migration failed", e);
    }
  }

  private static void checkDrift(
      DataSource owner, Flyway live, String schema, Map<String, String> placeholders)
      throws SQLException {
    MigrationInfoService info = live.info();
    MigrationInfo current = info.current();
    if (current == null || current.getVersion() == null) {
      return; // a new schema: nothing applied, so nothing can have drifted
    }
    List<String> future =
        Arrays.stream(info.all())
            .filter(
                m ->
                    m.getState() == MigrationState.FUTURE_SUCCESS
                        || m.getState() == MigrationState.FUTURE_FAILED)
            .map(m -> m.getVersion().getVersion())
            .toList();
    if (!future.isEmpty()) {
      // Its fingerprint cannot be rebuilt from migrations this build does not have.
      throw new SchemaDriftException(
          List.of(
              "database is at version "
                  + current.getVersion()
                  + ", which has migrations this build does not know: "
                  + String.join(", ", future)));
    }
    MigrationVersion liveVersion = current.getVersion();
    String probe = "drift_probe_" + HexFormat.of().formatHex(randomBytes());
    List<String> schemas = List.of(schema, probe);
    try {
      configure(owner, probe, placeholders)
          .createSchemas(true)
          .target(liveVersion)
          .load()
          .migrate();
      List<String> differences;
      try (Connection c = owner.getConnection()) {
        differences =
            SchemaFingerprint.differences(
                SchemaFingerprint.read(c, schema, HISTORY_TABLE, schemas),
                SchemaFingerprint.read(c, probe, HISTORY_TABLE, schemas));
      }
      if (!differences.isEmpty()) {
        throw new SchemaDriftException(differences);
      }
      log.info("schema {} at version {} matches its migrations", schema, liveVersion);
    } finally {
      dropSchema(owner, probe);
    }
  }

  private static FluentConfiguration configure(
      DataSource owner, String schema, Map<String, String> placeholders) {
    return Flyway.configure()
        .dataSource(owner)
        .locations(LOCATION)
        .schemas(schema)
        .defaultSchema(schema)
        .table(HISTORY_TABLE)
        .placeholders(placeholders)
        .validateOnMigrate(true)
        .cleanDisabled(true);
  }

  private static String currentSchema(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("select current_schema()")) {
      if (!rs.next() || rs.getString(1) == null) {
        throw new IllegalStateException("the owner connection has no current schema");
      }
      return rs.getString(1);
    }
  }

  private static void advisoryLock(Connection c, boolean acquire) throws SQLException {
    String fn = acquire ? "pg_advisory_lock" : "pg_advisory_unlock";
    try (PreparedStatement ps = c.prepareStatement("select " + fn + "(hashtext(?))")) {
      ps.setString(1, LOCK_KEY);
      ps.execute();
    }
  }

  private static void dropSchema(DataSource owner, String probe) {
    try (Connection c = owner.getConnection();
        Statement st = c.createStatement()) {
      st.execute("drop schema if exists \"" + probe + "\" cascade");
    } catch (SQLException e) {
      // Not fatal: the probe holds no data, and a stray one is easy to spot by its name.
      log.warn("could not drop drift probe schema {}: {}", probe, e.getMessage());
    }
  }

  private static byte[] randomBytes() {
    byte[] bytes = new byte[6];
    random.nextBytes(bytes);
    return bytes;
  }
}
