package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * LUCI's enrichments end to end, through the Apollo twin (calls counted at the twin, never mocked):
 * the tenant's cache makes a second run of the same 500 leads free and call-less; results fill only
 * empty lead fields; a 429 backs off and the batch counts once; an exhausted agent or tenant budget
 * stops the job with reason budget, spending no more than the budget; one tenant's job and leads
 * are invisible to another; bad input is a 400 problem.
 */
class EnrichmentIT {
  /** Apollo's price of a credit in the default price table: 20,000 micro-dollars, 2 cents. */
  private static final long CENTS_PER_CREDIT = 2;

  private static TestEngine node;

  @BeforeAll
  static void start() {
    node =
        TestEngine.start(
            java.nio.file.Path.of(
                System.getProperty("java.io.tmpdir"),
                "outreach-enrichment-it-" + UUID.randomUUID()),
            Map.of("outreach.luci.max-lead-ids", 20));
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @AfterEach
  void clearFaults() {
    node.sandboxFaults("{}");
  }

  @Test
  void theSameFiveHundredLeadsTwiceCallApolloOnceAndTheSecondRunIsFree() {
    String op = tenantWithLuci("cache", null, null);
    StringBuilder csv = new StringBuilder("first_name,last_name,phone,email,company\n");
    for (int i = 0; i < 500; i++) {
      String email =
          i % 50 == 0 ? "nomatch" + i + "@nowhere.example" : "p" + i + ".lee@acme.example";
      csv.append("P")
          .append(i)
          .append(",Lee,")
          .append(phone(i))
          .append(',')
          .append(email)
          .append(",Acme\n");
    }
    String importId = importLeads(op, csv.toString());
    long callsBefore = apolloCalls("200");

    JsonNode first = awaitFinished(op, enrich(op, "{\"importId\":\"" + importId + "\"}"));
    assertThat(first.get("status").asText()).as(first.toString()).isEqualTo("completed");
    assertThat(first.at("/counts/leads").asInt()).isEqualTo(500);
    assertThat(first.at("/counts/matched").asInt()).isEqualTo(490);
    assertThat(first.at("/counts/notFound").asInt()).isEqualTo(10);
    assertThat(first.at("/counts/cached").asInt()).isZero();
    assertThat(first.get("creditsUsed").decimalValue()).isEqualByComparingTo("490");
    assertThat(first.get("costCents").asLong()).isEqualTo(490 * CENTS_PER_CREDIT);
    assertThat(first.get("estimatedCostCents").asLong()).isEqualTo(500 * 9 * CENTS_PER_CREDIT);
    assertThat(apolloCalls("200") - callsBefore).as("50 calls of 10").isEqualTo(50);

    long callsBetween = apolloCalls("200");
    String secondId = enrich(op, "{\"importId\":\"" + importId + "\"}");
    JsonNode second = awaitFinished(op, secondId);
    assertThat(second.get("status").asText()).isEqualTo("completed");
    assertThat(second.at("/counts/cached").asInt()).isEqualTo(500);
    assertThat(second.at("/counts/matched").asInt()).isZero();
    assertThat(second.get("creditsUsed").decimalValue()).isZero();
    assertThat(second.get("costCents").asLong()).isZero();
    assertThat(second.get("estimatedCostCents").asLong()).isZero();
    assertThat(apolloCalls("200")).as("no call the second time").isEqualTo(callsBetween);

    JsonNode spend = IntakeIT.body(node.get("/v1/spend", op));
    JsonNode luci = agent(spend, "luci");
    assertThat(luci.get("spentCents").asLong()).isEqualTo(490 * CENTS_PER_CREDIT);
    assertThat(luci.get("reservedCents").asLong()).as("both reservations released").isZero();
  }

  @Test
  void resultsFillOnlyTheEmptyFieldsOfALead() {
    String op = tenantWithLuci("fill", null, null);
    String importId =
        importLeads(
            op,
            "first_name,last_name,phone,email,company,city,state\n"
                + "Keep,Mine,+12125550142,keep.mine@ownco.example,OwnCo,Albany,NY\n"
                + ",,,dana.reyes@reyesco.example,,,\n"
                + "Sam,Ortiz,+12125550143,,Ortizco,,\n");
    JsonNode job = awaitFinished(op, enrich(op, "{\"importId\":\"" + importId + "\"}"));
    assertThat(job.at("/counts/matched").asInt()).as(job.toString()).isEqualTo(3);

    Map<String, JsonNode> byEmail = leadsByEmail(op, importId);
    JsonNode kept = byEmail.get("keep.mine@ownco.example");
    assertThat(kept.get("firstName").asText()).isEqualTo("Keep");
    assertThat(kept.get("lastName").asText()).isEqualTo("Mine");
    assertThat(kept.get("company").asText()).isEqualTo("OwnCo");
    assertThat(kept.get("state").asText()).isEqualTo("NY");
    assertThat(kept.at("/attributes/title").asText())
        .as("an empty attribute is filled")
        .isNotEmpty();

    JsonNode filled = byEmail.get("dana.reyes@reyesco.example");
    assertThat(filled.get("firstName").asText()).isEqualTo("Dana");
    assertThat(filled.get("lastName").asText()).isEqualTo("Reyes");
    assertThat(filled.get("company").asText()).isEqualTo("Reyesco");
    assertThat(filled.get("state").asText()).as("a state name becomes its code").hasSize(2);
    assertThat(filled.at("/attributes/linkedin_url").asText())
        .startsWith("http://www.linkedin.com/in/dana-reyes-");

    JsonNode emailFilled = byEmail.get("sam.ortiz@ortizco.com");
    assertThat(emailFilled)
        .as("the email found fills the empty one: %s", byEmail.keySet())
        .isNotNull();
    assertThat(emailFilled.get("phone").asText()).isEqualTo("+12125550143");
  }

  @Test
  void aThrottledCallBacksOffAndCountsOnce() {
    String op = tenantWithLuci("throttled", null, null);
    StringBuilder csv = new StringBuilder("email\n");
    for (int i = 0; i < 30; i++) {
      csv.append("t").append(i).append(".kim@throttle.example\n");
    }
    String importId = importLeads(op, csv.toString());
    long ok = apolloCalls("200");
    long throttled = apolloCalls("429");
    assertThat(node.sandboxFaults("{\"rateLimitNext\":3}").statusCode()).isEqualTo(200);

    JsonNode job = awaitFinished(op, enrich(op, "{\"importId\":\"" + importId + "\"}"));
    assertThat(job.get("status").asText()).as(job.toString()).isEqualTo("completed");
    assertThat(job.at("/counts/matched").asInt()).isEqualTo(30);
    assertThat(job.get("costCents").asLong()).isEqualTo(30 * CENTS_PER_CREDIT);
    assertThat(apolloCalls("429") - throttled).isEqualTo(3);
    assertThat(apolloCalls("200") - ok).as("each batch answered once").isEqualTo(3);
  }

  @Test
  void anExhaustedBudgetStopsTheJobWithReasonBudgetWithinIt() {
    // LUCI's own day: $1 (the worst case of a lead is 18 cents, each match costs 2).
    String op = tenantWithLuci("agentbudget", null, 100L);
    StringBuilder csv = new StringBuilder("email\n");
    for (int i = 0; i < 100; i++) {
      csv.append("b").append(i).append(".ng@budget.example\n");
    }
    JsonNode job =
        awaitFinished(op, enrich(op, "{\"importId\":\"" + importLeads(op, csv.toString()) + "\"}"));
    assertThat(job.get("status").asText()).as(job.toString()).isEqualTo("failed");
    assertThat(job.get("reason").asText()).isEqualTo("budget");
    assertThat(job.get("detail").asText()).startsWith("budget:agent-day");
    assertThat(job.get("costCents").asLong()).isPositive().isLessThanOrEqualTo(100);
    assertThat(job.at("/counts/matched").asInt()).isBetween(1, 99);
    assertThat(job.at("/counts/pending").asInt()).isPositive();
    JsonNode luci = agent(IntakeIT.body(node.get("/v1/spend", op)), "luci");
    assertThat(luci.get("spentCents").asLong()).isLessThanOrEqualTo(100);
    assertThat(luci.get("reservedCents").asLong()).isZero();

    // The tenant's month: 30 cents.
    String op2 = tenantWithLuci("tenantbudget", null, null);
    node.settings("tenantbudget", "{\"monthlyBudgetCents\":30}");
    StringBuilder csv2 = new StringBuilder("email\n");
    for (int i = 0; i < 20; i++) {
      csv2.append("m").append(i).append(".ng@month.example\n");
    }
    JsonNode job2 =
        awaitFinished(
            op2, enrich(op2, "{\"importId\":\"" + importLeads(op2, csv2.toString()) + "\"}"));
    assertThat(job2.get("reason").asText()).as(job2.toString()).isEqualTo("budget");
    assertThat(job2.get("detail").asText()).startsWith("budget:tenant-month");
    assertThat(job2.get("costCents").asLong()).isLessThanOrEqualTo(30);
  }

  @Test
  void anotherTenantsEnrichmentAndLeadsAreNotItsOwn() {
    String acme = tenantWithLuci("iso-a", null, null);
    String bravo = tenantWithLuci("iso-b", null, null);
    String importId =
        importLeads(acme, "phone,email\n+12125550150,secret.person@acme-iso.example\n");
    String jobId = enrich(acme, "{\"importId\":\"" + importId + "\"}");
    awaitFinished(acme, jobId);

    HttpResponse<String> other = node.get("/v1/enrichments/" + jobId, bravo);
    assertThat(other.statusCode()).isEqualTo(404);
    assertThat(other.headers().firstValue("Content-Type")).hasValue(Problem.MEDIA_TYPE);
    assertThat(node.get("/v1/enrichments/enr_00000000000000000000", bravo).statusCode())
        .isEqualTo(404);
    assertThat(
            node.json("POST", "/v1/enrichments/" + jobId + "/draft-campaign", bravo, "{}")
                .statusCode())
        .isEqualTo(404);

    // Another tenant's lead ids are unknown here: nothing is enriched, nothing reaches Apollo.
    String bravoImport =
        importLeads(bravo, "phone,email\n+12125550151,victim.lead@bravo-iso.example\n");
    String bravoLead =
        leadsByEmail(bravo, bravoImport).get("victim.lead@bravo-iso.example").get("id").asText();
    HttpResponse<String> stolen =
        node.json("POST", "/v1/enrichments", acme, "{\"leadIds\":[\"" + bravoLead + "\"]}");
    assertThat(stolen.statusCode()).as(stolen.body()).isEqualTo(400);
    assertThat(stolen.body()).contains("do not exist").doesNotContain("victim");
    JsonNode log = IntakeIT.body(node.get("/sandbox/log", node.token("platform", Role.PLATFORM)));
    for (JsonNode e : log) {
      assertThat(e.get("to").asText()).isNotEqualTo("victim.lead@bravo-iso.example");
    }
    JsonNode untouched = leadsByEmail(bravo, bravoImport).get("victim.lead@bravo-iso.example");
    assertThat(untouched.get("firstName").isNull()).as(untouched.toString()).isTrue();
  }

  @Test
  void badInputIsAProblem() {
    String op = tenantWithLuci("badinput", null, null);
    List<String> tooMany = new ArrayList<>();
    for (int i = 0; i < 21; i++) {
      tooMany.add("\"" + UUID.randomUUID() + "\"");
    }
    Map<String, String> bodies =
        Map.of(
            "{\"leadIds\":[]}",
            "at least one",
            "{\"leadIds\":[" + String.join(",", tooMany) + "]}",
            "at most 20",
            "{\"importId\":\"imp_nope\"}",
            "unknown import",
            "{\"leadIds\":[\"not-a-uuid\"]}",
            "leadIds[0]",
            "{\"leadIds\":[\"" + UUID.randomUUID() + "\"]}",
            "do not exist",
            "{}",
            "either leadIds",
            "{\"leadIds\":[\"" + UUID.randomUUID() + "\"],\"importId\":\"x\"}",
            "either leadIds",
            "{\"leadIds\":",
            "not valid JSON",
            "{\"leads\":[]}",
            "unknown field");
    bodies.forEach(
        (body, says) -> {
          HttpResponse<String> r = node.json("POST", "/v1/enrichments", op, body);
          assertThat(r.statusCode()).as(body + " -> " + r.body()).isEqualTo(400);
          assertThat(r.headers().firstValue("Content-Type")).hasValue(Problem.MEDIA_TYPE);
          assertThat(r.body()).as(body).contains(says);
        });
    assertThat(
            node.json("POST", "/v1/enrichments", node.token("badinput", Role.VIEWER), "{}")
                .statusCode())
        .isEqualTo(403);
  }

  // ---- helpers ----

  /** A tenant whose LUCI is enabled with the given approval threshold and daily budget (cents). */
  static String tenantWithLuci(String id, Long thresholdCents, Long dailyBudgetCents) {
    return tenantWithLuci(node, id, thresholdCents, dailyBudgetCents);
  }

  static String tenantWithLuci(
      TestEngine node, String id, Long thresholdCents, Long dailyBudgetCents) {
    String op = node.tenant(id);
    node.settings(
        id,
        "{\"agentPolicies\":{\"luci\":{\"enabled\":true,\"humanReview\":false,"
            + "\"spendApprovalCents\":"
            + thresholdCents
            + ",\"dailyBudgetCents\":"
            + dailyBudgetCents
            + "}}}");
    return op;
  }

  static String phone(int i) {
    return "+1212" + (300 + i / 10_000) + String.format("%04d", i % 10_000);
  }

  private static String importLeads(String op, String csv) {
    return importLeads(node, op, csv);
  }

  static String importLeads(TestEngine node, String op, String csv) {
    JsonNode imported = IntakeIT.importAndWait(node, op, csv);
    assertThat(imported.get("status").asText()).as(imported.toString()).isEqualTo("completed");
    return imported.get("id").asText();
  }

  private static String enrich(String op, String body) {
    return enrich(node, op, body);
  }

  /** Submits an enrichment; answers its id. */
  static String enrich(TestEngine node, String op, String body) {
    HttpResponse<String> r = node.json("POST", "/v1/enrichments", op, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    JsonNode accepted = IntakeIT.body(r);
    assertThat(r.headers().firstValue("Location"))
        .hasValue("/v1/enrichments/" + accepted.get("id").asText());
    return accepted.get("id").asText();
  }

  private static JsonNode awaitFinished(String op, String id) {
    return awaitStatus(node, op, id, "completed", "failed", "rejected");
  }

  static JsonNode awaitStatus(TestEngine node, String op, String id, String... statuses) {
    JsonNode[] last = new JsonNode[1];
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              last[0] = IntakeIT.body(node.get("/v1/enrichments/" + id, op));
              return List.of(statuses).contains(last[0].path("status").asText());
            });
    return last[0];
  }

  /** Apollo calls the twin answered with {@code status}, since the engine started. */
  static long apolloCalls(TestEngine node, String status) {
    return IntakeIT.body(node.get("/sandbox/stats", null)).at("/calls/apollo/" + status).asLong(0);
  }

  private static long apolloCalls(String status) {
    return apolloCalls(node, status);
  }

  static JsonNode agent(JsonNode spend, String name) {
    for (JsonNode a : spend.get("agents")) {
      if (a.get("id").asText().equals(name)) {
        return a;
      }
    }
    throw new AssertionError("no agent " + name + " in " + spend);
  }

  private static Map<String, JsonNode> leadsByEmail(String op, String importId) {
    Map<String, JsonNode> out = new java.util.HashMap<>();
    JsonNode page = IntakeIT.body(node.get("/v1/leads?limit=500&importId=" + importId, op));
    page.get("items").forEach(l -> out.put(l.get("email").asText(), l));
    return out;
  }
}
