package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.engine.provider.TwilioSignature;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A campaign's life over HTTP with the sandbox: receipts move its messages forward (and a replayed
 * or late receipt moves nothing back), the campaign list and its messages page, and a kill switch
 * engaged mid-campaign stops new provider calls once the call has answered.
 */
class CampaignLifecycleIT {
  private static final String TWILIO_TOKEN = "sandbox-twilio-auth-token";
  private static TestEngine node;

  @BeforeAll
  static void start() {
    node = TestEngine.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static String phone(int area, int i) {
    return "+1" + area + (200 + i / 10_000) + String.format("%04d", i % 10_000);
  }

  /** Imports {@code n} leads and creates and launches a campaign to them; answers its id. */
  static String launch(TestEngine node, String op, int area, int n, String extra) {
    StringBuilder csv = new StringBuilder("first_name,phone\n");
    for (int i = 0; i < n; i++) {
      csv.append("R").append(i).append(',').append(phone(area, i)).append('\n');
    }
    JsonNode imp = IntakeIT.importAndWait(node, op, csv.toString());
    var created =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\"Lifecycle\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                + imp.get("id").asText()
                + "\"},\"message\":\"Hi {{first_name}}\""
                + extra
                + "}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = IntakeIT.body(created).get("id").asText();
    assertThat(node.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode())
        .isEqualTo(202);
    return id;
  }

  static JsonNode awaitState(TestEngine node, String op, String id, String state, Duration atMost) {
    JsonNode[] c = new JsonNode[1];
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              c[0] = IntakeIT.body(node.get("/v1/campaigns/" + id, op));
              return c[0].get("state").asText().equals(state);
            });
    return c[0];
  }

  private static List<JsonNode> messages(String op, String id, String query) {
    return node.pages("/v1/campaigns/" + id + "/messages?" + query, op);
  }

  private static int twilioStatus(String tenant, String ref, String sid, String status) {
    String path =
        "/webhooks/twilio/"
            + tenant
            + "/status?ref="
            + URLEncoder.encode(ref, StandardCharsets.UTF_8);
    Map<String, String> params =
        new TreeMap<>(
            Map.of(
                "MessageSid",
                sid,
                "MessageStatus",
                status,
                "To",
                "+12125550100",
                "From",
                "+15550100001",
                "AccountSid",
                "AC" + "0".repeat(32)));
    String form =
        params.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    String url = "http://127.0.0.1:" + node.engine.httpPort() + path;
    return node.send(
            "POST",
            path,
            null,
            "application/x-www-form-urlencoded",
            HttpRequest.BodyPublishers.ofString(form),
            "X-Twilio-Signature",
            TwilioSignature.sign(TWILIO_TOKEN, url, params))
        .statusCode();
  }

  @Test
  void receiptsMoveMessagesForwardAndReplaysOrLateOnesMoveNothingBack() {
    String op = node.tenant("receipts");
    String id = launch(node, op, 212, 20, "");
    awaitState(node, op, id, "completed", Duration.ofSeconds(60));
    JsonNode[] c = new JsonNode[1];
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              c[0] = IntakeIT.body(node.get("/v1/campaigns/" + id, op));
              return c[0].at("/counts/delivered").asLong() == 20;
            });
    assertThat(c[0].at("/counts/sent").asLong()).isEqualTo(20);

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              List<JsonNode> all = messages(op, id, "limit=7");
              assertThat(all).hasSize(20);
              assertThat(all).allMatch(m -> m.get("status").asText().equals("delivered"));
              assertThat(all).allMatch(m -> m.get("providerMessageId").asText().startsWith("SM"));
              assertThat(all).allMatch(m -> m.get("from").asText().equals("+15550100001"));
              assertThat(all.stream().map(m -> m.get("recipient").asLong()).toList()).isSorted();
            });
    assertThat(messages(op, id, "status=failed")).isEmpty();
    assertThat(IntakeIT.body(node.get("/v1/campaigns", op)).get("items").get(0).get("id").asText())
        .isEqualTo(id);

    // A replayed "sent" and a late "undelivered" for a delivered message change nothing.
    String ref = id + ":0:0";
    for (int i = 0; i < 3; i++) {
      assertThat(twilioStatus("receipts", ref, "SMreplay", "sent")).isEqualTo(200);
    }
    assertThat(twilioStatus("receipts", ref, "SMreplay", "undelivered")).isEqualTo(200);
    JsonNode first = messages(op, id, "limit=1").get(0);
    assertThat(first.get("status").asText()).isEqualTo("delivered");
    assertThat(IntakeIT.body(node.get("/v1/campaigns/" + id, op)).at("/counts/delivered").asLong())
        .isEqualTo(20);
    assertThat(
            IntakeIT.body(node.get("/v1/campaigns/" + id, op)).at("/counts/undelivered").asLong())
        .isZero();
    // Another tenant's id answers 404, and so does an unknown one.
    String other = node.tenant("receipts-other");
    assertThat(node.get("/v1/campaigns/" + id + "/messages", other).statusCode()).isEqualTo(404);
    assertThat(node.get("/v1/campaigns/cmp_0000000000/messages", op).statusCode()).isEqualTo(404);
    assertThat(IntakeIT.body(node.get("/v1/campaigns", other)).get("items")).isEmpty();
  }

  @Test
  void aKillSwitchStopsNewProviderCallsOnceItHasAnsweredAndReleaseResumes() {
    String op = node.tenant("killed");
    node.sandboxFaults("{\"latencyMs\":20}");
    try {
      String id = launch(node, op, 646, 1500, "");
      await().atMost(Duration.ofSeconds(60)).until(() -> sandboxCount("killed") >= 100);
      var engaged = node.json("POST", "/v1/kill-switches", op, "{\"scope\":\"tenant\"}");
      assertThat(engaged.statusCode()).isEqualTo(201);
      int atAnswer = sandboxCount("killed");
      // Calls that started before the answer may still arrive; none may start after it, so the
      // log stops growing (for good: 3 s without a new entry).
      java.util.concurrent.atomic.AtomicInteger seen =
          new java.util.concurrent.atomic.AtomicInteger(-1);
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(10))
          .until(() -> seen.getAndSet(sandboxCount("killed")) == seen.get());
      int settled = seen.get();
      assertThat(settled - atAnswer)
          .as("calls in flight when the switch answered")
          .isLessThanOrEqualTo(100);
      assertThat(settled).isLessThan(1500);
      assertThat(IntakeIT.body(node.get("/v1/campaigns/" + id, op)).get("state").asText())
          .isEqualTo("running");

      String ks = IntakeIT.body(engaged).get("id").asText();
      assertThat(
              node.send(
                      "DELETE",
                      "/v1/kill-switches/" + ks,
                      node.token("killed", Role.ADMIN),
                      null,
                      null)
                  .statusCode())
          .isEqualTo(204);
      JsonNode done = awaitState(node, op, id, "completed", Duration.ofSeconds(90));
      assertThat(done.at("/counts/sent").asLong()).isEqualTo(1500);
      Set<String> to = new HashSet<>();
      for (JsonNode e : IntakeIT.body(node.sandboxLog("killed"))) {
        if (!e.path("duplicate").asBoolean(false)) {
          assertThat(to.add(e.get("to").asText())).as("delivered once: " + e.get("to")).isTrue();
        }
      }
      assertThat(to).hasSize(1500);
    } finally {
      node.sandboxFaults("{}");
    }
  }

  @Test
  void aHugeCampaignOfOneTenantDoesNotStarveAnotherTenant() {
    String big = node.tenant("big");
    node.settings(
        "big",
        "{\"senders\":[{\"provider\":\"twilio\",\"from\":\"+15550100011\",\"kind\":\"short_code\",\"mps\":200}]}");
    String small = node.tenant("small");
    String huge = launch(node, big, 213, 3000, "");
    await().atMost(Duration.ofSeconds(60)).until(() -> sandboxCount("big") >= 200);
    long t0 = System.nanoTime();
    String tiny = launch(node, small, 214, 30, "");
    awaitState(node, small, tiny, "completed", Duration.ofSeconds(30));
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    JsonNode running = IntakeIT.body(node.get("/v1/campaigns/" + huge, big));
    assertThat(running.get("state").asText()).as("the big one is still at it").isEqualTo("running");
    assertThat(took)
        .as("the small tenant's campaign did not wait for the big one")
        .isLessThan(Duration.ofSeconds(15));
    node.json("POST", "/v1/campaigns/" + huge + "/cancel", big, null);
  }

  private static int sandboxCount(String tenant) {
    return IntakeIT.body(node.sandboxLog(tenant)).size();
  }
}
