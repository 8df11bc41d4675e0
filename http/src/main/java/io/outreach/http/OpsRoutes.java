package io.outreach.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Operations endpoints without a token: {@code /health/alive}, {@code /health/ready} (every {@link
 * ReadinessCheck} must pass within its deadline), {@code /metrics} (Prometheus text) and {@code
 * /openapi.json}.
 */
public final class OpsRoutes extends ApiDirectives {
  private static final Duration CHECK_DEADLINE = Duration.ofSeconds(3);

  private final PrometheusMeterRegistry registry;
  private final List<ReadinessCheck> checks;
  private final byte[] openApi;

  public OpsRoutes(
      ActorSystem<?> system, PrometheusMeterRegistry registry, List<ReadinessCheck> checks) {
    super(system, null, 0);
    this.registry = registry;
    this.checks = checks;
    this.openApi = resource("/openapi.json");
  }

  public Route route() {
    return concat(
        pathPrefix(
            "health",
            () ->
                concat(
                    path(
                        "alive",
                        () ->
                            get(
                                () ->
                                    endpoint(
                                        "GET /health/alive",
                                        () -> json(Map.of("status", "alive"))))),
                    path("ready", () -> get(() -> endpoint("GET /health/ready", this::ready))))),
        path(
            "metrics",
            () ->
                get(
                    () ->
                        endpoint(
                            "GET /metrics",
                            () ->
                                complete(
                                    HttpEntities.create(
                                        ContentTypes.TEXT_PLAIN_UTF8, registry.scrape()))))),
        path(
            "openapi.json",
            () ->
                get(
                    () ->
                        endpoint(
                            "GET /openapi.json",
                            () ->
                                complete(
                                    HttpEntities.create(
                                        ContentTypes.APPLICATION_JSON, openApi))))));
  }

  private Route ready() {
    Map<String, CompletableFuture<Boolean>> running = new LinkedHashMap<>();
    for (ReadinessCheck c : checks) {
      CompletableFuture<Boolean> f;
      try {
        f = c.check().toCompletableFuture();
      } catch (RuntimeException e) {
        f = CompletableFuture.completedFuture(false);
      }
      running.put(
          c.name(),
          f.completeOnTimeout(false, CHECK_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
              .exceptionally(e -> false));
    }
    CompletionStage<Map<String, String>> all =
        CompletableFuture.allOf(running.values().toArray(CompletableFuture[]::new))
            .thenApply(
                ignored -> {
                  Map<String, String> result = new LinkedHashMap<>();
                  running.forEach((name, f) -> result.put(name, f.join() ? "ok" : "failing"));
                  return result;
                });
    return onSuccess(
        all,
        result -> {
          if (result.values().stream().allMatch("ok"::equals)) {
            return json(Map.of("status", "ready", "checks", result));
          }
          return problem(
              Problem.Type.UNAVAILABLE
                  .with("not ready: " + result)
                  .withExtension("checks", result));
        });
  }

  private static byte[] resource(String name) {
    try (InputStream in = OpsRoutes.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the classpath");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
