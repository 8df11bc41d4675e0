package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.engine.provider.TwilioSignature;
import io.outreach.http.sandbox.SandboxSettings;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Calls through the one way out, end to end on the Twilio twin: a voice campaign obeys the same
 * rules as texts (do-not-contact, legal hours in each recipient's zone, opt-outs across channels),
 * keeps the account's calls per second where the provider counts them (the twin's log), is charged
 * the started minutes its completed callbacks report, and its status callbacks are deduplicated and
 * ordered by {@code SequenceNumber}.
 *
 * <p>The campaign clock stands at 21:30 in New York and 18:30 in Los Angeles on a weekday, with the
 * federal hours (08:00-21:00): New York numbers wait for the morning, Los Angeles numbers are
 * called now.
 */
class VoiceIT {
  private static final int CPS = 5;
  private static final Instant NOW = Instant.parse("2026-11-25T02:30:00Z");
  private static TestEngine node;
  private static final String MESSAGE = "Hi {{first_name}}, this is Acme calling about your offer.";

  @BeforeAll
  static void start() throws Exception {
    Map<String, Object> config = new HashMap<>();
    config.put("outreach.compliance.federal-hours.start", "08:00");
    config.put("outreach.compliance.federal-hours.end", "21:00");
    config.put("outreach.voice.calls-per-second", CPS);
    config.put("outreach.sandbox.calls-per-second", CPS);
    node =
        TestEngine.start(
            Files.createTempDirectory("outreach-voice-"), config, MovableClock.at(NOW));
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  /**
   * 200 recipients: 150 in Los Angeles of whom 20 are on the tenant's do-not-contact list, 50 in
   * New York after their hours. 130 are called, the twin never sees a call to the others, no second
   * at the twin holds more than the account's 5 calls, every call is answered and charged its one
   * started minute, and the New York numbers wait.
   */
  @Test
  void aVoiceCampaignOf200CallsOnlyWhoMayBeCalledAtTheAccountsRate() {
    String op = node.tenant("voice");
    List<String> la = new ArrayList<>();
    List<String> ny = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      la.add(CampaignLifecycleIT.phone(213, i));
    }
    for (int i = 0; i < 50; i++) {
      ny.add(CampaignLifecycleIT.phone(212, i));
    }
    List<String> dnc = la.subList(0, 20);
    var blocked =
        node.json(
            "POST",
            "/v1/dnc",
            op,
            "{\"phones\":["
                + dnc.stream().map(p -> "\"" + p + "\"").collect(Collectors.joining(","))
                + "],\"reason\":\"asked not to be called\"}");
    assertThat(blocked.statusCode()).as(blocked.body()).isBetween(200, 201);
    List<String> all = new ArrayList<>(la);
    all.addAll(ny);
    String id = launch(op, all, "");

    Set<String> allowed = new HashSet<>(la.subList(20, 150));
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              JsonNode c = IntakeIT.body(node.get("/v1/campaigns/" + id, op));
              assertThat(c.at("/counts/sent").asLong()).isEqualTo(130);
              assertThat(c.at("/counts/blocked/dnc").asLong()).isEqualTo(20);
              assertThat(c.at("/counts/deferred").asLong()).isEqualTo(50);
              assertThat(c.at("/counts/delivered").asLong()).isEqualTo(130);
            });
    List<JsonNode> calls = calls("voice");
    assertThat(calls).hasSize(130);
    assertThat(calls.stream().map(e -> e.get("to").asText()).collect(Collectors.toSet()))
        .isEqualTo(allowed);
    assertThat(calls).allMatch(e -> e.get("body").asText().startsWith("Hi R"));
    List<Instant> at =
        calls.stream().map(e -> Instant.parse(e.get("at").asText())).sorted().toList();
    assertThat(mostInOneSecond(at))
        .as("most calls the twin got in any one second")
        .isLessThanOrEqualTo(CPS);
    // Each call is answered and lasts under a minute: one started minute at $0.014.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(
                        IntakeIT.body(node.get("/v1/campaigns/" + id, op))
                            .get("spentCents")
                            .asLong())
                    .isEqualTo(182));
    JsonNode thread = IntakeIT.body(node.get("/v1/conversations/" + la.get(20), op));
    JsonNode call = thread.get("messages").get(0);
    assertThat(call.get("kind").asText()).isEqualTo("call");
    assertThat(call.at("/call/status").asText()).isEqualTo("completed");
    assertThat(call.at("/call/billedMinutes").asInt()).isEqualTo(1);
    assertThat(thread.at("/conversation/optedOut").asBoolean()).isFalse();
  }

  /**
   * A call can never spend past a budget: each is reserved at its limit (a minute's estimate and a
   * minute more), Twilio ends it there ({@code TimeLimit}), and the limit stays held after the
   * block is done until the call's final status. Five people who would each talk for an hour, a
   * campaign budget of 10 cents: three calls fit (3 x 2.8 cents held), the others are blocked, and
   * what the three cost stays within the budget.
   */
  @Test
  void callsThatWouldRunLongStayWithinTheBudget() {
    String op = node.tenant("voice-budget");
    List<String> to = new ArrayList<>();
    for (int i = 20; i < 25; i++) {
      to.add(phone(i));
      script("voice-budget", phone(i), "\"outcome\":\"completed\",\"callDuration\":3600");
    }
    String id = launch(op, to, ",\"budgetCents\":10");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              JsonNode c = IntakeIT.body(node.get("/v1/campaigns/" + id, op));
              assertThat(c.at("/counts/blocked/budget").asLong()).isEqualTo(2);
              assertThat(c.at("/counts/delivered").asLong()).isEqualTo(3);
              // 3 calls of 2 started minutes at 14,000 micro-dollars: 8.4 cents, shown rounded up.
              assertThat(c.get("spentCents").asLong()).isEqualTo(9);
            });
    assertThat(calls("voice-budget")).hasSize(3);
    for (JsonNode e : calls("voice-budget")) {
      JsonNode call = callOf(op, e.get("to").asText());
      assertThat(call.at("/call/durationSeconds").asInt())
          .as("Twilio ended the call at its TimeLimit")
          .isEqualTo(120);
    }
    // Once the calls are over nothing stays held for the campaign, and it spent within its budget.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              JsonNode mine = null;
              for (JsonNode c : IntakeIT.body(node.get("/v1/spend", op)).get("campaigns")) {
                if (c.get("id").asText().equals(id)) {
                  mine = c;
                }
              }
              assertThat(mine).as("the campaign in GET /v1/spend").isNotNull();
              assertThat(mine.get("reservedCents").asLong()).isZero();
              assertThat(mine.get("spentCents").asLong()).isLessThanOrEqualTo(10);
            });
  }

  /**
   * What a call costs is the started minutes its completed callback reports, at the price table's
   * minute: 49 s is one, 61 s two, a busy or unanswered call none.
   */
  @Test
  void aCallIsChargedTheStartedMinutesItsCallbackReports() {
    String op = node.tenant("voice-cost");
    List<String> to = List.of(phone(0), phone(1), phone(2), phone(3));
    script("voice-cost", to.get(0), "\"outcome\":\"completed\",\"callDuration\":49");
    script("voice-cost", to.get(1), "\"outcome\":\"completed\",\"callDuration\":61");
    script("voice-cost", to.get(2), "\"outcome\":\"busy\"");
    script("voice-cost", to.get(3), "\"outcome\":\"no-answer\"");
    String id = launch(op, to, "");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              JsonNode c = IntakeIT.body(node.get("/v1/campaigns/" + id, op));
              assertThat(c.at("/counts/delivered").asLong()).isEqualTo(2);
              assertThat(c.at("/counts/undelivered").asLong()).isEqualTo(2);
              // 3 started minutes at 14,000 micro-dollars: 4.2 cents, shown rounded up.
              assertThat(c.get("spentCents").asLong()).isEqualTo(5);
            });
    JsonNode two = callOf(op, to.get(1));
    assertThat(two.at("/call/durationSeconds").asInt()).isEqualTo(61);
    assertThat(two.at("/call/billedMinutes").asInt()).isEqualTo(2);
    assertThat(two.get("status").asText()).isEqualTo("delivered");
    JsonNode busy = callOf(op, to.get(2));
    assertThat(busy.at("/call/status").asText()).isEqualTo("busy");
    assertThat(busy.at("/call/billedMinutes").asInt()).isZero();
    assertThat(busy.get("status").asText()).isEqualTo("undelivered");
    JsonNode spend = IntakeIT.body(node.get("/v1/spend?kind=commit", op));
    long micros = 0;
    for (JsonNode e : spend.get("entries")) {
      micros += e.get("amountMicros").asLong();
    }
    assertThat(micros).isEqualTo(42_000);
  }

  /**
   * An opt-out by text stops calls; a keypad opt-out (the 9 after the message) or a spoken one
   * stops texts; the calls and the later text campaign see the same consent.
   */
  @Test
  void optOutsHoldAcrossChannelsBothWays() {
    String op = node.tenant("voice-consent");
    String texter = phone(100);
    String keypad = phone(101);
    String speaker = phone(102);
    String other = phone(103);
    var stop =
        node.json(
            "POST",
            "/sandbox/replies",
            op,
            "{\"tenant\":\"voice-consent\",\"from\":\""
                + texter
                + "\",\"to\":\"+15550100001\",\"body\":\"STOP\"}");
    assertThat(stop.statusCode()).as(stop.body()).isEqualTo(200);
    script("voice-consent", keypad, "\"digits\":\"9\"");
    script("voice-consent", speaker, "\"speech\":\"please stop calling me\"");
    String calls = launch(op, List.of(texter, keypad, speaker, other), "");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              JsonNode c = IntakeIT.body(node.get("/v1/campaigns/" + calls, op));
              assertThat(c.at("/counts/blocked/optOut").asLong()).isEqualTo(1);
              assertThat(c.at("/counts/delivered").asLong()).isEqualTo(3);
            });
    assertThat(calls("voice-consent").stream().map(e -> e.get("to").asText()))
        .containsExactlyInAnyOrder(keypad, speaker, other);
    // The conversations read model follows the gather callbacks a moment later.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              for (String person : List.of(keypad, speaker)) {
                JsonNode c = IntakeIT.body(node.get("/v1/conversations/" + person, op));
                assertThat(c.at("/conversation/optedOut").asBoolean()).as(person).isTrue();
              }
            });
    assertThat(
            IntakeIT.body(node.get("/v1/conversations/" + other, op))
                .at("/conversation/optedOut")
                .asBoolean())
        .isFalse();
    JsonNode audit =
        IntakeIT.body(
            node.get("/v1/audit?phone=" + URLEncoder.encode(keypad, StandardCharsets.UTF_8), op));
    assertThat(audit.toString()).contains("opt-out");

    // The same people by text: the three who opted out (by text, keypad, voice) are blocked; the
    // one who was just called waits for the frequency cap (one contact a day, every channel).
    String texts = launchText(op, List.of(texter, keypad, speaker, other));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              JsonNode c = IntakeIT.body(node.get("/v1/campaigns/" + texts, op));
              assertThat(c.at("/counts/blocked/optOut").asLong()).isEqualTo(3);
              assertThat(c.at("/counts/deferred").asLong()).isEqualTo(1);
              assertThat(c.at("/counts/sent").asLong()).isZero();
            });
    List<String> texted =
        log("voice-consent").stream()
            .filter(e -> e.get("messageId").asText().startsWith("SM"))
            .filter(e -> e.get("direction").asText().equals("outbound"))
            .map(e -> e.get("to").asText())
            .toList();
    // The texter got the STOP confirmation only; no one else got a text.
    assertThat(texted).doesNotContain(keypad, speaker, other);
    assertThat(texted.stream().filter(texter::equals)).hasSizeLessThanOrEqualTo(1);
  }

  /**
   * Status callbacks are signed, deduplicated on CallSid and SequenceNumber, and an older one that
   * arrives after a newer changes nothing: the call stays completed, billed and charged once.
   */
  @Test
  void duplicateAndLateCallbacksChangeNothing() {
    String op = node.tenant("voice-replay");
    String person = phone(200);
    script("voice-replay", person, "\"outcome\":\"completed\",\"callDuration\":30");
    String id = launch(op, List.of(person), "");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(
                        IntakeIT.body(node.get("/v1/campaigns/" + id, op))
                            .get("spentCents")
                            .asLong())
                    .isEqualTo(2));
    JsonNode call = callOf(op, person);
    String sid = call.at("/call/sid").asText();
    assertThat(sid).startsWith("CA");
    String path = "/webhooks/twilio/voice-replay/call-status?ref=" + id + ":0:0";
    // The final status again, as Twilio retries it (same SequenceNumber), claiming more minutes.
    Map<String, String> replay = callback(sid, person, "completed", 3);
    replay.put("CallDuration", "600");
    replay.put("Duration", "10");
    assertThat(postSigned(path, replay).statusCode()).isEqualTo(200);
    // A ringing callback that arrives last.
    assertThat(postSigned(path, callback(sid, person, "ringing", 1)).statusCode()).isEqualTo(200);
    // A forged one: refused, nothing stored.
    Map<String, String> forged = callback(sid, person, "failed", 9);
    var refused =
        node.send(
            "POST",
            path,
            null,
            "application/x-www-form-urlencoded",
            java.net.http.HttpRequest.BodyPublishers.ofString(form(forged)),
            "X-Twilio-Signature",
            "bm90IGEgc2lnbmF0dXJl");
    assertThat(refused.statusCode()).isEqualTo(403);
    JsonNode after = callOf(op, person);
    assertThat(after.at("/call/status").asText()).isEqualTo("completed");
    assertThat(after.at("/call/billedMinutes").asInt()).isEqualTo(1);
    assertThat(after.at("/call/durationSeconds").asInt()).isEqualTo(30);
    assertThat(after.get("status").asText()).isEqualTo("delivered");
    assertThat(IntakeIT.body(node.get("/v1/campaigns/" + id, op)).get("spentCents").asLong())
        .isEqualTo(2);

    // A call whose callbacks were lost on the way, then arrive out of order: the final one
    // first, then the older ones, which change nothing.
    String late = phone(201);
    script("voice-replay", late, "\"outcome\":\"completed\",\"callDuration\":70");
    String lateSid;
    String second;
    node.sandboxFaults("{\"receipts\":false}");
    try {
      second = launch(op, List.of(late), "");
      String campaign = second;
      String[] placed = new String[1];
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                JsonNode items =
                    IntakeIT.body(node.get("/v1/campaigns/" + campaign + "/messages", op))
                        .get("items");
                placed[0] =
                    items.size() == 1 ? items.get(0).path("providerMessageId").asText("") : "";
                return placed[0].startsWith("CA");
              });
      lateSid = placed[0];
    } finally {
      node.sandboxFaults("{}");
    }
    String latePath = "/webhooks/twilio/voice-replay/call-status?ref=" + second + ":0:0";
    Map<String, String> completed = callback(lateSid, late, "completed", 3);
    completed.put("CallDuration", "70");
    completed.put("Duration", "2");
    for (Map<String, String> c :
        List.of(
            completed,
            callback(lateSid, late, "in-progress", 2),
            callback(lateSid, late, "ringing", 1),
            callback(lateSid, late, "initiated", 0))) {
      assertThat(postSigned(latePath, c).statusCode()).isEqualTo(200);
    }
    JsonNode lateCall = callOf(op, late);
    assertThat(lateCall.at("/call/status").asText()).isEqualTo("completed");
    assertThat(lateCall.at("/call/billedMinutes").asInt()).isEqualTo(2);
    assertThat(lateCall.get("status").asText()).isEqualTo("delivered");
    // Two started minutes: 2.8 cents, shown rounded up.
    assertThat(IntakeIT.body(node.get("/v1/campaigns/" + second, op)).get("spentCents").asLong())
        .isEqualTo(3);
  }

  // ---- helpers ----

  private static String phone(int i) {
    return CampaignLifecycleIT.phone(310, i);
  }

  private static String launch(String op, List<String> phones, String extra) {
    return create(op, phones, "voice", extra);
  }

  private static String launchText(String op, List<String> phones) {
    return create(op, phones, "sms", "");
  }

  private static String create(String op, List<String> phones, String channel, String extra) {
    StringBuilder csv = new StringBuilder("first_name,phone\n");
    for (int i = 0; i < phones.size(); i++) {
      csv.append("R").append(i).append(',').append(phones.get(i)).append('\n');
    }
    JsonNode imp = IntakeIT.importAndWait(node, op, csv.toString());
    var created =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\"Calls\",\"channel\":\""
                + channel
                + "\",\"provider\":\"twilio\",\"audience\":{\"importId\":\""
                + imp.get("id").asText()
                + "\"},\"message\":\""
                + MESSAGE
                + "\""
                + extra
                + "}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = IntakeIT.body(created).get("id").asText();
    assertThat(node.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode())
        .isEqualTo(202);
    return id;
  }

  private static void script(String tenant, String to, String fields) {
    var r =
        node.json(
            "POST",
            "/sandbox/calls",
            node.token(tenant, Role.OPERATOR),
            "{\"tenant\":\"" + tenant + "\",\"to\":\"" + to + "\"," + fields + "}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  private static List<JsonNode> log(String tenant) {
    List<JsonNode> out = new ArrayList<>();
    IntakeIT.body(node.sandboxLog(tenant)).forEach(out::add);
    return out;
  }

  /** The calls the twin was asked to place for {@code tenant} (call sids are CA…). */
  private static List<JsonNode> calls(String tenant) {
    return log(tenant).stream()
        .filter(e -> e.get("messageId").asText().startsWith("CA"))
        .filter(e -> !e.get("duplicate").asBoolean())
        .toList();
  }

  /** The call in {@code phone}'s conversation thread. */
  private static JsonNode callOf(String op, String phone) {
    // The messages read model follows the journal a moment after the callbacks.
    JsonNode[] call = new JsonNode[1];
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              JsonNode thread = IntakeIT.body(node.get("/v1/conversations/" + phone, op));
              for (JsonNode m : thread.path("messages")) {
                if (m.get("kind").asText().equals("call")) {
                  call[0] = m;
                  return true;
                }
              }
              return false;
            });
    return call[0];
  }

  private static Map<String, String> callback(String sid, String to, String status, int seq) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("CallSid", sid);
    form.put("AccountSid", SandboxSettings.TWILIO_TEST_SID);
    form.put("From", "+15550100001");
    form.put("To", to);
    form.put("CallStatus", status);
    form.put("Direction", "outbound-api");
    form.put("ApiVersion", "2010-04-01");
    form.put("CallbackSource", "call-progress-events");
    form.put("SequenceNumber", Integer.toString(seq));
    return form;
  }

  private static java.net.http.HttpResponse<String> postSigned(
      String path, Map<String, String> form) {
    String url = "http://127.0.0.1:" + node.engine.httpPort() + path;
    String signature =
        TwilioSignature.sign(SandboxSettings.TWILIO_TEST_TOKEN, url, new java.util.TreeMap<>(form));
    return node.send(
        "POST",
        path,
        null,
        "application/x-www-form-urlencoded",
        java.net.http.HttpRequest.BodyPublishers.ofString(form(form)),
        "X-Twilio-Signature",
        signature);
  }

  private static String form(Map<String, String> form) {
    return form.entrySet().stream()
        .map(
            e ->
                URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                    + "="
                    + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }

  /** The most arrivals in any window {@code (t - 1 s, t]}. */
  private static int mostInOneSecond(List<Instant> at) {
    ArrayDeque<Instant> window = new ArrayDeque<>();
    int worst = 0;
    for (Instant t : at) {
      window.addLast(t);
      while (!window.peekFirst().isAfter(t.minusSeconds(1))) {
        window.pollFirst();
      }
      worst = Math.max(worst, window.size());
    }
    System.out.printf("VoiceIT: %d calls, most in one second %d%n", at.size(), worst);
    return worst;
  }
}
