package io.outreach.http;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * An in-process engine node for integration tests: embedded PostgreSQL in a fresh temp data dir,
 * HTTP and remoting on free ports, a fixed token secret; plus a small real HTTP client.
 */
public final class TestEngine implements AutoCloseable {
  public static final String SECRET = "test-secret-of-at-least-thirty-two-bytes!";
  static final long MAX_UPLOAD_BYTES = 32L * 1024 * 1024;

  final Engine engine;
  final Path dataDir;
  final JwtAuth auth = new JwtAuth(SECRET, Duration.ofSeconds(0));
  private final HttpClient client = HttpClient.newHttpClient();

  private TestEngine(Engine engine, Path dataDir) {
    this.engine = engine;
    this.dataDir = dataDir;
  }

  static TestEngine start() {
    try {
      return start(Files.createTempDirectory("outreach-it-"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A node on {@code dir}: a second start on the same dir is the same engine restarted. */
  static TestEngine start(Path dir) {
    return start(dir, Map.of());
  }

  /** A node on {@code dir} with {@code extra} settings over the test defaults. */
  static TestEngine start(Path dir, Map<String, Object> extra) {
    return start(dir, extra, Clock.systemUTC());
  }

  /**
   * A node whose campaigns run on {@code campaignClock}. Unless a test sets them, legal hours are
   * the whole day, so tests that are not about hours pass at any time of day.
   */
  static TestEngine start(Path dir, Map<String, Object> extra, Clock campaignClock) {
    Map<String, Object> overrides =
        Map.of(
            "outreach.data-dir",
            dir.toString(),
            "outreach.http.host",
            "127.0.0.1",
            "outreach.http.port",
            0,
            "outreach.http.max-body-bytes",
            4096,
            "outreach.management.enabled",
            false,
            "outreach.auth.jwt-secret",
            SECRET,
            "outreach.intake.max-upload-bytes",
            MAX_UPLOAD_BYTES,
            "pekko.remote.artery.canonical.port",
            0,
            "outreach.compliance.federal-hours.start",
            "00:00",
            "outreach.compliance.federal-hours.end",
            "23:59:59.999999999");
    return new TestEngine(
        Engine.start(
            ConfigFactory.parseMap(extra)
                .withFallback(ConfigFactory.parseMap(overrides))
                .withFallback(ConfigFactory.load()),
            campaignClock),
        dir);
  }

  /** Creates tenant {@code id} (New York time) as the platform; answers an operator token. */
  String tenant(String id) {
    var r =
        json(
            "POST",
            "/v1/tenants",
            token("platform", Role.PLATFORM),
            "{\"id\":\""
                + id
                + "\",\"name\":\""
                + id
                + "\",\"timezone\":\"America/New_York\",\"monthlyBudgetCents\":100000000}");
    if (r.statusCode() != 201) {
      throw new AssertionError("tenant " + id + " not created: " + r.body());
    }
    return token(id, Role.OPERATOR);
  }

  /**
   * Gives tenant {@code id} the Anthropic twin's key as its own (its agents then use the model).
   */
  void anthropicKey(String id) {
    var r =
        json(
            "PUT",
            "/v1/tenant/providers/anthropic",
            token(id, Role.ADMIN),
            "{\"apiKey\":\"" + io.outreach.http.sandbox.SandboxSettings.ANTHROPIC_TEST_KEY + "\"}");
    if (r.statusCode() != 200) {
      throw new AssertionError("anthropic key of " + id + " refused: " + r.body());
    }
  }

  /** Sets tenant {@code id}'s settings (a JSON patch, as an admin). */
  void settings(String id, String patch) {
    var r = json("PATCH", "/v1/tenant", token(id, Role.ADMIN), patch);
    if (r.statusCode() != 200) {
      throw new AssertionError("settings of " + id + " refused: " + r.body());
    }
  }

  /**
   * A person's reply from {@code from} to {@code to}, sent through the in-process sandbox (which
   * posts it to the engine as the provider's signed webhook); fails unless the sandbox took it.
   */
  com.fasterxml.jackson.databind.JsonNode reply(
      String tenant, String from, String to, String body) {
    var r =
        json(
            "POST",
            "/sandbox/replies",
            token(tenant, Role.OPERATOR),
            "{\"tenant\":\""
                + tenant
                + "\",\"from\":\""
                + from
                + "\",\"to\":\""
                + to
                + "\",\"body\":\""
                + body
                + "\"}");
    if (r.statusCode() != 200) {
      throw new AssertionError("POST /sandbox/replies -> " + r.statusCode() + " " + r.body());
    }
    return IntakeIT.body(r);
  }

  /** Every item of a paged list ({@code items}, {@code next}), following the cursor to its end. */
  java.util.List<com.fasterxml.jackson.databind.JsonNode> pages(String path, String token) {
    java.util.List<com.fasterxml.jackson.databind.JsonNode> all = new java.util.ArrayList<>();
    String cursor = null;
    do {
      com.fasterxml.jackson.databind.JsonNode page =
          IntakeIT.body(
              get(
                  path
                      + (cursor == null
                          ? ""
                          : (path.contains("?") ? "&" : "?") + "cursor=" + cursor),
                  token));
      page.get("items").forEach(all::add);
      cursor = page.get("next").isNull() ? null : page.get("next").asText();
    } while (cursor != null);
    return all;
  }

  /** The in-process sandbox's log of {@code tenant}, read with a token of that tenant. */
  HttpResponse<String> sandboxLog(String tenant) {
    return get("/sandbox/log?tenant=" + tenant, token(tenant, Role.VIEWER));
  }

  /** Sets the in-process sandbox's faults, as the platform. */
  HttpResponse<String> sandboxFaults(String json) {
    return json("PUT", "/sandbox/faults", token("platform", Role.PLATFORM), json);
  }

  String token(String tenant, Role... roles) {
    return auth.issue("test", tenant, Set.of(roles), Duration.ofMinutes(5), Clock.systemUTC());
  }

  HttpResponse<String> send(
      String method, String path, String token, String contentType, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + engine.httpPort() + path))
            .timeout(Duration.ofSeconds(30))
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
    try {
      return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The status line and headers the engine answers to a request's head alone: what a client that
   * sends {@code Expect: 100-continue} (curl, for a large upload) gets before it sends any body.
   */
  java.util.List<String> answerToHead(String head) {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", engine.httpPort())) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      var in =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(
                  socket.getInputStream(), java.nio.charset.StandardCharsets.US_ASCII));
      java.util.List<String> lines = new java.util.ArrayList<>(); // the status line and the headers
      for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
        lines.add(line);
      }
      return lines;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Sends a body and headers given as name/value pairs. */
  HttpResponse<String> send(
      String method,
      String path,
      String token,
      String contentType,
      HttpRequest.BodyPublisher body,
      String... headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + engine.httpPort() + path))
            .timeout(Duration.ofSeconds(120))
            .method(method, body);
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    try {
      return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  HttpResponse<String> csv(String path, String token, String csv, String... headers) {
    return send("POST", path, token, "text/csv", HttpRequest.BodyPublishers.ofString(csv), headers);
  }

  HttpResponse<String> get(String path, String token) {
    return send("GET", path, token, null, null);
  }

  HttpResponse<String> json(String method, String path, String token, String body) {
    return send(method, path, token, "application/json", body);
  }

  @Override
  public void close() {
    engine.close();
  }
}
