package io.outreach.http.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.http.ApiDirectives;
import io.outreach.http.Problem;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * The provider twins under {@code /sandbox}: Twilio's Messages API and SignalHouse's send API with
 * their real request shapes and credentials checks, an inspectable request log ({@code GET
 * /sandbox/log}), injectable faults ({@code PUT /sandbox/faults}), signed delivery receipts through
 * a bounded queue (counted in {@code GET /sandbox/stats}) and scripted inbound replies ({@code POST
 * /sandbox/replies}). The tenant of a message is taken from its status-callback URL ({@code
 * /webhooks/{provider}/{tenantId}/...}), or else from a {@code tenant} field, since real providers
 * know nothing of tenants.
 */
public final class SandboxRoutes extends ApiDirectives {
  /** The most entries one {@code GET /sandbox/log} returns; page on with {@code since}. */
  static final int LOG_PAGE_LIMIT = 100_000;

  private static final Pattern CALLBACK_TENANT = Pattern.compile("/webhooks/[^/]+/([^/?#]+)");

  private final SandboxSettings settings;
  private final SandboxLog log;
  private final SandboxReceipts receipts;
  private final SandboxReplies replies;
  private final AtomicReference<SandboxFaults> faults = new AtomicReference<>(SandboxFaults.NONE);
  private final AtomicReference<TokenBucket> bucket = new AtomicReference<>();
  // Provider calls held by the latency fault, not answered (nor logged) yet.
  private final java.util.concurrent.atomic.AtomicInteger delayed =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * @param engineUrl the engine's public base URL ({@code http://127.0.0.1:8080}), where replies
   *     are posted; asked at each reply, since an engine knows its port only once bound, and null
   *     or blank when none is known (replies then fail with 502)
   */
  public SandboxRoutes(
      ActorSystem<?> system, SandboxSettings settings, Supplier<String> engineUrl) {
    super(system, null, 1024 * 1024);
    this.settings = settings;
    this.log = new SandboxLog(SandboxLog.DEFAULT_CAPACITY, Clock.systemUTC());
    SandboxWebhooks webhooks = new SandboxWebhooks(system, settings);
    this.receipts = new SandboxReceipts(system, webhooks, settings.receiptConcurrency());
    this.replies = new SandboxReplies(webhooks, log, engineUrl);
  }

  public Route route() {
    return pathPrefix(
        "sandbox",
        () ->
            concat(
                path(
                    PathMatchers.segment("twilio")
                        .slash("2010-04-01")
                        .slash("Accounts")
                        .slash(PathMatchers.segment())
                        .slash("Messages.json"),
                    sid ->
                        post(
                            () ->
                                endpoint(
                                    "POST /sandbox/twilio/2010-04-01/Accounts/{sid}/Messages.json",
                                    () -> faulted("twilio", () -> twilioMessage(sid))))),
                path(
                    PathMatchers.segment("signalhouse").slash("message").slash("sms"),
                    () ->
                        post(
                            () ->
                                endpoint(
                                    "POST /sandbox/signalhouse/message/sms",
                                    () -> faulted("signalhouse", this::signalHouseMessage)))),
                path("log", () -> get(() -> endpoint("GET /sandbox/log", this::readLog))),
                path("stats", () -> get(() -> endpoint("GET /sandbox/stats", () -> json(stats())))),
                path(
                    "replies",
                    () ->
                        post(
                            () ->
                                endpoint(
                                    "POST /sandbox/replies",
                                    () -> jsonBody(SandboxReplies.Body.class, this::reply)))),
                path(
                    "faults",
                    () ->
                        endpoint(
                            "/sandbox/faults",
                            () ->
                                concat(
                                    get(() -> json(faults.get())),
                                    put(
                                        () ->
                                            jsonBody(
                                                SandboxFaults.Body.class,
                                                body -> setFaults(body.toFaults()))))))));
  }

  // ---- Twilio ----

