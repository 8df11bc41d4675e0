package io.outreach.http.sandbox;

import static java.lang.Integer.parseInt;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Twilio's Calls API ({@code POST /2010-04-01/Accounts/{sid}/Calls.json}) as the twin serves it, in
 * the real shapes: form-encoded {@code To}, {@code From}, exactly one of {@code Url}, {@code
 * Twiml}, {@code ApplicationSid}, {@code StatusCallback} with {@code StatusCallbackEvent} once per
 * event (without any, only {@code completed} is posted; a space-joined value subscribes to none),
 * {@code MachineDetection}; basic auth; 201 with the call resource ({@code sid} {@code CA…}, {@code
 * status} {@code queued}, {@code queue_time}); errors {@code {code, message, more_info, status}}.
 *
 * <p>Like Twilio it places each account's calls at most {@code callsPerSecond} a second, queueing
 * the rest (never refusing them). Each call then rings and ends as scripted for its number ({@link
 * Script}, {@code POST /sandbox/calls}), else answered by a person who listens to the whole
 * message: the subscribed status callbacks ({@code initiated}, {@code ringing}, {@code
 * in-progress}, then the final {@code completed}, {@code busy}, {@code no-answer}, {@code failed}
 * or {@code canceled}) are posted one after the other with {@code SequenceNumber} 0, 1, 2…, {@code
 * CallbackSource}, {@code Timestamp}, and on the last {@code CallDuration}, {@code Duration}
 * (started minutes) and {@code SipResponseCode}, plus {@code AnsweredBy} with machine detection; a
 * scripted key or words are posted to the {@code <Gather>}'s {@code action} while the call is in
 * progress. All signed with the account's auth token. The call's seconds are simulated: callbacks
 * follow each other in milliseconds.
 */
final class TwilioCallTwin {
  private static final Logger LOG = LoggerFactory.getLogger(TwilioCallTwin.class);
  private static final Pattern E164 = Pattern.compile("\\+[1-9]\\d{1,14}");
  private static final Pattern SAY = Pattern.compile("<Say[^>]*>(.*?)</Say>", Pattern.DOTALL);
  private static final Pattern GATHER_ACTION =
      Pattern.compile("<Gather[^>]*\\saction=\"([^\"]*)\"");
  private static final Set<String> EVENTS = Set.of("initiated", "ringing", "answered", "completed");
  private static final Set<String> OUTCOMES =
      Set.of("completed", "busy", "no-answer", "failed", "canceled");
  private static final DateTimeFormatter RFC_2822 =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  /** How far apart the simulated call's callbacks are posted. */
  static final Duration STEP = Duration.ofMillis(40);

  /**
   * How the next call to {@code to} goes: its final status ({@code completed} by default), how many
   * seconds it lasts when answered ({@code callDuration}), who answers ({@code answeredBy},
   * reported with machine detection: {@code human}, {@code machine_start}, …), and the key pressed
   * ({@code digits}) or words said ({@code speech}) after the message.
   */
  record Script(
      String tenant,
      String to,
      String outcome,
      Integer callDuration,
      String answeredBy,
      String digits,
      String speech) {
    String problem() {
      if (tenant == null || tenant.isBlank()) {
        return "tenant is required";
      }
      if (to == null || !E164.matcher(to).matches()) {
        return "to must be an E.164 number";
      }
      if (outcome != null && !OUTCOMES.contains(outcome)) {
        return "outcome must be one of " + OUTCOMES;
      }
      if (callDuration != null && (callDuration < 1 || callDuration > 14_400)) {
        return "callDuration must be 1-14400 seconds";
      }
      return null;
    }
  }

  private final SandboxAccounts accounts;
  private final SandboxLog log;
  private final SandboxWebhooks webhooks;
  private final SandboxWebhooks.Pool pool;
  private final EngineUrl engine;
  private final java.util.function.Supplier<SandboxFaults> faults;
  private final long spacingNanos;
  private final Map<String, Script> scripts = new ConcurrentHashMap<>();
  // Per account: when its next call may be placed (System.nanoTime), guarded by this.
  private final Map<String, Long> nextStart = new HashMap<>();

