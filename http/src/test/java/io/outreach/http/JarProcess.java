package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.outreach.loadtest.JavaCommand;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The shaded engine jar run as real processes for integration tests: an engine node on a data
 * directory and a port (started, stopped, killed, started again), or the standalone sandbox; with a
 * small HTTP client for the node.
 */
final class JarProcess implements AutoCloseable {
  static final Path JAR = Path.of("target", "outreach-engine.jar");

  final Path dataDir;
  final int httpPort;
  private final Map<String, String> env = new LinkedHashMap<>();
  private final List<String> jvmOptions = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<Process> started = new ArrayList<>();

  /**
   * How long a start may take before the test fails: about 20 s alone on two cores, several times
   * that with another test JVM and four other processes on the same cores.
   */
  private static final Duration START_WITHIN = Duration.ofSeconds(150);

  final int managementPort;
  final int remotePort;

  JarProcess(Path dataDir, int httpPort) throws IOException {
    this(dataDir, httpPort, freePort(), freePort());
  }

  /** A node with its HTTP, management and remoting (cluster) ports chosen by the caller. */
  JarProcess(Path dataDir, int httpPort, int managementPort, int remotePort) throws IOException {
    assertThat(JAR).as("run `mvn verify`: the jar is built in package").exists();
    this.dataDir = dataDir;
    this.httpPort = httpPort;
    this.managementPort = managementPort;
    this.remotePort = remotePort;
    env.put("OUTREACH_DATA_DIR", dataDir.toString());
    env.put("OUTREACH_HTTP_PORT", Integer.toString(httpPort));
    env.put("OUTREACH_HTTP_HOST", "127.0.0.1");
    env.put("OUTREACH_MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("OUTREACH_MANAGEMENT_BIND_HOST", "127.0.0.1");
    env.put("OUTREACH_REMOTE_PORT", Integer.toString(remotePort));
  }

  /** Sets an environment variable of the processes started from now on. */
  JarProcess env(String name, String value) {
    env.put(name, value);
    return this;
  }

  /** Adds a JVM option ({@code -Dkey=value}) to the processes started from now on. */
  JarProcess jvm(String option) {
    jvmOptions.add(option);
    return this;
  }

  /** Starts the engine and waits for {@code /health/ready} = 200; its log goes to target/. */
  Process startEngine(String label) throws IOException {
    List<String> cmd = JavaCommand.of("-Xmx256m");
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-jar", JAR.toString()));
    Process p = start(cmd, "engine-process-" + label + ".log");
    long t0 = System.nanoTime();
    try {
      await()
          .atMost(START_WITHIN)
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                assertThat(p.isAlive())
                    .as("engine process exited; see target/engine-process-" + label + ".log")
                    .isTrue();
                return ready();
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          label
              + " not ready within "
              + START_WITHIN.toSeconds()
              + " s: "
              + readiness()
              + "; last lines of target/engine-process-"
              + label
              + ".log:\n"
              + tail(Path.of("target", "engine-process-" + label + ".log"), 30),
          e);
    }
    System.out.printf(
        "%s start to /health/ready=200 in %d ms%n",
        label, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    return p;
  }

  /** Starts the engine expecting it to refuse: no wait; its output goes to target/. */
  Process startRefused(String label) throws IOException {
    List<String> cmd = JavaCommand.of("-Xmx256m");
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-jar", JAR.toString()));
    return start(cmd, "engine-process-" + label + ".log");
  }

  /**
   * Starts the standalone sandbox on {@code port}, posting callbacks and replies to {@code
   * engineUrl} and verifying tokens with this environment's secret; waits until it answers.
   */
  Process startSandbox(int port, String engineUrl) throws IOException {
    Process p =
        start(
            JavaCommand.of(
                "-Xmx512m",
                "-jar",
                JAR.toString(),
                "sandbox",
                "--port",
                Integer.toString(port),
                "--engine-url",
                engineUrl),
            "sandbox-process.log");
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              assertThat(p.isAlive())
                  .as("sandbox process exited; see target/sandbox-process.log")
                  .isTrue();
              try {
                return http.send(
                            HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + port + "/sandbox/stats"))
                                .build(),
                            HttpResponse.BodyHandlers.discarding())
                        .statusCode()
                    == 200;
              } catch (IOException e) {
                return false;
              }
            });
    return p;
  }

  /**
   * Runs the {@code database} command: the embedded PostgreSQL of this data directory served on
   * {@code port} for other nodes; waits until it has been migrated and serves.
   */
  Process startDatabase(int port) throws IOException {
    Path log = Path.of("target", "database-process.log");
    Process p =
        start(
            JavaCommand.of(
                "-Xmx128m", "-jar", JAR.toString(), "database", "--port", Integer.toString(port)),
            log.getFileName().toString());
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              assertThat(p.isAlive())
                  .as("database process exited; see target/database-process.log")
                  .isTrue();
              return java.nio.file.Files.exists(log)
                  && java.nio.file.Files.readString(log).contains("serving on port");
            });
    return p;
  }

  /** The environment variables of the processes started from now on. */
  Map<String, String> environment() {
    return Map.copyOf(env);
  }

  private Process start(List<String> cmd, String log) throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(Path.of("target", log).toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("OUTREACH_"));
    pb.environment().putAll(env);
    Process p = pb.start();
    started.add(p);
    return p;
  }

  /** Runs the {@code token} subcommand with this node's environment and answers the token. */
  String token(String... args) throws Exception {
    List<String> cmd = JavaCommand.of("-jar", JAR.toString(), "token");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().keySet().removeIf(k -> k.startsWith("OUTREACH_"));
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    return out;
  }

  static void stopGracefully(Process p) throws InterruptedException {
    p.destroy();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("engine stops on SIGTERM").isTrue();
  }

  /** What /health/ready answers now (status and body), or why it answers nothing. */
  private String readiness() {
    try {
      HttpResponse<String> r = send("GET", "/health/ready", null, null, null);
      return "/health/ready " + r.statusCode() + " " + r.body();
    } catch (IOException | RuntimeException e) {
      return "/health/ready unreachable (" + e + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static String tail(Path log, int lines) {
    try {
      List<String> all = java.nio.file.Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  boolean ready() {
    try {
      return send("GET", "/health/ready", null, null, null).statusCode() == 200;
    } catch (IOException | RuntimeException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  HttpResponse<String> send(
      String method, String path, String token, String contentType, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
            .timeout(Duration.ofSeconds(60))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> json(String method, String path, String token, String body)
      throws IOException, InterruptedException {
    return send(method, path, token, body == null ? null : "application/json", body);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Stops every process still running. */
  @Override
  public void close() {
    for (Process p : started) {
      if (p.isAlive()) {
        p.destroy();
        try {
          if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
          }
        } catch (InterruptedException e) {
          p.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
