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
    Mode mode,
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
    Pools pools,
    Secrets secrets,
    ProviderUrls providerUrls) {

  /**
   * {@code sandbox} (the default run: the engine serves its provider twins, sends through them and
   * accepts their test credentials) or {@code production} (no twins, no test credential accepted,
   * every required setting present or the engine refuses to start).
   */
  public enum Mode {
    SANDBOX,
    PRODUCTION
  }

  /**
   * The key that encrypts provider account secrets at rest ({@code OUTREACH_SECRETS_KEY}: 32 random
   * bytes, base64), and earlier keys still accepted for reading while a rotation re-encrypts under
   * the current one ({@code OUTREACH_SECRETS_PREVIOUS_KEYS}, comma-separated). Empty key: in
   * sandbox mode one is generated into the data directory.
   */
  public record Secrets(Optional<byte[]> key, java.util.List<byte[]> previousKeys) {}

  /**
   * Where each provider's API is ({@code OUTREACH_TWILIO_BASE_URL} and the like); empty: the real
   * service in production mode, the engine's own twin in sandbox mode.
   */
  public record ProviderUrls(
      Optional<String> twilio,
      Optional<String> signalHouse,
      Optional<String> apollo,
      Optional<String> anthropic) {}

  /** Whether the providers are the sandbox twins (served here, or standalone). */
  public boolean sandboxProviders() {
    return mode == Mode.SANDBOX;
  }

  /**
   * Connection pools and the threads that use them, one connection per thread: the send path's
   * (send-time checks and dispatch, {@code outreach.sends-dispatcher}), the webhook writers', and
   * the projections' ({@code pekko.projection.jdbc.blocking-jdbc-dispatcher}).
   */
  public record Pools(int sends, int webhookWriters, int projections) {}

  /**
   * Inbound webhooks: the engine's public base URL (providers sign the URL they called), and
   * whether to believe {@code X-Forwarded-Proto/Host} from a trusted proxy. The secrets that sign
   * them are each tenant's provider accounts'.
   */
  public record Webhooks(Optional<String> publicUrl, boolean trustForwardedHeaders) {}

  /**
   * Lead intake: the largest CSV upload, the region for numbers without a country code, how many
   * uploads one tenant may have under way at once, how long a finished import's upload is kept, and
   * how many bytes of uploads a tenant may store.
   */
  public record Intake(
      long maxUploadBytes,
      String defaultRegion,
      int maxConcurrentUploads,
      java.time.Duration uploadRetention,
      long uploadQuotaBytes) {}

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

  /**
   * How this node finds its cluster: the seed nodes ({@code OUTREACH_CLUSTER_SEED_NODES}, {@code
   * host:port} of each node's remoting, as Pekko addresses of the actor system {@link
   * #SYSTEM_NAME}); without any, a node joins itself ({@code join-self}) or Cluster Bootstrap forms
   * the cluster ({@code bootstrap}).
   */
  public record Cluster(boolean joinSelf, boolean bootstrap, java.util.List<String> seedNodes) {

    /** The name of every node's actor system: nodes of one cluster share it. */
    public static final String SYSTEM_NAME = "outreach";

    /** The seed nodes as {@code pekko.cluster.seed-nodes} wants them, empty when none is set. */
    public Config seedNodesConfig() {
      return seedNodes.isEmpty()
          ? ConfigFactory.empty()
          : ConfigFactory.parseMap(java.util.Map.of("pekko.cluster.seed-nodes", seedNodes));
    }
  }

  /** Loads {@code application.conf} (with the environment) over every reference.conf. */
  public static Settings load() {
    return from(ConfigFactory.load());
  }

  /** Reads the settings from an already loaded configuration. */
  public static Settings from(Config root) {
    try {
      Config c = root.getConfig("outreach");
      Mode mode = mode(c);
      Settings s =
          new Settings(
              mode,
              Path.of(c.getString("data-dir")),
              new Http(
                  optional(c, "http.host")
                      .orElse(mode == Mode.PRODUCTION ? "0.0.0.0" : "127.0.0.1"),
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
              new Cluster(
                  c.getBoolean("cluster.join-self"),
                  c.getBoolean("cluster.bootstrap"),
                  seedNodes(c.getString("cluster.seed-nodes"))),
              c.getBoolean("management.enabled"),
              (int) positive(c, "tenant.tag-slices", c.getInt("tenant.tag-slices")),
              c.getDuration("startup.journal-check-timeout"),
              new Intake(
                  positive(c, "intake.max-upload-bytes", c.getBytes("intake.max-upload-bytes")),
                  region(c, "intake.default-region"),
                  (int)
                      positive(
                          c,
                          "intake.max-concurrent-uploads",
                          c.getInt("intake.max-concurrent-uploads")),
                  c.getDuration("intake.upload-retention"),
                  positive(c, "intake.upload-quota", c.getBytes("intake.upload-quota"))),
              new Webhooks(
                  optional(c, "public-url").map(u -> u.replaceAll("/+$", "")),
                  c.getBoolean("webhooks.trust-forwarded-headers")),
              serve(c, mode),
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
                      "pekko.projection.jdbc.blocking-jdbc-dispatcher.thread-pool-executor.fixed-pool-size")),
              new Secrets(
                  optional(c, "secrets.key").map(k -> key(k, "outreach.secrets.key")),
                  java.util.Arrays.stream(c.getString("secrets.previous-keys").split(","))
                      .map(String::trim)
                      .filter(k -> !k.isEmpty())
                      .map(k -> key(k, "outreach.secrets.previous-keys"))
                      .toList()),
              new ProviderUrls(
                  url(c, "providers.twilio.base-url"),
                  url(c, "providers.signalhouse.base-url"),
                  url(c, "providers.apollo.base-url"),
                  url(c, "providers.anthropic.base-url")));
      if (mode == Mode.PRODUCTION) {
        production(c, s);
      }
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

  private static Mode mode(Config c) {
    String mode = c.getString("mode").trim().toLowerCase(java.util.Locale.ROOT);
    return switch (mode) {
      case "sandbox" -> Mode.SANDBOX;
      case "production" -> Mode.PRODUCTION;
      default ->
          throw new SettingsException(
              "outreach.mode", "(OUTREACH_MODE) must be sandbox or production, was " + mode);
    };
  }

  /** {@code sandbox.serve}: {@code auto} serves the twins in sandbox mode only. */
  private static boolean serve(Config c, Mode mode) {
    String serve = c.getString("sandbox.serve").trim().toLowerCase(java.util.Locale.ROOT);
    return switch (serve) {
      case "auto" -> mode == Mode.SANDBOX;
      case "on", "true", "yes" -> true;
      case "off", "false", "no" -> false;
      default ->
          throw new SettingsException(
              "outreach.sandbox.serve", "(OUTREACH_SANDBOX_SERVE) must be auto, on or off");
    };
  }

  /**
   * Production trusts nothing public: every required setting must be present, and no part of the
   * sandbox may be in use. Names every problem at once.
   */
  private static void production(Config c, Settings s) {
    java.util.List<String> problems = new java.util.ArrayList<>();
    if (s.webhooks.publicUrl().isEmpty()) {
      problems.add("OUTREACH_PUBLIC_URL (outreach.public-url) is required");
    }
    if (s.secrets.key().isEmpty()) {
      problems.add("OUTREACH_SECRETS_KEY (outreach.secrets.key) is required");
    }
    if (s.auth.jwtSecret().isEmpty()) {
      problems.add("OUTREACH_JWT_SECRET (outreach.auth.jwt-secret) is required");
    }
    if (s.serveSandbox) {
      problems.add("OUTREACH_SANDBOX_SERVE (outreach.sandbox.serve) must be off or auto");
    }
    if (s.sandboxUrl.isPresent()) {
      problems.add("OUTREACH_SANDBOX_URL (outreach.sandbox.url) must be empty");
    }
    for (Optional<String> url :
        java.util.List.of(
            s.providerUrls.twilio(),
            s.providerUrls.signalHouse(),
            s.providerUrls.apollo(),
            s.providerUrls.anthropic())) {
      if (url.isPresent() && url.get().contains("/sandbox")) {
        problems.add("a provider base URL points at a sandbox twin: " + url.get());
      }
    }
    if (!problems.isEmpty()) {
      throw new SettingsException(
          "outreach.mode", "production refuses to start: " + String.join("; ", problems));
    }
  }

  /**
   * {@code host:port,host:port} (the remoting addresses of some of the cluster's nodes, this one
   * may be among them) as Pekko addresses; the order is kept: the first seed node that is up is
   * joined, and the first in the list alone may form a new cluster.
   */
  static java.util.List<String> seedNodes(String list) {
    java.util.List<String> seeds = new java.util.ArrayList<>();
    for (String part : list.split(",")) {
      String hostPort = part.trim();
      if (hostPort.isEmpty()) {
        continue;
      }
      int colon = hostPort.lastIndexOf(':');
      boolean valid = colon > 0 && hostPort.substring(colon + 1).matches("[0-9]{1,5}");
      if (!valid || Integer.parseInt(hostPort.substring(colon + 1)) > 65535) {
        throw new SettingsException(
            "outreach.cluster.seed-nodes",
            "(OUTREACH_CLUSTER_SEED_NODES) must be host:port pairs separated by commas, got '"
                + hostPort
                + "'");
      }
      seeds.add("pekko://" + Cluster.SYSTEM_NAME + "@" + hostPort);
    }
    return java.util.List.copyOf(seeds);
  }

  private static byte[] key(String base64, String key) {
    byte[] bytes;
    try {
      bytes = java.util.Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(key, "must be base64 (32 random bytes), and is not base64");
    }
    if (bytes.length != 32) {
      throw new SettingsException(
          key, "must be 32 random bytes in base64 (AES-256), was " + bytes.length + " bytes");
    }
    return bytes;
  }

  private static Optional<String> url(Config c, String key) {
    Optional<String> url = optional(c, key).map(u -> u.replaceAll("/+$", ""));
    url.ifPresent(
        u -> {
          if (!u.startsWith("https://") && !u.startsWith("http://")) {
            throw new SettingsException("outreach." + key, "must be an http(s) URL, was " + u);
          }
        });
    return url;
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
