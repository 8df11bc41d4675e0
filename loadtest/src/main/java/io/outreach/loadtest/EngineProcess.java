package io.outreach.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An engine jar started as its own JVM on a fresh data directory, with a fixed token secret, and a
 * small HTTP client for it. Its heap is read from its GC log (free for the engine, unlike sampling
 * {@code /metrics}).
 */
final class EngineProcess implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final String SECRET = "loadtest-secret-loadtest-secret-loadtest!";

  final Path dataDir;
  final int port;
  private final Path jar;
  private final Process process;
  private final HttpClient http = HttpClient.newHttpClient();

  private EngineProcess(Path jar, Path dataDir, int port, Process process) {
    this.jar = jar;
    this.dataDir = dataDir;
    this.port = port;
    this.process = process;
  }

  static EngineProcess start(Path jar, String heap) throws Exception {
    return start(jar, heap, Map.of());
  }

  /** Starts the engine jar with {@code extraEnv} added to its environment. */
  static EngineProcess start(Path jar, String heap, Map<String, String> extraEnv) throws Exception {
    return start(jar, heap, extraEnv, freePort());
  }

  /** Starts the engine jar on HTTP {@code port}, with {@code extraEnv} added. */
  static EngineProcess start(Path jar, String heap, Map<String, String> extraEnv, int port)
      throws Exception {
    Path dataDir = Files.createTempDirectory("outreach-bench-");
    List<String> command =
        JavaCommand.of("-Xmx" + heap, "-Xlog:gc,gc+phases:file=" + dataDir.resolve("gc.log"));
    // Extra JVM options for the engine, e.g. a flight recording of the whole run.
    String extra = System.getenv().getOrDefault("ENGINE_JAVA_OPTS", "").trim();
    if (!extra.isEmpty()) {
      command.addAll(List.of(extra.split("\\s+")));
    }
    command.addAll(List.of("-jar", jar.toString()));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dataDir.resolve("engine.log").toFile());
    env(pb.environment(), dataDir, port);
    pb.environment().putAll(extraEnv);
    long t0 = System.nanoTime();
    EngineProcess e = new EngineProcess(jar, dataDir, port, pb.start());
    while (!e.ready()) {
      if (!e.process.isAlive() || System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(120)) {
        throw new IllegalStateException(
            "engine did not start; see " + dataDir.resolve("engine.log"));
      }
      Thread.sleep(200);
    }
    System.out.printf(
        "engine ready in %d ms (-Xmx%s%s, data %s)%n",
        (System.nanoTime() - t0) / 1_000_000, heap, extra.isEmpty() ? "" : " " + extra, dataDir);
    return e;
  }

  private static void env(Map<String, String> env, Path dataDir, int port) throws IOException {
    env.keySet().removeIf(k -> k.startsWith("OUTREACH_"));
    env.put("OUTREACH_DATA_DIR", dataDir.toString());
    env.put("OUTREACH_HTTP_HOST", "127.0.0.1");
    env.put("OUTREACH_HTTP_PORT", Integer.toString(port));
    env.put("OUTREACH_MANAGEMENT_PORT", Integer.toString(freePort()));
    env.put("OUTREACH_MANAGEMENT_BIND_HOST", "127.0.0.1");
    env.put("OUTREACH_REMOTE_PORT", Integer.toString(freePort()));
    env.put("OUTREACH_JWT_SECRET", SECRET);
  }

  /**
   * Creates tenant {@code id} with a monthly budget of $1,000,000 (a platform call with {@code
   * platformToken}); fails unless the engine answers 201.
   */
  void createTenant(String platformToken, String id, String name, String timezone)
      throws Exception {
    HttpResponse<String> r =
        send(
            "POST",
            "/v1/tenants",
            platformToken,
            "application/json",
            HttpRequest.BodyPublishers.ofString(
                JSON.writeValueAsString(
                    Map.of(
                        "id", id,
                        "name", name,
                        "timezone", timezone,
                        "monthlyBudgetCents", 100_000_000L))));
    if (r.statusCode() != 201) {
      throw new IllegalStateException(
          "tenant " + id + " not created: " + r.statusCode() + " " + r.body());
    }
  }

  /** A token minted by the engine jar's own {@code token} subcommand. */
  String token(String tenant, String roles) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
                JavaCommand.of(
                    "-jar", jar.toString(), "token", "--tenant", tenant, "--roles", roles))
            .redirectError(ProcessBuilder.Redirect.DISCARD);
    env(pb.environment(), dataDir, port);
    Process p = pb.start();
    String token = new String(p.getInputStream().readAllBytes()).trim();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("token subcommand failed");
    }
    return token;
  }

  HttpResponse<String> send(
      String method, String path, String token, String type, HttpRequest.BodyPublisher body)
      throws IOException, InterruptedException {
    return send(method, path, token, type, body, Duration.ofMinutes(30));
  }

  /** A request that gives up (HttpTimeoutException) when not answered within {@code timeout}. */
  HttpResponse<String> send(
      String method,
      String path,
      String token,
      String type,
      HttpRequest.BodyPublisher body,
      Duration timeout)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(timeout)
            .method(method, body);
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (type != null) {
      b.header("Content-Type", type);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Waits until import {@code importId} is no longer running (at most ten minutes); answers its
   * status.
   */
  JsonNode awaitImport(String importId, String token) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(10);
    while (true) {
      JsonNode status = getJson("/v1/imports/" + importId, token);
      if (!status.get("status").asText().equals("running")) {
        return status;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("import " + importId + " still running after 10 minutes");
      }
      Thread.sleep(200);
    }
  }

  JsonNode getJson(String path, String token) throws IOException, InterruptedException {
    return JSON.readTree(
        send("GET", path, token, null, HttpRequest.BodyPublishers.noBody()).body());
  }

  private boolean ready() {
    try {
      return send("GET", "/health/ready", null, null, HttpRequest.BodyPublishers.noBody())
              .statusCode()
          == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Heap before -> after a collection: G1 {@code 105M->59M(135M)}, ZGC {@code 84M(33%)->30M(12%)}.
   */
  private static final java.util.regex.Pattern HEAP =
      java.util.regex.Pattern.compile("(\\d+)([KMG])(?:\\(\\d+%\\))?->\\d+[KMG]");

  /**
   * A pause and its length: G1 {@code Pause Young (...) ... 32.7ms}, ZGC {@code Pause Mark Start
   * 0.010ms}.
   */
  private static final java.util.regex.Pattern PAUSE =
      java.util.regex.Pattern.compile(" Pause .* ([\\d.]+)ms$");

  /** What the GC log says so far: the most heap in use (before a collection), the longest pause. */
  record GcFigures(long peakHeapBytes, double maxPauseMillis, int pauses) {}

  GcFigures gc() throws IOException {
    long peak = 0;
    double maxPause = 0;
    int pauses = 0;
    for (String line : Files.readAllLines(dataDir.resolve("gc.log"))) {
      java.util.regex.Matcher heap = HEAP.matcher(line);
      if (heap.find()) {
        peak = Math.max(peak, bytes(heap.group(1), heap.group(2)));
      }
      java.util.regex.Matcher pause = PAUSE.matcher(line);
      if (pause.find()) {
        maxPause = Math.max(maxPause, Double.parseDouble(pause.group(1)));
        pauses++;
      }
    }
    return new GcFigures(peak, maxPause, pauses);
  }

  private static long bytes(String n, String unit) {
    long v = Long.parseLong(n);
    return switch (unit) {
      case "K" -> v << 10;
      case "M" -> v << 20;
      default -> v << 30;
    };
  }

  /** The GC log's figures as one line for a report. */
  String gcLine(String heap) throws IOException {
    GcFigures g = gc();
    return String.format(
        "engine peak heap used: %.1f MiB of -Xmx%s (heap before a collection, from its GC log); %d pauses, longest %.1f ms",
        g.peakHeapBytes() / 1048576.0, heap, g.pauses(), g.maxPauseMillis());
  }

  /** A superuser connection to the engine's embedded PostgreSQL (trust auth on localhost). */
  Connection superuserConnection() throws IOException, SQLException {
    List<String> pid =
        new ArrayList<>(Files.readAllLines(dataDir.resolve("pg").resolve("postmaster.pid")));
    String pgPort = pid.get(3).trim();
    return DriverManager.getConnection(
        "jdbc:postgresql://localhost:" + pgPort + "/outreach", "postgres", "");
  }

  /** SIGKILL: the JVM gets no chance to stop cleanly (no shutdown hooks, nothing flushed). */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** Sends {@code signal} ({@code STOP}, {@code CONT}) to the engine's JVM. */
  void signal(String signal) throws IOException, InterruptedException {
    Process kill =
        new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A JVM process of {@code args} with its output in {@code log} and none of this process's {@code
   * OUTREACH_} variables (the caller sets the ones it needs).
   */
  private static ProcessBuilder command(Path log, String... args) {
    ProcessBuilder pb =
        new ProcessBuilder(JavaCommand.of(args))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("OUTREACH_"));
    return pb;
  }

  /**
   * The engine jar's standalone sandbox on {@code port}, posting to the engine at {@code
   * engineUrl}.
   */
  static Process startSandbox(Path jar, Path log, int port, String engineUrl) throws IOException {
    ProcessBuilder pb =
        command(
            log,
            "-Xmx512m",
            "-jar",
            jar.toString(),
            "sandbox",
            "--port",
            Integer.toString(port),
            "--engine-url",
            engineUrl);
    // It takes the engine's tokens (its log and faults need them).
    pb.environment().put("OUTREACH_JWT_SECRET", SECRET);
    return pb.start();
  }

  /**
   * The engine jar's {@code database} command: the embedded PostgreSQL of {@code dataDir} served on
   * {@code port} (created and migrated on first start, the same data on later ones); answers once
   * it serves. Its output goes to {@code log}.
   */
  static Process startDatabase(Path jar, Path dataDir, int port, Path log) throws Exception {
    ProcessBuilder pb =
        command(
            log, "-Xmx128m", "-jar", jar.toString(), "database", "--port", Integer.toString(port));
    pb.environment().put("OUTREACH_DATA_DIR", dataDir.toString());
    Process database = pb.start();
    awaitLog(database, log, "serving on port");
    return database;
  }

  /** Waits until {@code log} of process {@code p} has {@code line} (at most two minutes). */
  static void awaitLog(Process p, Path log, String line) throws Exception {
    long t0 = System.nanoTime();
    while (!Files.exists(log) || !Files.readString(log).contains(line)) {
      if (!p.isAlive() || System.nanoTime() - t0 > TimeUnit.MINUTES.toNanos(2)) {
        throw new IllegalStateException("did not start; see " + log);
      }
      Thread.sleep(200);
    }
  }

  /** The last {@code n} WARN and ERROR lines of the engine's log (for a run that failed). */
  String lastWarnings(int n) {
    try (var lines = Files.lines(dataDir.resolve("engine.log"))) {
      List<String> warnings =
          lines.filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
      return String.join("\n", warnings.subList(Math.max(0, warnings.size() - n), warnings.size()));
    } catch (IOException | java.io.UncheckedIOException e) {
      return "(no log: " + e + ")";
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