  TwilioCallTwin(
      SandboxAccounts accounts,
      SandboxLog log,
      SandboxWebhooks webhooks,
      EngineUrl engine,
      java.util.function.Supplier<SandboxFaults> faults,
      int callsPerSecond) {
    this.faults = faults;
    this.accounts = accounts;
    this.log = log;
    this.webhooks = webhooks;
    this.pool = webhooks.pool(64, Duration.ofSeconds(15));
    this.engine = engine;
    this.spacingNanos = TimeUnit.SECONDS.toNanos(1) / Math.max(1, callsPerSecond);
  }

  /** Scripts the next call to {@code script.to()}. */
  void script(Script script) {
    scripts.put(script.to(), script);
  }

  /** A create-call request to account {@code sid}, with its headers and raw form body. */
  TwinAnswer.Call call(
      String sid, Optional<String> authorization, Optional<String> idempotencyKey, String raw) {
    Optional<SandboxAccounts.Account> account =
        authorization
            .flatMap(TwilioTwin::basicCredentials)
            .filter(c -> c[0].equals(sid))
            .flatMap(c -> accounts.twilio(c[0], c[1]));
    if (account.isEmpty()) {
      return now(TwilioTwin.error(401, 20003, "Authenticate"));
    }
    Map<String, List<String>> form = form(raw);
    String to = first(form, "To");
    String from = first(form, "From");
    if (blank(to)) {
      return now(TwilioTwin.error(400, 21201, "No 'To' number is specified"));
    }
    if (blank(from)) {
      return now(TwilioTwin.error(400, 21213, "No 'From' number is specified"));
    }
    if (!E164.matcher(to).matches()) {
      return now(TwilioTwin.error(400, 21211, "Invalid 'To' Phone Number: " + to));
    }
    long instructions =
        List.of("Url", "Twiml", "ApplicationSid").stream()
            .filter(f -> !blank(first(form, f)))
            .count();
    if (instructions != 1) {
      return now(
          TwilioTwin.error(400, 21205, "Exactly one of Url, Twiml or ApplicationSid is required"));
    }
    String callback = first(form, "StatusCallback");
    if (!blank(callback)) {
      String refusal = engine.refusal(callback);
      if (refusal != null) {
        return now(TwilioTwin.badCallback("StatusCallback", 21609, callback, refusal));
      }
    }
    String twiml = first(form, "Twiml");
    String say = twiml == null ? "" : says(twiml);
    String gather = twiml == null ? null : gatherAction(twiml);
    if (gather != null && engine.refusal(gather) != null) {
      return now(TwilioTwin.badCallback("Twiml", 12100, gather, engine.refusal(gather)));
    }
    // Each event once per field; a space-joined value names no event (as Twilio reads it).
    List<String> events =
        form.getOrDefault("StatusCallbackEvent", List.of()).stream()
            .filter(EVENTS::contains)
            .toList();
    boolean amd = !blank(first(form, "MachineDetection"));
    int timeLimit = timeLimit(first(form, "TimeLimit"));
    SandboxAccounts.Account a = account.get();
    return new TwinAnswer.Call.Take(
        () ->
            take(
                a,
                to,
                from,
                say,
                new Placed(
                    blank(callback) ? null : callback,
                    gather,
                    events.isEmpty() ? Set.of("completed") : Set.copyOf(events),
                    amd,
                    timeLimit),
                idempotencyKey));
  }

  /**
   * Where a call's callbacks go, which events they report, and its {@code TimeLimit} (the provider
   * ends an answered call after it).
   */
  private record Placed(
      String callback, String gather, Set<String> events, boolean amd, int timeLimit) {}

  /** Twilio's default and largest {@code TimeLimit}: four hours. */
  static final int MAX_TIME_LIMIT = 14_400;

  /**
   * The seconds an answered call may last: the {@code TimeLimit} field, else Twilio's default (the
   * twin does not refuse a malformed one; its error code is not documented in PROVIDERS.md).
   */
  private static int timeLimit(String field) {
    try {
      int seconds = blank(field) ? MAX_TIME_LIMIT : parseInt(field.trim());
      return seconds < 1 || seconds > MAX_TIME_LIMIT ? MAX_TIME_LIMIT : seconds;
    } catch (NumberFormatException e) {
      return MAX_TIME_LIMIT;
    }
  }

