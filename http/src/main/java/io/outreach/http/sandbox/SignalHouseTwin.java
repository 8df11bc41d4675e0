package io.outreach.http.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.outreach.engine.message.Segments;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * SignalHouse's send API ({@code POST /message/sms}) as the twin serves it. {@code Authorization:
 * Bearer <apiKey>} with a key the twin knows (else 401); a JSON body {@code {senderPhoneNumber,
 * recipientPhoneNumber: [..], messageBody, statusCallbackUrl?}} with numbers that are digits after
 * an optional leading {@code +} (else 400, as for the SDKs' plural {@code recipientPhoneNumbers}).
 * The answer is 201 {@code {insertedMessages: [{_id, status, ...}], requestedRecipientCount,
 * enqueuedCount, failedCount, dncBlockedNumbers}}: a recipient on the twin's DNC list is only in
 * {@code dncBlockedNumbers}, one who opted out is a {@code FAILED} message with {@code errorCode
 * OUT}; only {@code ENQUEUED} messages are sent and get a receipt. An {@code Idempotency-Key} makes
 * a repeat of the same body answer as the first time with {@code Idempotent-Replayed: true} and
 * deliver nothing; a repeat while the first is still being handled (held by the latency fault) is
 * 409 with {@code Retry-After}; the key with another body is 422. Errors are {@code {message}}, the
 * field SignalHouse's SDK reads.
 */
final class SignalHouseTwin {
  /** The most recipients one call may name: a bound for the twin, not SignalHouse's own. */
  static final int MAX_RECIPIENTS = 1_000;

  private final ObjectMapper json;
  private final SandboxAccounts accounts;
  private final SandboxLog log;
  private final SandboxReceipts receipts;
  private final Supplier<SandboxFaults> faults;
  private final EngineUrl engine;

  SignalHouseTwin(
      ObjectMapper json,
      SandboxAccounts accounts,
      SandboxLog log,
      SandboxReceipts receipts,
      Supplier<SandboxFaults> faults,
      EngineUrl engine) {
    this.json = json;
    this.accounts = accounts;
    this.log = log;
    this.receipts = receipts;
    this.faults = faults;
    this.engine = engine;
  }

  /** A send-SMS call with its headers and raw JSON body. */
  TwinAnswer.Call message(
      Optional<String> authorization, Optional<String> idempotencyKey, String raw) {
    Optional<SandboxAccounts.Account> account =
        authorization
            .filter(h -> h.regionMatches(true, 0, "Bearer ", 0, 7))
            .flatMap(h -> accounts.signalHouse(h.substring(7).trim()));
    if (account.isEmpty()) {
      return now(error(401, "Unauthorized: the bearer token is missing, expired or revoked"));
    }
    JsonNode body;
    try {
      body = json.readTree(raw);
    } catch (JsonProcessingException e) {
      body = null;
    }
    if (body == null || !body.isObject()) {
      return now(error(400, "the body must be a JSON object"));
    }
    if (body.has("recipientPhoneNumbers")) {
      return now(
          error(
              400,
              "\"recipientPhoneNumbers\" is not allowed: the field is \"recipientPhoneNumber\""
                  + " (an array)"));
    }
    String from = digits(text(body, "senderPhoneNumber"));
    if (from == null) {
      return now(error(400, "\"senderPhoneNumber\" is required and must be digits"));
    }
    JsonNode to = body.get("recipientPhoneNumber");
    if (to == null || !to.isArray() || to.isEmpty() || to.size() > MAX_RECIPIENTS) {
      return now(
          error(
              400,
              "\"recipientPhoneNumber\" is required: an array of 1 to "
                  + MAX_RECIPIENTS
                  + " numbers"));
    }
    List<String> recipients = new ArrayList<>();
    for (JsonNode n : to) {
      String d = n.isTextual() ? digits(n.asText()) : null;
      if (d == null) {
        return now(error(400, "\"recipientPhoneNumber\" must hold numbers of digits only"));
      }
      recipients.add(d);
    }
    String messageBody = text(body, "messageBody");
    if (messageBody == null || messageBody.isEmpty()) {
      return now(error(400, "\"messageBody\" is required"));
    }
    String callback = text(body, "statusCallbackUrl");
    if (callback != null && !callback.isBlank()) {
      String refusal = engine.refusal(callback);
      if (refusal != null) {
        return now(error(400, "\"statusCallbackUrl\" is refused: " + refusal));
      }
    } else {
      callback = null;
    }
    String key = idempotencyKey.filter(k -> !k.isBlank()).orElse(null);
    // The parsed body, printed again: the same request whatever its spacing.
    String fingerprint = body.toString();
    if (key != null) {
      switch (log.claim("signalhouse", key, fingerprint)) {
        case IN_FLIGHT:
          return now(
              error(409, "a request with this Idempotency-Key is still being processed")
                  .withHeader("Retry-After", "1"));
        case CONFLICT:
          return now(error(422, "this Idempotency-Key was used with a different request body"));
        default:
          break;
      }
    }
    SandboxAccounts.Account a = account.get();
    String cb = callback;
    return new TwinAnswer.Call.Take(
        () -> take(a, from, recipients, messageBody, cb, key, fingerprint));
  }

  private TwinAnswer take(
      SandboxAccounts.Account account,
      String from,
      List<String> recipients,
      String messageBody,
      String callback,
      String key,
      String fingerprint) {
    accounts.sendsFrom(account, from);
    SandboxFaults f = faults.get();
    List<SandboxLog.Message> messages = new ArrayList<>();
    for (String to : recipients) {
      String blocked = f.onDncList(to) ? "DNC" : f.optedOut(to) ? "OUT" : null;
      messages.add(
          new SandboxLog.Message(
              "+" + to,
              "+" + from,
              messageBody,
              "DNC".equals(blocked) ? null : newMessageId(),
              blocked));
    }
    List<SandboxLogEntry> entries =
        log.record("signalhouse", SandboxRoutes.tenantOf(callback), key, fingerprint, messages);
    boolean replayed = !entries.isEmpty() && entries.get(0).duplicate();
    if (!replayed && callback != null && f.receipts()) {
      for (SandboxLogEntry e : entries) {
        if (e.blocked() == null) {
          // One receipt per message: nothing to reorder.
          receipts.deliver(e, callback, f.drawUndelivered(), false, account);
        }
      }
    }
    TwinAnswer answer = TwinAnswer.of(201, answer(entries));
    return replayed ? answer.withHeader("Idempotent-Replayed", "true") : answer;
  }

  /** The 201 body for a request's messages: the same for the first request and its replays. */
  private static Map<String, Object> answer(List<SandboxLogEntry> entries) {
    List<Map<String, Object>> inserted = new ArrayList<>();
    List<String> dnc = new ArrayList<>();
    int enqueued = 0;
    for (SandboxLogEntry e : entries) {
      if ("DNC".equals(e.blocked())) {
        dnc.add(digits(e.to()));
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("_id", e.messageId());
      m.put("status", e.blocked() == null ? "ENQUEUED" : "FAILED");
      m.put("direction", "OUTBOUND");
      m.put("messageType", "SMS");
      m.put("senderPhoneNumber", digits(e.from()));
      m.put("recipientPhoneNumber", digits(e.to()));
      m.put("messageBody", e.body());
      m.put("segmentCount", Segments.count(e.body()).segments());
      if (e.blocked() != null) {
        m.put("errorCode", e.blocked());
      } else {
        enqueued++;
      }
      inserted.add(m);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("insertedMessages", inserted);
    body.put("requestedRecipientCount", entries.size());
    body.put("enqueuedCount", enqueued);
    body.put("failedCount", entries.size() - enqueued);
    body.put("dncBlockedNumbers", dnc);
    return body;
  }

  /** The answer to a call the faults refuse: 429, 500 or 503. */
  TwinAnswer fault(int status) {
    return switch (status) {
      case 429 -> error(429, "Too many requests").withHeader("Retry-After", "1");
      case 503 -> error(503, "Service unavailable");
      default -> error(500, "Internal server error");
    };
  }

  static TwinAnswer error(int status, String message) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("message", message);
    return TwinAnswer.of(status, body);
  }

  /** A new message id, shaped as SignalHouse's (a 24-hex-digit document id). */
  static String newMessageId() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 24);
  }

  /** A number as SignalHouse takes it: digits, after an optional leading +; null if it is not. */
  static String digits(String number) {
    if (number == null) {
      return null;
    }
    String d = number.startsWith("+") ? number.substring(1) : number;
    return !d.isEmpty() && d.length() <= 15 && d.chars().allMatch(c -> c >= '0' && c <= '9')
        ? d
        : null;
  }

  private static String text(JsonNode body, String field) {
    JsonNode n = body.get(field);
    return n != null && n.isTextual() ? n.asText() : null;
  }

  private static TwinAnswer.Call now(TwinAnswer answer) {
    return new TwinAnswer.Call.Now(answer);
  }
}
