package io.outreach.http.sandbox;

import static io.outreach.http.sandbox.SandboxClient.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SignalHouseSignature;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import io.outreach.engine.provider.TwilioSignature;
import io.outreach.http.Main;
import io.outreach.http.provider.SignalHouseSmsAdapter;
import io.outreach.http.provider.TwilioSmsAdapter;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Delivery receipts through the bounded queue, over real HTTP to a Pekko HTTP receiver standing in
 * for the engine: Twilio's two per message in order, SignalHouse's one event, retries until every
 * receipt lands exactly once, bounded concurrency and connections, receipts given up (counted and
 * logged), and the receipt faults.
 */
class SandboxReceiptsIT {
  private static final SandboxSettings CREDENTIALS =
      SandboxSettings.DEFAULTS.withReceiptConcurrency(16);
  private static final SandboxAccounts.Account TWILIO =
      new SandboxAccounts.Account(
          "twilio", SandboxSettings.TWILIO_TEST_SID, SandboxSettings.TWILIO_TEST_TOKEN);
  private static final SandboxAccounts.Account SIGNALHOUSE =
      new SandboxAccounts.Account(
          "signalhouse",
          SandboxSettings.SIGNALHOUSE_TEST_KEY,
          SandboxSettings.SIGNALHOUSE_TEST_SECRET);

  private static ActorSystem<Void> system;
  private static WebhookReceiver engine;
  private static SandboxClient sandbox;
  private static SmsProvider twilio;
  private static SmsProvider signalHouse;
  private static final Warnings warnings = new Warnings();

  /** The WARN lines of {@link SandboxReceipts}, safe to read while they are written. */
  static final class Warnings extends AppenderBase<ILoggingEvent> {
    final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();

    @Override
    protected void append(ILoggingEvent event) {
      if (event.getLevel() == Level.WARN) {
        lines.add(event.getFormattedMessage());
      }
    }

    List<String> mentioning(String text) {
      return lines.stream().filter(l -> l.contains(text)).toList();
    }
  }

  @BeforeAll
  static void start() {
    system =
        ActorSystem.create(
            Behaviors.empty(),
            "sandbox-receipts-it",
            ConfigFactory.parseString("pekko.http.server.remote-address-attribute = on")
                .withFallback(Main.sandboxConfig()));
    engine = new WebhookReceiver(system);
    var binding =
        SandboxServer.start(system, "127.0.0.1", 0, CREDENTIALS, SandboxClient.AUTH, engine::base)
            .toCompletableFuture()
            .join();
    String base = "http://127.0.0.1:" + binding.localAddress().getPort();
    sandbox = new SandboxClient(base);
    twilio =
        new TwilioSmsAdapter(
            new io.outreach.http.provider.ProviderHttp(
                system, 64, java.time.Duration.ofSeconds(10)),
            URI.create(base + "/sandbox/twilio"),
            SandboxSettings.TWILIO_TEST_SID,
            SandboxSettings.TWILIO_TEST_TOKEN);
    signalHouse =
        new SignalHouseSmsAdapter(
            new io.outreach.http.provider.ProviderHttp(
                system, 64, java.time.Duration.ofSeconds(10)),
            URI.create(base + "/sandbox/signalhouse/"),
            SandboxSettings.SIGNALHOUSE_TEST_KEY);
    warnings.start();
    ((Logger) LoggerFactory.getLogger(SandboxReceipts.class)).addAppender(warnings);
  }

