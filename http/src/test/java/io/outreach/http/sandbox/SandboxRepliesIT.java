package io.outreach.http.sandbox;

import static io.outreach.http.sandbox.SandboxClient.parse;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.outreach.engine.provider.SignalHouseSignature;
import io.outreach.engine.provider.TwilioSignature;
import io.outreach.http.Main;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /sandbox/replies} over real HTTP: the twin posts the provider's inbound webhook to a
 * receiver standing in for the engine, which checks the signature with the production code.
 */
class SandboxRepliesIT {
  private static ActorSystem<Void> system;
  private static WebhookReceiver engine;
  private static final AtomicReference<String> engineUrl = new AtomicReference<>();
  private static SandboxClient sandbox;

  @BeforeAll
  static void start() {
    system =
        ActorSystem.create(
            Behaviors.empty(),
            "sandbox-replies-it",
            ConfigFactory.parseString("pekko.http.server.remote-address-attribute = on")
                .withFallback(Main.sandboxConfig()));
    engine = new WebhookReceiver(system);
    engineUrl.set(engine.base());
    var binding =
        SandboxServer.start(
                system,
                "127.0.0.1",
                0,
                SandboxSettings.DEFAULTS,
                SandboxClient.AUTH,
                engineUrl::get)
            .toCompletableFuture()
            .join();
    sandbox = new SandboxClient("http://127.0.0.1:" + binding.localAddress().getPort());
  }