  private Route twilioMessage(String sid) {
    return optionalHeaderValueByName(
        "Authorization",
        authorization -> {
          if (!sid.equals(settings.twilioAccountSid())
              || !authorization
                  .map(SandboxRoutes::basicCredentials)
                  .filter((settings.twilioAccountSid() + ":" + settings.twilioAuthToken())::equals)
                  .isPresent()) {
            return providerError("twilio", 401, "Authenticate", Optional.empty());
          }
          return formFieldMap(
              form ->
                  optionalHeaderValueByName(
                      "I-Twilio-Idempotency-Token",
                      key -> {
                        String to = form.get("To");
                        String from = form.get("From");
                        String body = form.get("Body");
                        if (blank(to) || blank(from) || blank(body)) {
                          return providerError(
                              "twilio", 400, "To, From and Body are required", Optional.empty());
                        }
                        String callback = form.get("StatusCallback");
                        SandboxLogEntry entry =
                            accept(
                                "twilio",
                                tenantOf(callback, form.get("tenant")),
                                to,
                                from,
                                body,
                                key.orElse(null),
                                callback,
                                () -> "SM" + UUID.randomUUID().toString().replace("-", ""));
                        Map<String, Object> answer = new LinkedHashMap<>();
                        answer.put("sid", entry.messageId());
                        answer.put("account_sid", settings.twilioAccountSid());
                        answer.put("to", to);
                        answer.put("from", from);
                        answer.put("body", body);
                        answer.put("status", "queued");
                        answer.put("num_segments", "1");
                        answer.put("direction", "outbound-api");
                        answer.put("api_version", "2010-04-01");
                        answer.put(
                            "uri",
                            "/2010-04-01/Accounts/"
                                + sid
                                + "/Messages/"
                                + entry.messageId()
                                + ".json");
                        return raw(201, answer, Optional.empty());
                      }));
        });
  }

