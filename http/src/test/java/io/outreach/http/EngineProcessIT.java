package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The shaded jar as a real process on the embedded defaults: the token subcommand, a tenant that
 * survives a graceful stop and a SIGKILL (whose orphaned PostgreSQL the next start stops), and
 * the time from process start to {@code /health/ready} = 200.
 */
class EngineProcessIT {
  private static final Path JAR = Path.of("target", "outreach-engine.jar");
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<Process> started = new ArrayList<>();
  private Path dataDir;
  private boolean jsonLogs;
  private int httpPort;

  @AfterEach
  void cleanUp() throws Exception {
    for (Process p : started) {
      if (p.isAlive()) {
        p.destroy();
        p.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void tenantSurvivesStopAndKill() throws Exception {
    assertThat(JAR).as("run `mvn verify`: the jar is built in package").exists();
    dataDir = Files.createTempDirectory("outreach-proc-");
    httpPort = freePort();

    Process first = startEngine("first");
    String token = runToken("--tenant", "platform", "--roles", "platform");
    assertThat(token).matches("[\\w-]+\\.[\\w-]+\\.[\\w-]+");
    assertThat(Files.readString(dataDir.resolve("jwt-secret"))).isNotBlank();
    var created =
        send("POST", "/v1/tenants", token,
            "{\"id\":\"acme\",\"name\":\"Acme\",\"timezone\":\"America/New_York\",\"monthlyBudgetCents\":100000}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    stopGracefully(first);

    jsonLogs = true;
    Process second = startEngine("second");
    assertThat(send("GET", "/v1/tenants/acme", token, null).body()).contains("\"name\":\"Acme\"");
    assertJsonLogWithoutSecrets(Path.of("target", "engine-process-second.log"), token);
    jsonLogs = false;
    second.destroyForcibly().waitFor(30, TimeUnit.SECONDS);

    Process third = startEngine("after-sigkill");
    var after = send("GET", "/v1/tenants/acme", token, null);
    assertThat(after.statusCode()).as(after.body()).isEqualTo(200);
    assertThat(after.body()).contains("\"timezone\":\"America/New_York\"");
    stopGracefully(third);
  }

  private Process startEngine(String label) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(javaBin(), "-Xmx256m", "-jar", JAR.toString())
            .redirectErrorStream(true)
            .redirectOutput(Path.of("target", "engine-process-" + label + ".log").toFile());
    env(pb.environment());
    long t0 = System.nanoTime();
    Process p = pb.start();
    started.add(p);
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          assertThat(p.isAlive()).as("engine process exited; see target/engine-process-" + label + ".log").isTrue();
          return ready();
        });
    System.out.printf(
        "EngineProcessIT: %s start to /health/ready=200 in %d ms%n",
        label, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    return p;
  }

  private void env(Map<String, String> env) throws IOException {
    env.keySet().removeIf(k -> k.startsWith("OUTREACH_"));
    env.put("OUTREACH_DATA_DIR", dataDir.toString());
    env.put("OUTREACH_HTTP_PORT", Integer.toString(httpPort));
    env.put("OUTREACH_HTTP_HOST", "127.0.0.1");
    env.put("OUTREACH_MANAGEMENT_PORT", Integer.toString(freePort()));
    env.put("OUTREACH_MANAGEMENT_BIND_HOST", "127.0.0.1");
    env.put("OUTREACH_REMOTE_PORT", Integer.toString(freePort()));
    if (jsonLogs) {
      env.put("OUTREACH_LOG_FORMAT", "json");
    }
  }

  /** With OUTREACH_LOG_FORMAT=json every log line is a JSON object, and no token leaks. */
  private static void assertJsonLogWithoutSecrets(Path log, String token) throws IOException {
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    List<String> lines = Files.readAllLines(log);
    assertThat(lines).isNotEmpty();
    for (String line : lines) {
      var node = mapper.readTree(line);
      assertThat(node.has("level") && node.has("message")).as(line).isTrue();
    }
    assertThat(lines).anyMatch(l -> l.contains("engine ready"));
    assertThat(String.join("\n", lines)).doesNotContain(token.substring(token.indexOf('.')));
  }

  private String runToken(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(javaBin(), "-jar", JAR.toString(), "token"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    env(pb.environment());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    return out;
  }

  private static void stopGracefully(Process p) throws InterruptedException {
    p.destroy();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("engine stops on SIGTERM").isTrue();
  }

  private boolean ready() {
    try {
      return send("GET", "/health/ready", null, null).statusCode() == 200;
    } catch (IOException | RuntimeException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private HttpResponse<String> send(String method, String path, String token, String json)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
            .timeout(Duration.ofSeconds(10))
            .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
