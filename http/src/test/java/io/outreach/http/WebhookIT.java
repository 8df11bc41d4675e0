package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.engine.provider.SignalHouseSignature;
import io.outreach.engine.provider.TwilioSignature;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Signed provider webhooks: verified, stored once, audited; forged or stale ones stored never. */
class WebhookIT {
  private static final String TWILIO_TOKEN = "sandbox-twilio-auth-token";
  private static final String SH_SECRET = "sandbox-signalhouse-webhook-secret";
  private static TestEngine node;
  private static String PUBLIC;

  @BeforeAll
  static void start() {
    node = TestEngine.start();
    PUBLIC = "http://127.0.0.1:" + node.engine.httpPort();
    String platform = node.token("platform", Role.PLATFORM);
    for (String t : List.of("acme", "bravo")) {
      node.json(
          "POST",
          "/v1/tenants",
          platform,
          "{\"id\":\""
              + t
              + "\",\"name\":\""
              + t
              + "\",\"timezone\":\"UTC\",\"monthlyBudgetCents\":100000000}");
    }
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static HttpResponse<String> twilio(
      String path, Map<String, String> params, String signature) {
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
        : node.send(
            "POST",
            path,
            null,
            "application/x-www-form-urlencoded",
            HttpRequest.BodyPublishers.ofString(form),
            "X-Twilio-Signature",
            signature);
  }

  private static List<JsonNode> receipts(String tenant) {
    List<JsonNode> out = new ArrayList<>();
    IntakeIT.body(node.get("/v1/audit", node.token(tenant, Role.VIEWER)))
        .get("items")
        .forEach(
            i -> {
              if (i.get("action").asText().startsWith("receipt.")) {
                out.add(i);
              }
            });
    return out;
  }

  @Test
  void twilioStatusCallbacksAreVerifiedStoredOnceAndAudited() {
    Map<String, String> params =
        new TreeMap<>(
            Map.of(
                "MessageSid",
                "SM0001",
                "MessageStatus",
                "delivered",
                "To",
                "+12125550100",
                "From",
                "+15550100001",
                "AccountSid",
                "AC123"));
    String path = "/webhooks/twilio/acme/status";
    String signature = TwilioSignature.sign(TWILIO_TOKEN, PUBLIC + path, params);
    for (int i = 0; i < 4; i++) {
      assertThat(twilio(path, params, signature).statusCode()).isEqualTo(200);
    }
    List<JsonNode> stored = receipts("acme");
    assertThat(stored).hasSize(1);
    assertThat(stored.get(0).get("subject").asText()).isEqualTo("SM0001");
    assertThat(stored.get(0).at("/detail/status").asText()).isEqualTo("delivered");

    // Forged, missing, or signed for another URL (tenant): 403, nothing stored.
    Map<String, String> sent = new TreeMap<>(params);
    sent.put("MessageStatus", "sent");
    assertThat(twilio(path, sent, signature).statusCode()).isEqualTo(403);
    assertThat(twilio(path, sent, null).statusCode()).isEqualTo(403);
    String forBravo =
        TwilioSignature.sign(TWILIO_TOKEN, PUBLIC + "/webhooks/twilio/bravo/status", sent);
    assertThat(twilio(path, sent, forBravo).statusCode()).isEqualTo(403);
    assertThat(
            twilio(path, sent, TwilioSignature.sign("wrong-token", PUBLIC + path, sent))
                .statusCode())
        .isEqualTo(403);
    assertThat(receipts("acme")).hasSize(1);
    assertThat(receipts("bravo")).isEmpty();

    // The signed URL includes the query string.
    String withQuery = path + "?attempt=2&b=1";
    assertThat(
            twilio(withQuery, sent, TwilioSignature.sign(TWILIO_TOKEN, PUBLIC + withQuery, sent))
                .statusCode())
        .isEqualTo(200);
    assertThat(receipts("acme")).hasSize(2);
  }

  @Test
  void anInboundMessageIsAnsweredWithEmptyTwimlAndProtocolErrorsAreProblems() {
    String path = "/webhooks/twilio/acme/sms";
    Map<String, String> params =
        new TreeMap<>(
            Map.of(
                "MessageSid",
                "SM-in-1",
                "From",
                "+12125550177",
                "To",
                "+15550100001",
                "Body",
                "sounds good"));
    // Twilio texts a plain-text answer body back to the person: the answer is TwiML with no
    // message.
    var answer = twilio(path, params, TwilioSignature.sign(TWILIO_TOKEN, PUBLIC + path, params));
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.headers().firstValue("Content-Type"))
        .hasValueSatisfying(ct -> assertThat(ct).startsWith("text/xml"));
    assertThat(answer.body()).endsWith("<Response/>");
    assertThat(answer.headers().firstValue("X-Request-Id")).isPresent();
    int stored = receipts("acme").size();

    problem(node.send("GET", path, null, null, null), 405, "method-not-allowed")
        .headers()
        .firstValue("Allow")
        .ifPresentOrElse(
            a -> assertThat(a).isEqualTo("POST"),
            () -> {
              throw new AssertionError("405 without Allow");
            });
    problem(
        node.send(
            "POST",
            path,
            null,
            "application/json",
            HttpRequest.BodyPublishers.ofString("{}"),
            "X-Twilio-Signature",
            TwilioSignature.sign(TWILIO_TOKEN, PUBLIC + path, Map.of())),
        415,
        "unsupported-media-type");
    Map<String, String> big = new TreeMap<>(params);
    big.put("Body", "x".repeat(5_000));
    big.put("MessageSid", "SM-in-big");
    problem(
        twilio(path, big, TwilioSignature.sign(TWILIO_TOKEN, PUBLIC + path, big)),
        413,
        "payload-too-large");
    byte[] chunked = ("Body=" + "x".repeat(5_000)).getBytes(StandardCharsets.UTF_8);
    problem(
        node.send(
            "POST",
            path,
            null,
            "application/x-www-form-urlencoded",
            HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream(chunked)),
            "X-Twilio-Signature",
            "x"),
        413,
        "payload-too-large");
    problem(
        node.send(
            "POST",
            path,
            null,
            "application/x-www-form-urlencoded",
            HttpRequest.BodyPublishers.ofString("Body=100%"),
            "X-Twilio-Signature",
            "x"),
        400,
        "malformed-request");
    problem(
        node.send(
            "POST",
            "/webhooks/twilio/acme/other",
            null,
            "application/x-www-form-urlencoded",
            "a=b"),
        404,
        "not-found");
    problem(
        node.send(
            "POST", "/webhooks/twilio/acme/sms/", null, "application/x-www-form-urlencoded", "a=b"),
        404,
        "not-found");
    assertThat(receipts("acme")).hasSize(stored);
  }

  /** Asserts a problem+json answer with the given status and type slug. */
  private static HttpResponse<String> problem(HttpResponse<String> r, int status, String slug) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(IntakeIT.body(r).get("type").asText()).isEqualTo("urn:outreach:problem:" + slug);
    assertThat(r.headers().firstValue("X-Request-Id")).isPresent();
    return r;
  }

  private static HttpResponse<String> signalHouse(
      String path, String body, String timestamp, String signature, String deliveryId) {
    return node.send(
        "POST",
        path,
        null,
        "application/json",
        HttpRequest.BodyPublishers.ofString(body),
        "X-SignalHouse-Signature",
        signature,
        "X-SignalHouse-Timestamp",
        timestamp,
        "X-SignalHouse-Delivery-Id",
        deliveryId);
  }

  @Test
  void signalHouseWebhooksAreVerifiedDedupedAndStaleOnesRefused() {
    String path = "/webhooks/signalhouse/bravo";
    String now = Long.toString(Instant.now().toEpochMilli());
    // SignalHouse's envelope: a receipt's identifier is the message _id, its metaData the flat
    // message document; numbers are digits only.
    String body =
        "{\"timestamp\":"
            + now
            + ",\"event\":\"MESSAGE_DELIVERED\",\"identifier\":\"66f0c0ffee00000000000077\","
            + "\"metaData\":{\"_id\":\"66f0c0ffee00000000000077\",\"status\":\"DELIVERED\","
            + "\"senderPhoneNumber\":\"15550100001\",\"recipientPhoneNumber\":\"12125550100\","
            + "\"segmentCount\":1,\"successOrFailureReason\":null}}";
    String sig = SignalHouseSignature.sign(SH_SECRET, now, body);
    for (int i = 0; i < 4; i++) {
      var r = signalHouse(path, body, now, sig, "8d6b2f7e-0000-4000-8000-000000000001");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
    assertThat(receipts("bravo")).hasSize(1);
    assertThat(receipts("bravo").get(0).get("subject").asText())
        .isEqualTo("66f0c0ffee00000000000077");
    assertThat(receipts("bravo").get(0).at("/detail/event").asText())
        .isEqualTo("MESSAGE_DELIVERED");

    String stale = Long.toString(Instant.now().minusSeconds(600).toEpochMilli());
    var staleReply =
        signalHouse(
            path,
            body,
            stale,
            SignalHouseSignature.sign(SH_SECRET, stale, body),
            "8d6b2f7e-0000-4000-8000-000000000002");
    assertThat(staleReply.statusCode()).isEqualTo(403);
    assertThat(staleReply.headers().firstValue("Content-Type"))
        .hasValue("application/problem+json");
    var tampered =
        signalHouse(
            path,
            body.replace("DELIVERED", "FAILED"),
            now,
            sig,
            "8d6b2f7e-0000-4000-8000-000000000003");
    assertThat(tampered.statusCode()).isEqualTo(403);
    var otherSecret =
        signalHouse(
            path,
            body,
            now,
            SignalHouseSignature.sign("another-webhook-secret", now, body),
            "8d6b2f7e-0000-4000-8000-000000000004");
    assertThat(otherSecret.statusCode()).isEqualTo(403);
    assertThat(receipts("bravo")).hasSize(1);
    assertThat(signalHouse("/webhooks/signalhouse/nobody", body, now, sig, "x").statusCode())
        .as("an unknown tenant")
        .isEqualTo(404);
  }

  @Test
  void aSignalHouseInboundMessageInItsEnvelopeIsAnOptOutOfItsSender() {
    String path = "/webhooks/signalhouse/acme";
    String now = Long.toString(Instant.now().toEpochMilli());
    String body =
        "{\"timestamp\":"
            + now
            + ",\"event\":\"MESSAGE_RECEIVED\",\"identifier\":\"66f0c0ffee00000000000099\","
            + "\"metaData\":{\"Message\":{\"direction\":\"INBOUND\","
            + "\"senderPhoneNumber\":\"12125550188\",\"recipientPhoneNumber\":\"15550100001\","
            + "\"messageBody\":\"STOP\"}}}";
    var r =
        signalHouse(
            path,
            body,
            now,
            SignalHouseSignature.sign(SH_SECRET, now, body),
            "8d6b2f7e-0000-4000-8000-000000000010");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    // Applied before the answer: the number is opted out, in E.164.
    JsonNode trail =
        IntakeIT.body(
            node.get(
                "/v1/audit?subject=" + URLEncoder.encode("+12125550188", StandardCharsets.UTF_8),
                node.token("acme", Role.VIEWER)));
    assertThat(trail.get("items").findValuesAsText("action")).contains("opt-out");
  }
}
