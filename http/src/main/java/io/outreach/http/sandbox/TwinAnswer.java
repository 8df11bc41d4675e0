package io.outreach.http.sandbox;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A twin's answer to a provider call, in the provider's own shape: the status, the JSON body (or,
 * when {@code text} is set, a plain-text one: Apollo's 401) and any headers ({@code Retry-After},
 * {@code Idempotent-Replayed}, Apollo's rate-limit headers).
 */
record TwinAnswer(int status, Map<String, Object> body, Map<String, String> headers, String text) {

  TwinAnswer(int status, Map<String, Object> body, Map<String, String> headers) {
    this(status, body, headers, null);
  }

  static TwinAnswer of(int status, Map<String, Object> body) {
    return new TwinAnswer(status, body, Map.of());
  }

  /** A plain-text answer. */
  static TwinAnswer text(int status, String text) {
    return new TwinAnswer(status, Map.of(), Map.of(), text);
  }

  TwinAnswer withHeader(String name, String value) {
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put(name, value);
    return new TwinAnswer(status, body, h, text);
  }

  /**
   * What a twin makes of a call it has checked: an answer now (a refusal, a conflict), or the work
   * of taking the message, done once the latency fault has passed, as a provider answers only once
   * it has taken the message.
   */
  sealed interface Call {
    /** Answered at once: nothing was taken. */
    record Now(TwinAnswer answer) implements Call {}

    /** Taken (logged, receipts queued) when {@code take} runs; its answer follows. */
    record Take(Supplier<TwinAnswer> take) implements Call {}

    /** Answered after {@code delay} (a scripted slow answer), without holding a thread. */
    record Later(java.time.Duration delay, Supplier<TwinAnswer> answer) implements Call {}
  }
}
