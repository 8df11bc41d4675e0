package io.outreach.http.sandbox;

import static io.outreach.http.sandbox.SandboxClient.parse;
import static io.outreach.http.sandbox.TwinFixture.accepted;
import static io.outreach.http.sandbox.TwinFixture.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SignalHouseSignature;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SignalHouse twin in the real API's shape (PROVIDERS.md 4), over real HTTP and through the
 * real adapter: the send body and its 201 answer, bearer auth, the Idempotency-Key rules (replay,
 * in flight, another body), DNC and opt-out answers that enqueue nothing, and receipts in
 * SignalHouse's webhook envelope signed with the webhook secret of the key that sent.
 */
class SignalHouseTwinIT {
  private static final String OWN_KEY = "tenant-own-signalhouse-key";
  private static final String OWN_SECRET = "tenant-own-webhook-secret-01";
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static TwinFixture sandbox;
  private static SmsProvider signalHouse;

  @BeforeAll
  static void start() {
    sandbox =
        TwinFixture.start(
            "signalhouse-twin-it",
            SandboxSettings.DEFAULTS.withSignalHouseKey(OWN_KEY, OWN_SECRET));
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

  private static String tenant() {
    return "sh-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String callbackUrl(String tenant) {
    return sandbox.engine.base() + "/webhooks/signalhouse/" + tenant + "?ref=c1%3A0%3A0";
  }

  @Test
  void aSendIsAcceptedAsItsMessageIdReplayedOnceAndReceiptedInTheRealEnvelope() {
    String tenant = tenant();
    String callback = callbackUrl(tenant);
    SmsRequest request =
        new SmsRequest(tenant, "+15550100002", "+12125550199", "Quick question", "sh-1", callback);

    String id = accepted(signalHouse.send(request));
    assertThat(id).matches("[0-9a-f]{24}");
    assertThat(accepted(signalHouse.send(request))).as("a replay answers the same").isEqualTo(id);
    JsonNode log = sandbox.client.log(tenant, 0);
    assertThat(log).hasSize(2);
    assertThat(log.get(0).get("provider").asText()).isEqualTo("signalhouse");
    assertThat(log.get(0).get("to").asText()).isEqualTo("+12125550199");
    assertThat(log.get(0).get("from").asText()).isEqualTo("+15550100002");
    assertThat(log.get(0).get("body").asText()).isEqualTo("Quick question");
    assertThat(log.get(0).get("idempotencyKey").asText()).isEqualTo("sh-1");
    assertThat(log.get(0).get("duplicate").asBoolean()).isFalse();
    assertThat(log.get(1).get("duplicate").asBoolean()).isTrue();
    assertThat(log.get(1).get("messageId").asText()).isEqualTo(id);

    // One MESSAGE_DELIVERED to the statusCallbackUrl, and none for the replay.
    String path = URI.create(callback).getPath();
    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(10))
        .until(() -> sandbox.engine.calls(path).size() == 1);
    WebhookReceiver.Call c = sandbox.engine.calls(path).get(0);
    assertThat(verified(SandboxSettings.SIGNALHOUSE_TEST_SECRET, c)).as(c.toString()).isTrue();
    assertThat(verified("another-secret", c)).isFalse();
    assertThat(c.header("X-SignalHouse-Delivery-Id")).matches("[0-9a-f-]{36}");
    assertThat(c.header("Content-Type")).startsWith("application/json");
    JsonNode event = parse(c.body());
    assertThat(event.get("timestamp").isIntegralNumber()).isTrue();
    assertThat(event.get("event").asText()).isEqualTo("MESSAGE_DELIVERED");
    assertThat(event.get("identifier").asText()).isEqualTo(id);
    JsonNode meta = event.get("metaData");
    assertThat(meta.has("Message")).as("a receipt's metaData is the flat document").isFalse();
    assertThat(meta.get("_id").asText()).isEqualTo(id);
    assertThat(meta.get("status").asText()).isEqualTo("DELIVERED");
    assertThat(meta.get("senderPhoneNumber").asText()).isEqualTo("15550100002");
    assertThat(meta.get("recipientPhoneNumber").asText()).isEqualTo("12125550199");
    assertThat(meta.get("segmentCount").asInt()).isEqualTo(1);
    assertThat(meta.has("successOrFailureReason")).isTrue();
  }

