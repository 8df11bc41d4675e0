package io.outreach.http.sandbox;

import static io.outreach.http.sandbox.SandboxClient.parse;
import static io.outreach.http.sandbox.TwinFixture.accepted;
import static io.outreach.http.sandbox.TwinFixture.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import io.outreach.engine.provider.TwilioSignature;
import io.outreach.http.provider.ProviderHttp;
import io.outreach.http.provider.TwilioSmsAdapter;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Twilio twin over real HTTP, driven through the real adapter: acceptance, the request log,
 * idempotency, receipts signed with the sending account's token (checked with the production
 * signature code), Twilio's error shapes and codes, an account of its own on a second twin, and the
 * injected faults of both twins.
 */
class SandboxIT {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static TwinFixture sandbox;
  private static SmsProvider twilio;
  private static SmsProvider signalHouse;

  @BeforeAll
  static void start() {
    sandbox = TwinFixture.start("sandbox-it", SandboxSettings.DEFAULTS);
    twilio = sandbox.twilio();
    signalHouse = sandbox.signalHouse();
  }

  @AfterAll
  static void stop() {
    sandbox.close();
  }

  @AfterEach
  void clearFaults() {
    sandbox.client.faults("{}");
    sandbox.engine.reset();
  }

  private static String tenant(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String statusUrl(String tenant) {
    return sandbox.engine.base() + "/webhooks/twilio/" + tenant + "/status";
  }

  // ---- Twilio ----

  @Test
  void twilioSendIsAcceptedLoggedOnceDeduplicatedAndReceiptedWithValidSignatures() {
    String tenant = tenant("tw");
    String callbackUrl = statusUrl(tenant) + "?ref=c1%3A0%3A0";
    SmsRequest request =
        new SmsRequest(
            tenant, "+15550100001", "+12125550123", "Hi & welcome = 1", "key-1", callbackUrl);

    String sid = accepted(twilio.send(request));
    assertThat(sid).matches("SM[0-9a-f]{32}");
    JsonNode log = sandbox.client.log(tenant, 0);
    assertThat(log).hasSize(1);
    JsonNode first = log.get(0);
    assertThat(first.get("provider").asText()).isEqualTo("twilio");
    assertThat(first.get("tenant").asText()).isEqualTo(tenant);
    assertThat(first.get("to").asText()).isEqualTo("+12125550123");
    assertThat(first.get("from").asText()).isEqualTo("+15550100001");
    assertThat(first.get("body").asText()).isEqualTo("Hi & welcome = 1");
    assertThat(first.get("idempotencyKey").asText()).isEqualTo("key-1");
    assertThat(first.get("duplicate").asBoolean()).isFalse();
    assertThat(first.get("at").asText()).isNotBlank();

    assertThat(accepted(twilio.send(request)))
        .as("a retry answers the original sid")
        .isEqualTo(sid);
    JsonNode again = sandbox.client.log(tenant, first.get("id").asLong());
    assertThat(again).hasSize(1);
    assertThat(again.get(0).get("duplicate").asBoolean()).isTrue();
    assertThat(again.get(0).get("id").asLong()).isGreaterThan(first.get("id").asLong());

    // Two receipts (sent, delivered) for the one delivery, and no more for the duplicate.
    String path = URI.create(callbackUrl).getPath();
    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(10))
        .until(() -> sandbox.engine.calls(path).size() == 2);
    List<String> statuses = new ArrayList<>();
    for (WebhookReceiver.Call c : sandbox.engine.calls(path)) {
      Map<String, String> form = c.form();
      assertThat(
              TwilioSignature.verify(
                  SandboxSettings.TWILIO_TEST_TOKEN,
                  callbackUrl,
                  form,
                  c.header("X-Twilio-Signature")))
          .as(c.toString())
          .isTrue();
      assertThat(
              TwilioSignature.verify(
                  "another-token", callbackUrl, form, c.header("X-Twilio-Signature")))
          .isFalse();
      assertThat(form)
          .containsEntry("MessageSid", sid)
          .containsEntry("To", "+12125550123")
          .containsEntry("From", "+15550100001")
          .containsEntry("AccountSid", SandboxSettings.TWILIO_TEST_SID);
      statuses.add(form.get("MessageStatus"));
    }
    assertThat(statuses).containsExactly("sent", "delivered");
  }

