package io.outreach.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.outreach.engine.Rejection;
import io.outreach.engine.intake.UploadQuotaExceeded;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.marshallers.jackson.Jackson;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every route class shares: JSON in and out with Pekko's configured mapper, problem+json
 * answers, bearer authentication with role checks, the route label for logs and metrics, and the
 * mapping of entity answers (rejections, timeouts) to status codes.
 */
public class ApiDirectives extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(ApiDirectives.class);

  static final ContentType.NonBinary PROBLEM_JSON =
      ContentTypes.create(
          MediaTypes.applicationWithFixedCharset(
              "problem+json", org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8));

  protected final ObjectMapper mapper;
  private final ObjectMapper strictMapper;
  private final JwtAuth auth;
  protected final long maxBodyBytes;
  private final java.util.concurrent.Executor blockingExecutor;

  protected ApiDirectives(ActorSystem<?> system, JwtAuth auth, long maxBodyBytes) {
    this.mapper = jsonMapper(system);
    this.blockingExecutor =
        system.dispatchers().lookup(org.apache.pekko.actor.typed.DispatcherSelector.blocking());
    this.strictMapper =
        strictTypes(
            mapper
                .copy()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES));
    this.auth = auth;
    this.maxBodyBytes = maxBodyBytes;
  }

  /**
   * A request body's values have the types the contract gives them: a number or a boolean where a
   * string belongs (and a string where a number or a boolean belongs) is refused, never converted.
   */
  private static ObjectMapper strictTypes(ObjectMapper m) {
    m.coercionConfigFor(com.fasterxml.jackson.databind.type.LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    for (var type :
        List.of(
            com.fasterxml.jackson.databind.type.LogicalType.Integer,
            com.fasterxml.jackson.databind.type.LogicalType.Float,
            com.fasterxml.jackson.databind.type.LogicalType.Boolean)) {
      m.coercionConfigFor(type).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
    }
    return m;
  }

  /** Pekko's own JSON mapper (java.time support, ISO dates), as PEKKO-NOTES 12 advises. */
  static ObjectMapper jsonMapper(ActorSystem<?> system) {
    return JacksonObjectMapperProvider.get(system).getOrCreate("jackson-json", Optional.empty());
  }

  // ---- answers ----

  protected Route json(StatusCode status, Object body) {
    return complete(status, body, Jackson.marshaller(mapper));
  }

  protected Route json(Object body) {
    return json(StatusCodes.OK, body);
  }

  protected Route problem(Problem p, HttpHeader... headers) {
    return complete(problemResponse(mapper, p).addHeaders(List.of(headers)));
  }

  /** The {@code Retry-After} of every 503 answer. */
  static final long RETRY_AFTER_SECONDS = 5;

  static HttpResponse problemResponse(ObjectMapper mapper, Problem p) {
    byte[] body;
    try {
      body = mapper.writeValueAsBytes(p);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    HttpResponse response =
        HttpResponse.create()
            .withStatus(p.status())
            .withEntity(HttpEntities.create(PROBLEM_JSON, body));
    // Every 503 says when to come back: when its cause said (a provider's own Retry-After), else
    // soon, the cause is passing (a database away, a timeout).
    if (p.status() != 503) {
      return response;
    }
    long seconds =
        p.retryAfter() == null
            ? RETRY_AFTER_SECONDS
            : Math.max(1, (p.retryAfter().toMillis() + 999) / 1000);
    return response.addHeader(
        org.apache.pekko.http.javadsl.model.headers.RetryAfter.create(seconds));
  }

  // ---- routing ----

  /** Names the matched route (a template such as {@code GET /v1/tenant}) for logs and metrics. */
  protected Route endpoint(String template, Supplier<Route> inner) {
    return extractRequest(
        req -> {
          req.getAttribute(RequestTrace.KEY).ifPresent(t -> t.route = template);
          return inner.get();
        });
  }

  /** Authenticates the bearer token and requires one of {@code roles}. */
  protected Route authenticated(Role[] roles, Function<Principal, Route> inner) {
    return optionalHeaderValueByName(
        "Authorization",
        header -> {
          Optional<String> token =
              header
                  .filter(h -> h.regionMatches(true, 0, "Bearer ", 0, 7))
                  .map(h -> h.substring(7).trim());
          if (token.isEmpty()) {
            return problem(
                Problem.Type.UNAUTHORIZED.with(
                    "an Authorization: Bearer <token> header is required"),
                WWWAuthenticate.create(HttpChallenge.create("Bearer", "outreach")));
          }
          Principal principal;
          try {
            principal = auth.verify(token.get());
          } catch (JwtAuth.InvalidToken e) {
            return problem(
                Problem.Type.UNAUTHORIZED.with(e.getMessage()),
                WWWAuthenticate.create(HttpChallenge.create("Bearer", "outreach")));
          }
          return extractRequest(
              req -> {
                req.getAttribute(RequestTrace.KEY).ifPresent(t -> t.tenant = principal.tenantId());
                if (!principal.hasAny(roles)) {
                  return problem(
                      Problem.Type.FORBIDDEN.with(
                          "this call needs one of the roles "
                              + java.util.Arrays.stream(roles).map(Role::claim).toList()));
                }
                return inner.apply(principal);
              });
        });
  }

  protected Route authenticated(Role role, Function<Principal, Route> inner) {
    return authenticated(new Role[] {role}, inner);
  }

  /**
   * A body of at most {@code maxBodyBytes}. One declared larger is read to its end and dropped
   * before the 413: answering and closing with its bytes unread resets the connection (a TCP RST),
   * which can destroy the answer before the client reads it, so it would see no answer at all (as
   * MalformedJsonIT once did). A body of undeclared length is cut at the limit.
   */
  private Route bounded(Supplier<Route> inner) {
    return extractRequest(
        request -> {
          OptionalLong declared = request.entity().getContentLengthOption();
          if (declared.isEmpty() || declared.getAsLong() <= maxBodyBytes) {
            return withSizeLimit(maxBodyBytes, inner);
          }
          return extractMaterializer(
              mat ->
                  onComplete(
                      request.discardEntityBytes(mat).completionStage(),
                      drained ->
                          problem(
                              Problem.Type.PAYLOAD_TOO_LARGE.with(
                                  "the request body exceeds the limit of "
                                      + maxBodyBytes
                                      + " bytes"))));
        });
  }

  /** Reads a JSON body of at most {@code maxBodyBytes}; unknown fields are an error. */
  protected <T> Route jsonBody(Class<T> type, Function<T, Route> inner) {
    return bounded(
        () ->
            entity(
                Jackson.unmarshaller(strictMapper, type),
                body ->
                    body == null
                        ? problem(Problem.Type.VALIDATION.with("a JSON object body is required"))
                        : inner.apply(body)));
  }

  /**
   * Reads a JSON body that may be left out (no body, or only blanks: empty), of at most {@code
   * maxBodyBytes}; unknown fields are an error.
   */
  protected <T> Route optionalJsonBody(Class<T> type, Function<Optional<T>, Route> inner) {
    return bounded(
        () ->
            entity(
                org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller.entityToString(),
                raw -> {
                  if (raw.isBlank()) {
                    return inner.apply(Optional.empty());
                  }
                  T body;
                  try {
                    body = strictMapper.readValue(raw, type);
                  } catch (JsonProcessingException e) {
                    return problem(problemFor(e));
                  }
                  return body == null
                      ? problem(Problem.Type.VALIDATION.with("the body must be a JSON object"))
                      : inner.apply(Optional.of(body));
                }));
  }

  /** Reads {@code ?limit=} and {@code ?cursor=} of a list endpoint. */
  protected Route paged(Function<ListPage.Request, Route> inner) {
    return parameterOptional(
        "limit",
        limit ->
            parameterOptional("cursor", cursor -> inner.apply(ListPage.request(limit, cursor))));
  }

  /** Runs blocking work (JDBC, files) on Pekko's blocking dispatcher, never on a route thread. */
  protected <T> CompletionStage<T> blocking(Supplier<T> work) {
    return java.util.concurrent.CompletableFuture.supplyAsync(work, blockingExecutor);
  }

  /** Completes with the entity's answer, mapping its refusals and time-outs to problems. */
  protected <T> Route answer(CompletionStage<T> reply, Function<T, Route> inner) {
    return onSuccess(reply, inner::apply);
  }

  // ---- failures ----

  /** Maps an exception escaping a route to a problem; 5xx are logged with their cause. */
  static Problem problemFor(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException
            || t instanceof java.util.concurrent.ExecutionException
            || t instanceof Jackson.JacksonUnmarshallingException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof ProblemException p) {
      return p.problem();
    }
    if (t instanceof io.outreach.engine.Refused r) {
      return switch (r.rejection().kind()) {
        case INVALID -> Problem.Type.VALIDATION.with(r.rejection().detail());
        case NOT_FOUND -> Problem.Type.NOT_FOUND.with(r.rejection().detail());
        case CONFLICT -> Problem.Type.CONFLICT.with(r.rejection().detail());
      };
    }
    if (t instanceof StatusReply.ErrorMessage m) {
      Optional<Rejection> r = Rejection.parse(m.getMessage());
      if (r.isPresent()) {
        return switch (r.get().kind()) {
          case INVALID -> Problem.Type.VALIDATION.with(r.get().detail());
          case NOT_FOUND -> Problem.Type.NOT_FOUND.with(r.get().detail());
          case CONFLICT -> Problem.Type.CONFLICT.with(r.get().detail());
        };
      }
    }
    if (t instanceof TimeoutException) {
      return Problem.Type.UNAVAILABLE.with("the engine did not answer in time; retry later");
    }
    if (databaseUnavailable(t)) {
      log.warn("a request failed: the database is unavailable ({})", String.valueOf(t));
      return Problem.Type.UNAVAILABLE.with("the database is unavailable; retry later");
    }
    if (t instanceof UploadQuotaExceeded q) {
      log.warn("an upload was refused: {}", q.getMessage());
      return Problem.Type.PAYLOAD_TOO_LARGE.with(
          q.getMessage()
              + " (outreach.intake.upload-quota); finished imports' uploads are deleted when their"
              + " retention ends");
    }
    if (t instanceof EntityStreamSizeException s) {
      return Problem.Type.PAYLOAD_TOO_LARGE.with(
          "the request body exceeds the limit of " + s.limit() + " bytes");
    }
    if (t instanceof UnrecognizedPropertyException u) {
      return Problem.Type.VALIDATION.with("unknown field '" + u.getPropertyName() + "'");
    }
    if (t instanceof MismatchedInputException m) {
      // A missing boolean or number reads as null for a primitive: it is missing, not mistyped.
      boolean missing = String.valueOf(m.getOriginalMessage()).startsWith("Cannot map `null`");
      return Problem.Type.VALIDATION.with(
          "field '" + fieldPath(m) + (missing ? "' is required" : "' has the wrong type"));
    }
    if (t instanceof JsonProcessingException) {
      return Problem.Type.MALFORMED.with("the body is not valid JSON");
    }
    log.error("unhandled error in a route", t);
    return Problem.Type.INTERNAL.with("an internal error occurred; it has been logged");
  }

  /**
   * Whether {@code t} says the database cannot be reached now rather than that a statement is
   * wrong: no connection within the pool's wait, a connection refused or lost (SQLSTATE class 08),
   * the server shutting down or out of resources (57P, 53), not accepting connections (55000), or a
   * statement cancelled at its timeout (57014: the database is too slow to answer now).
   */
  static boolean databaseUnavailable(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.sql.SQLTransientConnectionException) {
        return true;
      }
      if (c instanceof java.sql.SQLException e && e.getSQLState() != null) {
        String state = e.getSQLState();
        if (state.startsWith("08")
            || state.startsWith("57P")
            || state.startsWith("53")
            || state.equals("55000")
            || state.equals("57014")) {
          return true;
        }
      }
    }
    return false;
  }

  static String fieldPath(MismatchedInputException e) {
    String path =
        e.getPath().stream()
            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
            .reduce((a, b) -> b.startsWith("[") ? a + b : a + "." + b)
            .orElse("");
    return path.isEmpty() ? "(body)" : path;
  }
}
