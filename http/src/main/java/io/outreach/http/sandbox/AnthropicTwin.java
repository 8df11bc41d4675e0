package io.outreach.http.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.outreach.engine.gianna.Classification;
import io.outreach.engine.gianna.ReplyCategory;
import io.outreach.engine.gianna.RuleClassifier;
import io.outreach.http.provider.AnthropicReplyModel;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The twin of Anthropic's Messages API ({@code POST /v1/messages}, PROVIDERS.md section 1): checks
 * {@code x-api-key} (401 {@code authentication_error} for a key it does not know), {@code
 * anthropic-version}, and the body's {@code model}, {@code max_tokens} and {@code messages} (400
 * {@code invalid_request_error}); answers a {@code message} whose one {@code text} block holds the
 * JSON the request's {@code output_config} schema asks for, with {@code usage} in tokens (about
 * four characters a token) and a {@code request-id} header; errors are {@code {"type":"error",
 * "error":{"type","message"},"request_id"}}.
 *
 * <p>What it answers is scripted per message text ({@code PUT /sandbox/anthropic/script}): the
 * first rule whose {@code contains} the person's reply holds decides the category, confidence and
 * answer, or a misbehaviour: {@code malformed} output, a {@code refusal}, an answer cut at {@code
 * max_tokens}, a {@code status} (429 with {@code retry-after}, 529 overloaded, 500) for its first
 * {@code times} calls, or {@code latencyMs} before answering. Without a matching rule it reads the
 * reply with the offline rules and answers their category at 0.95 confidence (0.6 for {@code
 * other}), with a short answer for {@code interested} and {@code question}.
 *
 * <p>A request to draft a follow-up (Cathy's: the user message ends with {@code Brief:} and the
 * author's brief) is scripted the same way on the brief: a rule's {@code answer} is the drafted
 * {@code message}, its misbehaviours apply as they do to replies; without a rule the message is
 * {@code "Following up: "} and the brief.
 */
final class AnthropicTwin {
  /** The API key the twin knows (the sandbox's public test credential). */
  static final String TEST_KEY = SandboxSettings.ANTHROPIC_TEST_KEY;

  /** The reply to classify is the text after this marker in the last user message. */
  static final String REPLY_MARKER = "Reply to classify:";

  /** A follow-up to draft: its brief is the text after this marker in the last user message. */
  static final String BRIEF_MARKER = AnthropicReplyModel.BRIEF_MARKER;

  /** How an unscripted draft begins; the brief follows. */
  static final String DRAFT_LEAD = "Following up: ";

  private final ObjectMapper mapper;
  private final AtomicReference<List<Rule>> rules = new AtomicReference<>(List.of());
  private final AtomicInteger ids = new AtomicInteger();

  AnthropicTwin(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  /** One scripted behaviour: for replies that contain {@code contains} (case-insensitive). */
  record Rule(
      String contains,
      String category,
      Double confidence,
      String answer,
      Boolean malformed,
      Boolean refusal,
      Boolean maxTokens,
      Integer status,
      Integer retryAfter,
      Integer times,
      Long latencyMs) {

    String problem() {
      if (contains == null || contains.isBlank()) {
        return "every rule needs contains";
      }
      if (category != null && ReplyCategory.of(category).isEmpty()) {
        return "unknown category " + category;
      }
      if (confidence != null && (confidence < 0 || confidence > 1)) {
        return "confidence must be between 0 and 1";
      }
      if (status != null && status != 429 && status != 529 && status != 500 && status != 401) {
        return "status must be 429, 529, 500 or 401";
      }
      return null;
    }
  }

  /** The body of {@code PUT /sandbox/anthropic/script}: the rules, first match wins. */
  record Script(List<Rule> rules) {
    String problem() {
      if (rules == null) {
        return "rules is required";
      }
      return rules.stream().map(Rule::problem).filter(p -> p != null).findFirst().orElse(null);
    }
  }

  // Calls a status rule has answered, by rule position: "times" counts down.
  private final Map<Integer, AtomicInteger> answered =
      new java.util.concurrent.ConcurrentHashMap<>();

  Script script(Script s) {
    answered.clear();
    rules.set(List.copyOf(s.rules()));
    return s;
  }

  /** The answer to a provider fault ({@code PUT /sandbox/faults}) in Anthropic's shape. */
  TwinAnswer fault(int status) {
    return switch (status) {
      case 429 ->
          error(429, "rate_limit_error", "Number of requests has exceeded your rate limit")
              .withHeader("retry-after", "1");
      case 503 -> error(529, "overloaded_error", "Overloaded");
      default -> error(500, "api_error", "Internal server error");
    };
  }

  /**
   * One call. The key comes as {@code x-api-key} (the API reference, the Python SDK) or as {@code
   * Authorization: Bearer} (what the pinned Java SDK 3.14.0 sends for an API key): the twin takes
   * either, as the API does.
   */
  TwinAnswer.Call message(
      Optional<String> apiKey,
      Optional<String> authorization,
      Optional<String> version,
      String raw) {
    Optional<String> key =
        apiKey.or(
            () ->
                authorization
                    .filter(a -> a.regionMatches(true, 0, "Bearer ", 0, 7))
                    .map(a -> a.substring(7).strip()));
    if (key.isEmpty() || !key.get().equals(TEST_KEY)) {
      return new TwinAnswer.Call.Now(error(401, "authentication_error", "invalid x-api-key"));
    }
    if (version.isEmpty()) {
      return new TwinAnswer.Call.Now(
          error(400, "invalid_request_error", "anthropic-version: header is required"));
    }
    JsonNode body;
    try {
      body = mapper.readTree(raw);
    } catch (java.io.IOException e) {
      return new TwinAnswer.Call.Now(
          error(400, "invalid_request_error", "There was an issue with the JSON body"));
    }
    String model = body.path("model").asText("");
    if (model.isBlank() || !body.path("max_tokens").canConvertToLong()) {
      return new TwinAnswer.Call.Now(
          error(400, "invalid_request_error", "model: Field required; max_tokens: Field required"));
    }
    JsonNode messages = body.path("messages");
    if (!messages.isArray() || messages.isEmpty()) {
      return new TwinAnswer.Call.Now(
          error(400, "invalid_request_error", "messages: at least one message is required"));
    }
    String text = lastUserText(messages);
    boolean draft = text.contains(BRIEF_MARKER);
    String marker = draft ? BRIEF_MARKER : REPLY_MARKER;
    String reply =
        text.contains(marker)
            ? text.substring(text.lastIndexOf(marker) + marker.length()).strip()
            : text;
    List<Rule> script = rules.get();
    for (int i = 0; i < script.size(); i++) {
      Rule r = script.get(i);
      if (!reply.toLowerCase(Locale.ROOT).contains(r.contains().toLowerCase(Locale.ROOT))) {
        continue;
      }
      if (r.status() != null) {
        int n = answered.computeIfAbsent(i, k -> new AtomicInteger()).incrementAndGet();
        if (r.times() == null || n <= r.times()) {
          TwinAnswer a = statusError(r);
          return later(r, a);
        }
      }
      return later(r, answer(model, raw.length(), r, reply, draft));
    }
    return new TwinAnswer.Call.Now(answer(model, raw.length(), null, reply, draft));
  }

  private static TwinAnswer.Call later(Rule r, TwinAnswer a) {
    return r.latencyMs() != null && r.latencyMs() > 0
        ? new TwinAnswer.Call.Later(Duration.ofMillis(r.latencyMs()), () -> a)
        : new TwinAnswer.Call.Now(a);
  }

  private static TwinAnswer statusError(Rule r) {
    return switch (r.status()) {
      case 429 ->
          error(429, "rate_limit_error", "Number of requests has exceeded your rate limit")
              .withHeader(
                  "retry-after", Integer.toString(r.retryAfter() == null ? 1 : r.retryAfter()));
      case 529 -> error(529, "overloaded_error", "Overloaded");
      case 401 -> error(401, "authentication_error", "invalid x-api-key");
      default -> error(500, "api_error", "Internal server error");
    };
  }

  private static String lastUserText(JsonNode messages) {
    for (int i = messages.size() - 1; i >= 0; i--) {
      JsonNode m = messages.get(i);
      if (!"user".equals(m.path("role").asText())) {
        continue;
      }
      JsonNode content = m.path("content");
      if (content.isTextual()) {
        return content.asText();
      }
      StringBuilder sb = new StringBuilder();
      for (JsonNode block : content) {
        if ("text".equals(block.path("type").asText())) {
          sb.append(block.path("text").asText());
        }
      }
      return sb.toString();
    }
    return "";
  }

  private TwinAnswer answer(String model, int requestChars, Rule r, String reply, boolean draft) {
    String stopReason = "end_turn";
    String text;
    if (r != null && Boolean.TRUE.equals(r.refusal())) {
      stopReason = "refusal";
      text = "I can't help with that.";
    } else if (r != null && Boolean.TRUE.equals(r.malformed())) {
      text = draft ? "{\"message\": " : "{\"category\": \"interested\", \"confidence\": ";
    } else if (draft) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("message", r != null && r.answer() != null ? r.answer() : DRAFT_LEAD + reply);
      text = json(out);
      if (r != null && Boolean.TRUE.equals(r.maxTokens())) {
        stopReason = "max_tokens";
        text = text.substring(0, text.length() / 2);
      }
    } else {
      Classification.Classified rules = RuleClassifier.classify(reply);
      ReplyCategory category =
          r != null && r.category() != null
              ? ReplyCategory.of(r.category()).orElseThrow()
              : rules.category();
      double confidence =
          r != null && r.confidence() != null
              ? r.confidence()
              : category == ReplyCategory.OTHER ? 0.6 : 0.95;
      String answer =
          r != null && r.answer() != null
              ? r.answer()
              : switch (category) {
                case INTERESTED -> "Great! Someone from our team will reach out shortly.";
                case QUESTION -> "Thanks for asking. A member of our team will answer you soon.";
                default -> "";
              };
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("category", category.code());
      out.put("confidence", confidence);
      out.put("answer", answer);
      text = json(out);
      if (r != null && Boolean.TRUE.equals(r.maxTokens())) {
        stopReason = "max_tokens";
        text = text.substring(0, text.length() / 2);
      }
    }
    Map<String, Object> block = new LinkedHashMap<>();
    block.put("type", "text");
    block.put("text", text);
    Map<String, Object> usage = new LinkedHashMap<>();
    usage.put("input_tokens", Math.max(1, requestChars / 4));
    usage.put("output_tokens", Math.max(1, text.length() / 4));
    usage.put("cache_creation_input_tokens", 0);
    usage.put("cache_read_input_tokens", 0);
    usage.put("service_tier", "standard");
    Map<String, Object> message = new LinkedHashMap<>();
    message.put("id", "msg_" + id());
    message.put("type", "message");
    message.put("role", "assistant");
    message.put("model", model);
    message.put("content", List.of(block));
    message.put("stop_reason", stopReason);
    message.put("stop_sequence", null);
    message.put("usage", usage);
    return TwinAnswer.of(200, message).withHeader("request-id", "req_" + id());
  }

  private String json(Map<String, Object> out) {
    try {
      return mapper.writeValueAsString(out);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private String id() {
    return String.format(
        "%08x%016x", ids.incrementAndGet(), ThreadLocalRandom.current().nextLong());
  }

  static TwinAnswer error(int status, String type, String message) {
    Map<String, Object> error = new LinkedHashMap<>();
    error.put("type", type);
    error.put("message", message);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", "error");
    body.put("error", error);
    body.put("request_id", "req_" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    return TwinAnswer.of(status, body);
  }
}
