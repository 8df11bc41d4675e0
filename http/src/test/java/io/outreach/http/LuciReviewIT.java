package io.outreach.http;

import static io.outreach.http.EnrichmentIT.apolloCalls;
import static io.outreach.http.EnrichmentIT.awaitStatus;
import static io.outreach.http.EnrichmentIT.enrich;
import static io.outreach.http.EnrichmentIT.importLeads;
import static io.outreach.http.EnrichmentIT.tenantWithLuci;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A human in LUCI's loop: a job above the approval threshold waits in the review queue, with no
 * provider call, until approved (who and when in the audit); a rejection ends it and releases its
 * reservation; a kill switch on the agent holds its work (no further call) and the held and queued
 * jobs go on when it is released; a disabled agent takes no work; a campaign drafted from enriched
 * leads stays a draft until a human launches it.
 */
class LuciReviewIT {
  private static TestEngine node;

  @BeforeAll
  static void start() {
    node = TestEngine.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @AfterEach
  void clearFaults() {
    node.sandboxFaults("{}");
  }

  private static String leads(String op, String prefix, int n) {
    StringBuilder csv = new StringBuilder("email\n");
    for (int i = 0; i < n; i++) {
      csv.append(prefix).append(i).append(".vu@review.example\n");
    }
    return importLeads(node, op, csv.toString());
  }

  private static JsonNode pendingReviews(String token) {
    return IntakeIT.body(node.get("/v1/reviews", token)).get("items");
  }

  @Test
  void aJobAboveTheThresholdWaitsUntilApprovedAndTheDecisionIsAudited() {
    // 20 leads at a worst case of 18 cents each: $3.60, above a $1 threshold.
    String op = tenantWithLuci(node, "approve", 100L, null);
    String importId = leads(op, "a", 20);
    long calls = apolloCalls(node, "200");
    String id = enrich(node, op, "{\"importId\":\"" + importId + "\"}");

    JsonNode job = IntakeIT.body(node.get("/v1/enrichments/" + id, op));
    assertThat(job.get("status").asText()).isEqualTo("awaiting_approval");
    assertThat(job.get("estimatedCostCents").asLong()).isEqualTo(360);
    JsonNode items = pendingReviews(node.token("approve", Role.VIEWER));
    assertThat(items).hasSize(1);
    JsonNode review = items.get(0);
    assertThat(review.get("kind").asText()).isEqualTo("enrichment");
    assertThat(review.get("subject").asText()).isEqualTo(id);
    assertThat(review.at("/draft/estimatedCostCents").asLong()).isEqualTo(360);
    assertThat(review.get("summary").asText()).contains("20 leads", "$3.60", "$1.00");
    assertThat(review.get("createdAt").asText()).isNotEmpty();
    assertThat(job.get("reviewId").asText()).isEqualTo(review.get("id").asText());
    JsonNode luci = EnrichmentIT.agent(IntakeIT.body(node.get("/v1/spend", op)), "luci");
    assertThat(luci.get("reservedCents").asLong()).as("held while it waits").isEqualTo(360);

    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                apolloCalls(node, "200") == calls
                    && IntakeIT.body(node.get("/v1/enrichments/" + id, op))
                        .get("status")
                        .asText()
                        .equals("awaiting_approval"));

    String reviewId = review.get("id").asText();
    assertThat(
            node.json(
                    "POST",
                    "/v1/reviews/" + reviewId + "/approve",
                    node.token("approve", Role.VIEWER),
                    "")
                .statusCode())
        .as("a viewer may not decide")
        .isEqualTo(403);
    String other = tenantWithLuci(node, "approve-other", 100L, null);
    assertThat(node.json("POST", "/v1/reviews/" + reviewId + "/approve", other, "").statusCode())
        .as("another tenant's item")
        .isEqualTo(404);
    assertThat(node.json("POST", "/v1/reviews/rev_nope/approve", op, "").statusCode())
        .isEqualTo(404);

    HttpResponse<String> approved =
        node.json("POST", "/v1/reviews/" + reviewId + "/approve", op, "");
    assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
    assertThat(IntakeIT.body(approved).get("status").asText()).isEqualTo("approved");
    assertThat(IntakeIT.body(approved).get("decidedBy").asText()).isEqualTo("test");
    assertThat(IntakeIT.body(approved).get("decidedAt").asText()).isNotEmpty();

    JsonNode done = awaitStatus(node, op, id, "completed", "failed");
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
    assertThat(done.at("/counts/matched").asInt()).isEqualTo(20);
    assertThat(apolloCalls(node, "200") - calls).isEqualTo(2);

    HttpResponse<String> twice = node.json("POST", "/v1/reviews/" + reviewId + "/approve", op, "");
    assertThat(twice.statusCode()).isEqualTo(409);
    assertThat(twice.headers().firstValue("Content-Type")).hasValue(Problem.MEDIA_TYPE);
    assertThat(node.json("POST", "/v1/reviews/" + reviewId + "/reject", op, "").statusCode())
        .isEqualTo(409);
    assertThat(pendingReviews(op)).isEmpty();
    assertThat(IntakeIT.body(node.get("/v1/reviews?status=approved", op)).get("items")).hasSize(1);

    JsonNode audit =
        IntakeIT.body(node.get("/v1/audit?subject=" + id, node.token("approve", Role.ADMIN)));
    assertThat(audit.toString()).contains("review.approved", "enrichment.requested");
    boolean found = false;
    for (JsonNode e : audit.get("items")) {
      if (e.get("action").asText().equals("review.approved")) {
        assertThat(e.get("actor").asText()).isEqualTo("test");
        assertThat(e.get("at").asText()).isNotEmpty();
        found = true;
      }
    }
    assertThat(found).isTrue();
  }

