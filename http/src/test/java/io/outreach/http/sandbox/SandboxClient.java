package io.outreach.http.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.outreach.http.JwtAuth;
import io.outreach.http.Role;
import io.outreach.http.TestEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;

/**
 * Calls a sandbox's own endpoints (faults, log, stats, replies) from tests, as JSON, with tokens
 * signed with the tests' engine secret ({@link TestEngine#SECRET}), which the test sandboxes verify
 * with.
 */
final class SandboxClient {
  static final JwtAuth AUTH = new JwtAuth(TestEngine.SECRET, Duration.ZERO);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient client = HttpClient.newHttpClient();

  private final String base;

  SandboxClient(String base) {
    this.base = base;
  }

  /** A token of {@code tenant} with {@code roles}. */
  static String token(String tenant, Role... roles) {
    return AUTH.issue("test", tenant, Set.of(roles), Duration.ofMinutes(5), Clock.systemUTC());
  }

  static String platform() {
    return token("platform", Role.PLATFORM);
  }

  /** A call with {@code token} as its bearer token (none when null). */
  HttpResponse<String> call(String method, String path, String token, String json) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .method(
                method,
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Sets the faults as the platform; fails the test unless they are accepted. */
  void faults(String json) {
    HttpResponse<String> r = call("PUT", "/sandbox/faults", platform(), json);
    if (r.statusCode() != 200) {
      throw new AssertionError(
          "PUT /sandbox/faults " + json + " -> " + r.statusCode() + " " + r.body());
    }
  }

  /** GET {@code path} as the platform; fails the test unless it answers 200. */
  JsonNode get(String path) {
    HttpResponse<String> r = call("GET", path, platform(), null);
    if (r.statusCode() != 200) {
      throw new AssertionError("GET " + path + " -> " + r.statusCode() + " " + r.body());
    }
    return parse(r.body());
  }

  /** The log of {@code tenant} after entry {@code since}, read with a token of that tenant. */
  JsonNode log(String tenant, long since) {
    HttpResponse<String> r =
        call(
            "GET",
            "/sandbox/log?tenant=" + tenant + "&since=" + since,
            token(tenant, Role.VIEWER),
            null);
    if (r.statusCode() != 200) {
      throw new AssertionError("GET /sandbox/log -> " + r.statusCode() + " " + r.body());
    }
    return parse(r.body());
  }

  /** Scripts a reply with a token of {@code tenant}. */
  HttpResponse<String> reply(String tenant, String json) {
    return call("POST", "/sandbox/replies", token(tenant, Role.OPERATOR), json);
  }

  static JsonNode parse(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }
}