  private TwinAnswer take(
      SandboxAccounts.Account account,
      String to,
      String from,
      String say,
      Placed placed,
      Optional<String> idempotencyKey) {
    accounts.sendsFrom(account, from);
    SandboxLogEntry entry =
        log.record(
                "twilio",
                SandboxRoutes.tenantOf(
                    placed.callback() != null ? placed.callback() : placed.gather()),
                idempotencyKey.orElse(null),
                null,
                List.of(
                    new SandboxLog.Message(
                        to, from, say, "CA" + UUID.randomUUID().toString().replace("-", ""), null)))
            .get(0);
    long queuedNanos = 0;
    if (!entry.duplicate()) {
      long start = slot(account.id());
      queuedNanos = Math.max(0, start - System.nanoTime());
      Script script = scripts.remove(to);
      CompletableFuture.delayedExecutor(queuedNanos, TimeUnit.NANOSECONDS)
          .execute(() -> progress(account, entry, placed, script));
    }
    String now = RFC_2822.format(entry.at());
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("sid", entry.messageId());
    answer.put("account_sid", account.id());
    answer.put("parent_call_sid", null);
    answer.put("to", to);
    answer.put("to_formatted", to);
    answer.put("from", from);
    answer.put("from_formatted", from);
    answer.put("status", "queued");
    answer.put("direction", "outbound-api");
    answer.put("answered_by", null);
    answer.put("api_version", "2010-04-01");
    answer.put("date_created", now);
    answer.put("date_updated", now);
    answer.put("start_time", null);
    answer.put("end_time", null);
    answer.put("duration", null);
    answer.put("price", null);
    answer.put("price_unit", "USD");
    answer.put("queue_time", Long.toString(TimeUnit.NANOSECONDS.toMillis(queuedNanos)));
    answer.put(
        "uri", "/2010-04-01/Accounts/" + account.id() + "/Calls/" + entry.messageId() + ".json");
    return TwinAnswer.of(201, answer);
  }

  /** When the account's next call may start: at most its calls per second, queued beyond. */
  private synchronized long slot(String accountId) {
    long now = System.nanoTime();
    long at = Math.max(now, nextStart.getOrDefault(accountId, now));
    nextStart.put(accountId, at + spacingNanos);
    return at;
  }

  /** The call rings and ends; its callbacks are posted one after the other. */
  private void progress(
      SandboxAccounts.Account account, SandboxLogEntry call, Placed placed, Script script) {
    String outcome = script != null && script.outcome() != null ? script.outcome() : "completed";
    boolean answered = outcome.equals("completed");
    int seconds =
        !answered
            ? 0
            : Math.min(
                placed.timeLimit(),
                script != null && script.callDuration() != null
                    ? script.callDuration()
                    : spokenSeconds(call.body()));
    String answeredBy =
        !placed.amd() || !answered
            ? null
            : script != null && script.answeredBy() != null ? script.answeredBy() : "human";
    List<Map<String, String>> steps = new ArrayList<>();
    // The initiated event reports the call still queued (its CallStatus is one of Call.Status).
    steps.add(status(account, call, "initiated", "queued"));
    steps.add(status(account, call, "ringing", "ringing"));
    if (answered) {
      Map<String, String> inProgress = status(account, call, "answered", "in-progress");
      if (answeredBy != null) {
        inProgress.put("AnsweredBy", answeredBy);
      }
      steps.add(inProgress);
    }
    Map<String, String> last = status(account, call, "completed", outcome);
    last.put("CallDuration", Integer.toString(seconds));
    last.put("Duration", Long.toString(seconds <= 0 ? 0 : (seconds + 59) / 60));
    last.put("SipResponseCode", sipCode(outcome));
    if (answeredBy != null) {
      last.put("AnsweredBy", answeredBy);
    }
    steps.add(last);
    // With receipts turned off (a fault) the call happens and its callbacks are lost.
    boolean callbacks = faults.get().receipts();
    CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
    int sequence = 0;
    for (Map<String, String> step : steps) {
      String event = step.remove("_event");
      if (callbacks && placed.callback() != null && placed.events().contains(event)) {
        step.put("SequenceNumber", Integer.toString(sequence++));
        chain =
            chain
                .thenCompose(
                    x ->
                        CompletableFuture.runAsync(
                            () -> {},
                            CompletableFuture.delayedExecutor(
                                STEP.toMillis(), TimeUnit.MILLISECONDS)))
                .thenCompose(x -> post(placed.callback(), stamped(step), account));
      }
      // The person answered and heard the message: then the key or the words, if scripted.
      if (event.equals("answered") && script != null && placed.gather() != null) {
        Map<String, String> gather = gather(account, call, script);
        if (gather != null) {
          chain = chain.thenCompose(x -> post(placed.gather(), gather, account));
        }
      }
    }
  }

