package io.outreach.http.provider;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.errors.AnthropicIoException;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.JsonOutputFormat;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.OutputConfig;
import com.anthropic.models.messages.StopReason;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import io.outreach.engine.cathy.FollowUpDraft;
import io.outreach.engine.cathy.FollowUpModel;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.gianna.Classification;
import io.outreach.engine.gianna.ReplyCategory;
import io.outreach.engine.gianna.ReplyClassifier;
import io.outreach.engine.gianna.ReplyModel;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.pattern.CircuitBreaker;

/**
 * Gianna's and Cathy's model: the Anthropic Messages API through the official Java SDK (or its
 * sandbox twin, at the base URL {@code OUTREACH_ANTHROPIC_BASE_URL} names). A tenant's replies go
 * with its own key ({@code PUT /v1/tenant/providers/anthropic}), else the engine's ({@code
 * OUTREACH_ANTHROPIC_API_KEY}), else to no model: the offline rules classify them. The sandbox
 * twin's test key never stands in by itself (the rules are the documented default of a run with no
 * account).
 *
 * <p>Each call asks for structured JSON ({@code output_config.format} a JSON schema: {@code
 * category}, {@code confidence}, {@code answer} to classify a reply; {@code message} to draft a
 * follow-up) and reads the one text block. Output that does not parse or fit the schema, a {@code
 * refusal}, an answer cut at {@code max_tokens} and any other stop are failures, never a guess. The
 * SDK does not retry ({@code maxRetries(0)}): Gianna does, on a 429 or 529 after the {@code
 * retry-after} header (else 1 s and 5 s), on a 5xx or a time-out after 2 s; a 429 that says the
 * spend limit is reached, a 401 and other 4xx are final. A circuit breaker per key opens after
 * {@code breaker.max-failures} 5xx, 529 or time-outs in a row: while open, calls fail at once with
 * a retry after its reset time.
 */
public final class AnthropicReplyModel implements ReplyModel, FollowUpModel {
  static final String PROVIDER = "anthropic";
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String SYSTEM =
      "You read a person's SMS reply to a business's outreach message and classify it into exactly"
          + " one category: interested, not_interested, question, opt_out (they ask not to be"
          + " contacted, in any words), wrong_number, hostile, other. Give your confidence from 0"
          + " to 1. For interested and question, draft a short, polite answer of at most 300"
          + " characters in the person's language that promises nothing and names no price; for"
          + " every other category the answer is empty. Answer with the JSON object only.";

  /** The brief comes after this marker, last in the user message (the twin scripts on it). */
  public static final String BRIEF_MARKER = "Brief:";

  static final String DRAFT_SYSTEM =
      "You write one follow-up message of a business's outreach campaign, sent to people who did"
          + " not reply to its first message, as the author's brief asks. At most 300 characters,"
          + " polite, in the first message's language; promise nothing, name no price, add no"
          + " link. You may use the first message's placeholders, written exactly as there (such"
          + " as {{first_name}}), and no others. Answer with the JSON object only.";

  private static final Map<String, JsonValue> DRAFT_SCHEMA =
      Map.of(
          "type", JsonValue.from("object"),
          "properties", JsonValue.from(Map.of("message", Map.of("type", "string"))),
          "required", JsonValue.from(List.of("message")),
          "additionalProperties", JsonValue.from(false));

  private static final Map<String, JsonValue> SCHEMA =
      Map.of(
          "type", JsonValue.from("object"),
          "properties",
              JsonValue.from(
                  Map.of(
                      "category",
                      Map.of(
                          "type",
                          "string",
                          "enum",
                          Arrays.stream(ReplyCategory.values()).map(ReplyCategory::code).toList()),
                      "confidence",
                      Map.of("type", "number"),
                      "answer",
                      Map.of("type", "string"))),
          "required", JsonValue.from(List.of("category", "confidence", "answer")),
          "additionalProperties", JsonValue.from(false));

  private final TenantAccounts accounts;
  private final Supplier<URI> baseUrl;
  private final Optional<String> engineKey;
  private final String model;
  private final int maxTokens;