  @AfterAll
  static void stop() {
    engine.stop();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  @AfterEach
  void reset() {
    engine.reset();
    engineUrl.set(engine.base());
  }

  @Test
  void aTwilioReplyIsASignedInboundWebhookWithOptOutTypeForAKeyword() {
    String tenant = tenant();
    var r =
        reply(
            "{\"tenant\":\""
                + tenant
                + "\",\"from\":\"+12125550123\",\"to\":\"+15550100001\",\"body\":\" stop!\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode answer = parse(r.body());
    assertThat(answer.get("provider").asText()).isEqualTo("twilio");
    assertThat(answer.get("status").asInt()).isEqualTo(200);
    String sid = answer.get("messageId").asText();
    assertThat(sid).matches("SM[0-9a-f]{32}");

    String path = "/webhooks/twilio/" + tenant + "/sms";
    assertThat(engine.calls(path)).hasSize(1);
    WebhookReceiver.Call call = engine.calls(path).get(0);
    Map<String, String> form = call.form();
    String url = engine.base() + path;
    assertThat(
            TwilioSignature.verify(
                SandboxSettings.TWILIO_TEST_TOKEN, url, form, call.header("X-Twilio-Signature")))
        .as("signed over the full URL and every parameter")
        .isTrue();
    assertThat(
            TwilioSignature.verify("another-token", url, form, call.header("X-Twilio-Signature")))
        .isFalse();
    assertThat(call.header("Content-Type")).startsWith("application/x-www-form-urlencoded");
    assertThat(form)
        .containsEntry("MessageSid", sid)
        .containsEntry("SmsSid", sid)
        .containsEntry("AccountSid", SandboxSettings.TWILIO_TEST_SID)
        .containsEntry("From", "+12125550123")
        .containsEntry("To", "+15550100001")
        .containsEntry("Body", " stop!")
        .containsEntry("NumMedia", "0")
        .containsEntry("NumSegments", "1")
        .containsEntry("OptOutType", "STOP");

    JsonNode log = log(tenant);
    assertThat(log).hasSize(1);
    assertThat(log.get(0).get("direction").asText()).isEqualTo("inbound");
    assertThat(log.get(0).get("provider").asText()).isEqualTo("twilio");
    assertThat(log.get(0).get("messageId").asText()).isEqualTo(sid);
    assertThat(log.get(0).get("from").asText()).isEqualTo("+12125550123");
    assertThat(log.get(0).get("body").asText()).isEqualTo(" stop!");
  }

  @Test
  void aTwilioReplyThatIsASentenceOrAnotherKeywordGetsTheRightOptOutType() {
    String tenant = tenant();
    String path = "/webhooks/twilio/" + tenant + "/sms";
    for (String body : new String[] {"stop texting me", "Start", "info."}) {
      var r =
          reply(
              "{\"tenant\":\""
                  + tenant
                  + "\",\"from\":\"+12125550123\",\"to\":\"+15550100001\",\"body\":\""
                  + body
                  + "\"}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
    var calls = engine.calls(path);
    assertThat(calls).hasSize(3);
    for (WebhookReceiver.Call c : calls) {
      assertThat(
              TwilioSignature.verify(
                  SandboxSettings.TWILIO_TEST_TOKEN,
                  engine.base() + path,
                  c.form(),
                  c.header("X-Twilio-Signature")))
          .isTrue();
    }
    assertThat(calls.get(0).form())
        .doesNotContainKey("OptOutType")
        .containsEntry("Body", "stop texting me");
    assertThat(calls.get(1).form()).containsEntry("OptOutType", "START");
    assertThat(calls.get(2).form()).containsEntry("OptOutType", "HELP");
  }

  @Test
  void aSignalHouseReplyIsASignedMessageReceivedEvent() {
    String tenant = tenant();
    var r =
        reply(
            "{\"tenant\":\""
                + tenant
                + "\",\"from\":\"+12125550123\",\"to\":\"+15550100002\","
                + "\"body\":\"Sure, call me\",\"provider\":\"signalhouse\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode answer = parse(r.body());
    assertThat(answer.get("provider").asText()).isEqualTo("signalhouse");
    assertThat(answer.get("status").asInt()).isEqualTo(200);
    String id = answer.get("messageId").asText();

    var calls = engine.calls("/webhooks/signalhouse/" + tenant);
    assertThat(calls).hasSize(1);
    WebhookReceiver.Call call = calls.get(0);
    assertThat(
            SignalHouseSignature.verify(
                SandboxSettings.SIGNALHOUSE_TEST_SECRET,
                call.header("X-SignalHouse-Timestamp"),
                call.body(),
                call.header("X-SignalHouse-Signature"),
                Instant.now(),
                SignalHouseSignature.MAX_AGE))
        .isTrue();
    assertThat(
            SignalHouseSignature.verify(
                "another-secret",
                call.header("X-SignalHouse-Timestamp"),
                call.body(),
                call.header("X-SignalHouse-Signature"),
                Instant.now(),
                SignalHouseSignature.MAX_AGE))
        .isFalse();
    assertThat(call.header("X-SignalHouse-Delivery-Id")).isNotBlank();
    assertThat(call.header("Content-Type")).startsWith("application/json");
    // SignalHouse's envelope: the inbound message under metaData.Message, numbers as digits.
    JsonNode event = parse(call.body());
    assertThat(event.get("timestamp").isIntegralNumber()).isTrue();
    assertThat(event.get("event").asText()).isEqualTo("MESSAGE_RECEIVED");
    assertThat(event.get("identifier").asText()).isEqualTo(id);
    assertThat(event.at("/metaData/Message"))
        .isEqualTo(
            parse(
                "{\"direction\":\"INBOUND\",\"senderPhoneNumber\":\"12125550123\","
                    + "\"recipientPhoneNumber\":\"15550100002\",\"messageBody\":\"Sure, call me\"}"));

    JsonNode log = log(tenant);
    assertThat(log).hasSize(1);
    assertThat(log.get(0).get("direction").asText()).isEqualTo("inbound");
    assertThat(log.get(0).get("provider").asText()).isEqualTo("signalhouse");
  }

  @Test
  void anEngineThatRefusesTheReplyIs502WithItsStatus() {
    engine.answer = request -> 403;
    var r =
        reply(
            "{\"tenant\":\""
                + tenant()
                + "\",\"from\":\"+12125550123\",\"to\":\"+15550100001\",\"body\":\"hi\"}");
    assertThat(r.statusCode()).isEqualTo(502);
    JsonNode answer = parse(r.body());
    assertThat(answer.get("status").asInt()).isEqualTo(403);
    assertThat(answer.get("error").asText()).contains("403");
  }

  @Test
  void anEngineThatIsDownIs502() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      engineUrl.set("http://127.0.0.1:" + s.getLocalPort());
    }
    for (String provider : new String[] {"twilio", "signalhouse"}) {
      var r =
          reply(
              "{\"tenant\":\""
                  + tenant()
                  + "\",\"from\":\"+12125550123\",\"to\":\"+15550100001\","
                  + "\"body\":\"hi\",\"provider\":\""
                  + provider
                  + "\"}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
      JsonNode answer = parse(r.body());
      assertThat(answer.get("provider").asText()).isEqualTo(provider);
      assertThat(answer.get("status").isNull()).isTrue();
      assertThat(answer.get("error").asText()).contains("could not be reached");
    }
    engineUrl.set(null);
    var r =
        reply(
            "{\"tenant\":\""
                + tenant()
                + "\",\"from\":\"+12125550123\",\"to\":\"+15550100001\",\"body\":\"hi\"}");
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(parse(r.body()).get("error").asText()).contains("--engine-url");
  }

  @Test
  void aBadBodyIsAProblemNamingTheField() {
    String tenant = tenant();
    Map<String, String> bodies =
        Map.of(
            "{\"from\":\"+12125550123\",\"to\":\"+15550100001\",\"body\":\"hi\"}",
            "tenant",
            "{\"tenant\":\"Not A Tenant\",\"from\":\"+12125550123\",\"to\":\"+15550100001\",\"body\":\"hi\"}",
            "tenant",
            "{\"tenant\":\"" + tenant + "\",\"to\":\"+15550100001\",\"body\":\"hi\"}",
            "from",
            "{\"tenant\":\"" + tenant + "\",\"from\":\"+12125550123\",\"body\":\"hi\"}",
            "to",
            "{\"tenant\":\"" + tenant + "\",\"from\":\"+12125550123\",\"to\":\"+15550100001\"}",
            "body",
            "{\"tenant\":\""
                + tenant
                + "\",\"from\":\"+1\",\"to\":\"+1\",\"body\":\"hi\",\"provider\":\"apollo\"}",
            "provider",
            "{\"tenant\":\""
                + tenant
                + "\",\"from\":\"+1\",\"to\":\"+1\",\"body\":\"hi\",\"media\":1}",
            "media");
    bodies.forEach(
        (body, field) -> {
          var r = reply(body);
          assertThat(r.statusCode()).as(body).isEqualTo(400);
          assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
          assertThat(parse(r.body()).get("detail").asText()).as(body).contains(field);
        });
    assertThat(engine.calls()).isEmpty();
    assertThat(log(tenant)).isEmpty();
  }

  // ---- plumbing ----

  private static String tenant() {
    return "rp-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Scripts a reply as the platform (the rules on whose token may are SandboxAccessIT's). */
  private static HttpResponse<String> reply(String json) {
    return sandbox.call("POST", "/sandbox/replies", SandboxClient.platform(), json);
  }

  private static JsonNode log(String tenant) {
    return sandbox.log(tenant, 0);
  }
}
