package io.outreach.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The engine's typed settings, read once at start from the {@code outreach} config root.
 *
 * <p>Reading fails fast with a {@link SettingsException} that names the offending key, so a bad
 * deployment stops at start instead of failing later at first use.
 */
public record Settings(
    Path dataDir,
    Http http,
    Db db,
    Auth auth,
    Cluster cluster,
    boolean managementEnabled,
    int tenantTagSlices,
    Duration journalCheckTimeout,
    Intake intake,
    Webhooks webhooks,
    boolean serveSandbox,
    Optional<String> sandboxUrl,
    int campaignBlocksInFlight,
    Duration entityAskTimeout,
    Pools pools) {

  /**
   * Connection pools and the threads that use them, one connection per thread: the send path's
   * (send-time checks and dispatch, {@code outreach.sends-dispatcher}), the webhook writers', and
   * the projections' ({@code pekko.projection.jdbc.blocking-jdbc-dispatcher}).
   */
  public record Pools(int sends, int webhookWriters, int projections) {}

  /**
   * Inbound webhooks: the engine's public base URL (providers sign the URL they called), whether to
   * believe {@code X-Forwarded-Proto/Host} from a trusted proxy, and the provider secrets that sign
   * them (sandbox defaults when no provider account is configured).
   */
  public record Webhooks(
      Optional<String> publicUrl,
      boolean trustForwardedHeaders,
      String twilioAuthToken,
      String signalHouseSecret,
      java.util.Map<String, String> tenantTwilioAuthTokens,
      java.util.Map<String, String> tenantSignalHouseSecrets) {

    /**
     * The Twilio auth token that signs {@code tenantId}'s webhooks: its own account's, else the
     * engine's.
     */
    public String twilioAuthToken(String tenantId) {
      return tenantTwilioAuthTokens.getOrDefault(tenantId, twilioAuthToken);
    }

    /**
     * The SignalHouse secret that signs {@code tenantId}'s webhooks: its own account's, else the
     * engine's.
     */
    public String signalHouseSecret(String tenantId) {
      return tenantSignalHouseSecrets.getOrDefault(tenantId, signalHouseSecret);
    }
  }

  /** Lead intake: the largest CSV upload, and the region for numbers without a country code. */
  public record Intake(long maxUploadBytes, String defaultRegion) {}

  /** HTTP server settings. */
  public record Http(String host, int port, long maxBodyBytes, Duration askTimeout) {}

  /** Database settings: an empty url means the embedded PostgreSQL. */
  public record Db(
      Optional<String> url,
      Optional<String> user,
      Optional<String> password,
      Optional<String> ownerUser,
      Optional<String> ownerPassword,
      int poolSize) {}

  /** Token verification settings. */
  public record Auth(Optional<String> jwtSecret, Duration clockSkew) {}

  /** How this node finds its cluster. */
  public record Cluster(boolean joinSelf, boolean bootstrap) {}

  /** Loads {@code application.conf} (with the environment) over every reference.conf. */
  public static Settings load() {
    return from(ConfigFactory.load());
  }

  /** Reads the settings from an already loaded configuration. */
  public static Settings from(Config root) {
    try {
      Config c = root.getConfig("outreach");
      Settings s =
          new Settings(
              Path.of(c.getString("data-dir")),
              new Http(
                  c.getString("http.host"),
                  port(c, "http.port"),
                  positive(c, "http.max-body-bytes", c.getBytes("http.max-body-bytes")),
                  c.getDuration("http.ask-timeout")),
              new Db(
                  optional(c, "db.url"),
                  optional(c, "db.user"),
                  optional(c, "db.password"),
                  optional(c, "db.owner-user"),
                  optional(c, "db.owner-password"),
                  (int) positive(c, "db.pool-size", c.getInt("db.pool-size"))),
              new Auth(jwtSecret(c), c.getDuration("auth.clock-skew")),
              new Cluster(c.getBoolean("cluster.join-self"), c.getBoolean("cluster.bootstrap")),
              c.getBoolean("management.enabled"),
              (int) positive(c, "tenant.tag-slices", c.getInt("tenant.tag-slices")),
              c.getDuration("startup.journal-check-timeout"),
              new Intake(
                  positive(c, "intake.max-upload-bytes", c.getBytes("intake.max-upload-bytes")),
                  region(c, "intake.default-region")),
              new Webhooks(
                  optional(c, "public-url").map(u -> u.replaceAll("/+$", "")),
                  c.getBoolean("webhooks.trust-forwarded-headers"),
                  c.getString("providers.twilio.auth-token"),
                  c.getString("providers.signalhouse.webhook-secret"),
                  perTenant(c, "twilio.auth-token"),
                  perTenant(c, "signalhouse.webhook-secret")),
              c.getBoolean("sandbox.serve"),
              optional(c, "sandbox.url").map(u -> u.replaceAll("/+$", "")),
              (int)
                  positive(
                      c,
                      "campaigns.max-blocks-in-flight",
                      c.getInt("campaigns.max-blocks-in-flight")),
              c.getDuration("entity-ask-timeout"),
              new Pools(
                  (int)
                      positive(
                          c,
                          "sends-dispatcher.thread-pool-executor.fixed-pool-size",
                          c.getInt("sends-dispatcher.thread-pool-executor.fixed-pool-size")),
                  (int) positive(c, "webhooks.writers", c.getInt("webhooks.writers")),
                  root.getInt(
                      "pekko.projection.jdbc.blocking-jdbc-dispatcher.thread-pool-executor.fixed-pool-size")));
      if (s.db.url.isPresent() && s.db.user.isEmpty()) {
        throw new SettingsException(
            "outreach.db.user", "is required when outreach.db.url (OUTREACH_DB_URL) is set");
      }
      return s;
    } catch (ConfigException e) {
      throw new SettingsException(e.getMessage(), e);
    }
  }

  /** True when no external database is configured and the embedded one runs. */
  public boolean embeddedDatabase() {
    return db.url.isEmpty();
  }

  /**
   * {@code outreach.providers.tenants.<tenant>.<key>}: a tenant's own provider account secrets
   * (from a mounted secret in production), which sign that tenant's webhooks.
   */
  private static java.util.Map<String, String> perTenant(Config c, String key) {
    java.util.Map<String, String> out = new java.util.HashMap<>();
    if (c.hasPath("providers.tenants")) {
      Config tenants = c.getConfig("providers.tenants");
      for (String tenant : tenants.root().keySet()) {
        if (tenants.hasPath(tenant + "." + key)) {
          out.put(tenant, tenants.getString(tenant + "." + key));
        }
      }
    }
    return java.util.Map.copyOf(out);
  }

  private static Optional<String> optional(Config c, String key) {
    String v = c.getString(key).trim();
    return v.isEmpty() ? Optional.empty() : Optional.of(v);
  }

  private static int port(Config c, String key) {
    int port = c.getInt(key);
    if (port < 0 || port > 65535) {
      throw new SettingsException("outreach." + key, "must be a port number 0-65535, was " + port);
    }
    return port;
  }

  private static long positive(Config c, String key, long value) {
    if (value <= 0) {
      throw new SettingsException("outreach." + key, "must be positive, was " + value);
    }
    return value;
  }

  private static String region(Config c, String key) {
    String region = c.getString(key);
    if (!region.matches("[A-Z]{2}")) {
      throw new SettingsException(
          "outreach." + key, "must be a two-letter region code, was " + region);
    }
    return region;
  }

  private static Optional<String> jwtSecret(Config c) {
    Optional<String> secret = optional(c, "auth.jwt-secret");
    // HS256 needs a key of at least 256 bits (RFC 7518 3.2).
    if (secret.isPresent()
        && secret.get().getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
      throw new SettingsException(
          "outreach.auth.jwt-secret", "(OUTREACH_JWT_SECRET) must be at least 32 bytes for HS256");
    }
    return secret;
  }
}
