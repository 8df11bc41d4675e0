package io.outreach.http.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Calls a sandbox's own endpoints (faults, log, stats, replies) from tests, as JSON. */
final class SandboxClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient client = HttpClient.newHttpClient();

  private final String base;

  SandboxClient(String base) {
    this.base = base;
  }

  HttpResponse<String> call(String method, String path, String json) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .method(
                method,
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json))
            .build();
    try {
      return client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Sets the faults; fails the test unless they are accepted. */
  void faults(String json) {
    HttpResponse<String> r = call("PUT", "/sandbox/faults", json);
    if (r.statusCode() != 200) {
      throw new AssertionError(
          "PUT /sandbox/faults " + json + " -> " + r.statusCode() + " " + r.body());
    }
  }

  JsonNode get(String path) {
    HttpResponse<String> r = call("GET", path, null);
    if (r.statusCode() != 200) {
      throw new AssertionError("GET " + path + " -> " + r.statusCode() + " " + r.body());
    }
    return parse(r.body());
  }

  static JsonNode parse(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }
}