  @Test
  void theAnswerIsTheRealShapeAndAReplayIsMarkedReplayed() {
    String tenant = tenant();
    String body =
        "{\"senderPhoneNumber\":\"+15550100002\",\"recipientPhoneNumber\":[\"12125550161\"],"
            + "\"messageBody\":\"Hello\",\"statusCallbackUrl\":\""
            + callbackUrl(tenant)
            + "\"}";
    var first = send(bearer(SandboxSettings.SIGNALHOUSE_TEST_KEY), "shape-1", body);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    assertThat(first.headers().firstValue("Idempotent-Replayed")).isEmpty();
    JsonNode answer = parse(first.body());
    assertThat(answer.get("requestedRecipientCount").asInt()).isEqualTo(1);
    assertThat(answer.get("enqueuedCount").asInt()).isEqualTo(1);
    assertThat(answer.get("failedCount").asInt()).isZero();
    assertThat(answer.get("dncBlockedNumbers")).isEmpty();
    JsonNode message = answer.get("insertedMessages").get(0);
    assertThat(message.get("_id").asText()).matches("[0-9a-f]{24}");
    assertThat(message.get("status").asText()).isEqualTo("ENQUEUED");
    assertThat(message.get("recipientPhoneNumber").asText()).isEqualTo("12125550161");
    assertThat(message.get("senderPhoneNumber").asText()).isEqualTo("15550100002");

    var replay = send(bearer(SandboxSettings.SIGNALHOUSE_TEST_KEY), "shape-1", body);
    assertThat(replay.statusCode()).isEqualTo(201);
    assertThat(replay.headers().firstValue("Idempotent-Replayed")).hasValue("true");
    assertThat(parse(replay.body())).isEqualTo(answer);

    var otherBody =
        send(
            bearer(SandboxSettings.SIGNALHOUSE_TEST_KEY),
            "shape-1",
            body.replace("Hello", "Hello again"));
    assertThat(otherBody.statusCode()).isEqualTo(422);
    assertThat(parse(otherBody.body()).get("message").asText()).contains("Idempotency-Key");
    assertThat(sandbox.client.log(tenant, 0)).hasSize(2);
  }

  @Test
  void aBodyNotInTheRealShapeIs400AndNothingIsTaken() {
    String tenant = tenant();
    String cb = callbackUrl(tenant);
    List<String> bad =
        List.of(
            // The SDKs' plural name, sent raw.
            "{\"senderPhoneNumber\":\"15550100002\",\"recipientPhoneNumbers\":[\"12125550123\"],"
                + "\"messageBody\":\"hi\",\"statusCallbackUrl\":\""
                + cb
                + "\"}",
            // A number that is not digits after its +.
            "{\"senderPhoneNumber\":\"15550100002\",\"recipientPhoneNumber\":[\"(212) 555-0123\"],"
                + "\"messageBody\":\"hi\",\"statusCallbackUrl\":\""
                + cb
                + "\"}",
            "{\"senderPhoneNumber\":\"+1 555 010 0002\",\"recipientPhoneNumber\":[\"12125550123\"],"
                + "\"messageBody\":\"hi\",\"statusCallbackUrl\":\""
                + cb
                + "\"}",
            // A single number where an array is due.
            "{\"senderPhoneNumber\":\"15550100002\",\"recipientPhoneNumber\":\"12125550123\","
                + "\"messageBody\":\"hi\",\"statusCallbackUrl\":\""
                + cb
                + "\"}",
            // Missing fields.
            "{\"recipientPhoneNumber\":[\"12125550123\"],\"messageBody\":\"hi\"}",
            "{\"senderPhoneNumber\":\"15550100002\",\"messageBody\":\"hi\"}",
            "{\"senderPhoneNumber\":\"15550100002\",\"recipientPhoneNumber\":[\"12125550123\"]}",
            "not json");
    for (String body : bad) {
      var r = send(bearer(SandboxSettings.SIGNALHOUSE_TEST_KEY), null, body);
      assertThat(r.statusCode()).as(body).isEqualTo(400);
      assertThat(parse(r.body()).get("message").asText()).as(body).isNotBlank();
    }
    assertThat(sandbox.client.log(tenant, 0)).isEmpty();
  }

