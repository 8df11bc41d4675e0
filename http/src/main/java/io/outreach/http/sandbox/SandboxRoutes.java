package io.outreach.http.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.outreach.http.ApiDirectives;
import io.outreach.http.JwtAuth;
import io.outreach.http.Principal;
import io.outreach.http.Problem;
import io.outreach.http.Role;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * The provider twins under {@code /sandbox}: Twilio's Messages API ({@link TwilioTwin}),
 * SignalHouse's send API ({@link SignalHouseTwin}) and Apollo's People Enrichment ({@link
 * ApolloTwin}) with their real request shapes and credentials checks, signed delivery receipts
 * through a bounded queue (counted in {@code GET /sandbox/stats}, with the provider calls answered
 * by status), injectable faults ({@code PUT /sandbox/faults}), scripted inbound replies ({@code
 * POST /sandbox/replies}) and an inspectable request log ({@code GET /sandbox/log}).
 *
 * <p>The sandbox is a test tool, yet in sandbox mode it is served on the engine's own port, so it
 * trusts no caller: the twins accept only the accounts they know and post callbacks only under the
 * engine's public URL; the log, the faults and the replies need the engine's bearer tokens. A
 * tenant's token reads only that tenant's log entries and scripts only that tenant's replies; a
 * {@code platform} token reads any tenant's (or all) and is the only one that sets faults. The
 * tenant of a message is taken from its status-callback URL ({@code
 * /webhooks/{provider}/{tenantId}...}), since real providers know nothing of tenants; a message
 * without one belongs to no tenant and shows only to {@code platform}.
 *
 * <p>The log keeps the newest {@link SandboxSettings#logLimit()} entries (100,000 unless
 * configured) and forgets older ones, and as many idempotency keys: the standalone sandbox runs
 * through whole load tests in a bounded heap.
 */
public final class SandboxRoutes extends ApiDirectives {
  /** The most entries one {@code GET /sandbox/log} returns; page on with {@code since}. */
  static final int LOG_PAGE_LIMIT = 100_000;

  private static final Pattern CALLBACK_TENANT = Pattern.compile("/webhooks/[^/]+/([^/?#]+)");

  private final SandboxLog log;
  private final SandboxReceipts receipts;
  private final SandboxReplies replies;
  private final TwilioTwin twilio;
  private final TwilioCallTwin twilioCalls;
  private final SignalHouseTwin signalHouse;
  private final ApolloTwin apollo;
  private final AnthropicTwin anthropic;
  // Provider calls still to be answered 429 by the rateLimitNext fault.
  private final AtomicInteger throttleNext = new AtomicInteger();
  private final AtomicReference<SandboxFaults> faults = new AtomicReference<>(SandboxFaults.NONE);
  private final AtomicReference<TokenBucket> bucket = new AtomicReference<>();
  // Provider calls held by the latency fault, not answered (nor logged) yet.
  private final AtomicInteger delayed = new AtomicInteger();
  // Provider calls answered, by provider and status: refusals leave no log entry.
  private final Map<String, Map<String, LongAdder>> calls = new ConcurrentSkipListMap<>();

