package io.outreach.http.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.outreach.engine.provider.SendResult;
import java.io.IOException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Turns a provider's HTTP answer into a {@link SendResult}: 2xx with an id is accepted; 429 and 5xx
 * are retryable refusals (429 with its {@code Retry-After}); any other status is final. A refusal
 * names the provider's reason: its {@code message} (with Twilio's error {@code code} when there is
 * one), {@code error} or {@code detail}, else the start of the body.
 */
final class ProviderAnswers {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ProviderAnswers() {}

  /** {@code idFields} are tried in order, the first non-blank one names the message. */
  static SendResult toResult(ProviderHttp.Response response, String... idFields) {
    int status = response.status();
    JsonNode body = parse(response.body());
    if (status >= 200 && status < 300) {
      for (String field : idFields) {
        String id = body.path(field).asText("");
        if (!id.isBlank()) {
          return new SendResult.Accepted(id);
        }
      }
      // A 2xx without an id leaves nothing to match receipts to: treat it as a provider fault.
      return new SendResult.Rejected(
          status, "answer carried no message id", true, Optional.empty());
    }
    return rejected(response, body, status == 429 || status >= 500, "");
  }

  /**
   * A refusal of {@code response} (whose body is {@code body}), named by the provider's reason
   * after {@code prefix}, with its {@code Retry-After} if any.
   */
  static SendResult.Rejected rejected(
      ProviderHttp.Response response, JsonNode body, boolean retryable, String prefix) {
    return new SendResult.Rejected(
        response.status(),
        prefix + reason(body, response.body()),
        retryable,
        response.retryAfter().flatMap(ProviderAnswers::retryAfter));
  }

  /** Retry-After is either delay-seconds or an HTTP date (RFC 9110 10.2.3). */
  static Optional<Duration> retryAfter(String value) {
    String v = value.trim();
    try {
      long seconds = Long.parseLong(v);
      return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(seconds));
    } catch (NumberFormatException notSeconds) {
      try {
        Duration d =
            Duration.between(
                ZonedDateTime.now(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME));
        return Optional.of(d.isNegative() ? Duration.ZERO : d);
      } catch (DateTimeParseException notADate) {
        return Optional.empty();
      }
    }
  }

  /** The body as JSON; an empty object when it is none. */
  static JsonNode parse(String body) {
    try {
      JsonNode node = body == null || body.isBlank() ? null : JSON.readTree(body);
      return node == null ? JSON.createObjectNode() : node;
    } catch (IOException e) {
      return JSON.createObjectNode();
    }
  }

  private static String reason(JsonNode body, String raw) {
    for (String field : new String[] {"message", "error", "detail"}) {
      JsonNode n = body.path(field);
      if (n.isTextual() && !n.asText().isBlank()) {
        // Twilio's errors carry a numeric code, the part a reader can look up.
        return body.path("code").isInt()
            ? "error " + body.get("code").asInt() + ": " + n.asText()
            : n.asText();
      }
    }
    String text = raw == null ? "" : raw.strip();
    return text.length() > 200 ? text.substring(0, 200) : text;
  }

  static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static String stripTrailingSlash(String base) {
    return base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
  }
}