  @Test
  void aRejectedJobMakesNoCallAndReleasesItsReservation() {
    String op = tenantWithLuci(node, "reject", 0L, null);
    String importId = leads(op, "r", 5);
    long calls = apolloCalls(node, "200");
    String id = enrich(node, op, "{\"importId\":\"" + importId + "\"}");
    String reviewId = pendingReviews(op).get(0).get("id").asText();

    HttpResponse<String> rejected =
        node.json(
            "POST", "/v1/reviews/" + reviewId + "/reject", op, "{\"note\":\"not this week\"}");
    assertThat(rejected.statusCode()).as(rejected.body()).isEqualTo(200);
    assertThat(IntakeIT.body(rejected).get("status").asText()).isEqualTo("rejected");

    JsonNode job = awaitStatus(node, op, id, "rejected");
    assertThat(job.get("reason").asText()).isEqualTo("rejected");
    assertThat(job.get("costCents").asLong()).isZero();
    assertThat(apolloCalls(node, "200")).as("no provider call").isEqualTo(calls);
    JsonNode luci = EnrichmentIT.agent(IntakeIT.body(node.get("/v1/spend", op)), "luci");
    assertThat(luci.get("reservedCents").asLong()).isZero();
    assertThat(luci.get("spentCents").asLong()).isZero();
    assertThat(
            IntakeIT.body(node.get("/v1/audit?subject=" + id, node.token("reject", Role.ADMIN)))
                .toString())
        .contains("review.rejected", "not this week");
  }

