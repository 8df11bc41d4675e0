package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A campaign end to end over HTTP with the sandbox provider: 500 leads, some on the tenant's and
 * the national do-not-contact list; the sandbox receives exactly the others, once each, and the
 * counts add up.
 */
class CampaignIT {
  private static TestEngine node;

  @BeforeAll
  static void start() {
    node = TestEngine.start();
    for (String t : List.of("acme", "bravo")) {
      var r =
          node.json(
              "POST",
              "/v1/tenants",
              node.token("platform", Role.PLATFORM),
              "{\"id\":\""
                  + t
                  + "\",\"name\":\""
                  + t
                  + "\",\"timezone\":\"America/New_York\",\"monthlyBudgetCents\":100000}");
      assertThat(r.statusCode()).isEqualTo(201);
    }
  }

  private static int sandboxEntries(String tenant) {
    return IntakeIT.body(node.sandboxLog(tenant)).size();
  }

  @Test
  void aKillSwitchHoldsTheCampaignUntilReleased() {
    String op = node.token("bravo", Role.OPERATOR);
    StringBuilder csv = new StringBuilder("first_name,phone\n");
    for (int i = 0; i < 50; i++) {
      csv.append("B").append(i).append(',').append(phone(5000 + i)).append('\n');
    }
    JsonNode imp = IntakeIT.importAndWait(node, op, csv.toString());
    var engaged = node.json("POST", "/v1/kill-switches", op, "{\"scope\":\"tenant\"}");
    assertThat(engaged.statusCode()).isEqualTo(201);
    String id =
        IntakeIT.body(
                node.json(
                    "POST",
                    "/v1/campaigns",
                    op,
                    "{\"name\":\"Held\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                        + imp.get("id").asText()
                        + "\"},\"message\":\"Hi {{first_name}}\"}"))
            .get("id")
            .asText();
    assertThat(node.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode())
        .isEqualTo(202);
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(4))
        .until(() -> sandboxEntries("bravo") == 0);
    assertThat(IntakeIT.body(node.get("/v1/campaigns/" + id, op)).get("state").asText())
        .isEqualTo("running");

    String ks = IntakeIT.body(engaged).get("id").asText();
    assertThat(
            node.send(
                    "DELETE",
                    "/v1/kill-switches/" + ks,
                    node.token("bravo", Role.ADMIN),
                    null,
                    null)
                .statusCode())
        .isEqualTo(204);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                IntakeIT.body(node.get("/v1/campaigns/" + id, op))
                    .get("state")
                    .asText()
                    .equals("completed"));
    assertThat(sandboxEntries("bravo")).isEqualTo(50);
    assertThat(IntakeIT.body(node.get("/v1/campaigns/" + id, op)).at("/counts/sent").asLong())
        .isEqualTo(50);
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static String phone(int i) {
    return "+1212" + (200 + i / 10_000) + String.format("%04d", i % 10_000);
  }

  @Test
  void fiveHundredRecipientsWithDncReachTheSandboxExactlyOnce() {
    String op = node.token("acme", Role.OPERATOR);
    StringBuilder csv = new StringBuilder("first_name,phone,email\n");
    for (int i = 0; i < 499; i++) {
      csv.append("Lead").append(i).append(',').append(phone(i)).append(",\n");
    }
    csv.append("NoPhone,,nophone@example.com\n");
    JsonNode imp = IntakeIT.importAndWait(node, op, csv.toString());
    assertThat(imp.get("accepted").asLong()).isEqualTo(500);

    assertThat(
            node.json(
                    "POST",
                    "/v1/dnc",
                    op,
                    "{\"phones\":[\"" + phone(3) + "\",\"" + phone(77) + "\"]}")
                .statusCode())
        .isEqualTo(200);
    var national =
        node.send(
            "POST",
            "/v1/dnc/national?asOf=2026-11-20",
            node.token("platform", Role.PLATFORM),
            "text/csv",
            "phone\n" + phone(400) + "\n");
    assertThat(national.statusCode()).isEqualTo(200);

    var created =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\"Winter\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                + imp.get("id").asText()
                + "\"},\"message\":\"Hi {{first_name}}, winter deals inside\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = IntakeIT.body(created).get("id").asText();
    assertThat(IntakeIT.body(created).get("state").asText()).isEqualTo("draft");
    var launched = node.json("POST", "/v1/campaigns/" + id + "/launch", op, null);
    assertThat(launched.statusCode()).as(launched.body()).isEqualTo(202);

    JsonNode[] campaign = new JsonNode[1];
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              campaign[0] = IntakeIT.body(node.get("/v1/campaigns/" + id, op));
              return campaign[0].get("state").asText().equals("completed");
            });
    JsonNode counts = campaign[0].get("counts");
    assertThat(counts.get("recipients").asLong()).isEqualTo(500);
    assertThat(counts.get("sent").asLong()).isEqualTo(496);
    assertThat(counts.at("/blocked/dnc").asLong()).isEqualTo(3);
    assertThat(counts.at("/blocked/invalid").asLong()).isEqualTo(1);
    long blocked = 0;
    for (JsonNode n : counts.get("blocked")) {
      blocked += n.asLong();
    }
    assertThat(counts.get("recipients").asLong())
        .isEqualTo(counts.get("sent").asLong() + counts.get("failed").asLong() + blocked);
    assertThat(counts.get("pending").asLong()).isZero();

    JsonNode log = IntakeIT.body(node.sandboxLog("acme"));
    List<JsonNode> entries = new ArrayList<>();
    log.forEach(entries::add);
    if (entries.isEmpty() && log.has("items")) {
      log.get("items").forEach(entries::add);
    }
    Map<String, Integer> perNumber = new HashMap<>();
    for (JsonNode e : entries) {
      if (!e.path("duplicate").asBoolean(false)) {
        perNumber.merge(e.get("to").asText(), 1, Integer::sum);
      }
      assertThat(e.get("body").asText()).startsWith("Hi Lead").endsWith("Reply STOP to opt out");
    }
    assertThat(perNumber).hasSize(496);
    assertThat(perNumber.values()).allMatch(n -> n == 1);
    assertThat(perNumber).doesNotContainKeys(phone(3), phone(77), phone(400));

    // Delivery receipts come back signed and are stored and audited.
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              long receipts = 0;
              for (JsonNode i : IntakeIT.body(node.get("/v1/audit?limit=500", op)).get("items")) {
                if (i.get("action").asText().equals("receipt.status")) {
                  receipts++;
                }
              }
              assertThat(receipts).isGreaterThanOrEqualTo(496);
            });
  }
}
