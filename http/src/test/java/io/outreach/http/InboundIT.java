package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.engine.provider.TwilioSignature;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Inbound messages through the sandbox's signed webhooks: a STOP mid-campaign takes effect before
 * its webhook is answered, for every campaign of the tenant, with one confirmation and nothing
 * after; START after STOP opts back in; HELP gets the tenant's help text; a replayed webhook
 * changes state once; a forged one is refused; a reply cancels pending follow-ups; the conversation
 * and the audit trail show it all.
 */
class InboundIT {
  private static final String SENDER = "+15550100007";
  private static TestEngine node;

  @BeforeAll
  static void start() {
    node = TestEngine.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static String tenant(String id, int mps) {
    String op = node.tenant(id);
    node.settings(
        id,
        "{\"senders\":[{\"provider\":\"twilio\",\"from\":\""
            + SENDER
            + "\",\"kind\":\"long_code\",\"mps\":"
            + mps
            + "}],"
            + "\"programName\":\"Acme Deals\",\"helpContact\":\"help@acme.example\"}");
    return op;
  }

  /**
   * Posts an inbound message through the sandbox, as the provider would; answers when the engine
   * has.
   */
  private static JsonNode reply(String tenant, String from, String body) {
    return node.reply(tenant, from, SENDER, body);
  }

  private static List<JsonNode> outboundTo(String tenant, String phone) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode e : IntakeIT.body(node.sandboxLog(tenant))) {
      if (!e.path("direction").asText("outbound").equals("inbound")
          && e.get("to").asText().equals(phone)) {
        out.add(e);
      }
    }
    return out;
  }

  private static List<String> audit(String tenant, String action) {
    List<String> out = new ArrayList<>();
    for (JsonNode i :
        IntakeIT.body(node.get("/v1/audit?limit=500", node.token(tenant, Role.VIEWER)))
            .get("items")) {
      if (i.get("action").asText().equals(action)) {
        out.add(i.get("subject").asText());
      }
    }
    return out;
  }

  @Test
  void aStopMidCampaignSilencesTheNumberInEveryCampaignWithOneConfirmation() {
    String op = tenant("stopper", 20);
    // Both campaigns reach everyone: no cap spaces the second campaign's messages out a day.
    node.settings("stopper", "{\"frequencyCaps\":[{\"max\":100,\"perHours\":1}]}");
    String x = CampaignLifecycleIT.phone(201, 150);
    String a = CampaignLifecycleIT.launch(node, op, 201, 200, "");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> IntakeIT.body(node.sandboxLog("stopper")).size() >= 40);
    assertThat(outboundTo("stopper", x)).as("not reached yet").isEmpty();

    reply("stopper", x, "Stop.");
    Instant answered = Instant.now();
    // A second campaign to the same people after the opt-out.
    String b = launchAll(op, "Second");
    JsonNode doneA =
        CampaignLifecycleIT.awaitState(node, op, a, "completed", Duration.ofSeconds(90));
    JsonNode doneB =
        CampaignLifecycleIT.awaitState(node, op, b, "completed", Duration.ofSeconds(90));
    assertThat(doneA.at("/counts/blocked/optOut").asLong()).isEqualTo(1);
    assertThat(doneB.at("/counts/blocked/optOut").asLong()).isEqualTo(1);

    await().atMost(Duration.ofSeconds(10)).until(() -> !outboundTo("stopper", x).isEmpty());
    List<JsonNode> toX = outboundTo("stopper", x);
    assertThat(toX).as("one confirmation and nothing else").hasSize(1);
    assertThat(toX.get(0).get("body").asText())
        .isEqualTo(
            "Acme Deals: You are unsubscribed and will receive no more messages. Reply START to resubscribe.");
    Instant confirmed = Instant.parse(toX.get(0).get("at").asText());
    assertThat(confirmed).isAfter(answered.minusSeconds(5));
    // The campaigns fill the sender's rate; the confirmation goes before them, not after them.
    Instant lastCampaignCall =
        IntakeIT.body(node.sandboxLog("stopper")).findValuesAsText("at").stream()
            .map(Instant::parse)
            .max(Instant::compareTo)
            .orElseThrow();
    assertThat(confirmed).isBefore(lastCampaignCall.minusSeconds(5));
    // Two campaigns' sends are newer than the opt-out: look it up by its subject.
    JsonNode trail =
        IntakeIT.body(
            node.get(
                "/v1/audit?subject=" + URLEncoder.encode(x, StandardCharsets.UTF_8),
                node.token("stopper", Role.VIEWER)));
    assertThat(trail.get("items").findValuesAsText("action")).containsOnlyOnce("opt-out");

    // The conversation shows the STOP and the confirmation; the opted-out count moved.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              JsonNode c = IntakeIT.body(node.get("/v1/conversations/" + x, op));
              assertThat(c.at("/conversation/optedOut").asBoolean()).isTrue();
              List<String> kinds = new ArrayList<>();
              c.get("messages")
                  .forEach(
                      m -> kinds.add(m.get("direction").asText() + ":" + m.get("kind").asText()));
              assertThat(kinds)
                  .containsSubsequence("inbound:opted_out", "outbound:opt_out_confirmation");
              assertThat(
                      IntakeIT.body(node.get("/v1/conversations", op))
                          .get("items")
                          .get(0)
                          .get("phone")
                          .asText())
                  .isEqualTo(x);
            });
  }

  /**
   * A STOP that arrives while a campaign call to the number is on its way to the provider (held
   * there by the sandbox's latency) is answered only once the provider has that call: no provider
   * call to the number arrives after the 200.
   */
  @Test
  void aStopWhileACallToTheNumberIsUnderWayIsAnsweredAfterTheProviderHasIt() {
    String op = tenant("inflight", 20);
    String x = CampaignLifecycleIT.phone(203, 0);
    node.sandboxFaults("{\"latencyMs\":3000}");
    try {
      CampaignLifecycleIT.launch(node, op, 203, 1, "");
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(20))
          .until(
              () ->
                  IntakeIT.body(node.get("/sandbox/stats", null)).get("callsDelayed").asInt() >= 1);
      assertThat(outboundTo("inflight", x))
          .as("the provider has not logged the call yet")
          .isEmpty();

      reply("inflight", x, "STOP");
      Instant answered = Instant.now();
      List<JsonNode> campaignCalls =
          outboundTo("inflight", x).stream()
              .filter(e -> e.get("body").asText().startsWith("Hi "))
              .toList();
      assertThat(campaignCalls)
          .as("the call under way reached the provider before the STOP's answer")
          .hasSize(1);
      assertThat(Instant.parse(campaignCalls.get(0).get("at").asText()))
          .isBeforeOrEqualTo(answered);
    } finally {
      node.sandboxFaults("{}");
    }
  }

  @Test
  void startAfterStopOptsBackInAndHelpGetsTheHelpText() {
    String op = tenant("toggler", 100);
    String y = "+12125550177";
    IntakeIT.importAndWait(node, op, "first_name,phone\nYan," + y + "\n");
    reply("toggler", y, "HELP");
    reply("toggler", y, "stop");
    reply("toggler", y, "STOP");
    reply("toggler", y, "start");
    await().atMost(Duration.ofSeconds(20)).until(() -> outboundTo("toggler", y).size() == 3);
    List<String> bodies =
        outboundTo("toggler", y).stream().map(e -> e.get("body").asText()).toList();
    // Each answer takes its own permit: they reach the provider in no promised order.
    assertThat(bodies)
        .containsExactlyInAnyOrder(
            "Acme Deals: Help: help@acme.example. Msg & data rates may apply. Reply STOP to opt out.",
            "Acme Deals: You are unsubscribed and will receive no more messages. Reply START to resubscribe.",
            "Acme Deals: You are resubscribed. Msg & data rates may apply. Reply HELP for help, STOP to opt out.");
    assertThat(audit("toggler", "opt-out")).as("the second STOP changed nothing").hasSize(1);
    assertThat(audit("toggler", "opt-in")).hasSize(1);
    assertThat(audit("toggler", "help-requested")).hasSize(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> audit("toggler", "reply.help").size() == 1);
    // Opted in again, a campaign reaches them (the keyword answers count towards no cap).
    String c = launchAll(op, "After START");
    JsonNode done =
        CampaignLifecycleIT.awaitState(node, op, c, "completed", Duration.ofSeconds(30));
    assertThat(done.at("/counts/sent").asLong()).isEqualTo(1);
    assertThat(outboundTo("toggler", y)).hasSize(4);
    // A START from someone who never opted out is an ordinary reply.
    reply("toggler", "+12125550178", "YES");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              var r = node.get("/v1/conversations/+12125550178", op);
              return r.statusCode() == 200
                  && !IntakeIT.body(r).at("/conversation/optedOut").asBoolean();
            });
    assertThat(outboundTo("toggler", "+12125550178")).isEmpty();
  }

  @Test
  void aReplayedWebhookChangesStateOnceAndAForgedOneIsRefused() {
    String op = tenant("replays", 100);
    String z = "+12125550188";
    String path = "/webhooks/twilio/replays/sms";
    Map<String, String> params =
        new TreeMap<>(
            Map.of(
                "MessageSid",
                "SMreplay1",
                "SmsSid",
                "SMreplay1",
                "AccountSid",
                "AC" + "0".repeat(32),
                "From",
                z,
                "To",
                SENDER,
                "Body",
                "UNSUBSCRIBE",
                "NumMedia",
                "0"));
    String url = "http://127.0.0.1:" + node.engine.httpPort() + path;
    String signature = TwilioSignature.sign("sandbox-twilio-auth-token", url, params);
    for (int i = 0; i < 3; i++) {
      assertThat(post(path, params, signature)).isEqualTo(200);
    }
    Map<String, String> forged = new TreeMap<>(params);
    forged.put("MessageSid", "SMforged");
    forged.put("From", "+12125550189");
    assertThat(post(path, forged, signature)).isEqualTo(403);
    assertThat(post(path, forged, null)).isEqualTo(403);
    // Signed but without the sender's number: refused before anything is stored.
    Map<String, String> noFrom = new TreeMap<>(params);
    noFrom.remove("From");
    noFrom.put("MessageSid", "SMnofrom");
    assertThat(post(path, noFrom, TwilioSignature.sign("sandbox-twilio-auth-token", url, noFrom)))
        .isEqualTo(400);
    await().atMost(Duration.ofSeconds(20)).until(() -> outboundTo("replays", z).size() == 1);
    assertThat(audit("replays", "opt-out")).containsExactly(z);
    assertThat(node.get("/v1/conversations/+12125550189", op).statusCode()).isEqualTo(404);
    JsonNode c = IntakeIT.body(node.get("/v1/conversations/" + z, op));
    assertThat(c.at("/conversation/inboundCount").asLong()).isEqualTo(1);
  }

  @Test
  void aReplyCancelsThePendingFollowUpsOfEveryCampaign() {
    String op = tenant("replier", 100);
    String w = CampaignLifecycleIT.phone(332, 0);
    String id =
        CampaignLifecycleIT.launch(
            node,
            op,
            332,
            3,
            ",\"steps\":[{\"afterHours\":24,\"message\":\"Again {{first_name}}\"}]");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                IntakeIT.body(node.get("/v1/campaigns/" + id + "/messages?status=scheduled", op))
                        .get("items")
                        .size()
                    == 3);
    reply("replier", w, "sounds good, call me");
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              JsonNode cancelled =
                  IntakeIT.body(node.get("/v1/campaigns/" + id + "/messages?status=cancelled", op))
                      .get("items");
              assertThat(cancelled).hasSize(1);
              assertThat(cancelled.get(0).get("phone").asText()).isEqualTo(w);
              assertThat(cancelled.get(0).get("step").asInt()).isEqualTo(1);
              assertThat(
                      IntakeIT.body(node.get("/v1/campaigns/" + id, op))
                          .at("/counts/replied")
                          .asLong())
                  .isEqualTo(1);
            });
    assertThat(
            IntakeIT.body(node.get("/v1/campaigns/" + id + "/messages?status=scheduled", op))
                .get("items"))
        .hasSize(2);
  }

  private static String launchAll(String op, String name) {
    var created =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\""
                + name
                + "\",\"channel\":\"sms\",\"audience\":{\"all\":true},\"message\":\"Hi {{first_name}}\"}");
    String id = IntakeIT.body(created).get("id").asText();
    assertThat(node.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode())
        .isEqualTo(202);
    return id;
  }

  private static int post(String path, Map<String, String> params, String signature) {
    String form =
        params.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    return signature == null
        ? node.send(
                "POST",
                path,
                null,
                "application/x-www-form-urlencoded",
                HttpRequest.BodyPublishers.ofString(form))
            .statusCode()
        : node.send(
                "POST",
                path,
                null,
                "application/x-www-form-urlencoded",
                HttpRequest.BodyPublishers.ofString(form),
                "X-Twilio-Signature",
                signature)
            .statusCode();
  }
}