  /**
   * The SDK's OkHttp client keeps at most this many calls open at once but only 5 connections idle
   * unless told otherwise: after each pass's burst of calls the rest were closed and opened again
   * for the next (a TCP and, to the real API, a TLS handshake each; in the classify benchmark 2,700
   * sockets in TIME_WAIT after a minute, under 500 with this). It keeps as many idle as it may
   * open.
   */
  private static final int SDK_MAX_CALLS = 64;

  private static final Duration KEEP_ALIVE = Duration.ofMinutes(5);

  private final Duration timeout;
  private final ActorSystem<?> system;
  private final int breakerFailures;
  private final Duration breakerReset;
  private final Map<String, AnthropicClient> clients = new ConcurrentHashMap<>();
  private final Map<String, CircuitBreaker> breakers = new ConcurrentHashMap<>();

  /**
   * @param gianna {@code outreach.gianna}
   * @param baseUrl the API's base URL, known once HTTP is bound
   */
  public AnthropicReplyModel(
      ActorSystem<?> system, TenantAccounts accounts, Supplier<URI> baseUrl, Config gianna) {
    this.system = system;
    this.accounts = accounts;
    this.baseUrl = baseUrl;
    String key = gianna.getString("api-key");
    this.engineKey = key.isBlank() ? Optional.empty() : Optional.of(key);
    this.model = gianna.getString("model");
    this.maxTokens = gianna.getInt("max-tokens");
    this.timeout = gianna.getDuration("timeout");
    this.breakerFailures = gianna.getInt("breaker.max-failures");
    this.breakerReset = gianna.getDuration("breaker.reset-timeout");
  }

  @Override
  public Optional<String> model(String tenantId) {
    return key(tenantId).map(k -> model);
  }

  @Override
  public int maxTokens() {
    return maxTokens;
  }

  /** The tenant's own key, else the engine's. Blocking (a cached read). */
  private Optional<String> key(String tenantId) {
    return accounts.own(tenantId, PROVIDER).map(a -> a.fields().get("apiKey")).or(() -> engineKey);
  }

  @Override
  public CompletionStage<Classification> classify(
      String tenantId, ReplyClassifier.Request request) {
    return ask(tenantId, SYSTEM, prompt(request), SCHEMA)
        .thenApply(a -> a.failed() != null ? a.failed() : read(a.message()));
  }

  @Override
  public CompletionStage<FollowUpDraft> draft(String tenantId, FollowUpDraft.Request request) {
    return ask(tenantId, DRAFT_SYSTEM, draftPrompt(request), DRAFT_SCHEMA)
        .thenApply(
            a ->
                a.failed() != null
                    ? new FollowUpDraft.Failed(
                        a.failed().reason(), a.failed().retryAfter(), a.failed().usage())
                    : readDraft(a.message()));
  }

  /** A call's answer: the message, or why there is none. */
  private record Answer(Message message, Classification.Failed failed) {}

  /**
   * One call with the tenant's key through the key's breaker (which counts 5xx, 529 and time-outs,
   * not rate limits or unusable output).
   */
  private CompletionStage<Answer> ask(
      String tenantId, String instructions, String prompt, Map<String, JsonValue> schema) {
    Optional<String> key = key(tenantId);
    if (key.isEmpty()) {
      return CompletableFuture.completedFuture(
          new Answer(null, Classification.Failed.finalFailure("no anthropic key", PROVIDER, null)));
    }
    CircuitBreaker breaker =
        breakers.computeIfAbsent(
            key.get(),
            k ->
                CircuitBreaker.create(
                    system.classicSystem().scheduler(),
                    breakerFailures,
                    timeout.plusSeconds(1),
                    breakerReset));
    if (breaker.isOpen()) {
      return CompletableFuture.completedFuture(
          new Answer(
              null,
              new Classification.Failed("circuit breaker open", breakerReset, PROVIDER, null)));
    }
    return breaker.callWithCircuitBreakerCS(
        () -> call(key.get(), instructions, prompt, schema),
        (ok, err) ->
            err.isPresent()
                || ok.map(
                        a ->
                            a.failed() != null
                                && a.failed().retryable()
                                && !a.failed().reason().startsWith("429"))
                    .orElse(false));
  }

