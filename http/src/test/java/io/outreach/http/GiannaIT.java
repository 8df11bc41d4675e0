package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Gianna end to end, with the Anthropic twin scripted per reply text: each category and what it
 * does, a free-text opt-out without a keyword, low confidence and every kind of failure to the
 * review queue (never a guess), 429s backed off, time-outs, automatic answers only where enabled,
 * an agent that never removes an opt-out, review approve, edit and reject, the kill switch, the
 * offline rules without a key, and the model's tokens on the spend ledger.
 */
class GiannaIT {
  private static final String SENDER = "+15550100009";
  private static TestEngine node;

  @BeforeAll
  static void start() throws Exception {
    node =
        TestEngine.start(
            Files.createTempDirectory("gianna-it"),
            Map.of(
                "outreach.gianna.timeout", "1s",
                "outreach.gianna.max-attempts", 3,
                "outreach.gianna.first-backoff", "200ms"));
    script(
        "{\"rules\":["
            + "{\"contains\":\"what is the price\",\"category\":\"question\",\"confidence\":0.97,"
            + "\"answer\":\"It starts at $5 a month.\"},"
            + "{\"contains\":\"maybe later\",\"category\":\"interested\",\"confidence\":0.55,"
            + "\"answer\":\"Whenever suits you!\"},"
            + "{\"contains\":\"garbled\",\"malformed\":true},"
            + "{\"contains\":\"refuse me\",\"refusal\":true},"
            + "{\"contains\":\"very long\",\"maxTokens\":true},"
            + "{\"contains\":\"busy day\",\"status\":429,\"retryAfter\":1,\"times\":2},"
            + "{\"contains\":\"slow one\",\"latencyMs\":3000},"
            + "{\"contains\":\"who are you\",\"category\":\"wrong_number\",\"confidence\":0.93},"
            + "{\"contains\":\"idiots\",\"category\":\"hostile\",\"confidence\":0.99}"
            + "]}");
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static void script(String json) {
    var r =
        node.json("PUT", "/sandbox/anthropic/script", node.token("platform", Role.PLATFORM), json);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  /**
   * A tenant with Gianna on (answering by herself unless {@code review}), with or without a key.
   */
  private static String tenant(String id, boolean review, boolean key) {
    String op = node.tenant(id);
    node.settings(
        id,
        "{\"senders\":[{\"provider\":\"twilio\",\"from\":\""
            + SENDER
            + "\",\"kind\":\"long_code\",\"mps\":50}],\"programName\":\"Acme\","
            + "\"agentPolicies\":{\"gianna\":{\"enabled\":true,\"humanReview\":"
            + review
            + "}}}");
    if (key) {
      node.anthropicKey(id);
    }
    return op;
  }

  private static void reply(String tenant, String from, String body) {
    node.reply(tenant, from, SENDER, body);
  }

  /** The classification of the person's last inbound message, once it is no longer pending. */
  private static JsonNode classified(String op, String phone) {
    JsonNode[] found = new JsonNode[1];
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              var r = node.get("/v1/conversations/" + phone, op);
              if (r.statusCode() != 200) {
                return false;
              }
              JsonNode last = null;
              for (JsonNode m : IntakeIT.body(r).get("messages")) {
                if (m.get("direction").asText().equals("inbound")) {
                  last = m;
                }
              }
              if (last == null
                  || last.get("classification").isNull()
                  || last.at("/classification/state").asText().equals("pending")) {
                return false;
              }
              found[0] = last.get("classification");
              return true;
            });
    return found[0];
  }