  /**
   * @param auth verifies the bearer tokens of the log, faults and replies: the engine's own, or one
   *     with the same secret for a standalone sandbox
   * @param engineUrl the engine's public base URL ({@code http://127.0.0.1:8080}), the only place
   *     callbacks and replies are posted; asked each time, since an engine knows its port only once
   *     bound, and null or blank when none is known (callbacks are then refused and replies fail
   *     with 502)
   */
  public SandboxRoutes(
      ActorSystem<?> system, SandboxSettings settings, JwtAuth auth, Supplier<String> engineUrl) {
    super(system, auth, 1024 * 1024);
    this.log = new SandboxLog(settings.logLimit(), Clock.systemUTC());
    SandboxAccounts accounts = new SandboxAccounts(settings);
    EngineUrl engine = new EngineUrl(engineUrl);
    SandboxWebhooks webhooks = new SandboxWebhooks(system);
    this.receipts =
        new SandboxReceipts(system, webhooks, settings.receiptConcurrency(), faults::get);
    this.replies = new SandboxReplies(webhooks, accounts, log, engine, faults::get);
    this.twilio = new TwilioTwin(accounts, log, receipts, faults::get, engine);
    this.twilioCalls =
        new TwilioCallTwin(
            accounts,
            log,
            webhooks,
            engine,
            faults::get,
            system.settings().config().getInt("outreach.sandbox.calls-per-second"));
    this.signalHouse = new SignalHouseTwin(mapper, accounts, log, receipts, faults::get, engine);
    this.anthropic = new AnthropicTwin(mapper);
    this.apollo =
        new ApolloTwin(
            mapper, log, settings.apolloKeys(), settings.apolloLimits(), Clock.systemUTC());
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
                                    () ->
                                        providerCall(
                                            "twilio",
                                            twilio::fault,
                                            (request, raw) ->
                                                twilio.message(
                                                    sid,
                                                    header(request, "Authorization"),
                                                    header(request, "I-Twilio-Idempotency-Token"),
                                                    raw))))),
                path(
                    PathMatchers.segment("twilio")
                        .slash("2010-04-01")
                        .slash("Accounts")
                        .slash(PathMatchers.segment())
                        .slash("Calls.json"),
                    sid ->
                        post(
                            () ->
                                endpoint(
                                    "POST /sandbox/twilio/2010-04-01/Accounts/{sid}/Calls.json",
                                    () ->
                                        providerCall(
                                            "twilio",
                                            twilio::fault,
                                            (request, raw) ->
                                                twilioCalls.call(
                                                    sid,
                                                    header(request, "Authorization"),
                                                    header(request, "I-Twilio-Idempotency-Token"),
                                                    raw))))),
                path(
                    "calls",
                    () ->
                        post(
                            () ->
                                endpoint(
                                    "POST /sandbox/calls",
                                    () ->
                                        authenticated(
                                            Role.values(),
                                            caller ->
                                                jsonBody(
                                                    TwilioCallTwin.Script.class,
                                                    body -> scriptCall(caller, body)))))),
                path(
                    PathMatchers.segment("signalhouse").slash("message").slash("sms"),
                    () ->
                        post(
                            () ->
                                endpoint(
                                    "POST /sandbox/signalhouse/message/sms",
                                    () ->
                                        providerCall(
                                            "signalhouse",
                                            signalHouse::fault,
                                            (request, raw) ->
                                                signalHouse.message(
                                                    header(request, "Authorization"),
                                                    header(request, "Idempotency-Key"),
                                                    raw))))),
                path(
                    PathMatchers.segment("apollo")
                        .slash("api")
                        .slash("v1")
                        .slash("people")
                        .slash("bulk_match"),
                    () ->
                        post(
                            () ->
                                endpoint(
                                    "POST /sandbox/apollo/api/v1/people/bulk_match",
                                    () ->
                                        providerCall(
                                            "apollo",
                                            apollo::fault,
                                            (request, raw) ->
                                                apollo.bulkMatch(
                                                    header(request, "x-api-key"),
                                                    request.getUri().query().toMap(),
                                                    raw))))),
                path(
                    PathMatchers.segment("apollo")
                        .slash("api")
                        .slash("v1")
                        .slash("people")
                        .slash("match"),
                    () ->
                        post(
                            () ->
                                endpoint(
                                    "POST /sandbox/apollo/api/v1/people/match",
                                    () ->
                                        providerCall(
                                            "apollo",
                                            apollo::fault,
                                            (request, raw) ->
                                                apollo.match(
                                                    header(request, "x-api-key"),
                                                    request.getUri().query().toMap(),
                                                    raw))))),
                path(
                    PathMatchers.segment("anthropic").slash("v1").slash("messages"),
                    () ->
                        post(
                            () ->
                                endpoint(
                                    "POST /sandbox/anthropic/v1/messages",
                                    () ->
                                        providerCall(
                                            "anthropic",
                                            anthropic::fault,
                                            (request, raw) ->
                                                anthropic.message(
                                                    header(request, "x-api-key"),
                                                    header(request, "Authorization"),
                                                    header(request, "anthropic-version"),
                                                    raw))))),
                path(
                    PathMatchers.segment("anthropic").slash("script"),
                    () ->
                        put(
                            () ->
                                endpoint(
                                    "PUT /sandbox/anthropic/script",
                                    () ->
                                        authenticated(
                                            Role.PLATFORM,
                                            caller ->
                                                jsonBody(
                                                    AnthropicTwin.Script.class, this::script))))),
                path(
                    "log",
                    () ->
                        get(
                            () ->
                                endpoint(
                                    "GET /sandbox/log",
                                    () -> authenticated(Role.values(), this::readLog)))),
                path("stats", () -> get(() -> endpoint("GET /sandbox/stats", () -> json(stats())))),
                path(
                    "replies",
                    () ->
                        post(
                            () ->
                                endpoint(
                                    "POST /sandbox/replies",
                                    () ->
                                        authenticated(
                                            Role.values(),
                                            caller ->
                                                jsonBody(
                                                    SandboxReplies.Body.class,
                                                    body -> reply(caller, body)))))),
                path(
                    "faults",
                    () ->
                        concat(
                            get(
                                () ->
                                    endpoint(
                                        "GET /sandbox/faults",
                                        () ->
                                            authenticated(
                                                Role.PLATFORM, caller -> json(faults.get())))),
                            put(
                                () ->
                                    endpoint(
                                        "PUT /sandbox/faults",
                                        () ->
                                            authenticated(
                                                Role.PLATFORM,
                                                caller ->
                                                    jsonBody(
                                                        SandboxFaults.Body.class,
                                                        body -> setFaults(body.toFaults())))))))));
  }

  /** What a twin does with one call: its request (for headers) and raw body. */
  private interface TwinHandler {
    TwinAnswer.Call handle(HttpRequest request, String raw);
  }

  /**
   * A provider call: refused by the outage, rate-limit and error faults before anything else (as a
   * provider that is down or throttling looks at nothing), else handled by the twin, which takes
   * the message only once the latency fault has passed.
   */
  private Route providerCall(String provider, IntFunction<TwinAnswer> fault, TwinHandler twin) {
    return withSizeLimit(
        maxBodyBytes,
        () ->
            extractRequest(
                request ->
                    entity(
                        Unmarshaller.entityToString(),
                        raw -> {
                          Optional<TwinAnswer> refused = refusal(fault);
                          if (refused.isPresent()) {
                            return answer(counted(provider, refused.get()));
                          }
                          TwinAnswer.Call call = twin.handle(request, raw);
                          if (call instanceof TwinAnswer.Call.Now now) {
                            return answer(counted(provider, now.answer()));
                          }
                          if (call instanceof TwinAnswer.Call.Later later) {
                            return onSuccess(
                                CompletableFuture.supplyAsync(
                                    () -> counted(provider, later.answer().get()),
                                    CompletableFuture.delayedExecutor(
                                        later.delay().toMillis(), TimeUnit.MILLISECONDS)),
                                this::answer);
                          }
                          Supplier<TwinAnswer> take = ((TwinAnswer.Call.Take) call).take();
                          return taken(() -> counted(provider, take.get()));
                        })));
  }

  private Optional<TwinAnswer> refusal(IntFunction<TwinAnswer> fault) {
    SandboxFaults f = faults.get();
    if (f.outage()) {
      return Optional.of(fault.apply(503));
    }
    if (throttleNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      return Optional.of(fault.apply(429));
    }
    TokenBucket b = bucket.get();
    if (b != null && !b.tryTake()) {
      return Optional.of(fault.apply(429));
    }
    if (f.errorRate() > 0 && ThreadLocalRandom.current().nextDouble() < f.errorRate()) {
      return Optional.of(fault.apply(500));
    }
    return Optional.empty();
  }

  /**
   * Takes the message after the latency fault, without holding a route thread; the taking runs
   * whether or not the caller still waits, as a provider's does, so an idempotency key in flight is
   * always settled.
   */
  private Route taken(Supplier<TwinAnswer> take) {
    long latency = faults.get().latencyMs();
    if (latency <= 0) {
      return answer(take.get());
    }
    delayed.incrementAndGet();
    CompletableFuture<TwinAnswer> answered =
        CompletableFuture.runAsync(
                () -> {}, CompletableFuture.delayedExecutor(latency, TimeUnit.MILLISECONDS))
            .thenApply(
                ignored -> {
                  try {
                    return take.get();
                  } finally {
                    delayed.decrementAndGet();
                  }
                });
    return onSuccess(answered, this::answer);
  }

  /** Counts a provider call's answer by status, for {@code GET /sandbox/stats}. */
  private TwinAnswer counted(String provider, TwinAnswer a) {
    calls
        .computeIfAbsent(provider, p -> new ConcurrentSkipListMap<>())
        .computeIfAbsent(Integer.toString(a.status()), s -> new LongAdder())
        .increment();
    return a;
  }

  private Route answer(TwinAnswer a) {
    HttpResponse response =
        HttpResponse.create()
            .withStatus(StatusCodes.get(a.status()))
            .withEntity(
                a.text() != null
                    ? HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, a.text())
                    : HttpEntities.create(ContentTypes.APPLICATION_JSON, jsonBytes(a.body())));
    for (Map.Entry<String, String> h : a.headers().entrySet()) {
      response = response.addHeader(RawHeader.create(h.getKey(), h.getValue()));
    }
    return complete(response);
  }

  private byte[] jsonBytes(Object body) {
    try {
      return mapper.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Optional<String> header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value);
  }

  /** The tenant of a message: the one its status-callback URL names, or null. */
  static String tenantOf(String callbackUrl) {
    if (callbackUrl != null) {
      Matcher m = CALLBACK_TENANT.matcher(callbackUrl);
      if (m.find()) {
        return m.group(1);
      }
    }
    return null;
  }

  private Route script(AnthropicTwin.Script script) {
    String problem = script.problem();
    if (problem != null) {
      return problem(Problem.Type.VALIDATION.with(problem));
    }
    return json(anthropic.script(script));
  }

  private Route setFaults(SandboxFaults next) {
    String problem = next.problem();
    if (problem != null) {
      return problem(Problem.Type.VALIDATION.with(problem));
    }
    // The bucket is replaced before the faults so a lowered limit applies to the next call.
    bucket.set(next.rateLimitPerSecond() > 0 ? new TokenBucket(next.rateLimitPerSecond()) : null);
    throttleNext.set(next.rateLimitNext());
    faults.set(next);
    return json(next);
  }

  // ---- replies, log and stats ----

  /** Scripts how the twin's next call to a number goes (a tenant's token: its own numbers). */
  private Route scriptCall(Principal caller, TwilioCallTwin.Script body) {
    String problem = body.problem();
    if (problem != null) {
      return problem(Problem.Type.VALIDATION.with(problem));
    }
    if (!caller.hasAny(Role.PLATFORM) && !body.tenant().equals(caller.tenantId())) {
      return problem(
          Problem.Type.FORBIDDEN.with("a tenant's token scripts calls of its own tenant only"));
    }
    twilioCalls.script(body);
    return json(body);
  }

  private Route reply(Principal caller, SandboxReplies.Body body) {
    String problem = body.problem();
    if (problem != null) {
      return problem(Problem.Type.VALIDATION.with(problem));
    }
    if (!caller.hasAny(Role.PLATFORM) && !body.tenant().equals(caller.tenantId())) {
      return problem(
          Problem.Type.FORBIDDEN.with("a tenant's token scripts replies to its own tenant only"));
    }
    return onSuccess(
        replies.post(body),
        outcome ->
            answer(new TwinAnswer(outcome.delivered() ? 200 : 502, outcome.toJson(), Map.of())));
  }

  private Route readLog(Principal caller) {
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
                  Optional<String> asked = tenant.filter(t -> !t.isBlank());
                  String of;
                  if (caller.hasAny(Role.PLATFORM)) {
                    of = asked.orElse(null);
                  } else if (asked.isPresent() && !asked.get().equals(caller.tenantId())) {
                    return problem(
                        Problem.Type.FORBIDDEN.with(
                            "a tenant's token reads its own tenant's log only"));
                  } else {
                    of = caller.tenantId();
                  }
                  return json(log.since(after, of, LOG_PAGE_LIMIT));
                }));
  }

  private Map<String, Object> stats() {
    Map<String, Object> replyCounts = new LinkedHashMap<>();
    replyCounts.put("posted", replies.posted());
    replyCounts.put("failed", replies.failed());
    replyCounts.put("replayed", replies.replayed());
    Map<String, Object> stats = new LinkedHashMap<>();
    stats.put("receipts", receipts.stats());
    stats.put("replies", replyCounts);
    stats.put("callsDelayed", delayed.get());
    Map<String, Object> answered = new LinkedHashMap<>();
    calls.forEach(
        (provider, byStatus) -> {
          Map<String, Long> counts = new LinkedHashMap<>();
          byStatus.forEach((status, n) -> counts.put(status, n.sum()));
          answered.put(provider, counts);
        });
    stats.put("calls", answered);
    return stats;
  }
}
