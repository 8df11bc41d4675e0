package io.outreach.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.outreach.config.Settings;
import io.outreach.config.SettingsException;
import io.outreach.http.sandbox.SandboxServer;
import io.outreach.http.sandbox.SandboxSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.LoggerFactory;

/**
 * The engine jar's entry point. {@code java -jar outreach-engine.jar [serve]} runs a node; {@code
 * database [--port 5432]} serves the embedded PostgreSQL for the nodes of a local cluster; {@code
 * token --tenant ID --roles admin[,operator] [--ttl 1h] [--sub NAME]} prints a token signed with
 * the configured secret; {@code sandbox [--port 9090] [--host 127.0.0.1] [--engine-url URL]
 * [--receipt-concurrency 64] [--log-limit 100000] [--twilio-account SID:TOKEN]...
 * [--signalhouse-key KEY:SECRET]...} serves only the provider twins, with no database and no
 * cluster: they accept the sandbox test accounts and the ones given, post receipts and scripted
 * replies only to the engine at {@code --engine-url} (default {@code OUTREACH_PUBLIC_URL}), and
 * verify the tokens of their log, faults and replies with the engine's secret ({@code
 * OUTREACH_JWT_SECRET}, else {@code <data dir>/jwt-secret}, as the {@code token} command).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    useCommonPoolOnSmallMachines();
    String command = args.length == 0 ? "serve" : args[0];
    if (!command.equals("serve") && !command.equals("sandbox") && !command.equals("database")) {
      // Commands print their result on stdout (e.g. TOKEN=$(... token ...)): logs go to stderr.
      // Set before the first logger exists, which is why this class keeps no static logger.
      System.setProperty("OUTREACH_LOG_TARGET", "System.err");
    }
    try {
      switch (command) {
        case "serve" -> serve();
        case "sandbox" -> sandbox(Arrays.copyOfRange(args, 1, args.length));
        case "database" -> database(options(Arrays.copyOfRange(args, 1, args.length)));
        case "token" ->
            System.out.println(token(options(Arrays.copyOfRange(args, 1, args.length))));
        default -> usage("unknown command '" + command + "'");
      }
    } catch (SettingsException | IllegalArgumentException e) {
      usage(e.getMessage());
    }
  }

  private static void serve() {
    Engine engine;
    try {
      engine = Engine.start(serveConfig(ConfigFactory.load()));
    } catch (RuntimeException e) {
      LoggerFactory.getLogger(Main.class).error("engine failed to start: {}", e.getMessage(), e);
      System.exit(1);
      return;
    }
    // Returning after the actor system has terminated (SIGTERM, or this node was downed) lets
    // the JVM exit, so an orchestrator restarts it.
    engine.system().getWhenTerminated().toCompletableFuture().join();
  }

  /**
   * A served node's configuration: in production mode the JVM exits once the actor system has
   * terminated (this node was downed by the Split Brain Resolver, or stopped), so its orchestrator
   * starts a fresh one; no lingering thread can keep a dead node's process alive.
   */
  static Config serveConfig(Config loaded) {
    if (Settings.from(loaded).mode() == Settings.Mode.PRODUCTION) {
      return ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = on")
          .withFallback(loaded);
    }
    return loaded;
  }

  private static final Set<String> SANDBOX_OPTIONS =
      Set.of(
          "port",
          "host",
          "engine-url",
          "receipt-concurrency",
          "log-limit",
          "twilio-account",
          "signalhouse-key",
          "apollo-key",
          "apollo-limits");

  private static void sandbox(String[] args) {
    Map<String, List<String>> opts = repeatableOptions(args);
    for (String name : opts.keySet()) {
      if (!SANDBOX_OPTIONS.contains(name)) {
        throw new IllegalArgumentException("unknown sandbox option --" + name);
      }
    }
    int port = Integer.parseInt(single(opts, "port", "9090"));
    String host = single(opts, "host", "127.0.0.1");
    String engineUrl = single(opts, "engine-url", System.getenv(SandboxServer.ENGINE_URL_VARIABLE));
    if (engineUrl != null
        && !engineUrl.isBlank()
        && !engineUrl.matches("https?://[^/?#]+(/[^?#]*)?")) {
      throw new IllegalArgumentException(
          "--engine-url (or "
              + SandboxServer.ENGINE_URL_VARIABLE
              + ") must be an http(s) URL, got '"
              + engineUrl
              + "'");
    }
    SandboxSettings settings =
        SandboxSettings.DEFAULTS
            .withReceiptConcurrency(
                Integer.parseInt(
                    single(
                        opts,
                        "receipt-concurrency",
                        Integer.toString(SandboxSettings.DEFAULT_RECEIPT_CONCURRENCY))))
            .withLogLimit(
                Integer.parseInt(
                    single(
                        opts, "log-limit", Integer.toString(SandboxSettings.DEFAULT_LOG_LIMIT))));
    for (String account : opts.getOrDefault("twilio-account", List.of())) {
      String[] pair = pair("--twilio-account", "SID:TOKEN", account);
      settings = settings.withTwilioAccount(pair[0], pair[1]);
    }
    for (String key : opts.getOrDefault("signalhouse-key", List.of())) {
      String[] pair = pair("--signalhouse-key", "KEY:SECRET", key);
      settings = settings.withSignalHouseKey(pair[0], pair[1]);
    }
    for (String key : opts.getOrDefault("apollo-key", List.of())) {
      settings = settings.withApolloKey(key);
    }
    String limits = single(opts, "apollo-limits", null);
    if (limits != null) {
      String[] parts = limits.split(",");
      if (parts.length != 3) {
        throw new IllegalArgumentException("--apollo-limits is PER_MINUTE,PER_HOUR,PER_DAY");
      }
      settings =
          settings.withApolloLimits(
              new SandboxSettings.ApolloLimits(
                  Integer.parseInt(parts[0].trim()),
                  Integer.parseInt(parts[1].trim()),
                  Integer.parseInt(parts[2].trim())));
    }
    // The engine's own secret, found as the token command finds it: engine tokens work here.
    Settings engine = Settings.load();
    JwtAuth auth = new JwtAuth(JwtSecret.resolve(engine), engine.auth().clockSkew());
    ActorSystem<Void> system =
        ActorSystem.create(Behaviors.empty(), "outreach-sandbox", sandboxConfig());
    try {
      ServerBinding binding =
          SandboxServer.start(system, host, port, settings, auth, () -> engineUrl)
              .toCompletableFuture()
              .join();
      LoggerFactory.getLogger(Main.class)
          .info(
              "sandbox providers listening on {}, callbacks and replies to {}",
              binding.localAddress(),
              engineUrl == null || engineUrl.isBlank()
                  ? "(no engine URL: status callbacks are refused)"
                  : engineUrl);
    } catch (RuntimeException e) {
      LoggerFactory.getLogger(Main.class).error("sandbox failed to start: {}", e.getMessage(), e);
      system.terminate();
      System.exit(1);
      return;
    }
    system.getWhenTerminated().toCompletableFuture().join();
  }

  /**
   * Serves the embedded PostgreSQL of {@code <data dir>/pg} on {@code --port} (default 5432),
   * created and migrated, for engine nodes to share (the local cluster): they point {@code
   * OUTREACH_DB_URL} at it. Runs until stopped (SIGTERM or Ctrl-C stops PostgreSQL cleanly).
   */
  private static void database(Map<String, String> opts) {
    for (String name : opts.keySet()) {
      if (!name.equals("port")) {
        throw new IllegalArgumentException("unknown database option --" + name);
      }
    }
    int port = Integer.parseInt(opts.getOrDefault("port", "5432"));
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("--port must be 1-65535");
    }
    Settings settings = Settings.load();
    io.outreach.persistence.Database database =
        io.outreach.persistence.Database.serveEmbedded(settings.dataDir(), port, 1);
    java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  database.close();
                  stopped.countDown();
                },
                "stop-database"));
    LoggerFactory.getLogger(Main.class)
        .info(
            "embedded PostgreSQL of {} serving on port {}; point the nodes at it with"
                + " OUTREACH_DB_URL={} OUTREACH_DB_USER={} OUTREACH_DB_OWNER_USER={}",
            settings.dataDir().toAbsolutePath().normalize(),
            port,
            database.jdbcUrl(),
            database.appUser(),
            io.outreach.persistence.Database.embeddedOwner());
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** {@code ID:SECRET} split at its first colon; both parts required. */
  private static String[] pair(String option, String shape, String value) {
    int colon = value.indexOf(':');
    if (colon <= 0 || colon == value.length() - 1) {
      // Not echoed: the value may be a secret.
      throw new IllegalArgumentException(option + " takes " + shape);
    }
    return new String[] {value.substring(0, colon), value.substring(colon + 1)};
  }

  /**
   * The engine's configuration made local: no remoting or cluster, and no journal started, so the
   * standalone sandbox needs neither a database nor peers.
   */
  public static Config sandboxConfig() {
    return ConfigFactory.parseString(
            """
            pekko.actor.provider = local
            pekko.persistence.journal.auto-start-journals = []
            pekko.persistence.snapshot-store.auto-start-snapshot-stores = []
            pekko.coordinated-shutdown.exit-jvm = off
            """)
        .withFallback(ConfigFactory.load());
  }

  static String token(Map<String, String> opts) {
    String tenant = required(opts, "tenant");
    Set<Role> roles = EnumSet.noneOf(Role.class);
    for (String r : required(opts, "roles").split(",")) {
      roles.add(
          Role.fromClaim(r.trim())
              .orElseThrow(() -> new IllegalArgumentException("unknown role '" + r + "'")));
    }
    Duration ttl =
        ConfigFactory.parseString("ttl = " + opts.getOrDefault("ttl", "1h")).getDuration("ttl");
    Settings settings = Settings.load();
    return new JwtAuth(JwtSecret.resolve(settings), settings.auth().clockSkew())
        .issue(opts.getOrDefault("sub", "cli"), tenant, roles, ttl, Clock.systemUTC());
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> opts = new LinkedHashMap<>();
    repeatableOptions(args)
        .forEach((name, values) -> opts.put(name, values.get(values.size() - 1)));
    return opts;
  }

  /** {@code --name value} pairs, each name with every value it was given, in order. */
  private static Map<String, List<String>> repeatableOptions(String[] args) {
    Map<String, List<String>> opts = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
      }
      opts.computeIfAbsent(args[i].substring(2), k -> new ArrayList<>()).add(args[++i]);
    }
    return opts;
  }

  /** The one value of option {@code name}, else {@code otherwise}; given twice is an error. */
  private static String single(Map<String, List<String>> opts, String name, String otherwise) {
    List<String> values = opts.get(name);
    if (values == null) {
      return otherwise;
    }
    if (values.size() > 1) {
      throw new IllegalArgumentException("--" + name + " may be given once");
    }
    return values.get(0);
  }

  private static String required(Map<String, String> opts, String name) {
    String v = opts.get(name);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return v;
  }

  /**
   * Pekko's asks answer with Scala's CompletableFuture, which runs every callback asynchronously on
   * the common pool; with fewer than 3 cores that pool has parallelism 1, and the JDK then starts a
   * new thread for every callback (measured: thousands per second under a campaign). A parallelism
   * of at least 2 keeps them on a pool. Set before anything touches the pool.
   */
  static void useCommonPoolOnSmallMachines() {
    String key = "java.util.concurrent.ForkJoinPool.common.parallelism";
    if (System.getProperty(key) == null) {
      System.setProperty(
          key, Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
  }

  private static void usage(String problem) {
    System.err.println(problem);
    System.err.println(
        """
        usage: java -jar outreach-engine.jar [serve]
               java -jar outreach-engine.jar database [--port 5432]
                 (serves the embedded PostgreSQL of $OUTREACH_DATA_DIR/pg to other nodes:
                  OUTREACH_DB_URL=jdbc:postgresql://localhost:PORT/outreach
                  OUTREACH_DB_USER=outreach_app OUTREACH_DB_OWNER_USER=outreach_owner)
               java -jar outreach-engine.jar sandbox [--port 9090] [--host 127.0.0.1]
                   [--engine-url http://127.0.0.1:8080] [--receipt-concurrency 64]
                   [--log-limit 100000] [--twilio-account SID:TOKEN]... [--signalhouse-key KEY:SECRET]...
                   [--apollo-key KEY]... [--apollo-limits 600,10000,100000]
                 (--engine-url: the engine's public URL, the only place receipts and replies go;
                  default $OUTREACH_PUBLIC_URL.
                  --receipt-concurrency: delivery receipts posted at once, 1..4096.
                  --log-limit: request log entries kept, the oldest dropped first.
                  --twilio-account, --signalhouse-key (repeatable): accounts the twins accept
                  besides the sandbox test ones; the token or secret signs that account's callbacks.
                  --apollo-key (repeatable): Apollo keys the twin accepts besides the test one.
                  --apollo-limits: the Apollo twin's calls per key per UTC minute, hour and day.
                  Tokens for /sandbox/log, /sandbox/faults and /sandbox/replies are the engine's:
                  $OUTREACH_JWT_SECRET, else <data dir>/jwt-secret.)
               java -jar outreach-engine.jar token --tenant ID --roles admin[,operator] [--ttl 1h] [--sub NAME]""");
    System.exit(2);
  }
}
