package io.outreach.http.sandbox;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The engine's side of the webhooks in tests: a Pekko HTTP server on port 0 that records every
 * request it gets (in arrival order, with its connection), answers what {@link #answer} says, and
 * counts the requests in flight at once. Bind with {@code remote-address-attribute = on} for {@link
 * Call#connection}.
 */
final class WebhookReceiver {
  /** One request as the receiver saw it, and what it answered. */
  record Call(
      long seq,
      String path,
      Map<String, String> headers,
      String body,
      String connection,
      int status) {

    String header(String name) {
      return headers.get(name);
    }

    /** The body as a decoded form (Twilio); sorted by name. */
    Map<String, String> form() {
      Map<String, String> form = new TreeMap<>();
      if (body.isEmpty()) {
        return form;
      }
      for (String pair : body.split("&")) {
        int eq = pair.indexOf('=');
        form.put(
            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
      return form;
    }
  }

  /** A request before it is answered. */
  record Request(String path, Map<String, String> headers, String body) {}

  private final ActorSystem<?> system;
  private final ServerBinding binding;
  private final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
  private final AtomicLong seq = new AtomicLong();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private final Set<String> connections = ConcurrentHashMap.newKeySet();

  /** The status for a request; null answers never (the caller times out). */
  volatile Function<Request, Integer> answer = r -> 200;

  /** How long each answer is held back, so that concurrent requests overlap. */
  volatile Duration delay = Duration.ZERO;

  WebhookReceiver(ActorSystem<?> system) {
    this.system = system;
    this.binding =
        Http.get(system)
            .newServerAt("127.0.0.1", 0)
            .bind(this::handle)
            .toCompletableFuture()
            .join();
  }

  String base() {
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  private CompletionStage<HttpResponse> handle(HttpRequest request) {
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    String connection =
        request
            .getAttribute(AttributeKeys.remoteAddress)
            .map(a -> a + ":" + a.getPort())
            .orElse("?");
    connections.add(connection);
    Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    request.getHeaders().forEach(h -> headers.put(h.name(), h.value()));
    // Pekko keeps the content type on the entity, not among the headers.
    headers.put("Content-Type", request.entity().getContentType().toString());
    return request
        .entity()
        .toStrict(5_000, system)
        .thenCompose(
            strict -> {
              String body = strict.getData().utf8String();
              String path = request.getUri().path();
              Integer status = answer.apply(new Request(path, headers, body));
              long n = seq.incrementAndGet();
              calls.add(new Call(n, path, headers, body, connection, status == null ? 0 : status));
              if (status == null) {
                inFlight.decrementAndGet();
                return new CompletableFuture<HttpResponse>();
              }
              CompletableFuture<HttpResponse> response =
                  CompletableFuture.supplyAsync(
                      () -> HttpResponse.create().withStatus(status),
                      delay.isZero()
                          ? Runnable::run
                          : CompletableFuture.delayedExecutor(
                              delay.toNanos(), TimeUnit.NANOSECONDS));
              return response.whenComplete((r, e) -> inFlight.decrementAndGet());
            });
  }

  List<Call> calls() {
    return List.copyOf(calls);
  }

  List<Call> calls(String path) {
    return calls.stream().filter(c -> c.path().equals(path)).toList();
  }

  int maxInFlight() {
    return maxInFlight.get();
  }

  int connections() {
    return connections.size();
  }

  /** Forgets what it saw and answers 200 at once again. */
  void reset() {
    calls.clear();
    maxInFlight.set(0);
    connections.clear();
    answer = r -> 200;
    delay = Duration.ZERO;
  }

  void stop() {
    binding.unbind().toCompletableFuture().join();
  }
}