  /** The standard parameters of a callback about {@code call}, for {@code event}. */
  private static Map<String, String> status(
      SandboxAccounts.Account account, SandboxLogEntry call, String event, String callStatus) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("_event", event);
    form.put("CallSid", call.messageId());
    form.put("AccountSid", account.id());
    form.put("From", call.from());
    form.put("To", call.to());
    form.put("Called", call.to());
    form.put("Caller", call.from());
    form.put("CallStatus", callStatus);
    form.put("Direction", "outbound-api");
    form.put("ApiVersion", "2010-04-01");
    form.put("CallbackSource", "call-progress-events");
    return form;
  }

  /** The callback as it leaves, dated now. */
  private static Map<String, String> stamped(Map<String, String> step) {
    Map<String, String> form = new LinkedHashMap<>(step);
    form.put("Timestamp", RFC_2822.format(Instant.now()));
    return form;
  }

  /** What {@code <Gather>} posts when the person pressed a key or spoke; null when neither. */
  private static Map<String, String> gather(
      SandboxAccounts.Account account, SandboxLogEntry call, Script script) {
    if (blank(script.digits()) && blank(script.speech())) {
      return null;
    }
    Map<String, String> form = status(account, call, "gather", "in-progress");
    form.remove("_event");
    form.remove("CallbackSource");
    if (!blank(script.digits())) {
      form.put("Digits", script.digits());
      form.put("FinishedOnKey", "");
    } else {
      form.put("SpeechResult", script.speech());
      form.put("Confidence", "0.92");
    }
    return form;
  }

  /** Posts one webhook, once more after a second if it got no 2xx; never fails the chain. */
  private CompletionStage<Void> post(
      String url, Map<String, String> form, SandboxAccounts.Account account) {
    return attempt(url, form, account)
        .thenCompose(
            ok ->
                ok
                    ? CompletableFuture.completedFuture(true)
                    : CompletableFuture.supplyAsync(
                            () -> null, CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS))
                        .thenCompose(x -> attempt(url, form, account)))
        .thenAccept(
            ok -> {
              if (!ok) {
                LOG.warn("gave up a call webhook to {} ({})", url, form.get("CallStatus"));
              }
            });
  }

  private CompletionStage<Boolean> attempt(
      String url, Map<String, String> form, SandboxAccounts.Account account) {
    try {
      return webhooks
          .post(webhooks.twilioVoice(url, form, account), pool)
          .handle((status, err) -> err == null && status / 100 == 2);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(false);
    }
  }

  private static String sipCode(String outcome) {
    return switch (outcome) {
      case "busy" -> "486";
      case "no-answer", "canceled" -> "487";
      case "failed" -> "500";
      default -> "200";
    };
  }

  /** The seconds a person listens to {@code say} and the prompt after it (150 words a minute). */
  static int spokenSeconds(String say) {
    String text = say == null ? "" : say.trim();
    int words = text.isEmpty() ? 0 : text.split("\\s+").length;
    return 8 + (words * 60 + 149) / 150;
  }

  /** The text of the TwiML's {@code <Say>} verbs, unescaped, the first (the message) only. */
  static String says(String twiml) {
    Matcher m = SAY.matcher(twiml);
    return m.find() ? unescape(m.group(1)) : "";
  }

  /** The {@code action} URL of the TwiML's {@code <Gather>}, or null. */
  static String gatherAction(String twiml) {
    Matcher m = GATHER_ACTION.matcher(twiml);
    return m.find() ? unescape(m.group(1)) : null;
  }

  private static String unescape(String s) {
    return s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
  }

  /** The fields of a form body, every value of a repeated name in order. */
  static Map<String, List<String>> form(String raw) {
    Map<String, List<String>> fields = new LinkedHashMap<>();
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      try {
        fields
            .computeIfAbsent(
                URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
                k -> new ArrayList<>())
            .add(eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException malformed) {
        // As absent: the checks name what is missing.
      }
    }
    return fields;
  }

  private static String first(Map<String, List<String>> form, String name) {
    List<String> values = form.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static TwinAnswer.Call now(TwinAnswer answer) {
    return new TwinAnswer.Call.Now(answer);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
