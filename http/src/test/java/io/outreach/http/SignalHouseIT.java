package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SignalHouse end to end in sandbox mode: the engine's adapter sends in SignalHouse's shape to the
 * twin on the engine's own port, the twin's receipts and replies come back in SignalHouse's webhook
 * envelope and move the messages and the conversation; a recipient SignalHouse will not text (its
 * DNC list) and an API key it does not know fail their messages at once, with the reason, after one
 * call each.
 */
class SignalHouseIT {
  private static final String SENDER = "+15550100021";
  private static TestEngine node;

  @BeforeAll
  static void start() {
    node = TestEngine.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static String tenant(String id) {
    String op = node.tenant(id);
    node.settings(
        id,
        "{\"senders\":[{\"provider\":\"signalhouse\",\"from\":\""
            + SENDER
            + "\",\"kind\":\"short_code\",\"mps\":100}]}");
    return op;
  }

  private static String launch(String op, int area, int n) {
    return CampaignLifecycleIT.launch(node, op, area, n, ",\"provider\":\"signalhouse\"");
  }

  private static List<JsonNode> messages(String op, String campaign, String status) {
    List<JsonNode> out = new ArrayList<>();
    IntakeIT.body(node.get("/v1/campaigns/" + campaign + "/messages?status=" + status, op))
        .get("items")
        .forEach(out::add);
    return out;
  }

  private static long answered(int status) {
    return IntakeIT.body(node.get("/sandbox/stats", null))
        .path("calls")
        .path("signalhouse")
        .path(Integer.toString(status))
        .asLong(0);
  }

  @Test
  void aCampaignIsSentAndDeliveredAndAStopReplyOptsThePersonOut() {
    String op = tenant("sh-sent");
    String id = launch(op, 415, 5);
    JsonNode done =
        CampaignLifecycleIT.awaitState(node, op, id, "completed", Duration.ofSeconds(60));
    assertThat(done.at("/counts/sent").asLong()).isEqualTo(5);
    // MESSAGE_DELIVERED events to the statusCallbackUrl, verified and applied.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                IntakeIT.body(node.get("/v1/campaigns/" + id, op)).at("/counts/delivered").asLong()
                    == 5);
    JsonNode log = IntakeIT.body(node.sandboxLog("sh-sent"));
    assertThat(log).hasSize(5).allMatch(e -> e.get("provider").asText().equals("signalhouse"));
    // The receipts may land before the messages' rows; the rows catch up.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(messages(op, id, "delivered"))
                    .hasSize(5)
                    .allMatch(m -> m.get("providerMessageId").asText().matches("[0-9a-f]{24}")));

    String person = CampaignLifecycleIT.phone(415, 0);
    var reply =
        node.json(
            "POST",
            "/sandbox/replies",
            node.token("sh-sent", Role.OPERATOR),
            "{\"tenant\":\"sh-sent\",\"from\":\""
                + person
                + "\",\"to\":\""
                + SENDER
                + "\",\"body\":\"STOP\",\"provider\":\"signalhouse\"}");
    assertThat(reply.statusCode()).as(reply.body()).isEqualTo(200);
    assertThat(IntakeIT.body(reply).get("status").asInt()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        IntakeIT.body(node.get("/v1/conversations/" + person, op))
                            .at("/conversation/optedOut")
                            .asBoolean())
                    .isTrue());
  }

  @Test
  void aNumberOnSignalHousesDncListFailsWithItsReasonAfterOneCall() {
    String op = tenant("sh-dnc");
    String blocked = CampaignLifecycleIT.phone(416, 1);
    assertThat(node.sandboxFaults("{\"dncNumbers\":[\"" + blocked + "\"]}").statusCode())
        .isEqualTo(200);
    try {
      String id = launch(op, 416, 3);
      JsonNode done =
          CampaignLifecycleIT.awaitState(node, op, id, "completed", Duration.ofSeconds(60));
      assertThat(done.at("/counts/sent").asLong()).isEqualTo(2);
      assertThat(done.at("/counts/failed").asLong()).isEqualTo(1);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                List<JsonNode> failed = messages(op, id, "failed");
                assertThat(failed).hasSize(1);
                assertThat(failed.get(0).get("phone").asText()).isEqualTo(blocked);
                assertThat(failed.get(0).get("reason").asText()).contains("do-not-contact");
              });
      List<JsonNode> calls = new ArrayList<>();
      for (JsonNode e : IntakeIT.body(node.sandboxLog("sh-dnc"))) {
        if (e.get("to").asText().equals(blocked)) {
          calls.add(e);
        }
      }
      assertThat(calls).as("not retried").hasSize(1);
      assertThat(calls.get(0).get("blocked").asText()).isEqualTo("DNC");
    } finally {
      node.sandboxFaults("{}");
    }
  }

  @Test
  void anApiKeyTheProviderDoesNotKnowFailsTheMessageAfterOneCall() {
    String op = tenant("sh-key");
    var put =
        node.json(
            "PUT",
            "/v1/tenant/providers/signalhouse",
            node.token("sh-key", Role.ADMIN),
            "{\"apiKey\":\"a-key-signalhouse-does-not-know\","
                + "\"webhookSecret\":\"a-webhook-secret-of-its-own\"}");
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    long before = answered(401);
    String id = launch(op, 417, 1);
    JsonNode done =
        CampaignLifecycleIT.awaitState(node, op, id, "completed", Duration.ofSeconds(60));
    assertThat(done.at("/counts/failed").asLong()).isEqualTo(1);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(messages(op, id, "failed"))
                    .singleElement()
                    .satisfies(
                        m -> assertThat(m.get("reason").asText()).startsWith("unauthorized")));
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> answered(401) == before + 1);
  }
}
