package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Follow-ups Cathy drafts from a brief, end to end with the Anthropic twin scripted per brief: the
 * draft waits in the review queue and holds the launch; an edit is checked before it is recorded;
 * the approved text is what the follow-up sends; a rejected step is dropped; a tenant that allows
 * drafted follow-ups needs no human; a failed draft (malformed, refused, rate limited, naming a
 * field the first message lacks) creates nothing; a held or disabled Cathy drafts nothing; without
 * a key she drafts offline; every draft is in the audit trail and its tokens on the ledger.
 */
class CathyDraftsIT {
  private static final String FIRST = "Hi {{first_name}}, our open house is on Saturday";
  private static TestEngine node;
  private static MovableClock clock;

  @BeforeAll
  static void start() throws Exception {
    clock = MovableClock.at(Instant.now());
    node = TestEngine.start(Files.createTempDirectory("cathy-drafts-it"), Map.of(), clock);
    var r =
        node.json(
            "PUT",
            "/sandbox/anthropic/script",
            node.token("platform", Role.PLATFORM),
            "{\"rules\":["
                + "{\"contains\":\"saturday\",\"answer\":\"Hi {{first_name}}, does Saturday suit"
                + " you?\"},"
                + "{\"contains\":\"garbled\",\"malformed\":true},"
                + "{\"contains\":\"refuse\",\"refusal\":true},"
                + "{\"contains\":\"busy\",\"status\":429,\"retryAfter\":1},"
                + "{\"contains\":\"surname\",\"answer\":\"Dear {{first_name}} {{last_name}}\"}"
                + "]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  /** A tenant with Cathy's policy {@code cathy} and, if {@code key}, the twin's key. */
  private static String tenant(String id, String cathy, boolean key) {
    String op = node.tenant(id);
    node.settings(id, "{\"programName\":\"Acme\",\"agentPolicies\":{\"cathy\":" + cathy + "}}");
    if (key) {
      node.anthropicKey(id);
    }
    return op;
  }

  /** Imports two people of area {@code area}; answers the import's id. */
  private static String people(String op, int area) {
    String csv =
        "first_name,phone\nAda,"
            + CampaignLifecycleIT.phone(area, 0)
            + "\nBo,"
            + CampaignLifecycleIT.phone(area, 1)
            + "\n";
    return IntakeIT.importAndWait(node, op, csv).get("id").asText();
  }

  private static java.net.http.HttpResponse<String> create(String op, String imp, String steps) {
    return node.json(
        "POST",
        "/v1/campaigns",
        op,
        "{\"name\":\"Open house\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
            + imp
            + "\"},\"message\":\""
            + FIRST
            + "\",\"steps\":"
            + steps
            + "}");
  }

  private static String created(String op, String imp, String steps) {
    var r = create(op, imp, steps);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return IntakeIT.body(r).get("id").asText();
  }

  /** The follow-up review of campaign {@code id}, once the campaign projection queued it. */
  private static JsonNode review(String op, String id) {
    JsonNode[] found = new JsonNode[1];
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              for (JsonNode i : node.pages("/v1/reviews", op)) {
                if (i.get("kind").asText().equals("follow_up")
                    && i.at("/draft/campaignId").asText().equals(id)) {
                  found[0] = i;
                  return true;
                }
              }
              return false;
            });
    return found[0];
  }

  private static List<String> sent(String tenant) {
    List<String> out = new ArrayList<>();
    IntakeIT.body(node.sandboxLog(tenant)).forEach(e -> out.add(e.path("body").asText()));
    return out;
  }

  private static int launch(String op, String id) {
    return node.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode();
  }