  @AfterAll
  static void stop() {
    ((Logger) LoggerFactory.getLogger(SandboxReceipts.class)).detachAppender(warnings);
    engine.stop();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  @AfterEach
  void settle() {
    // Every test leaves no receipt behind for the next one.
    await().atMost(Duration.ofSeconds(30)).until(() -> stats().get("queued").asLong() == 0);
    sandbox.faults("{}");
    engine.reset();
  }

  @Test
  void eachMessageGetsSentThenDeliveredSignedAsItsProviderSignsThem() {
    String tenant = tenant();
    String twilioUrl = engine.base() + "/webhooks/twilio/" + tenant + "/status";
    String shUrl = engine.base() + "/webhooks/signalhouse/" + tenant;
    List<String> twilioIds = sendAll(twilio, tenant, twilioUrl, 50);
    List<String> shIds = sendAll(signalHouse, tenant, shUrl, 50);

    await().atMost(Duration.ofSeconds(20)).until(() -> engine.calls().size() == 150);
    Map<String, List<String>> statuses = new HashMap<>();
    Set<String> deliveryIds = new HashSet<>();
    for (WebhookReceiver.Call c : engine.calls()) {
      if (c.path().startsWith("/webhooks/twilio/")) {
        Map<String, String> form = c.form();
        assertThat(
                TwilioSignature.verify(
                    SandboxSettings.TWILIO_TEST_TOKEN,
                    twilioUrl,
                    form,
                    c.header("X-Twilio-Signature")))
            .as(c.toString())
            .isTrue();
        assertThat(form)
            .containsEntry("AccountSid", SandboxSettings.TWILIO_TEST_SID)
            .doesNotContainKey("ErrorCode");
        assertThat(c.header("I-Twilio-Idempotency-Token")).isNotBlank();
        statuses
            .computeIfAbsent(form.get("MessageSid"), k -> new ArrayList<>())
            .add(form.get("MessageStatus"));
      } else {
        assertThat(
                SignalHouseSignature.verify(
                    SandboxSettings.SIGNALHOUSE_TEST_SECRET,
                    c.header("X-SignalHouse-Timestamp"),
                    c.body(),
                    c.header("X-SignalHouse-Signature"),
                    Instant.now(),
                    SignalHouseSignature.MAX_AGE))
            .as(c.toString())
            .isTrue();
        assertThat(deliveryIds.add(c.header("X-SignalHouse-Delivery-Id")))
            .as("one delivery id per receipt")
            .isTrue();
        JsonNode event = parse(c.body());
        statuses
            .computeIfAbsent(event.get("identifier").asText(), k -> new ArrayList<>())
            .add(event.get("event").asText());
      }
    }
    assertThat(statuses.keySet()).containsExactlyInAnyOrderElementsOf(concat(twilioIds, shIds));
    assertThat(twilioIds)
        .allSatisfy(id -> assertThat(statuses.get(id)).containsExactly("sent", "delivered"));
    assertThat(shIds)
        .allSatisfy(id -> assertThat(statuses.get(id)).containsExactly("MESSAGE_DELIVERED"));

    JsonNode log = sandbox.get("/sandbox/log?tenant=" + tenant);
    assertThat(log).hasSize(100);
    for (JsonNode e : log) {
      assertThat(e.get("direction").asText()).isEqualTo("outbound");
      assertThat(e.get("at").asText())
          .as("millisecond precision")
          .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    }
  }

  @Test
  void aBurstWithFailingFirstAttemptsDeliversEveryReceiptOnceInOrderOverFewConnections() {
    // The queue on its own, with the providers' real retry policies: 5,000 messages accepted at
    // once (the twins' HTTP side is covered above and costs more than the receipts themselves).
    SandboxReceipts receipts =
        new SandboxReceipts(system, new SandboxWebhooks(system), 16, () -> SandboxFaults.NONE);
    String tenant = tenant();
    String twilioUrl = engine.base() + "/webhooks/twilio/" + tenant + "/status";
    String shUrl = engine.base() + "/webhooks/signalhouse/" + tenant;
    // A fifth of all receipts fail at their first attempt; every answer takes a little while, so
    // the posts overlap as they would against a busy engine.
    Set<String> seen = ConcurrentHashMap.newKeySet();
    AtomicInteger refused = new AtomicInteger();
    engine.delay = Duration.ofMillis(1);
    engine.answer =
        request -> {
          String key = receiptKey(request.path(), request.body());
          if (seen.add(key) && Math.floorMod(key.hashCode(), 5) == 0) {
            refused.incrementAndGet();
            return 500;
          }
          return 200;
        };

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      boolean viaTwilio = i % 2 == 0;
      String id =
          viaTwilio
              ? "SM" + UUID.randomUUID().toString().replace("-", "")
              : UUID.randomUUID().toString();
      ids.add(id);
      receipts.deliver(
          outbound(i, viaTwilio ? "twilio" : "signalhouse", tenant, "+15550100001", id),
          viaTwilio ? twilioUrl : shUrl,
          false,
          false,
          viaTwilio ? TWILIO : SIGNALHOUSE);
    }
    assertThat(receipts.stats().queued()).isGreaterThan(2_500);

    await().atMost(Duration.ofSeconds(60)).until(() -> receipts.stats().queued() == 0);

    Map<String, Integer> accepted = new HashMap<>();
    Map<String, Long> firstDeliveredAttempt = new HashMap<>();
    Map<String, Long> sentAccepted = new HashMap<>();
    for (WebhookReceiver.Call c : engine.calls()) {
      String key = receiptKey(c.path(), c.body());
      String message = key.substring(0, key.indexOf('/'));
      if (key.endsWith("/delivered")) {
        firstDeliveredAttempt.putIfAbsent(message, c.seq());
      }
      if (c.status() == 200) {
        accepted.merge(key, 1, Integer::sum);
        if (key.endsWith("/sent")) {
          sentAccepted.put(message, c.seq());
        }
      }
    }
    Set<String> expected = new HashSet<>();
    List<String> twilioIds = ids.stream().filter(id -> id.startsWith("SM")).toList();
    for (String id : ids) {
      if (id.startsWith("SM")) {
        expected.add(id + "/sent");
      }
      expected.add(id + "/delivered");
    }
    assertThat(accepted.keySet()).as("every receipt landed").isEqualTo(expected);
    assertThat(accepted.values()).as("and landed once").containsOnly(1);
    assertThat(twilioIds)
        .as("Twilio's delivered is posted only after sent was answered 2xx")
        .allSatisfy(
            id -> assertThat(firstDeliveredAttempt.get(id)).isGreaterThan(sentAccepted.get(id)));
    assertThat(refused.get()).isGreaterThan(700);
    assertThat(engine.calls()).hasSize(7_500 + refused.get());

    assertThat(engine.maxInFlight()).as("posts in flight at once").isBetween(2, 16);
    // Kept alive: two pools (one per provider) of at most 16, and the odd reconnect after an
    // idle timeout, for over 10,000 posts.
    assertThat(engine.connections()).as("connections opened").isLessThanOrEqualTo(64);
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(receipts.stats())
                    .isEqualTo(
                        new SandboxReceipts.Stats(
                            16, 0, 0, 7_500, 7_500 + refused.get(), refused.get(), 0, 0, 0)));
  }

  @Test
  void receiptsTheEngineKeepsRefusingAreGivenUpCountedAndLoggedAfterTheProvidersAttempts() {
    String tenant = tenant();
    String twilioUrl = engine.base() + "/webhooks/twilio/" + tenant + "/status";
    String shUrl = engine.base() + "/webhooks/signalhouse/" + tenant;
    engine.answer = request -> request.path().contains(tenant) ? 500 : 200;
    JsonNode before = stats();
    String twilioId = sendAll(twilio, tenant, twilioUrl, 1).get(0);
    String shId = sendAll(signalHouse, tenant, shUrl, 1).get(0);

    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> stats().get("givenUp").asLong() - before.get("givenUp").asLong() == 3);

    // Twilio: two attempts per receipt; delivered only once sent was given up.
    List<String> twilioStatuses =
        engine.calls(URI.create(twilioUrl).getPath()).stream()
            .map(c -> c.form().get("MessageStatus"))
            .toList();
    assertThat(twilioStatuses).containsExactly("sent", "sent", "delivered", "delivered");
    // SignalHouse: one event, three attempts with one delivery id, each signed afresh.
    var shCalls = engine.calls(URI.create(shUrl).getPath());
    assertThat(shCalls).hasSize(3);
    assertThat(shCalls.stream().map(c -> c.header("X-SignalHouse-Delivery-Id")).distinct())
        .hasSize(1);
    assertThat(shCalls.stream().map(c -> c.header("X-SignalHouse-Timestamp")).distinct())
        .hasSize(3);
    assertThat(shCalls.stream().map(WebhookReceiver.Call::body).distinct())
        .as("the event itself is the same on each attempt")
        .hasSize(1);
    assertThat(shCalls)
        .allSatisfy(
            c ->
                assertThat(
                        SignalHouseSignature.verify(
                            SandboxSettings.SIGNALHOUSE_TEST_SECRET,
                            c.header("X-SignalHouse-Timestamp"),
                            c.body(),
                            c.header("X-SignalHouse-Signature"),
                            Instant.now(),
                            SignalHouseSignature.MAX_AGE))
                    .isTrue());

    assertThat(warnings.mentioning(twilioId))
        .hasSize(2)
        .allMatch(l -> l.contains("after 2 attempts") && l.contains("500"));
    assertThat(warnings.mentioning(shId))
        .hasSize(1)
        .allMatch(l -> l.contains("after 3 attempts") && l.contains("500"));
    JsonNode after = stats();
    assertThat(after.get("retried").asLong() - before.get("retried").asLong()).isEqualTo(2 + 2);
    assertThat(after.get("posted").asLong()).isEqualTo(before.get("posted").asLong());
  }

  @Test
  void reorderedReceiptsPostTheLastOneFirstAndReplaysRepeatTheIdenticalSignedRequest() {
    SandboxFaults faults =
        new SandboxFaults(0, 0, 0, false, 0, true, List.of(), List.of(), 0, true, true);
    SandboxReceipts receipts =
        new SandboxReceipts(system, new SandboxWebhooks(system), 4, () -> faults);
    String tenant = tenant();
    String url = engine.base() + "/webhooks/twilio/" + tenant + "/status";
    engine.answer = request -> 200;
    String id = "SM" + UUID.randomUUID().toString().replace("-", "");
    SandboxLogEntry message = outbound(1, "twilio", tenant, "+15550100001", id);

    receipts.deliver(message, url, false, faults.reorderReceipts(), TWILIO);

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> engine.calls(URI.create(url).getPath()).size() == 4);
    List<WebhookReceiver.Call> calls = engine.calls(URI.create(url).getPath());
    List<String> firstPosts =
        calls.stream().map(c -> receiptKey(c.path(), c.body())).distinct().toList();
    assertThat(firstPosts)
        .as("delivered first, then sent")
        .containsExactly(id + "/delivered", id + "/sent");
    for (String key : firstPosts) {
      List<WebhookReceiver.Call> same =
          calls.stream().filter(c -> receiptKey(c.path(), c.body()).equals(key)).toList();
      assertThat(same).as("%s posted and replayed", key).hasSize(2);
      assertThat(same.get(1).body()).isEqualTo(same.get(0).body());
      assertThat(same.get(1).header("X-Twilio-Signature"))
          .as("the same signature")
          .isNotNull()
          .isEqualTo(same.get(0).header("X-Twilio-Signature"));
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(receipts.stats())
                    .isEqualTo(new SandboxReceipts.Stats(4, 0, 0, 2, 2, 0, 0, 2, 0)));
  }

  @Test
  void anAttemptWithoutAnAnswerInTimeIsRetriedThenGivenUp() {
    // The real timeouts (15 s, 3 s) are too long for a test: the same queue with shorter ones.
    var policy = new SandboxReceipts.Policy(3, Duration.ofMillis(300), Duration.ofMillis(100));
    SandboxReceipts receipts =
        new SandboxReceipts(
            system,
            new SandboxWebhooks(system),
            4,
            Map.of("twilio", policy, "signalhouse", policy),
            () -> SandboxFaults.NONE);
    String tenant = tenant();
    String url = engine.base() + "/webhooks/signalhouse/" + tenant;
    engine.answer = request -> null;
    SandboxLogEntry message =
        outbound(1, "signalhouse", tenant, "+15550100002", UUID.randomUUID().toString());

    receipts.deliver(message, url, false, false, SIGNALHOUSE);

    await().atMost(Duration.ofSeconds(15)).until(() -> receipts.stats().givenUp() == 1);
    assertThat(engine.calls(URI.create(url).getPath())).hasSize(3);
    assertThat(receipts.stats()).isEqualTo(new SandboxReceipts.Stats(4, 0, 0, 0, 3, 2, 1, 0, 0));
    assertThat(warnings.mentioning(message.messageId()))
        .hasSize(1)
        .allMatch(l -> l.contains("after 3 attempts"));
  }

  @Test
  void undeliveredRateEndsThatShareOfMessagesUndeliveredAfterSent() {
    sandbox.faults("{\"undeliveredRate\":1.0}");
    String tenant = tenant();
    String twilioUrl = engine.base() + "/webhooks/twilio/" + tenant + "/status";
    String shUrl = engine.base() + "/webhooks/signalhouse/" + tenant;
    sendAll(twilio, tenant, twilioUrl, 1);
    sendAll(signalHouse, tenant, shUrl, 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> engine.calls().size() == 3);

    var twilioCalls = engine.calls(URI.create(twilioUrl).getPath());
    assertThat(twilioCalls.stream().map(c -> c.form().get("MessageStatus")))
        .containsExactly("sent", "undelivered");
    assertThat(twilioCalls.get(0).form()).doesNotContainKey("ErrorCode");
    assertThat(twilioCalls.get(1).form()).containsEntry("ErrorCode", "30003");
    assertThat(
            TwilioSignature.verify(
                SandboxSettings.TWILIO_TEST_TOKEN,
                twilioUrl,
                twilioCalls.get(1).form(),
                twilioCalls.get(1).header("X-Twilio-Signature")))
        .isTrue();
    assertThat(
            engine.calls(URI.create(shUrl).getPath()).stream()
                .map(c -> parse(c.body()).get("event").asText()))
        .containsExactly("MESSAGE_FAILED");

    // A share: about half of 200 messages.
    sandbox.faults("{\"undeliveredRate\":0.5}");
    engine.reset();
    sendAll(twilio, tenant, twilioUrl, 200);
    await().atMost(Duration.ofSeconds(20)).until(() -> engine.calls().size() == 400);
    Map<String, Long> byStatus =
        engine.calls().stream()
            .collect(
                Collectors.groupingBy(c -> c.form().get("MessageStatus"), Collectors.counting()));
    assertThat(byStatus.get("sent")).isEqualTo(200);
    assertThat(byStatus.get("undelivered")).isBetween(60L, 140L);
    assertThat(byStatus.get("undelivered") + byStatus.get("delivered")).isEqualTo(200);
  }

  @Test
  void receiptsOffAcceptsMessagesButPostsNoReceipts() {
    sandbox.faults("{\"receipts\":false}");
    assertThat(sandbox.get("/sandbox/faults").get("receipts").asBoolean()).isFalse();
    String tenant = tenant();
    JsonNode before = stats();
    sendAll(twilio, tenant, engine.base() + "/webhooks/twilio/" + tenant + "/status", 3);
    sendAll(signalHouse, tenant, engine.base() + "/webhooks/signalhouse/" + tenant, 3);

    assertThat(sandbox.get("/sandbox/log?tenant=" + tenant)).hasSize(6);
    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(5))
        .until(() -> engine.calls().isEmpty());
    assertThat(stats().get("attempts").asLong()).isEqualTo(before.get("attempts").asLong());

    // Cleared faults post receipts again.
    sandbox.faults("{}");
    sendAll(twilio, tenant, engine.base() + "/webhooks/twilio/" + tenant + "/status", 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> engine.calls().size() == 2);
  }

  @Test
  void invalidReceiptFaultsAreProblemsNamingTheField() {
    for (var body :
        Map.of(
                "{\"undeliveredRate\":1.5}", "undeliveredRate",
                "{\"undeliveredRate\":-0.1}", "undeliveredRate",
                "{\"receipts\":\"sometimes\"}", "receipts")
            .entrySet()) {
      var r = sandbox.call("PUT", "/sandbox/faults", SandboxClient.platform(), body.getKey());
      assertThat(r.statusCode()).as(body.getKey()).isEqualTo(400);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
      assertThat(parse(r.body()).get("detail").asText()).contains(body.getValue());
    }
    JsonNode faults = sandbox.get("/sandbox/faults");
    assertThat(faults.get("undeliveredRate").asDouble()).isZero();
    assertThat(faults.get("receipts").asBoolean()).isTrue();
  }

  // ---- plumbing ----

  private static String tenant() {
    return "rc-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Sends {@code count} messages through {@code provider}, 64 at a time; their message ids. */
  private static List<String> sendAll(
      SmsProvider provider, String tenant, String callbackUrl, int count) {
    Semaphore window = new Semaphore(64);
    List<CompletableFuture<String>> sends = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      window.acquireUninterruptibly();
      SmsRequest request =
          new SmsRequest(
              tenant,
              "+15550100001",
              "+1212555" + String.format("%04d", i % 10_000),
              "Hi " + i,
              "key-" + UUID.randomUUID(),
              callbackUrl);
      sends.add(
          provider
              .send(request)
              .toCompletableFuture()
              .whenComplete((r, e) -> window.release())
              .thenApply(r -> ((SendResult.Accepted) r).providerMessageId()));
    }
    return sends.stream().map(CompletableFuture::join).toList();
  }

  /** {@code messageId/status} of a receipt, from either provider's shape. */
  private static String receiptKey(String path, String body) {
    if (path.startsWith("/webhooks/twilio/")) {
      Map<String, String> form = new WebhookReceiver.Call(0, path, Map.of(), body, "", 0).form();
      return form.get("MessageSid") + "/" + form.get("MessageStatus");
    }
    JsonNode event = parse(body);
    return event.get("identifier").asText()
        + (event.get("event").asText().equals("MESSAGE_DELIVERED") ? "/delivered" : "/failed");
  }

  private static JsonNode stats() {
    return sandbox.get("/sandbox/stats").get("receipts");
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /**
   * Message {@code seq} the twin accepted for {@code tenant} from {@code from}, with id {@code id}.
   */
  private static SandboxLogEntry outbound(
      long seq, String provider, String tenant, String from, String id) {
    return new SandboxLogEntry(
        seq,
        provider,
        SandboxLogEntry.OUTBOUND,
        tenant,
        "+12125550123",
        from,
        "hi",
        null,
        Instant.now(),
        false,
        id,
        null);
  }
}
