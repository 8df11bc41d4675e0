package io.outreach.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.http.sandbox.SandboxServer;
import io.outreach.http.sandbox.SandboxSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The standalone sandbox in a test's JVM, apart from the engine (it outlives the engine's
 * restarts): its own actor system on a free port, verifying tokens with the tests' engine secret,
 * and posting callbacks to the engine at a port chosen up front, so that every engine started with
 * {@link #engineConfig()} (the same data restarted included) is the engine it posts to.
 */
final class StandaloneSandbox implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final JwtAuth AUTH = new JwtAuth(TestEngine.SECRET, Duration.ZERO);

  final String url;
  final int enginePort;
  private final ActorSystem<Void> system;

  private StandaloneSandbox(ActorSystem<Void> system, String url, int enginePort) {
    this.system = system;
    this.url = url;
    this.enginePort = enginePort;
  }

  static StandaloneSandbox start(String name) {
    return start(name, SandboxSettings.DEFAULTS);
  }

  /** A standalone sandbox with {@code settings} (its accounts, Apollo's limits). */
  static StandaloneSandbox start(String name, SandboxSettings settings) {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), name, Main.sandboxConfig());
    try {
      int enginePort = JarProcess.freePort();
      String engineUrl = "http://127.0.0.1:" + enginePort;
      var binding =
          SandboxServer.start(system, "127.0.0.1", 0, settings, AUTH, () -> engineUrl)
              .toCompletableFuture()
              .join();
      return new StandaloneSandbox(
          system, "http://127.0.0.1:" + binding.localAddress().getPort(), enginePort);
    } catch (IOException | RuntimeException e) {
      system.terminate();
      throw new IllegalStateException("the sandbox did not start", e);
    }
  }

  /** The settings of an engine that sends through this sandbox, on the port it posts to. */
  Map<String, Object> engineConfig() {
    return Map.of(
        "outreach.sandbox.url",
        url,
        "outreach.sandbox.serve",
        false,
        "outreach.http.port",
        enginePort);
  }

  /** The log of {@code tenant}, read with a token of that tenant. */
  List<JsonNode> log(String tenant) {
    HttpResponse<String> r =
        call("GET", "/sandbox/log?tenant=" + tenant, token(tenant, Role.VIEWER), null);
    if (r.statusCode() != 200) {
      throw new AssertionError("GET /sandbox/log -> " + r.statusCode() + " " + r.body());
    }
    List<JsonNode> out = new ArrayList<>();
    IntakeIT.body(r).forEach(out::add);
    return out;
  }

  /** The twins' calls answered, by provider and status ({@code GET /sandbox/stats}). */
  long calls(String provider, String status) {
    HttpResponse<String> r = call("GET", "/sandbox/stats", token("platform", Role.PLATFORM), null);
    return IntakeIT.body(r).at("/calls/" + provider + "/" + status).asLong(0);
  }

  /** Posts a scripted reply ({@code POST /sandbox/replies}) as the platform; answers the status. */
  int reply(String json) {
    return call("POST", "/sandbox/replies", token("platform", Role.PLATFORM), json).statusCode();
  }

  /** Sets the faults as the platform; fails the test unless they are taken. */
  void faults(String json) {
    HttpResponse<String> r = call("PUT", "/sandbox/faults", token("platform", Role.PLATFORM), json);
    if (r.statusCode() != 200) {
      throw new AssertionError("PUT /sandbox/faults -> " + r.statusCode() + " " + r.body());
    }
  }

  private static String token(String tenant, Role role) {
    return AUTH.issue("test", tenant, Set.of(role), Duration.ofMinutes(5), Clock.systemUTC());
  }

  private HttpResponse<String> call(String method, String path, String token, String json) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url + path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + token)
            .method(
                method,
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    try {
      return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }
}