  @Test
  void aDraftWaitsForItsReviewAndTheApprovedTextIsWhatGoesOut() {
    String op = tenant("drafts-review", "{\"enabled\":true,\"humanReview\":true}", true);
    String admin = node.token("drafts-review", Role.ADMIN);
    String id =
        created(
            op, people(op, 212), "[{\"afterHours\":2,\"brief\":\"ask if Saturday suits them\"}]");
    JsonNode review = review(op, id);
    assertThat(review.at("/draft/message").asText())
        .isEqualTo("Hi {{first_name}}, does Saturday suit you?");
    assertThat(review.at("/draft/step").asInt()).isEqualTo(1);
    assertThat(review.at("/draft/brief").asText()).isEqualTo("ask if Saturday suits them");
    String rid = review.get("id").asText();

    var held = node.json("POST", "/v1/campaigns/" + id + "/launch", op, null);
    assertThat(held.statusCode()).isEqualTo(409);
    assertThat(held.body()).contains(rid);
    var badEdit =
        node.json(
            "POST",
            "/v1/reviews/" + rid + "/approve",
            admin,
            "{\"draft\":{\"message\":\"Dear {{first_name}} {{last_name}}\"}}");
    assertThat(badEdit.statusCode()).as(badEdit.body()).isEqualTo(400);
    assertThat(badEdit.body()).contains("last_name");
    assertThat(review(op, id).get("status").asText()).as("still pending").isEqualTo("pending");
    var approved =
        node.json(
            "POST",
            "/v1/reviews/" + rid + "/approve",
            admin,
            "{\"draft\":{\"message\":\"Hi {{first_name}}, see you on Saturday?\"}}");
    assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
    assertThat(launch(op, id)).isEqualTo(202);

    // The first messages' outcomes are journaled (with their times) before the clock moves.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                IntakeIT.body(node.get("/v1/campaigns/" + id, op)).get("blocksFinished").asInt()
                    == 1);
    assertThat(sent("drafts-review")).hasSize(2);
    // Cathy keeps a day between two contacts of a person (her default spacing).
    clock.advance(Duration.ofHours(25));
    await().atMost(Duration.ofSeconds(60)).until(() -> sent("drafts-review").size() == 4);
    assertThat(sent("drafts-review"))
        .contains("Hi Ada, see you on Saturday?", "Hi Bo, see you on Saturday?");

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(node.pages("/v1/audit?campaignId=" + id, admin).toString())
                    .contains("cathy.drafted", "ask if Saturday suits them", "review.approved"));
    assertThat(IntakeIT.body(node.get("/v1/spend", op)).get("agents").toString())
        .contains("\"id\":\"cathy\"");
  }

  @Test
  void aRejectedDraftIsDroppedAndATenantMayLetDraftsGoWithoutAHuman() {
    String op = tenant("drafts-reject", "{\"enabled\":true,\"humanReview\":true}", true);
    String id = created(op, people(op, 213), "[{\"afterHours\":2,\"brief\":\"saturday again\"}]");
    String rid = review(op, id).get("id").asText();
    var rejected =
        node.json(
            "POST",
            "/v1/reviews/" + rid + "/reject",
            node.token("drafts-reject", Role.ADMIN),
            "{\"note\":\"too pushy\"}");
    assertThat(rejected.statusCode()).as(rejected.body()).isEqualTo(200);
    assertThat(launch(op, id)).isEqualTo(202);
    JsonNode done =
        CampaignLifecycleIT.awaitState(node, op, id, "completed", Duration.ofSeconds(30));
    assertThat(done.at("/counts/sent").asLong()).as("no step left to wait for").isEqualTo(2);

    String free =
        tenant(
            "drafts-free",
            "{\"enabled\":true,\"humanReview\":true,\"draftedFollowUps\":true}",
            true);
    String freeId =
        created(free, people(free, 214), "[{\"afterHours\":2,\"brief\":\"saturday works?\"}]");
    assertThat(launch(free, freeId)).as("no review to wait for").isEqualTo(202);
    String admin = node.token("drafts-free", Role.ADMIN);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(node.pages("/v1/audit?campaignId=" + freeId, admin).toString())
                    .contains("cathy.drafted", "\"action\":\"send\"")
                    .doesNotContain("tenant.created"));
    assertThat(node.pages("/v1/reviews", free)).isEmpty();
  }

  @Test
  void aFailedDraftCreatesNothingAndAHeldOrDisabledCathyDraftsNothing() {
    String op = tenant("drafts-fail", "{\"enabled\":true,\"humanReview\":true}", true);
    String imp = people(op, 215);
    for (String brief : List.of("garbled", "refuse it", "busy day", "use their surname")) {
      var r = create(op, imp, "[{\"afterHours\":2,\"brief\":\"" + brief + "\"}]");
      assertThat(r.statusCode()).as(brief + ": " + r.body()).isEqualTo(503);
      assertThat(r.headers().firstValue("Retry-After"))
          .as("the model's own retry-after for its 429, else the API's default")
          .hasValue(brief.equals("busy day") ? "1" : "5");
    }
    assertThat(create(op, imp, "[{\"afterHours\":2,\"brief\":\"use their surname\"}]").body())
        .contains("last_name");
    var both = create(op, imp, "[{\"afterHours\":2,\"brief\":\"saturday\",\"message\":\"Hi\"}]");
    assertThat(both.statusCode()).isEqualTo(400);

    String admin = node.token("drafts-fail", Role.ADMIN);
    var sw =
        node.json("POST", "/v1/kill-switches", admin, "{\"scope\":\"agent\",\"target\":\"cathy\"}");
    assertThat(sw.statusCode()).as(sw.body()).isEqualTo(201);
    var held = create(op, imp, "[{\"afterHours\":2,\"brief\":\"saturday\"}]");
    assertThat(held.statusCode()).isEqualTo(409);
    assertThat(held.body()).contains("kill-switch:agent");
    node.json("DELETE", "/v1/kill-switches/" + IntakeIT.body(sw).get("id").asText(), admin, null);
    node.settings(
        "drafts-fail", "{\"agentPolicies\":{\"cathy\":{\"enabled\":false,\"humanReview\":true}}}");
    var disabled = create(op, imp, "[{\"afterHours\":2,\"brief\":\"saturday\"}]");
    assertThat(disabled.statusCode()).isEqualTo(409);
    assertThat(disabled.body()).contains("disabled");
    assertThat(IntakeIT.body(node.get("/v1/campaigns", op)).get("items"))
        .as("nothing was created")
        .isEmpty();
    assertThat(node.pages("/v1/reviews", op)).isEmpty();
  }

  @Test
  void withoutAKeyCathyDraftsOfflineAndTheDraftStillWaitsForAHuman() {
    String op = tenant("drafts-offline", "{\"enabled\":true,\"humanReview\":true}", false);
    String id = created(op, people(op, 216), "[{\"afterHours\":2,\"brief\":\"saturday\"}]");
    JsonNode review = review(op, id);
    assertThat(review.at("/draft/message").asText())
        .isEqualTo("Following up on my last message: " + FIRST);
    assertThat(review.at("/draft/drafter").asText()).isEqualTo("offline");
    assertThat(launch(op, id)).isEqualTo(409);
  }
}