  @Test
  void aKeyTheTwinDoesNotKnowIs401AndTheAdapterFailsAfterOneCall() {
    String body =
        "{\"senderPhoneNumber\":\"15550100002\",\"recipientPhoneNumber\":[\"12125550123\"],"
            + "\"messageBody\":\"hi\"}";
    for (String authorization : new String[] {null, "Bearer nope", OWN_KEY, "Basic " + OWN_KEY}) {
      var r = send(authorization, null, body);
      assertThat(r.statusCode()).as(authorization).isEqualTo(401);
      assertThat(parse(r.body()).get("message").asText()).isNotBlank();
    }
    long before = sandbox.answered("signalhouse", 401);
    SendResult wrong =
        join(
            sandbox
                .signalHouse("not-a-key-it-knows")
                .send(new SmsRequest("x", "+15550100002", "+12125550123", "hi", "w-1", null)));
    assertThat(wrong)
        .isInstanceOfSatisfying(
            SendResult.Rejected.class,
            r -> {
              assertThat(r.status()).isEqualTo(401);
              assertThat(r.retryable()).isFalse();
              assertThat(r.reason()).startsWith("unauthorized: ");
            });
    assertThat(sandbox.answered("signalhouse", 401)).as("one call").isEqualTo(before + 1);
  }

  @Test
  void anotherKeysReceiptsAreSignedWithItsOwnWebhookSecret() {
    String tenant = tenant();
    String callback = callbackUrl(tenant);
    String id =
        accepted(
            sandbox
                .signalHouse(OWN_KEY)
                .send(
                    new SmsRequest(
                        tenant, "+15550100003", "+12125550170", "hi", "own-1", callback)));
    String path = URI.create(callback).getPath();
    await().atMost(Duration.ofSeconds(10)).until(() -> sandbox.engine.calls(path).size() == 1);
    WebhookReceiver.Call c = sandbox.engine.calls(path).get(0);
    assertThat(parse(c.body()).get("identifier").asText()).isEqualTo(id);
    assertThat(verified(OWN_SECRET, c)).isTrue();
    assertThat(verified(SandboxSettings.SIGNALHOUSE_TEST_SECRET, c)).isFalse();

    // A reply to the number that key sends from is that account's, signed with its secret.
    var reply =
        sandbox.client.reply(
            tenant,
            "{\"tenant\":\""
                + tenant
                + "\",\"from\":\"+12125550170\",\"to\":\"+15550100003\",\"body\":\"ok\","
                + "\"provider\":\"signalhouse\"}");
    assertThat(reply.statusCode()).as(reply.body()).isEqualTo(200);
    WebhookReceiver.Call inbound =
        sandbox.engine.calls(path).stream()
            .filter(i -> parse(i.body()).get("event").asText().equals("MESSAGE_RECEIVED"))
            .findFirst()
            .orElseThrow();
    assertThat(verified(OWN_SECRET, inbound)).isTrue();
  }