  @Test
  void twilioRefusesWrongOrMissingCredentialsWith20003AsFinal() {
    long before = sandbox.answered("twilio", 401);
    SendResult r =
        join(
            sandbox
                .twilio(SandboxSettings.TWILIO_TEST_SID, "not-the-token")
                .send(new SmsRequest("x", "+15550100001", "+12125550123", "hi", "k", null)));
    assertThat(r)
        .isEqualTo(
            new SendResult.Rejected(401, "error 20003: Authenticate", false, Optional.empty()));
    assertThat(sandbox.answered("twilio", 401)).as("one call").isEqualTo(before + 1);

    String path =
        "/sandbox/twilio/2010-04-01/Accounts/" + SandboxSettings.TWILIO_TEST_SID + "/Messages.json";
    for (String authorization :
        new String[] {
          null,
          "Bearer " + SandboxSettings.TWILIO_TEST_TOKEN,
          basic(SandboxSettings.TWILIO_TEST_SID, "wrong"),
          // The right credentials of an account that is not the one in the path.
          basic("AC" + "1".repeat(32), SandboxSettings.TWILIO_TEST_TOKEN)
        }) {
      var answer = form(path, authorization, "To=%2B12125550123&From=%2B15550100001&Body=hi");
      assertThat(answer.statusCode()).as(authorization).isEqualTo(401);
      assertThat(parse(answer.body()))
          .isEqualTo(
              parse(
                  "{\"code\":20003,\"message\":\"Authenticate\","
                      + "\"more_info\":\"https://www.twilio.com/docs/errors/20003\","
                      + "\"status\":401}"));
    }
  }

  @Test
  void twilioRefusesABadRequestWithItsErrorCode() {
    String path =
        "/sandbox/twilio/2010-04-01/Accounts/" + SandboxSettings.TWILIO_TEST_SID + "/Messages.json";
    String auth = basic(SandboxSettings.TWILIO_TEST_SID, SandboxSettings.TWILIO_TEST_TOKEN);
    Map<String, Integer> codes =
        Map.of(
            "From=%2B15550100001&Body=hi", 21604,
            "To=%2B12125550123&Body=hi", 21603,
            "To=%2B12125550123&From=%2B15550100001", 21602,
            "To=2125550123&From=%2B15550100001&Body=hi", 21211);
    codes.forEach(
        (body, code) -> {
          var answer = form(path, auth, body);
          assertThat(answer.statusCode()).as(body).isEqualTo(400);
          JsonNode error = parse(answer.body());
          assertThat(error.get("code").asInt()).as(body).isEqualTo(code);
          assertThat(error.get("status").asInt()).isEqualTo(400);
          assertThat(error.get("more_info").asText())
              .isEqualTo("https://www.twilio.com/docs/errors/" + code);
          assertThat(error.get("message").asText()).isNotBlank();
        });
  }