  @Test
  void theAgentKillSwitchHoldsItsWorkAndReleasingItLetsItGoOn() {
    String op = tenantWithLuci(node, "killed", null, null);
    String admin = node.token("killed", Role.ADMIN);
    String first = leads(op, "k", 200);
    String second = leads(op, "q", 10);
    // Slow calls, so the switch finds the job in the middle of its 20 calls.
    node.sandboxFaults("{\"latencyMs\":300}");
    long calls = apolloCalls(node, "200");
    String running = enrich(node, op, "{\"importId\":\"" + first + "\"}");
    await().atMost(Duration.ofSeconds(30)).until(() -> apolloCalls(node, "200") > calls);

    HttpResponse<String> engaged =
        node.json("POST", "/v1/kill-switches", op, "{\"scope\":\"agent\",\"target\":\"luci\"}");
    assertThat(engaged.statusCode()).as(engaged.body()).isEqualTo(201);
    long atEngage = apolloCalls(node, "200");
    JsonNode held =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> IntakeIT.body(node.get("/v1/enrichments/" + running, op)),
                j -> "kill-switch:agent".equals(j.path("heldBy").asText()));
    assertThat(held.get("status").asText()).isEqualTo("running");
    long stopped = apolloCalls(node, "200");
    assertThat(stopped).as("at most the call already under way").isLessThanOrEqualTo(atEngage + 1);
    String queued = enrich(node, op, "{\"importId\":\"" + second + "\"}");
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> apolloCalls(node, "200") == stopped);
    assertThat(
            IntakeIT.body(node.get("/v1/enrichments/" + queued, op)).at("/counts/pending").asInt())
        .as("queued work waits")
        .isEqualTo(10);

    node.sandboxFaults("{}");
    String switchId = IntakeIT.body(engaged).get("id").asText();
    assertThat(node.send("DELETE", "/v1/kill-switches/" + switchId, admin, null, null).statusCode())
        .isIn(200, 204);
    JsonNode done = awaitStatus(node, op, running, "completed", "failed");
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
    assertThat(done.at("/counts/matched").asInt()).isEqualTo(200);
    assertThat(done.get("heldBy").isNull()).isTrue();
    assertThat(awaitStatus(node, op, queued, "completed", "failed").at("/counts/matched").asInt())
        .isEqualTo(10);
    assertThat(apolloCalls(node, "200") - calls).as("each batch once").isEqualTo(21);
  }

  @Test
  void aDisabledAgentTakesNoWork() {
    String op = node.tenant("disabled");
    String importId = leads(op, "d", 1);
    HttpResponse<String> r =
        node.json("POST", "/v1/enrichments", op, "{\"importId\":\"" + importId + "\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(409);
    assertThat(r.body()).contains("luci is disabled");
  }

  @Test
  void aDraftedCampaignTargetsTheEnrichedLeadsAndStaysADraft() {
    String op = tenantWithLuci(node, "drafter", null, null);
    String importId =
        importLeads(
            node,
            op,
            "first_name,phone,email\n"
                + "Ann,+12125550161,ann.k@draft.example\n"
                + "Bo,+12125550162,nomatch.bo@draft.example\n"
                + "Cy,+12125550163,cy.k@draft.example\n");
    String id = enrich(node, op, "{\"importId\":\"" + importId + "\"}");
    awaitStatus(node, op, id, "completed");

    HttpResponse<String> drafted =
        node.json(
            "POST", "/v1/enrichments/" + id + "/draft-campaign", op, "{\"name\":\"Warm leads\"}");
    assertThat(drafted.statusCode()).as(drafted.body()).isEqualTo(201);
    JsonNode campaign = IntakeIT.body(drafted);
    assertThat(campaign.get("state").asText()).isEqualTo("draft");
    assertThat(campaign.get("name").asText()).isEqualTo("Warm leads");
    String campaignId = campaign.get("id").asText();
    assertThat(drafted.headers().firstValue("Location")).hasValue("/v1/campaigns/" + campaignId);

    JsonNode preview = IntakeIT.body(node.get("/v1/campaigns/" + campaignId + "/preview", op));
    assertThat(preview.get("recipients").asLong()).as("the two enriched leads").isEqualTo(2);
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                IntakeIT.body(node.get("/v1/campaigns/" + campaignId, op))
                    .get("state")
                    .asText()
                    .equals("draft"));
    assertThat(
            IntakeIT.body(node.get("/v1/audit?subject=" + id, node.token("drafter", Role.ADMIN)))
                .toString())
        .contains("enrichment.campaign-drafted", campaignId);

    // An enrichment still waiting cannot be drafted from.
    String waiting = tenantWithLuci(node, "drafter-wait", 0L, null);
    String pending = enrich(node, waiting, "{\"importId\":\"" + leads(waiting, "w", 1) + "\"}");
    assertThat(
            node.json("POST", "/v1/enrichments/" + pending + "/draft-campaign", waiting, "")
                .statusCode())
        .isEqualTo(409);
  }
}
