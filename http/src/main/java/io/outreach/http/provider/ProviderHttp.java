package io.outreach.http.provider;

import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;

/**
 * HTTP to the providers over Pekko HTTP's host connection pools: kept-alive connections, at most
 * {@code maxConnections} per provider host, and a request that gets no answer in {@code timeout}
 * fails (the send is then retried by its block, with the same idempotency key). Cheaper per call
 * than {@code java.net.http} (measured: about half the CPU), and on the engine's own threads.
 */
public final class ProviderHttp {
  /**
   * A provider's answer: status, body, its {@code Retry-After} if any, and every header by its
   * lower-case name (Apollo's rate-limit headers).
   */
  public record Response(
      int status, String body, Optional<String> retryAfter, Map<String, String> headers) {

    public Response {
      headers = Map.copyOf(headers);
    }

    public Response(int status, String body, Optional<String> retryAfter) {
      this(status, body, retryAfter, Map.of());
    }

    /** A header's value by its name in any case. */
    public Optional<String> header(String name) {
      return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
    }
  }

  private final ActorSystem<?> system;
  private final Http http;
  private final ConnectionPoolSettings pool;
  private final LoggingAdapter log;
  private final Duration timeout;

  public ProviderHttp(ActorSystem<?> system, int maxConnections, Duration timeout) {
    this.system = system;
    this.http = Http.get(system);
    this.timeout = timeout;
    this.log = system.classicSystem().log();
    this.pool =
        ConnectionPoolSettings.create(system.classicSystem())
            .withMaxConnections(maxConnections)
            // Warm connections: a call paced out must not wait for a connection to be made and
            // then leave in a bunch with the calls behind it.
            .withMinConnections(Math.min(maxConnections, 8))
            // Room for every caller (a power of two): the pool refuses requests beyond it at once.
            .withMaxOpenRequests(Integer.highestOneBit(Math.max(1024, maxConnections * 8) - 1) << 1)
            // A retry is the block's decision (it counts attempts), never the pool's.
            .withMaxRetries(0)
            .withConnectionSettings(
                ClientConnectionSettings.create(system.classicSystem())
                    .withIdleTimeout(timeout)
                    .withConnectingTimeout(Duration.ofSeconds(5)));
  }

  /**
   * Sends {@code request}; fails when no answer came in time. {@code answered} runs as soon as the
   * answer's head arrives (or the call failed), before its entity is read.
   */
  public CompletionStage<Response> send(HttpRequest request, Runnable answered) {
    return http.singleRequest(request, http.defaultClientHttpsContext(), pool, log)
        .whenComplete((response, error) -> answered.run())
        .thenCompose(
            response ->
                response
                    .entity()
                    .toStrict(timeout.toMillis(), system)
                    .thenApply(
                        strict ->
                            new Response(
                                response.status().intValue(),
                                strict.getData().utf8String(),
                                response.getHeader("Retry-After").map(h -> h.value()),
                                headers(response))))
        .toCompletableFuture()
        // Behind the connection's idle timeout, which normally fires first and frees the socket.
        .orTimeout(timeout.toMillis() + 2_000, TimeUnit.MILLISECONDS);
  }

  private static Map<String, String> headers(org.apache.pekko.http.javadsl.model.HttpResponse r) {
    Map<String, String> out = new HashMap<>();
    for (org.apache.pekko.http.javadsl.model.HttpHeader h : r.getHeaders()) {
      out.putIfAbsent(h.lowercaseName(), h.value());
    }
    return out;
  }
}