  @Test
  void aTwinOnAnotherPortAcceptsAnAccountOfItsOwnAndSignsWithItsToken() {
    String sid = "AC" + "5b".repeat(16);
    String token = "tenant-own-auth-token-0001";
    try (TwinFixture other =
        TwinFixture.beside(sandbox, SandboxSettings.DEFAULTS.withTwilioAccount(sid, token))) {
      String tenant = tenant("own");
      String callbackUrl = statusUrl(tenant);
      String messageSid =
          accepted(
              other
                  .twilio(sid, token)
                  .send(
                      new SmsRequest(
                          tenant, "+15550100002", "+12125550150", "hi", "own-1", callbackUrl)));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> sandbox.engine.calls(URI.create(callbackUrl).getPath()).size() == 2);
      for (WebhookReceiver.Call c : sandbox.engine.calls(URI.create(callbackUrl).getPath())) {
        assertThat(c.form())
            .containsEntry("AccountSid", sid)
            .containsEntry("MessageSid", messageSid);
        assertThat(
                TwilioSignature.verify(
                    token, callbackUrl, c.form(), c.header("X-Twilio-Signature")))
            .isTrue();
        assertThat(
                TwilioSignature.verify(
                    SandboxSettings.TWILIO_TEST_TOKEN,
                    callbackUrl,
                    c.form(),
                    c.header("X-Twilio-Signature")))
            .as("not the test account's token")
            .isFalse();
      }

      SendResult wrong =
          join(
              other
                  .twilio(sid, "not-" + token)
                  .send(
                      new SmsRequest(tenant, "+15550100002", "+12125550151", "hi", "own-2", null)));
      assertThat(wrong)
          .isEqualTo(
              new SendResult.Rejected(401, "error 20003: Authenticate", false, Optional.empty()));
      assertThat(other.answered("twilio", 401)).as("one call, not retried").isEqualTo(1);
      assertThat(other.answered("twilio", 201)).isEqualTo(1);
      // The first twin does not know that account.
      assertThat(
              join(
                  sandbox
                      .twilio(sid, token)
                      .send(
                          new SmsRequest(
                              tenant, "+15550100002", "+12125550152", "hi", "own-3", null))))
          .isInstanceOfSatisfying(
              SendResult.Rejected.class, rej -> assertThat(rej.status()).isEqualTo(401));
    }
  }

  // ---- faults ----

  @Test
  void rateLimitAnswers429WithRetryAfterThatTheAdapterReportsAsRetryable() {
    sandbox.client.faults("{\"rateLimitPerSecond\":1}");
    List<SendResult> results = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      results.add(
          join(
              twilio.send(
                  new SmsRequest(
                      "rl",
                      "+15550100001",
                      "+12125550123",
                      "hi",
                      "rl-" + UUID.randomUUID(),
                      null))));
    }
    assertThat(results.get(0)).isInstanceOf(SendResult.Accepted.class);
    assertThat(results)
        .anySatisfy(
            r ->
                assertThat(r)
                    .isEqualTo(
                        new SendResult.Rejected(
                            429,
                            "error 20429: Too Many Requests",
                            true,
                            Optional.of(Duration.ofSeconds(1)))));
    // A slow machine may refill a token between calls: of a few calls at once, one is refused.
    List<SendResult> sh = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      sh.add(
          join(
              signalHouse.send(
                  new SmsRequest(
                      "rl",
                      "+15550100001",
                      "+12125550123",
                      "hi",
                      "rl-sh-" + UUID.randomUUID(),
                      null))));
    }
    assertThat(sh)
        .anySatisfy(
            result ->
                assertThat(result)
                    .isInstanceOfSatisfying(
                        SendResult.Rejected.class,
                        r -> {
                          assertThat(r.status()).isEqualTo(429);
                          assertThat(r.retryable()).isTrue();
                          assertThat(r.retryAfter()).contains(Duration.ofSeconds(1));
                        }));
  }

  @Test
  void outageAnswers503ToEveryProviderCallAndIsRetryable() {
    long before = lastLogId();
    sandbox.client.faults("{\"outage\":true}");
    for (SmsProvider p : List.of(twilio, signalHouse)) {
      SendResult r =
          join(
              p.send(
                  new SmsRequest(
                      "out",
                      "+15550100001",
                      "+12125550123",
                      "hi",
                      "o-" + UUID.randomUUID(),
                      null)));
      assertThat(r)
          .isInstanceOfSatisfying(
              SendResult.Rejected.class,
              rej -> {
                assertThat(rej.status()).isEqualTo(503);
                assertThat(rej.retryable()).isTrue();
              });
    }
    assertThat(lastLogId()).as("refused calls are not messages").isEqualTo(before);
  }

  @Test
  void errorRateOneAnswers500Retryable() {
    sandbox.client.faults("{\"errorRate\":1.0}");
    for (SmsProvider p : List.of(twilio, signalHouse)) {
      SendResult r =
          join(p.send(new SmsRequest("err", "+15550100001", "+12125550123", "hi", null, null)));
      assertThat(r)
          .isInstanceOfSatisfying(
              SendResult.Rejected.class,
              rej -> {
                assertThat(rej.status()).isEqualTo(500);
                assertThat(rej.retryable()).isTrue();
              });
    }
  }

  @Test
  void invalidFaultsAreAProblem() {
    String platform = SandboxClient.platform();
    for (String body :
        List.of(
            "{\"errorRate\":2}",
            "{\"latency\":5}",
            "{\"dncNumbers\":[\"not a number\"]}",
            "{\"optedOutNumbers\":[null]}")) {
      var r = sandbox.client.call("PUT", "/sandbox/faults", platform, body);
      assertThat(r.statusCode()).as(body).isEqualTo(400);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    }
  }

  @Test
  void aProviderThatCannotBeReachedFailsTheStage() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    SmsProvider unreachable =
        new TwilioSmsAdapter(
            new ProviderHttp(sandbox.system, 64, Duration.ofSeconds(10)),
            URI.create("http://127.0.0.1:" + closedPort),
            "AC1",
            "t");
    var stage =
        unreachable
            .send(new SmsRequest("x", "+15550100001", "+12125550123", "hi", "k", null))
            .toCompletableFuture();
    assertThat(stage).failsWithin(Duration.ofSeconds(10));
  }

  // ---- plumbing ----

  private static long lastLogId() {
    JsonNode all = sandbox.client.get("/sandbox/log");
    return all.isEmpty() ? 0 : all.get(all.size() - 1).get("id").asLong();
  }

  static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  private static HttpResponse<String> form(String path, String authorization, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(sandbox.base + path))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    try {
      return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