  @Test
  void aNumberOnTheDncListOrOptedOutIsA201WithNothingEnqueuedAndNoReceipt() {
    sandbox.client.faults(
        "{\"dncNumbers\":[\"+12125550140\"],\"optedOutNumbers\":[\"12125550141\"]}");
    String tenant = tenant();
    String callback = callbackUrl(tenant);
    SendResult dnc =
        join(
            signalHouse.send(
                new SmsRequest(tenant, "+15550100002", "+12125550140", "hi", "dnc-1", callback)));
    assertThat(dnc)
        .isInstanceOfSatisfying(
            SendResult.Rejected.class,
            r -> {
              assertThat(r.status()).isEqualTo(201);
              assertThat(r.retryable()).isFalse();
              assertThat(r.reason()).contains("12125550140").contains("do-not-contact");
            });
    SendResult out =
        join(
            signalHouse.send(
                new SmsRequest(tenant, "+15550100002", "+12125550141", "hi", "out-1", callback)));
    assertThat(out)
        .isInstanceOfSatisfying(
            SendResult.Rejected.class,
            r -> {
              assertThat(r.retryable()).isFalse();
              assertThat(r.reason()).contains("errorCode OUT");
            });
    var raw =
        send(
            bearer(SandboxSettings.SIGNALHOUSE_TEST_KEY),
            "dnc-1",
            "{\"senderPhoneNumber\":\"15550100002\",\"recipientPhoneNumber\":[\"12125550140\"],"
                + "\"messageBody\":\"hi\",\"statusCallbackUrl\":\""
                + callback
                + "\"}");
    JsonNode answer = parse(raw.body());
    assertThat(raw.headers().firstValue("Idempotent-Replayed")).hasValue("true");
    assertThat(answer.get("enqueuedCount").asInt()).isZero();
    assertThat(answer.get("failedCount").asInt()).isEqualTo(1);
    assertThat(answer.get("dncBlockedNumbers")).hasSize(1);
    assertThat(answer.get("dncBlockedNumbers").get(0).asText()).isEqualTo("12125550140");
    assertThat(answer.get("insertedMessages")).isEmpty();

    JsonNode log = sandbox.client.log(tenant, 0);
    assertThat(log).hasSize(3);
    assertThat(log.get(0).get("blocked").asText()).isEqualTo("DNC");
    assertThat(log.get(1).get("blocked").asText()).isEqualTo("OUT");
    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(5))
        .until(() -> sandbox.engine.calls().isEmpty());
  }

  @Test
  void aRepeatWhileTheFirstIsInFlightIs409WithRetryAfter() throws Exception {
    sandbox.client.faults("{\"latencyMs\":1500}");
    String tenant = tenant();
    String body =
        "{\"senderPhoneNumber\":\"15550100002\",\"recipientPhoneNumber\":[\"12125550180\"],"
            + "\"messageBody\":\"hi\",\"statusCallbackUrl\":\""
            + callbackUrl(tenant)
            + "\"}";
    CompletableFuture<HttpResponse<String>> first =
        HTTP.sendAsync(
            request(bearer(SandboxSettings.SIGNALHOUSE_TEST_KEY), "slow-1", body),
            HttpResponse.BodyHandlers.ofString());
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> sandbox.stats().get("callsDelayed").asInt() >= 1);

    var again = send(bearer(SandboxSettings.SIGNALHOUSE_TEST_KEY), "slow-1", body);
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(
            send(bearer(SandboxSettings.SIGNALHOUSE_TEST_KEY), "slow-1", body.replace("hi", "yo"))
                .statusCode())
        .isEqualTo(422);

    HttpResponse<String> done = first.get();
    assertThat(done.statusCode()).isEqualTo(201);
    sandbox.client.faults("{}");
    var replay = send(bearer(SandboxSettings.SIGNALHOUSE_TEST_KEY), "slow-1", body);
    assertThat(replay.statusCode()).isEqualTo(201);
    assertThat(parse(replay.body())).isEqualTo(parse(done.body()));
    assertThat(sandbox.client.log(tenant, 0)).hasSize(2);
  }

  @Test
  void undeliveredRateEndsTheMessageWithMessageFailed() {
    sandbox.client.faults("{\"undeliveredRate\":1.0}");
    String tenant = tenant();
    String callback = callbackUrl(tenant);
    String id =
        accepted(
            signalHouse.send(
                new SmsRequest(tenant, "+15550100002", "+12125550190", "hi", "f-1", callback)));
    String path = URI.create(callback).getPath();
    await().atMost(Duration.ofSeconds(10)).until(() -> sandbox.engine.calls(path).size() == 1);
    JsonNode event = parse(sandbox.engine.calls(path).get(0).body());
    assertThat(event.get("event").asText()).isEqualTo("MESSAGE_FAILED");
    assertThat(event.get("identifier").asText()).isEqualTo(id);
    assertThat(event.at("/metaData/status").asText()).isEqualTo("FAILED");
    assertThat(event.at("/metaData/successOrFailureReason").asText()).isNotBlank();
  }

  // ---- plumbing ----

  private static boolean verified(String secret, WebhookReceiver.Call c) {
    return SignalHouseSignature.verify(
        secret,
        c.header("X-SignalHouse-Timestamp"),
        c.body(),
        c.header("X-SignalHouse-Signature"),
        Instant.now(),
        SignalHouseSignature.MAX_AGE);
  }

  private static String bearer(String key) {
    return "Bearer " + key;
  }

  private static HttpRequest request(String authorization, String idempotencyKey, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(sandbox.base + "/sandbox/signalhouse/message/sms"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    if (idempotencyKey != null) {
      b.header("Idempotency-Key", idempotencyKey);
    }
    return b.build();
  }

  private static HttpResponse<String> send(
      String authorization, String idempotencyKey, String body) {
    try {
      return HTTP.send(
          request(authorization, idempotencyKey, body), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