  private static List<String> sentTo(String tenant, String phone) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : IntakeIT.body(node.sandboxLog(tenant))) {
      if (e.path("to").asText().equals(phone)) {
        out.add(e.path("body").asText());
      }
    }
    return out;
  }

  private static JsonNode review(String op, String phone) {
    for (JsonNode i : IntakeIT.body(node.get("/v1/reviews", op)).get("items")) {
      if (i.get("kind").asText().equals("reply") && i.at("/draft/phone").asText().equals(phone)) {
        return i;
      }
    }
    return null;
  }

  @Test
  void eachReplyGetsItsCategoryAndOnlyWhatThePolicyAllows() {
    String op = tenant("gianna-auto", false, true);
    String question = "+12125550301";
    String lukewarm = "+12125550302";
    String garbled = "+12125550303";
    String refused = "+12125550304";
    String cut = "+12125550305";
    String busy = "+12125550306";
    String stranger = "+12125550307";
    String angry = "+12125550308";
    String quitter = "+12125550309";
    reply("gianna-auto", question, "Hi, what is the price?");
    reply("gianna-auto", lukewarm, "maybe later");
    reply("gianna-auto", garbled, "garbled text here");
    reply("gianna-auto", refused, "refuse me this");
    reply("gianna-auto", cut, "a very long story");
    reply("gianna-auto", busy, "busy day, what do you sell?");
    reply("gianna-auto", stranger, "who are you people");
    reply("gianna-auto", angry, "you idiots");
    reply("gianna-auto", quitter, "please don't text me again");

    // A question at 0.97 is answered by Gianna herself, through the one way out.
    JsonNode q = classified(op, question);
    assertThat(q.get("category").asText()).isEqualTo("question");
    assertThat(q.get("confidence").asDouble()).isEqualTo(0.97);
    assertThat(q.get("classifier").asText()).isEqualTo("anthropic");
    assertThat(q.get("action").asText()).isEqualTo("answer");
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(sentTo("gianna-auto", question))
                    .containsExactly("It starts at $5 a month."));

    // Interested at 0.55 is below the threshold: a review item with the drafted answer.
    JsonNode l = classified(op, lukewarm);
    assertThat(l.get("category").asText()).isEqualTo("interested");
    assertThat(l.get("action").asText()).isEqualTo("review");
    JsonNode item = review(op, lukewarm);
    assertThat(item).isNotNull();
    assertThat(item.at("/draft/answer").asText()).isEqualTo("Whenever suits you!");
    assertThat(item.at("/draft/confidence").asDouble()).isEqualTo(0.55);

    // Malformed output, a refusal, an answer cut at max_tokens: failures, never a guess.
    for (String phone : List.of(garbled, refused, cut)) {
      JsonNode f = classified(op, phone);
      assertThat(f.get("state").asText()).as(phone).isEqualTo("failed");
      assertThat(f.get("category").isNull()).as(phone).isTrue();
      assertThat(f.get("action").asText()).as(phone).isEqualTo("review");
      assertThat(review(op, phone)).as(phone).isNotNull();
    }
    assertThat(classified(op, garbled).get("detail").asText()).contains("malformed output");
    assertThat(classified(op, refused).get("detail").asText()).contains("refusal");
    assertThat(classified(op, cut).get("detail").asText()).contains("max_tokens");

    // Two 429s with retry-after, then the answer.
    JsonNode b = classified(op, busy);
    assertThat(b.get("state").asText()).isEqualTo("done");
    assertThat(b.get("category").asText()).isEqualTo("question");
    JsonNode calls = IntakeIT.body(node.get("/sandbox/stats", null)).at("/calls/anthropic");
    assertThat(calls.path("429").asLong()).isGreaterThanOrEqualTo(2);

    // Wrong number and hostile are never answered by Gianna herself.
    assertThat(classified(op, stranger).get("action").asText()).isEqualTo("review");
    assertThat(classified(op, angry).get("category").asText()).isEqualTo("hostile");
    assertThat(sentTo("gianna-auto", stranger)).isEmpty();
    assertThat(sentTo("gianna-auto", angry)).isEmpty();

    // A free-text opt-out, no keyword: opted out, with the one confirmation.
    JsonNode o = classified(op, quitter);
    assertThat(o.get("category").asText()).isEqualTo("opt_out");
    assertThat(o.get("action").asText()).isEqualTo("opt_out");
    assertThat(
            IntakeIT.body(node.get("/v1/conversations/" + quitter, op))
                .at("/conversation/optedOut")
                .asBoolean())
        .isTrue();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(sentTo("gianna-auto", quitter))
                    .singleElement()
                    .asString()
                    .contains("unsubscribed"));

    // Every decision is in the audit trail; the model's tokens are on the ledger.
    List<String> actions = new ArrayList<>();
    for (JsonNode a :
        IntakeIT.body(node.get("/v1/audit?limit=500", node.token("gianna-auto", Role.ADMIN)))
            .get("items")) {
      if (a.get("actor").asText().equals("gianna")) {
        actions.add(a.get("action").asText());
      }
    }
    assertThat(actions).contains("gianna.answer", "gianna.review", "gianna.opt_out", "opt-out");
    JsonNode spend = IntakeIT.body(node.get("/v1/spend", op));
    assertThat(spend.get("agents").toString()).contains("\"id\":\"gianna\"");
    assertThat(spend.get("spentCents").asLong()).isPositive();
  }

  @Test
  void slowAnswersTimeOutAndEndInTheReviewQueue() {
    String op = tenant("gianna-slow", false, true);
    String phone = "+12125550320";
    reply("gianna-slow", phone, "a slow one");
    JsonNode c = classified(op, phone);
    assertThat(c.get("state").asText()).isEqualTo("failed");
    assertThat(c.get("detail").asText()).contains("no answer");
    assertThat(review(op, phone)).isNotNull();
  }

  @Test
  void withHumanReviewOnNothingIsAnsweredAutomatically() {
    String op = tenant("gianna-review", true, true);
    String phone = "+12125550330";
    reply("gianna-review", phone, "what is the price of it");
    JsonNode c = classified(op, phone);
    assertThat(c.get("category").asText()).as(c.toString()).isEqualTo("question");
    assertThat(c.get("action").asText()).isEqualTo("review");
    assertThat(c.get("detail").asText()).isEqualTo("human review is on");
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(3))
        .untilAsserted(() -> assertThat(sentTo("gianna-review", phone)).isEmpty());
  }

  @Test
  void anAgentNeverRemovesAnOptOut() {
    String op = tenant("gianna-optout", false, true);
    String phone = "+12125550340";
    reply("gianna-optout", phone, "STOP");
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(sentTo("gianna-optout", phone)).hasSize(1));
    // Interested and a question at high confidence: Gianna would answer, the gate refuses.
    reply("gianna-optout", phone, "what is the price? sign me up");
    JsonNode c = classified(op, phone);
    assertThat(c.get("action").asText()).isEqualTo("answer");
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(3))
        .untilAsserted(() -> assertThat(sentTo("gianna-optout", phone)).hasSize(1));
    assertThat(
            IntakeIT.body(node.get("/v1/conversations/" + phone, op))
                .at("/conversation/optedOut")
                .asBoolean())
        .isTrue();
  }

  @Test
  void reviewsAreApprovedAsDraftedOrEditedOrRejected() {
    String op = tenant("gianna-decide", true, true);
    String asIs = "+12125550350";
    String edited = "+12125550351";
    String rejected = "+12125550352";
    for (String phone : List.of(asIs, edited, rejected)) {
      reply("gianna-decide", phone, "what is the price?");
    }
    for (String phone : List.of(asIs, edited, rejected)) {
      assertThat(classified(op, phone).get("action").asText()).isEqualTo("review");
    }
    String admin = node.token("gianna-decide", Role.ADMIN);
    String first = review(op, asIs).get("id").asText();
    assertThat(node.json("POST", "/v1/reviews/" + first + "/approve", admin, "{}").statusCode())
        .isEqualTo(200);
    assertThat(node.json("POST", "/v1/reviews/" + first + "/approve", admin, "{}").statusCode())
        .as("decided once")
        .isEqualTo(409);
    String second = review(op, edited).get("id").asText();
    assertThat(
            node.json(
                    "POST",
                    "/v1/reviews/" + second + "/approve",
                    admin,
                    "{\"draft\":{\"answer\":\"Ten dollars, call us any time.\"}}")
                .statusCode())
        .isEqualTo(200);
    String third = review(op, rejected).get("id").asText();
    assertThat(node.json("POST", "/v1/reviews/" + third + "/reject", admin, "{}").statusCode())
        .isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(sentTo("gianna-decide", asIs)).containsExactly("It starts at $5 a month.");
              assertThat(sentTo("gianna-decide", edited))
                  .containsExactly("Ten dollars, call us any time.");
            });
    assertThat(sentTo("gianna-decide", rejected)).isEmpty();
    assertThat(classified(op, asIs).get("action").asText()).isEqualTo("approved");
    assertThat(classified(op, rejected).get("action").asText()).isEqualTo("rejected");
    assertThat(
            node.json("POST", "/v1/reviews/rev_000000000000000000000000/approve", admin, "{}")
                .statusCode())
        .isEqualTo(404);
    // Another tenant cannot see or decide them.
    String other = tenant("gianna-other", true, false);
    assertThat(IntakeIT.body(node.get("/v1/reviews", other)).get("items")).isEmpty();
    assertThat(
            node.json(
                    "POST",
                    "/v1/reviews/" + third + "/approve",
                    node.token("gianna-other", Role.ADMIN),
                    "{}")
                .statusCode())
        .isEqualTo(404);
  }

  @Test
  void theKillSwitchHoldsGiannaUntilReleased() {
    String op = tenant("gianna-held", false, true);
    String admin = node.token("gianna-held", Role.ADMIN);
    var engaged =
        node.json("POST", "/v1/kill-switches", op, "{\"scope\":\"agent\",\"target\":\"gianna\"}");
    assertThat(engaged.statusCode()).as(engaged.body()).isEqualTo(201);
    String phone = "+12125550360";
    reply("gianna-held", phone, "what is the price?");
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(4))
        .untilAsserted(
            () -> {
              JsonNode thread = IntakeIT.body(node.get("/v1/conversations/" + phone, op));
              assertThat(thread.at("/messages/0/classification/state").asText())
                  .isEqualTo("pending");
            });
    assertThat(sentTo("gianna-held", phone)).isEmpty();
    String id = IntakeIT.body(engaged).get("id").asText();
    assertThat(node.json("DELETE", "/v1/kill-switches/" + id, admin, null).statusCode())
        .isEqualTo(204);
    assertThat(classified(op, phone).get("action").asText()).isEqualTo("answer");
  }

  @Test
  void withoutAKeyTheOfflineRulesClassifyAndOptOutsStillTakeEffect() {
    String op = tenant("gianna-rules", false, false);
    String phone = "+12125550370";
    String asking = "+12125550371";
    reply("gianna-rules", phone, "Please don't text me again");
    reply("gianna-rules", asking, "How does this work?");
    JsonNode c = classified(op, phone);
    assertThat(c.get("classifier").asText()).isEqualTo("rules");
    assertThat(c.get("action").asText()).isEqualTo("opt_out");
    JsonNode q = classified(op, asking);
    assertThat(q.get("category").asText()).isEqualTo("question");
    // 0.75 is below the 0.9 threshold: a review with the tenant's default answer.
    assertThat(q.get("action").asText()).isEqualTo("review");
    assertThat(review(op, asking).at("/draft/answer").asText())
        .contains("Thanks for your question");
    assertThat(IntakeIT.body(node.get("/v1/spend", op)).get("spentCents").asLong()).isZero();
  }
}
