package io.outreach.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MalformedRequestContentRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The engine's HTTP server: every route class behind one wrapper that gives each request an id,
 * turns every rejection and exception into problem+json, writes one access log line (with the
 * request id and tenant in the MDC) and records {@code http.server.requests} by route and status.
 * {@link DirectEndpoint}s are served ahead of the route tree, with the same id, problems, log line
 * and timer.
 */
public final class ApiServer extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger("io.outreach.http.access");
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final ObjectMapper mapper;
  private final MeterRegistry registry;
  // Built once: a handler (and the problem bodies it completes with) is not remade per request.
  private final ExceptionHandler exceptions;
  private final RejectionHandler rejections;
  private final java.util.Map<String, Timer> timers =
      new java.util.concurrent.ConcurrentHashMap<>();

  public ApiServer(ActorSystem<?> system, MeterRegistry registry) {
    this.mapper = ApiDirectives.jsonMapper(system);
    this.registry = registry;
    this.exceptions = exceptionHandler();
    this.rejections = rejectionHandler();
  }

  /**
   * Paths served by a function of the request rather than by routing directives: for the busiest
   * requests, where the directive tree's cost per request matters.
   */
  public interface DirectEndpoint {
    /**
     * The route template under which this endpoint serves {@code request}; null when it does not.
     */
    String template(HttpRequest request);

    /** Serves a request {@link #template} matched; a failure becomes a problem like a route's. */
    CompletionStage<HttpResponse> serve(String template, HttpRequest request, RequestTrace trace);
  }

  /** Binds {@code routes} on host:port and unbinds on coordinated shutdown. */
  public CompletionStage<ServerBinding> bind(
      ActorSystem<?> system, String host, int port, List<Route> routes) {
    return bind(system, host, port, List.of(), routes);
  }

  /**
   * Binds {@code direct} endpoints, then {@code routes}, on host:port and unbinds on coordinated
   * shutdown. A request goes to the first direct endpoint that serves its path, else to the routes.
   */
  public CompletionStage<ServerBinding> bind(
      ActorSystem<?> system,
      String host,
      int port,
      List<DirectEndpoint> direct,
      List<Route> routes) {
    var tree =
        observed(concat(routes.get(0), routes.subList(1, routes.size()).toArray(Route[]::new)))
            .handler(system);
    org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler =
        request -> {
          for (DirectEndpoint endpoint : direct) {
            String template = endpoint.template(request);
            if (template != null) {
              return served(endpoint, template, request);
            }
          }
          return tree.apply(request);
        };
    return Http.get(system)
        .newServerAt(host, port)
        .bind(handler)
        .thenApply(b -> b.addToCoordinatedShutdown(Duration.ofSeconds(10), system));
  }

  private CompletionStage<HttpResponse> served(
      DirectEndpoint endpoint, String template, HttpRequest request) {
    RequestTrace trace = new RequestTrace(requestId(request));
    trace.route = template;
    long start = System.nanoTime();
    CompletionStage<HttpResponse> response;
    try {
      response = endpoint.serve(template, request, trace);
    } catch (RuntimeException e) {
      response = java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    return response.handle(
        (r, error) ->
            finish(
                request,
                error == null
                    ? r
                    : ApiDirectives.problemResponse(mapper, ApiDirectives.problemFor(error)),
                trace,
                start));
  }

  /** The caller's {@code X-Request-Id} when it is a plausible id, else a new one. */
  private static String requestId(HttpRequest request) {
    return request
        .getHeader("X-Request-Id")
        .map(h -> h.value())
        .filter(v -> REQUEST_ID.matcher(v).matches())
        .orElseGet(() -> UUID.randomUUID().toString());
  }

  Route observed(Route inner) {
    return extractRequest(
        request -> {
          RequestTrace trace = new RequestTrace(requestId(request));
          long start = System.nanoTime();
          return mapRequest(
              r -> r.addAttribute(RequestTrace.KEY, trace),
              () ->
                  mapResponse(
                      response -> finish(request, response, trace, start),
                      () ->
                          handleExceptions(
                              exceptions, () -> handleRejections(rejections, () -> inner))));
        });
  }

  private HttpResponse finish(
      HttpRequest request, HttpResponse response, RequestTrace trace, long start) {
    long nanos = System.nanoTime() - start;
    int status = response.status().intValue();
    timer(request.method().name(), trace.route, status)
        .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    MDC.put("requestId", trace.requestId);
    if (trace.tenant != null) {
      MDC.put("tenant", trace.tenant);
    }
    try {
      String line = "{} {} -> {} in {} ms";
      Object[] args = {request.method().name(), request.getUri().path(), status, nanos / 1_000_000};
      if (status >= 500) {
        log.error(line + " ({})", append(args, trace.route));
      } else if (status >= 400) {
        log.info(line + " ({}): {}", append(append(args, trace.route), problemDetail(response)));
      } else {
        log.info(line, args);
      }
    } finally {
      MDC.remove("requestId");
      MDC.remove("tenant");
    }
    return response.addHeader(RawHeader.create("X-Request-Id", trace.requestId));
  }

  /** The request timer of a method, route template and status, registered once. */
  private Timer timer(String method, String route, int status) {
    return timers.computeIfAbsent(
        method + ' ' + route + ' ' + status,
        k ->
            Timer.builder("http.server.requests")
                .description("HTTP requests by route template and status")
                .tag("method", method)
                .tag("route", route)
                .tag("status", Integer.toString(status))
                .register(registry));
  }

  private static Object[] append(Object[] args, Object more) {
    Object[] out = java.util.Arrays.copyOf(args, args.length + 1);
    out[args.length] = more;
    return out;
  }

  private static String problemDetail(HttpResponse response) {
    if (response.entity() instanceof HttpEntity.Strict s && s.getData().length() < 2048) {
      return s.getData().utf8String();
    }
    return "";
  }

  private ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .matchAny(t -> complete(ApiDirectives.problemResponse(mapper, ApiDirectives.problemFor(t))))
        .build();
  }

  private RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handle(
            MalformedRequestContentRejection.class,
            r ->
                complete(
                    ApiDirectives.problemResponse(mapper, ApiDirectives.problemFor(r.getCause()))))
        .handleNotFound(
            complete(
                ApiDirectives.problemResponse(
                    mapper, Problem.Type.NOT_FOUND.with("no such resource"))))
        .build()
        .withFallback(RejectionHandler.defaultHandler().mapRejectionResponse(this::asProblem));
  }

  /** Pekko's default rejection answers are plain text: keep status, headers and message. */
  private HttpResponse asProblem(HttpResponse response) {
    if (response.entity().getContentType().mediaType().toString().equals(Problem.MEDIA_TYPE)) {
      return response;
    }
    String detail =
        response.entity() instanceof HttpEntity.Strict s
            ? s.getData().utf8String()
            : response.status().reason();
    int status = response.status().intValue();
    HttpResponse problem =
        ApiDirectives.problemResponse(mapper, Problem.Type.forStatus(status).with(detail));
    return problem.withStatus(response.status()).addHeaders(response.getHeaders());
  }
}
