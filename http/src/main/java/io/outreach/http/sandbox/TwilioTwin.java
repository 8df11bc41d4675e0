package io.outreach.http.sandbox;

import io.outreach.engine.message.Segments;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Twilio's Messages API ({@code POST /2010-04-01/Accounts/{sid}/Messages.json}) as the twin serves
 * it: form-encoded {@code To}, {@code From}, {@code Body}, {@code StatusCallback}; HTTP basic auth
 * with an account the twin knows, whose sid is the one in the path; 201 with the message resource
 * ({@code sid} {@code SM…}, {@code status} {@code queued}); errors in Twilio's shape {@code {code,
 * message, more_info, status}}. {@code I-Twilio-Idempotency-Token} on a request makes a repeat
 * answer the first message and deliver nothing (our engine's convention: Twilio documents no
 * idempotency for this call).
 */
final class TwilioTwin {
  private static final Pattern E164 = Pattern.compile("\\+[1-9]\\d{1,14}");
  private static final DateTimeFormatter RFC_2822 =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  private final SandboxAccounts accounts;
  private final SandboxLog log;
  private final SandboxReceipts receipts;
  private final Supplier<SandboxFaults> faults;
  private final EngineUrl engine;

  TwilioTwin(
      SandboxAccounts accounts,
      SandboxLog log,
      SandboxReceipts receipts,
      Supplier<SandboxFaults> faults,
      EngineUrl engine) {
    this.accounts = accounts;
    this.log = log;
    this.receipts = receipts;
    this.faults = faults;
    this.engine = engine;
  }

  /** A create-message call to account {@code sid}, with its headers and raw form body. */
  TwinAnswer.Call message(
      String sid, Optional<String> authorization, Optional<String> idempotencyKey, String raw) {
    Optional<SandboxAccounts.Account> account =
        authorization
            .flatMap(TwilioTwin::basicCredentials)
            .filter(c -> c[0].equals(sid))
            .flatMap(c -> accounts.twilio(c[0], c[1]));
    if (account.isEmpty()) {
      return now(error(401, 20003, "Authenticate"));
    }
    Map<String, String> form = form(raw);
    String to = form.get("To");
    String from = form.get("From");
    String body = form.get("Body");
    if (blank(to)) {
      return now(error(400, 21604, "A 'To' phone number is required."));
    }
    if (blank(from)) {
      return now(error(400, 21603, "A 'From' phone number is required."));
    }
    if (body == null || body.isEmpty()) {
      return now(error(400, 21602, "Message body is required."));
    }
    if (!E164.matcher(to).matches()) {
      return now(error(400, 21211, "Invalid 'To' Phone Number: " + to));
    }
    String callback = form.get("StatusCallback");
    if (!blank(callback)) {
      String refusal = engine.refusal(callback);
      if (refusal != null) {
        Map<String, Object> e = errorBody(400, 21609, "Invalid 'StatusCallback'");
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("StatusCallback", callback);
        details.put("reason", refusal);
        e.put("details", details);
        return now(TwinAnswer.of(400, e));
      }
    }
    SandboxAccounts.Account a = account.get();
    return new TwinAnswer.Call.Take(
        () -> take(a, to, from, body, blank(callback) ? null : callback, idempotencyKey));
  }

  private TwinAnswer take(
      SandboxAccounts.Account account,
      String to,
      String from,
      String body,
      String callback,
      Optional<String> idempotencyKey) {
    accounts.sendsFrom(account, from);
    SandboxLogEntry entry =
        log.record(
                "twilio",
                SandboxRoutes.tenantOf(callback),
                idempotencyKey.orElse(null),
                null,
                List.of(
                    new SandboxLog.Message(
                        to,
                        from,
                        body,
                        "SM" + UUID.randomUUID().toString().replace("-", ""),
                        null)))
            .get(0);
    SandboxFaults f = faults.get();
    if (!entry.duplicate() && callback != null && f.receipts()) {
      receipts.deliver(entry, callback, f.drawUndelivered(), f.reorderReceipts(), account);
    }
    String now = RFC_2822.format(entry.at());
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("sid", entry.messageId());
    answer.put("account_sid", account.id());
    answer.put("to", to);
    answer.put("from", from);
    answer.put("body", body);
    answer.put("status", "queued");
    answer.put("num_segments", Integer.toString(Segments.count(body).segments()));
    answer.put("num_media", "0");
    answer.put("direction", "outbound-api");
    answer.put("api_version", "2010-04-01");
    answer.put("date_created", now);
    answer.put("date_updated", now);
    answer.put("date_sent", null);
    answer.put("price", null);
    answer.put("price_unit", "USD");
    answer.put("error_code", null);
    answer.put("error_message", null);
    answer.put(
        "uri", "/2010-04-01/Accounts/" + account.id() + "/Messages/" + entry.messageId() + ".json");
    return TwinAnswer.of(201, answer);
  }

  /** The answer to a call the faults refuse: 429, 500 or 503 in Twilio's shape. */
  TwinAnswer fault(int status) {
    return switch (status) {
      case 429 -> error(429, 20429, "Too Many Requests").withHeader("Retry-After", "1");
      case 503 -> error(503, 20503, "Service Unavailable");
      default -> error(500, 20500, "Internal Server Error");
    };
  }

  static TwinAnswer error(int status, int code, String message) {
    return TwinAnswer.of(status, errorBody(status, code, message));
  }

  /** A 400 naming a callback URL the twin will not post to, and why. */
  static TwinAnswer badCallback(String field, int code, String url, String refusal) {
    Map<String, Object> e = errorBody(400, code, "Invalid '" + field + "'");
    Map<String, Object> details = new LinkedHashMap<>();
    details.put(field, url);
    details.put("reason", refusal);
    e.put("details", details);
    return TwinAnswer.of(400, e);
  }

  private static Map<String, Object> errorBody(int status, int code, String message) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("code", code);
    body.put("message", message);
    body.put("more_info", "https://www.twilio.com/docs/errors/" + code);
    body.put("status", status);
    return body;
  }

  private static TwinAnswer.Call now(TwinAnswer answer) {
    return new TwinAnswer.Call.Now(answer);
  }

  /** {@code [user, password]} of a basic {@code Authorization} header. */
  static Optional<String[]> basicCredentials(String header) {
    if (!header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return Optional.empty();
    }
    String decoded;
    try {
      decoded =
          new String(
              Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    int colon = decoded.indexOf(':');
    return colon < 0
        ? Optional.empty()
        : Optional.of(new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)});
  }

  /** The fields of a form body; a repeated name keeps its first value, a malformed one none. */
  static Map<String, String> form(String raw) {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      try {
        fields.putIfAbsent(
            URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException malformed) {
        // A field whose escapes are broken is as good as absent: the checks above name it.
      }
    }
    return fields;
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