  private static String basicCredentials(String header) {
    if (!header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return "";
    }
    try {
      return new String(
          Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return "";
    }
  }

  // ---- SignalHouse ----

  private Route signalHouseMessage() {
    return optionalHeaderValueByName(
        "Authorization",
        authorization -> {
          if (!authorization.equals(Optional.of("Bearer " + settings.signalHouseApiKey()))) {
            return providerError("signalhouse", 401, "invalid API key", Optional.empty());
          }
          return entity(
              Unmarshaller.entityToString(),
              raw ->
                  optionalHeaderValueByName(
                      "Idempotency-Key",
                      key -> {
                        JsonNode body;
                        try {
                          body = mapper.readTree(raw);
                        } catch (JsonProcessingException e) {
                          body = null;
                        }
                        if (body == null || !body.isObject()) {
                          return providerError(
                              "signalhouse",
                              400,
                              "the body must be a JSON object",
                              Optional.empty());
                        }
                        String to = text(body, "to");
                        String from = text(body, "from");
                        String message = text(body, "message");
                        if (blank(to) || blank(from) || blank(message)) {
                          return providerError(
                              "signalhouse",
                              400,
                              "from, to and message are required",
                              Optional.empty());
                        }
                        String callback = text(body, "statusCallback");
                        SandboxLogEntry entry =
                            accept(
                                "signalhouse",
                                tenantOf(callback, text(body, "tenant")),
                                to,
                                from,
                                message,
                                key.orElse(null),
                                callback,
                                () -> UUID.randomUUID().toString());
                        Map<String, Object> answer = new LinkedHashMap<>();
                        answer.put("messageId", entry.messageId());
                        answer.put("status", "queued");
                        return raw(200, answer, Optional.empty());
                      }));
        });
  }

  private static String text(JsonNode body, String field) {
    JsonNode n = body.get(field);
    return n != null && n.isTextual() ? n.asText() : null;
  }

  // ---- shared ----

  /**
   * Logs the request and, unless it repeats an idempotency key or receipts are switched off, queues
   * its receipts (ending {@code undelivered} for the faults' share of messages).
   */
  private SandboxLogEntry accept(
      String provider,
      String tenant,
      String to,
      String from,
      String body,
      String idempotencyKey,
      String callback,
      Supplier<String> newId) {
    SandboxLogEntry entry = log.record(provider, tenant, to, from, body, idempotencyKey, newId);
    SandboxFaults f = faults.get();
    if (!entry.duplicate() && !blank(callback) && f.receipts()) {
      boolean undelivered =
          f.undeliveredRate() > 0 && ThreadLocalRandom.current().nextDouble() < f.undeliveredRate();
      receipts.deliver(entry, callback, undelivered);
    }
    return entry;
  }

  static String tenantOf(String callbackUrl, String tenantField) {
    if (!blank(callbackUrl)) {
      Matcher m = CALLBACK_TENANT.matcher(callbackUrl);
      if (m.find()) {
        return m.group(1);
      }
    }
    return blank(tenantField) ? null : tenantField;
  }

  /** Applies the current faults before a provider call is handled. */
  private Route faulted(String provider, Supplier<Route> inner) {
    SandboxFaults f = faults.get();
    if (f.outage()) {
      return providerError(provider, 503, "service unavailable (sandbox outage)", Optional.empty());
    }
    TokenBucket b = bucket.get();
    if (b != null && !b.tryTake()) {
      return providerError(provider, 429, "too many requests", Optional.of("1"));
    }
    if (f.errorRate() > 0 && ThreadLocalRandom.current().nextDouble() < f.errorRate()) {
      return providerError(provider, 500, "internal error (sandbox fault)", Optional.empty());
    }
    if (f.latencyMs() > 0) {
      // Delays the answer without holding a route thread.
      delayed.incrementAndGet();
      return onSuccess(
          CompletableFuture.supplyAsync(
              () -> true, CompletableFuture.delayedExecutor(f.latencyMs(), TimeUnit.MILLISECONDS)),
          ignored -> {
            delayed.decrementAndGet();
            return inner.get();
          });
    }
    return inner.get();
  }

  private Route setFaults(SandboxFaults next) {
    String problem = next.problem();
    if (problem != null) {
      return problem(Problem.Type.VALIDATION.with(problem));
    }
    // The bucket is replaced before the faults so a lowered limit applies to the next call.
    bucket.set(next.rateLimitPerSecond() > 0 ? new TokenBucket(next.rateLimitPerSecond()) : null);
    faults.set(next);
    return json(next);
  }

  // ---- replies and stats ----

  private Route reply(SandboxReplies.Body body) {
    String problem = body.problem();
    if (problem != null) {
      return problem(Problem.Type.VALIDATION.with(problem));
    }
    return onSuccess(
        replies.post(body),
        outcome -> raw(outcome.delivered() ? 200 : 502, outcome.toJson(), Optional.empty()));
  }

  private Map<String, Object> stats() {
    Map<String, Object> replyCounts = new LinkedHashMap<>();
    replyCounts.put("posted", replies.posted());
    replyCounts.put("failed", replies.failed());
    Map<String, Object> stats = new LinkedHashMap<>();
    stats.put("receipts", receipts.stats());
    stats.put("replies", replyCounts);
    stats.put("callsDelayed", delayed.get());
    return stats;
  }

  private Route readLog() {
    return parameterOptional(
        "tenant",
        tenant ->
            parameterOptional(
                "since",
                since -> {
                  long after;
                  try {
                    after = since.map(Long::parseLong).orElse(0L);
                  } catch (NumberFormatException e) {
                    return problem(Problem.Type.VALIDATION.with("since must be a log entry id"));
                  }
                  return json(
                      log.since(
                          after, tenant.filter(t -> !t.isBlank()).orElse(null), LOG_PAGE_LIMIT));
                }));
  }

  /** An error in the provider's own shape (Twilio: code/message/status; SignalHouse: error). */
  private Route providerError(
      String provider, int status, String message, Optional<String> retryAfter) {
    Map<String, Object> body = new LinkedHashMap<>();
    if (provider.equals("twilio")) {
      body.put(
          "code", status == 401 ? 20003 : status == 429 ? 20429 : status == 400 ? 21602 : 20500);
      body.put("message", message);
      body.put("more_info", "https://www.twilio.com/docs/errors");
      body.put("status", status);
    } else {
      body.put("error", message);
      body.put("status", status);
    }
    return raw(status, body, retryAfter);
  }

  private Route raw(int status, Map<String, Object> body, Optional<String> retryAfter) {
    byte[] bytes;
    try {
      bytes = mapper.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    HttpResponse response =
        HttpResponse.create()
            .withStatus(StatusCodes.get(status))
            .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, bytes));
    if (retryAfter.isPresent()) {
      response = response.addHeader(RawHeader.create("Retry-After", retryAfter.get()));
    }
    return complete(response);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
