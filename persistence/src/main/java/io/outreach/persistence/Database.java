package io.outreach.persistence;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.Properties;
import javax.sql.DataSource;
import org.postgresql.PGProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's PostgreSQL: migrated, drift-checked, and reachable only through a pool of the
 * runtime role, which owns nothing and cannot bypass row-level security.
 *
 * <p><b>Embedded mode</b> (no url): starts {@link EmbeddedPostgresServer} under {@code dataDir}
 * and, as the superuser, creates (idempotently) the role {@value #EMBEDDED_OWNER} that owns
 * database {@value #EMBEDDED_DATABASE} and every object in it and runs the migrations, and the role
 * {@value #EMBEDDED_APP} that the app runs as. zonky's {@code initdb} configures {@code trust}
 * authentication for local connections, so these roles have no passwords: anyone on this machine
 * can connect as any role, including the superuser. That is acceptable for a local run and tests,
 * and the reason production uses an external database.
 *
 * <p><b>External mode</b> (url given): the app connects as {@code user}; migrations run as {@code
 * ownerUser} when given, else as {@code user}. In the latter case the app role owns the tables and
 * could switch row-level security off with DDL; the migrations FORCE row-level security, so its
 * queries are still filtered, but a separate owner role is the recommended setup.
 */
public final class Database implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Database.class);

  static final String EMBEDDED_DATABASE = "outreach";
  static final String EMBEDDED_OWNER = "outreach_owner";
  static final String EMBEDDED_APP = "outreach_app";

  private static final int PING_TIMEOUT_SECONDS = 2;

  /**
   * The longest a caller waits for a pooled connection, and a connection attempt takes: well under
   * the HTTP request timeout, so an unreachable database answers 503 within seconds.
   */
  public static final java.time.Duration CONNECTION_WAIT = java.time.Duration.ofSeconds(3);

  /**
   * The longest one statement runs (PostgreSQL's {@code statement_timeout}, lock waits included) on
   * the engine's pools: under the 30 s HTTP request timeout, so a stuck query or lock fails with a
   * 503 instead of holding a connection and a thread. A bulk load that may take longer says so for
   * its own transaction ({@code set local statement_timeout}).
   */
  public static final java.time.Duration STATEMENT_TIMEOUT = java.time.Duration.ofSeconds(20);

  private final EmbeddedPostgresServer server;
  private final HikariDataSource appPool;
  private final String jdbcUrl;
  private final String appUser;
  private final String appPassword;
  private final TenantJdbc tenantJdbc;
  private final java.util.List<HikariDataSource> extraPools = new java.util.ArrayList<>();
  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();

  private Database(
      EmbeddedPostgresServer server,
      HikariDataSource appPool,
      String jdbcUrl,
      String appUser,
      String appPassword) {
    this.server = server;
    this.appPool = appPool;
    this.jdbcUrl = jdbcUrl;
    this.appUser = appUser;
    this.appPassword = appPassword;
    this.tenantJdbc = new TenantJdbc(appPool);
  }

  /**
   * Starts (embedded) or reaches (external) the database, checks the schema for drift, applies
   * pending migrations and opens the application pool.
   *
   * @throws SchemaDriftException if the schema was changed outside the migrations
   */
  public static Database open(DatabaseConfig cfg) {
    return cfg.isEmbedded() ? openEmbedded(cfg) : openExternal(cfg);
  }

  private static Database openEmbedded(DatabaseConfig cfg) {
    return openEmbedded(cfg, 0);
  }

  /**
   * The embedded PostgreSQL on {@code dataDir/pg} served on {@code port} to other processes (the
   * engine's {@code database} command): created, bootstrapped and migrated as for a local run;
   * nodes connect as {@link #EMBEDDED_APP} and migrate as {@link #EMBEDDED_OWNER}, without
   * passwords (the embedded server trusts local connections).
   */
  public static Database serveEmbedded(Path dataDir, int port, int poolSize) {
    return openEmbedded(
        new DatabaseConfig(
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            dataDir,
            poolSize),
        port);
  }

  /** The role that owns the schema and runs migrations in the embedded database. */
  public static String embeddedOwner() {
    return EMBEDDED_OWNER;
  }

  private static Database openEmbedded(DatabaseConfig cfg, int port) {
    EmbeddedPostgresServer server = EmbeddedPostgresServer.start(cfg.dataDir(), port);
    try {
      bootstrapEmbedded(server);
      String url = "jdbc:postgresql://localhost:" + server.port() + "/" + EMBEDDED_DATABASE;
      migrate(url, EMBEDDED_OWNER, "", EMBEDDED_APP);
      HikariDataSource pool = pool(url, EMBEDDED_APP, "", cfg.poolSize(), "outreach-app", true);
      return new Database(server, pool, url, EMBEDDED_APP, "");
    } catch (RuntimeException e) {
      closeQuietly(server, e);
      throw e;
    }
  }

  private static Database openExternal(DatabaseConfig cfg) {
    String url = cfg.url().orElseThrow();
    String user = cfg.user().orElseThrow();
    String password = cfg.password().orElse("");
    String owner = cfg.ownerUser().orElse(user);
    String ownerPassword = cfg.ownerUser().isPresent() ? cfg.ownerPassword().orElse("") : password;
    if (owner.equals(user)) {
      log.warn(
          "database role {} both owns the schema and runs the app; configure a separate owner role",
          user);
    }
    migrate(url, owner, ownerPassword, user);
    HikariDataSource pool = pool(url, user, password, cfg.poolSize(), "outreach-app", true);
    return new Database(null, pool, url, user, password);
  }

  /**
   * Creates the embedded roles and database when absent and re-asserts their attributes when
   * present, so a data directory made by an older build is brought in line too.
   */
  private static void bootstrapEmbedded(EmbeddedPostgresServer server) {
    try (Connection c = DriverManager.getConnection(server.superuserJdbcUrl("postgres"));
        Statement st = c.createStatement()) {
      ensureRole(c, EMBEDDED_OWNER);
      ensureRole(c, EMBEDDED_APP);
      // Neither role may bypass RLS or administer roles; the owner keeps no more than ownership.
      st.execute(
          "alter role "
              + EMBEDDED_OWNER
              + " login nosuperuser nobypassrls nocreaterole nocreatedb");
      st.execute(
          "alter role " + EMBEDDED_APP + " login nosuperuser nobypassrls nocreaterole nocreatedb");
      boolean exists;
      try (PreparedStatement ps =
          c.prepareStatement("select 1 from pg_database where datname = ?")) {
        ps.setString(1, EMBEDDED_DATABASE);
        try (ResultSet rs = ps.executeQuery()) {
          exists = rs.next();
        }
      }
      if (!exists) {
        // CREATE DATABASE cannot run inside a DO block or transaction, hence the check above.
        st.execute("create database " + EMBEDDED_DATABASE + " owner " + EMBEDDED_OWNER);
        log.info("created embedded database {} owned by {}", EMBEDDED_DATABASE, EMBEDDED_OWNER);
      }
    } catch (SQLException e) {
      throw new DataAccessException("could not bootstrap embedded roles", e);
    }
    try (Connection c = DriverManager.getConnection(server.superuserJdbcUrl(EMBEDDED_DATABASE));
        Statement st = c.createStatement()) {
      st.execute("alter schema public owner to " + EMBEDDED_OWNER);
      // Only the owner creates objects, so everything in the schema comes from migrations.
      st.execute("revoke create on schema public from public");
      st.execute("revoke all on database " + EMBEDDED_DATABASE + " from public");
      st.execute(
          "grant connect on database "
              + EMBEDDED_DATABASE
              + " to "
              + EMBEDDED_OWNER
              + ", "
              + EMBEDDED_APP);
    } catch (SQLException e) {
      throw new DataAccessException("could not prepare embedded database " + EMBEDDED_DATABASE, e);
    }
  }

  private static void ensureRole(Connection c, String role) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("select 1 from pg_roles where rolname = ?")) {
      ps.setString(1, role);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return;
        }
      }
    }
    try (Statement st = c.createStatement()) {
      st.execute("create role " + role + " login");
      log.info("created embedded database role {}", role);
    }
  }

  /** Runs migrations on a short-lived owner pool, closed before the app starts serving. */
  private static void migrate(String url, String owner, String ownerPassword, String appRole) {
    HikariConfig hc = new HikariConfig();
    hc.setPoolName("outreach-migrate");
    hc.setJdbcUrl(url);
    hc.setUsername(owner);
    hc.setPassword(ownerPassword);
    hc.setMaximumPoolSize(4); // SchemaMigrator's lock connection + Flyway's + the fingerprint's
    hc.setMinimumIdle(0);
    try (HikariDataSource ownerPool = new HikariDataSource(hc)) {
      SchemaMigrator.migrate(ownerPool, appRole);
    }
  }

  private static HikariDataSource pool(
      String url, String user, String password, int size, String name, boolean autoCommit) {
    HikariConfig hc = new HikariConfig();
    hc.setPoolName(name);
    hc.setJdbcUrl(url);
    hc.setUsername(user);
    hc.setPassword(password);
    hc.setMaximumPoolSize(size);
    hc.setAutoCommit(autoCommit);
    // Fail fast when the database is away: a caller waits at most CONNECTION_WAIT for a
    // connection (then the API answers 503), and opening one gives up after as long.
    hc.setConnectionTimeout(CONNECTION_WAIT.toMillis());
    hc.setValidationTimeout(Math.min(1_000, CONNECTION_WAIT.toMillis()));
    hc.addDataSourceProperty("connectTimeout", Long.toString(CONNECTION_WAIT.toSeconds()));
    hc.addDataSourceProperty("options", "-c statement_timeout=" + STATEMENT_TIMEOUT.toMillis());
    // A peer that vanished without a reset is noticed by the kernel, not waited for forever.
    hc.addDataSourceProperty("tcpKeepAlive", "true");
    return new HikariDataSource(hc);
  }

  /**
   * A further pool of the application role for a component that manages its own transactions
   * (projections: auto-commit off, sized to their dispatcher). It is closed with the database.
   */
  public synchronized HikariDataSource newPool(String name, int size, boolean autoCommit) {
    HikariDataSource pool = pool(jdbcUrl, appUser, appPassword, size, name, autoCommit);
    extraPools.add(pool);
    return pool;
  }

  /**
   * The application role's pool (a {@link HikariDataSource}); tenant SQL goes via {@link
   * #tenantJdbc()}.
   */
  public DataSource dataSource() {
    return appPool;
  }

  /** JDBC URL of the application database, for the Pekko journal's own pool. */
  public String jdbcUrl() {
    return jdbcUrl;
  }

  /** The application role's user name. */
  public String appUser() {
    return appUser;
  }

  /** The application role's password (empty in embedded mode). Never log it. */
  public String appPassword() {
    return appPassword;
  }

  /** Runs tenant SQL on the application pool. */
  public TenantJdbc tenantJdbc() {
    return tenantJdbc;
  }

  /** True if this process started the PostgreSQL server itself. */
  public boolean isEmbedded() {
    return server != null;
  }

  /**
   * True if the database answers {@code SELECT 1} within two seconds. Uses a fresh connection
   * rather than the pool, so a busy pool reads as load, not as a dead database, and the check never
   * waits the pool's 30 s connection timeout.
   */
  public boolean ping() {
    Properties props = new Properties();
    props.setProperty(PGProperty.USER.getName(), appUser);
    props.setProperty(PGProperty.PASSWORD.getName(), appPassword);
    props.setProperty(PGProperty.CONNECT_TIMEOUT.getName(), String.valueOf(PING_TIMEOUT_SECONDS));
    props.setProperty(PGProperty.LOGIN_TIMEOUT.getName(), String.valueOf(PING_TIMEOUT_SECONDS));
    props.setProperty(PGProperty.SOCKET_TIMEOUT.getName(), String.valueOf(PING_TIMEOUT_SECONDS));
    try (Connection c = DriverManager.getConnection(jdbcUrl, props);
        Statement st = c.createStatement()) {
      st.setQueryTimeout(PING_TIMEOUT_SECONDS);
      try (ResultSet rs = st.executeQuery("select 1")) {
        return rs.next() && rs.getInt(1) == 1;
      }
    } catch (SQLException e) {
      log.debug("database ping failed: {}", e.getMessage());
      return false;
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      synchronized (this) {
        extraPools.forEach(HikariDataSource::close);
      }
      appPool.close();
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  private static void closeQuietly(EmbeddedPostgresServer server, RuntimeException failure) {
    try {
      server.close();
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
  }
}