  private CompletionStage<Answer> call(
      String key, String instructions, String prompt, Map<String, JsonValue> schema) {
    AnthropicClient client =
        clients.computeIfAbsent(
            key,
            k ->
                AnthropicOkHttpClient.builder()
                    .apiKey(k)
                    .baseUrl(baseUrl.get().toString())
                    .maxRetries(0)
                    .timeout(timeout)
                    .maxIdleConnections(SDK_MAX_CALLS)
                    .keepAliveDuration(KEEP_ALIVE)
                    .build());
    MessageCreateParams params =
        MessageCreateParams.builder()
            .model(model)
            .maxTokens(maxTokens)
            .system(instructions)
            .addUserMessage(prompt)
            .outputConfig(
                OutputConfig.builder()
                    .format(
                        JsonOutputFormat.builder()
                            .schema(
                                JsonOutputFormat.Schema.builder()
                                    .additionalProperties(schema)
                                    .build())
                            .build())
                    .build())
            .build();
    return client
        .async()
        .messages()
        .create(params)
        .thenApply(m -> new Answer(m, null))
        .exceptionally(t -> new Answer(null, failure(t)));
  }

  /** The follow-up to draft, as the one user message. */
  static String draftPrompt(FollowUpDraft.Request request) {
    return "Business: "
        + request.programName()
        + "\nChannel: "
        + (request.channel() == Channel.VOICE ? "a phone call (write what is spoken)" : "SMS")
        + "\nFirst message: "
        + request.firstMessage()
        + "\nSent "
        + request.afterHours()
        + " hours after the message before it, to people who did not reply.\n"
        + BRIEF_MARKER
        + " "
        + request.brief();
  }

  /** A message as a draft: only a complete, well-formed answer counts. */
  FollowUpDraft readDraft(Message m) {
    Classification.Usage usage = usage(m);
    String text = text(m);
    if (text == null) {
      return new FollowUpDraft.Failed(stopOrEmpty(m), null, usage);
    }
    try {
      JsonNode out = JSON.readTree(text);
      if (!out.path("message").isTextual()) {
        return new FollowUpDraft.Failed("malformed output: " + abbreviate(text), null, usage);
      }
      return new FollowUpDraft.Drafted(out.path("message").asText(), usage);
    } catch (java.io.IOException e) {
      return new FollowUpDraft.Failed("malformed output: " + abbreviate(text), null, usage);
    }
  }

  /** The person's reply and the thread before it, as the one user message. */
  static String prompt(ReplyClassifier.Request request) {
    StringBuilder sb = new StringBuilder();
    if (request.programName() != null) {
      sb.append("Business: ").append(request.programName()).append('\n');
    }
    if (!request.thread().isEmpty()) {
      sb.append("Earlier messages (oldest first):\n");
      for (ReplyClassifier.Turn t : request.thread()) {
        sb.append(t.outbound() ? "Business: " : "Person: ").append(t.body()).append('\n');
      }
    }
    sb.append("Reply to classify: ").append(request.body());
    return sb.toString();
  }

  /** A message as a classification: only a complete, well-formed answer counts. */
  Classification read(Message m) {
    Classification.Usage usage = usage(m);
    String text = text(m);
    if (text == null) {
      return Classification.Failed.finalFailure(stopOrEmpty(m), PROVIDER, usage);
    }
    try {
      JsonNode out = JSON.readTree(text);
      Optional<ReplyCategory> category = ReplyCategory.of(out.path("category").asText(null));
      JsonNode confidence = out.path("confidence");
      if (category.isEmpty()
          || !confidence.isNumber()
          || confidence.asDouble() < 0
          || confidence.asDouble() > 1
          || !out.path("answer").isTextual()) {
        return Classification.Failed.finalFailure(
            "malformed output: " + abbreviate(text), PROVIDER, usage);
      }
      return new Classification.Classified(
          category.get(), confidence.asDouble(), out.path("answer").asText(), PROVIDER, usage);
    } catch (java.io.IOException e) {
      return Classification.Failed.finalFailure(
          "malformed output: " + abbreviate(text), PROVIDER, usage);
    }
  }

