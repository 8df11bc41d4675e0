package io.outreach.http.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SignalHouseSignature;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import io.outreach.engine.provider.TwilioSignature;
import io.outreach.http.Main;
import io.outreach.http.provider.SignalHouseSmsAdapter;
import io.outreach.http.provider.TwilioSmsAdapter;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sandbox twins over real HTTP, driven through the real adapters: acceptance, the request log,
 * idempotency, signed delivery receipts (checked by a receiver with the production signature code)
 * and injected faults.
 */
class SandboxIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SandboxSettings CREDENTIALS = SandboxSettings.DEFAULTS;

  private static ActorSystem<Void> system;
  private static String sandbox;
  private static HttpServer receiver;
  private static String receiverBase;
  private static final ConcurrentLinkedQueue<Callback> callbacks = new ConcurrentLinkedQueue<>();
  private static final HttpClient client = HttpClient.newHttpClient();
  private static SmsProvider twilio;
  private static SmsProvider signalHouse;

  /** One status callback as the receiver saw it. */
  record Callback(String path, Map<String, String> headers, String body) {}

  @BeforeAll
  static void start() throws IOException {
    system = ActorSystem.create(Behaviors.empty(), "sandbox-it", Main.sandboxConfig());
    var binding = SandboxServer.start(system, "127.0.0.1", 0).toCompletableFuture().join();
    sandbox = "http://127.0.0.1:" + binding.localAddress().getPort();
    twilio =
        new TwilioSmsAdapter(
            new io.outreach.http.provider.ProviderHttp(
                system, 64, java.time.Duration.ofSeconds(10)),
            URI.create(sandbox + "/sandbox/twilio"),
            CREDENTIALS.twilioAccountSid(),
            CREDENTIALS.twilioAuthToken());
    signalHouse =
        new SignalHouseSmsAdapter(
            new io.outreach.http.provider.ProviderHttp(
                system, 64, java.time.Duration.ofSeconds(10)),
            URI.create(sandbox + "/sandbox/signalhouse/"),
            CREDENTIALS.signalHouseApiKey());

    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext(
        "/",
        exchange -> {
          Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
          exchange.getRequestHeaders().forEach((k, v) -> headers.put(k, v.get(0)));
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          callbacks.add(new Callback(exchange.getRequestURI().getPath(), headers, body));
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    receiver.start();
    receiverBase = "http://127.0.0.1:" + receiver.getAddress().getPort();
  }

  @AfterAll
  static void stop() {
    receiver.stop(0);
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  @AfterEach
  void clearFaults() {
    assertThat(call("PUT", "/sandbox/faults", "{}").statusCode()).isEqualTo(200);
  }

  // ---- Twilio ----

  @Test
  void twilioSendIsAcceptedLoggedOnceDeduplicatedAndReceiptedWithValidSignatures() {
    String tenant = "tw-" + UUID.randomUUID().toString().substring(0, 8);
    String callbackUrl = receiverBase + "/webhooks/twilio/" + tenant + "/status";
    SmsRequest request =
        new SmsRequest(
            tenant, "+15550100001", "+12125550123", "Hi & welcome = 1", "key-1", callbackUrl);

    String sid = accepted(twilio.send(request));
    assertThat(sid).matches("SM[0-9a-f]{32}");
    JsonNode log = log(tenant, 0);
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
    JsonNode again = log(tenant, first.get("id").asLong());
    assertThat(again).hasSize(1);
    assertThat(again.get(0).get("duplicate").asBoolean()).isTrue();
    assertThat(again.get(0).get("id").asLong()).isGreaterThan(first.get("id").asLong());

    // Two receipts (sent, delivered) for the one delivery, and no more for the duplicate.
    String path = "/webhooks/twilio/" + tenant + "/status";
    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(10))
        .until(() -> received(path).size() == 2);
    List<String> statuses = new ArrayList<>();
    for (Callback c : received(path)) {
      Map<String, String> form = formDecode(c.body());
      assertThat(
              TwilioSignature.verify(
                  CREDENTIALS.twilioAuthToken(),
                  callbackUrl,
                  form,
                  c.headers().get("X-Twilio-Signature")))
          .as(c.toString())
          .isTrue();
      assertThat(
              TwilioSignature.verify(
                  "another-token", callbackUrl, form, c.headers().get("X-Twilio-Signature")))
          .isFalse();
      assertThat(form)
          .containsEntry("MessageSid", sid)
          .containsEntry("To", "+12125550123")
          .containsEntry("From", "+15550100001")
          .containsEntry("AccountSid", CREDENTIALS.twilioAccountSid());
      statuses.add(form.get("MessageStatus"));
    }
    assertThat(statuses).containsExactly("sent", "delivered");
  }

  @Test
  void twilioRefusesWrongCredentialsAsFinal() {
    SmsProvider wrong =
        new TwilioSmsAdapter(
            new io.outreach.http.provider.ProviderHttp(
                system, 64, java.time.Duration.ofSeconds(10)),
            URI.create(sandbox + "/sandbox/twilio"),
            CREDENTIALS.twilioAccountSid(),
            "nope");
    SendResult r =
        join(wrong.send(new SmsRequest("x", "+15550100001", "+12125550123", "hi", "k", null)));
    assertThat(r)
        .isInstanceOfSatisfying(
            SendResult.Rejected.class,
            rej -> {
              assertThat(rej.status()).isEqualTo(401);
              assertThat(rej.retryable()).isFalse();
              assertThat(rej.reason()).isEqualTo("Authenticate");
            });
  }

  // ---- SignalHouse ----

  @Test
  void signalHouseSendIsAcceptedLoggedOnceDeduplicatedAndReceiptedWithValidSignatures() {
    String tenant = "sh-" + UUID.randomUUID().toString().substring(0, 8);
    String callbackUrl = receiverBase + "/webhooks/signalhouse/" + tenant;
    SmsRequest request =
        new SmsRequest(
            tenant, "+15550100002", "+12125550199", "Quick question", "sh-key-1", callbackUrl);

    String id = accepted(signalHouse.send(request));
    JsonNode log = log(tenant, 0);
    assertThat(log).hasSize(1);
    assertThat(log.get(0).get("provider").asText()).isEqualTo("signalhouse");
    assertThat(log.get(0).get("body").asText()).isEqualTo("Quick question");
    assertThat(log.get(0).get("idempotencyKey").asText()).isEqualTo("sh-key-1");
    assertThat(log.get(0).get("duplicate").asBoolean()).isFalse();

    assertThat(accepted(signalHouse.send(request))).isEqualTo(id);
    JsonNode both = log(tenant, 0);
    assertThat(both).hasSize(2);
    assertThat(both.get(1).get("duplicate").asBoolean()).isTrue();

    String path = "/webhooks/signalhouse/" + tenant;
    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(10))
        .until(() -> received(path).size() == 2);
    List<String> statuses = new ArrayList<>();
    List<String> deliveryIds = new ArrayList<>();
    for (Callback c : received(path)) {
      String timestamp = c.headers().get("X-SignalHouse-Timestamp");
      String signature = c.headers().get("X-SignalHouse-Signature");
      assertThat(
              SignalHouseSignature.verify(
                  CREDENTIALS.signalHouseWebhookSecret(),
                  timestamp,
                  c.body(),
                  signature,
                  Instant.now(),
                  SignalHouseSignature.MAX_AGE))
          .as(c.toString())
          .isTrue();
      JsonNode event = parse(c.body());
      assertThat(event.get("event").asText()).isEqualTo("message.status");
      assertThat(event.at("/data/messageId").asText()).isEqualTo(id);
      assertThat(event.at("/data/to").asText()).isEqualTo("+12125550199");
      assertThat(event.at("/data/from").asText()).isEqualTo("+15550100002");
      statuses.add(event.at("/data/status").asText());
      deliveryIds.add(c.headers().get("X-SignalHouse-Delivery-Id"));
    }
    assertThat(statuses).containsExactly("sent", "delivered");
    assertThat(deliveryIds).doesNotContainNull().doesNotHaveDuplicates();
  }

  @Test
  void tenantComesFromATenantFieldWhenThereIsNoCallback() {
    String tenant = "field-" + UUID.randomUUID().toString().substring(0, 8);
    var r =
        client(
            "POST",
            "/sandbox/signalhouse/message/sms",
            "{\"from\":\"+15550100002\",\"to\":\"+12125550100\",\"message\":\"hi\",\"tenant\":\""
                + tenant
                + "\"}",
            "Authorization",
            "Bearer " + CREDENTIALS.signalHouseApiKey());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(parse(r.body()).get("status").asText()).isEqualTo("queued");
    assertThat(log(tenant, 0)).hasSize(1);
  }

  // ---- faults ----

  @Test
  void rateLimitAnswers429WithRetryAfterThatTheAdapterReportsAsRetryable() {
    assertThat(call("PUT", "/sandbox/faults", "{\"rateLimitPerSecond\":1}").statusCode())
        .isEqualTo(200);
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
                            429, "too many requests", true, Optional.of(Duration.ofSeconds(1)))));
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
                          assertThat(r.retryAfter()).contains(Duration.ofSeconds(1));
                        }));
  }

  @Test
  void outageAnswers503ToEveryProviderCallAndIsRetryable() {
    long before = lastLogId();
    assertThat(call("PUT", "/sandbox/faults", "{\"outage\":true}").statusCode()).isEqualTo(200);
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
    assertThat(call("PUT", "/sandbox/faults", "{\"errorRate\":1.0}").statusCode()).isEqualTo(200);
    SendResult r =
        join(
            signalHouse.send(
                new SmsRequest("err", "+15550100001", "+12125550123", "hi", null, null)));
    assertThat(r)
        .isInstanceOfSatisfying(
            SendResult.Rejected.class,
            rej -> {
              assertThat(rej.status()).isEqualTo(500);
              assertThat(rej.retryable()).isTrue();
            });
  }

  @Test
  void invalidFaultsAreAProblem() {
    var r = call("PUT", "/sandbox/faults", "{\"errorRate\":2}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(call("PUT", "/sandbox/faults", "{\"latency\":5}").statusCode()).isEqualTo(400);
  }

  @Test
  void aProviderThatCannotBeReachedFailsTheStage() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    SmsProvider unreachable =
        new TwilioSmsAdapter(
            new io.outreach.http.provider.ProviderHttp(
                system, 64, java.time.Duration.ofSeconds(10)),
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

  private static String accepted(java.util.concurrent.CompletionStage<SendResult> stage) {
    SendResult r = join(stage);
    assertThat(r).isInstanceOf(SendResult.Accepted.class);
    return ((SendResult.Accepted) r).providerMessageId();
  }

  private static SendResult join(java.util.concurrent.CompletionStage<SendResult> stage) {
    try {
      return stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      throw new AssertionError("the send failed", e.getCause());
    }
  }

  private static List<Callback> received(String path) {
    return callbacks.stream().filter(c -> c.path().equals(path)).toList();
  }

  private static JsonNode log(String tenant, long since) {
    var r = call("GET", "/sandbox/log?tenant=" + tenant + "&since=" + since, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return parse(r.body());
  }

  private static long lastLogId() {
    JsonNode all = parse(call("GET", "/sandbox/log", null).body());
    return all.isEmpty() ? 0 : all.get(all.size() - 1).get("id").asLong();
  }

  private static HttpResponse<String> call(String method, String path, String json) {
    return client(method, path, json, "Content-Type", "application/json");
  }

  private static HttpResponse<String> client(
      String method, String path, String body, String... headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(sandbox + path))
            .timeout(Duration.ofSeconds(10))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    if (body != null && headers.length == 2 && !headers[0].equals("Content-Type")) {
      b.header("Content-Type", "application/json");
    }
    try {
      return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static JsonNode parse(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }

  private static Map<String, String> formDecode(String body) {
    Map<String, String> form = new TreeMap<>();
    for (String pair : body.split("&")) {
      int eq = pair.indexOf('=');
      form.put(
          URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return form;
  }
}
