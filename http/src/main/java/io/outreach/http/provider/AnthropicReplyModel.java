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
 * Gianna's model: the Anthropic Messages API through the official Java SDK (or its sandbox twin, at
 * the base URL {@code OUTREACH_ANTHROPIC_BASE_URL} names). A tenant's replies go with its own key
 * ({@code PUT /v1/tenant/providers/anthropic}), else the engine's ({@code
 * OUTREACH_ANTHROPIC_API_KEY}), else to no model: the offline rules classify them. The sandbox
 * twin's test key never stands in by itself (the rules are the documented default of a run with no
 * account).
 *
 * <p>Each call asks for structured JSON ({@code output_config.format} a JSON schema: {@code
 * category}, {@code confidence}, {@code answer}) and reads the one text block. Output that does not
 * parse or fit the schema, a {@code refusal}, an answer cut at {@code max_tokens} and any other
 * stop are failures, never a guess. The SDK does not retry ({@code maxRetries(0)}): Gianna does, on
 * a 429 or 529 after the {@code retry-after} header (else 1 s and 5 s), on a 5xx or a time-out
 * after 2 s; a 429 that says the spend limit is reached, a 401 and other 4xx are final. A circuit
 * breaker per key opens after {@code breaker.max-failures} 5xx, 529 or time-outs in a row: while
 * open, calls fail at once with a retry after its reset time.
 */
public final class AnthropicReplyModel implements ReplyModel {
  static final String PROVIDER = "anthropic";
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String SYSTEM =
      "You read a person's SMS reply to a business's outreach message and classify it into exactly"
          + " one category: interested, not_interested, question, opt_out (they ask not to be"
          + " contacted, in any words), wrong_number, hostile, other. Give your confidence from 0"
          + " to 1. For interested and question, draft a short, polite answer of at most 300"
          + " characters in the person's language that promises nothing and names no price; for"
          + " every other category the answer is empty. Answer with the JSON object only.";

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
    Optional<String> key = key(tenantId);
    if (key.isEmpty()) {
      return CompletableFuture.completedFuture(
          Classification.Failed.finalFailure("no anthropic key", PROVIDER, null));
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
          new Classification.Failed("circuit breaker open", breakerReset, PROVIDER, null));
    }
    return breaker.callWithCircuitBreakerCS(
        () -> call(key.get(), request),
        (ok, err) ->
            err.isPresent()
                || ok.map(
                        c ->
                            c instanceof Classification.Failed f
                                && f.retryable()
                                && !f.reason().startsWith("429"))
                    .orElse(false));
  }

  private CompletionStage<Classification> call(String key, ReplyClassifier.Request request) {
    AnthropicClient client =
        clients.computeIfAbsent(
            key,
            k ->
                AnthropicOkHttpClient.builder()
                    .apiKey(k)
                    .baseUrl(baseUrl.get().toString())
                    .maxRetries(0)
                    .timeout(timeout)
                    .build());
    MessageCreateParams params =
        MessageCreateParams.builder()
            .model(model)
            .maxTokens(maxTokens)
            .system(SYSTEM)
            .addUserMessage(prompt(request))
            .outputConfig(
                OutputConfig.builder()
                    .format(
                        JsonOutputFormat.builder()
                            .schema(
                                JsonOutputFormat.Schema.builder()
                                    .additionalProperties(SCHEMA)
                                    .build())
                            .build())
                    .build())
            .build();
    return client
        .async()
        .messages()
        .create(params)
        .thenApply(this::read)
        .exceptionally(AnthropicReplyModel::failure);
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
    Classification.Usage usage =
        new Classification.Usage(
            model,
            m.usage().inputTokens()
                + m.usage().cacheCreationInputTokens().orElse(0L)
                + m.usage().cacheReadInputTokens().orElse(0L),
            m.usage().outputTokens());
    StopReason stop = m.stopReason().orElse(null);
    if (!StopReason.END_TURN.equals(stop)) {
      return Classification.Failed.finalFailure(
          "stop_reason " + (stop == null ? "none" : stop.asString()), PROVIDER, usage);
    }
    String text =
        m.content().stream()
            .filter(ContentBlock::isText)
            .map(b -> b.asText().text())
            .findFirst()
            .orElse(null);
    if (text == null) {
      return Classification.Failed.finalFailure("malformed output: no text", PROVIDER, usage);
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

  /** An SDK error as a failure, retryable where the API says a retry may succeed. */
  static Classification failure(Throwable t) {
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