  private Classification.Usage usage(Message m) {
    return new Classification.Usage(
        model,
        m.usage().inputTokens()
            + m.usage().cacheCreationInputTokens().orElse(0L)
            + m.usage().cacheReadInputTokens().orElse(0L),
        m.usage().outputTokens());
  }

  /** The one text block of a complete answer ({@code end_turn}); null otherwise. */
  private static String text(Message m) {
    if (!StopReason.END_TURN.equals(m.stopReason().orElse(null))) {
      return null;
    }
    return m.content().stream()
        .filter(ContentBlock::isText)
        .map(b -> b.asText().text())
        .findFirst()
        .orElse(null);
  }

  /** Why a message has no usable text: the stop reason, or no text block. */
  private static String stopOrEmpty(Message m) {
    StopReason stop = m.stopReason().orElse(null);
    return StopReason.END_TURN.equals(stop)
        ? "malformed output: no text"
        : "stop_reason " + (stop == null ? "none" : stop.asString());
  }

  /** An SDK error as a failure, retryable where the API says a retry may succeed. */
  static Classification.Failed failure(Throwable t) {
    Throwable e = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    if (e instanceof AnthropicServiceException s) {
      int status = s.statusCode();
      String what = status + " " + s.type().map(Object::toString).orElse("error");
      Optional<Duration> after = retryAfter(s);
      if (status == 429) {
        boolean spendLimit =
            s.errorCode().filter("enforced_spend_limit_reached"::equals).isPresent();
        return spendLimit
            ? Classification.Failed.finalFailure(what + " spend limit reached", PROVIDER, null)
            : new Classification.Failed(what, after.orElse(Duration.ofSeconds(1)), PROVIDER, null);
      }
      if (status == 529) {
        return new Classification.Failed(what, after.orElse(Duration.ofSeconds(5)), PROVIDER, null);
      }
      if (status >= 500 || status == 408) {
        return new Classification.Failed(what, after.orElse(Duration.ofSeconds(2)), PROVIDER, null);
      }
      return Classification.Failed.finalFailure(what, PROVIDER, null);
    }
    if (e instanceof AnthropicIoException || e instanceof java.io.IOException) {
      return new Classification.Failed(
          "no answer: " + e.getMessage(), Duration.ofSeconds(2), PROVIDER, null);
    }
    return new Classification.Failed("no answer: " + e, Duration.ofSeconds(2), PROVIDER, null);
  }

  /** {@code retry-after-ms}, else {@code retry-after} seconds, used when from 0 to 60 s. */
  private static Optional<Duration> retryAfter(AnthropicServiceException s) {
    try {
      List<String> ms = s.headers().values("retry-after-ms");
      if (!ms.isEmpty()) {
        return sane(Duration.ofMillis((long) Double.parseDouble(ms.get(0))));
      }
      List<String> sec = s.headers().values("retry-after");
      if (!sec.isEmpty()) {
        return sane(Duration.ofMillis((long) (Double.parseDouble(sec.get(0)) * 1000)));
      }
    } catch (NumberFormatException e) {
      // An HTTP date or garbage: the default wait applies.
    }
    return Optional.empty();
  }

  private static Optional<Duration> sane(Duration d) {
    return d.isNegative() || d.compareTo(Duration.ofSeconds(60)) > 0
        ? Optional.empty()
        : Optional.of(d);
  }

  private static String abbreviate(String text) {
    return text.length() > 80 ? text.substring(0, 80) + "..." : text;
  }

  /** Closes the SDK clients (their connection pools and threads). */
  public void close() {
    clients.values().forEach(AnthropicClient::close);
  }
}
