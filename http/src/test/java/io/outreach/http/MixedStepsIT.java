package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A campaign that mixes channels: a text first, then, 48 hours later, a call to those who did not
 * reply. The one who replied is not called; the others are, through the Calls API, after a restart
 * in between (the follow-ups wait on durable timers).
 */
class MixedStepsIT {
  @Test
  void aTextThenACallToThoseWhoDidNotReply() throws Exception {
    try (StandaloneSandbox sandbox = StandaloneSandbox.start("sandbox-mixed")) {
      Path dir = Files.createTempDirectory("outreach-mixed-");
      Map<String, Object> config = new HashMap<>(sandbox.engineConfig());
      // Now (the reply is dated by the inbox on the system clock); legal hours are the whole day
      // in tests, so the follow-up is due 48 hours on, whatever the time of day.
      MovableClock clock = MovableClock.at(Instant.now());
      List<String> people =
          List.of(
              CampaignLifecycleIT.phone(310, 0),
              CampaignLifecycleIT.phone(310, 1),
              CampaignLifecycleIT.phone(310, 2));
      String op;
      String id;
      try (TestEngine first = TestEngine.start(dir, config, clock)) {
        first.json(
            "POST",
            "/v1/tenants",
            first.token("platform", Role.PLATFORM),
            "{\"id\":\"mixed\",\"name\":\"Mixed\",\"timezone\":\"America/Los_Angeles\",\"monthlyBudgetCents\":100000000}");
        op = first.token("mixed", Role.OPERATOR);
        // Follow-ups are Cathy's; agents start disabled.
        first.settings(
            "mixed", "{\"agentPolicies\":{\"cathy\":{\"enabled\":true,\"humanReview\":false}}}");
        StringBuilder csv = new StringBuilder("first_name,phone\n");
        for (int i = 0; i < people.size(); i++) {
          csv.append("R").append(i).append(',').append(people.get(i)).append('\n');
        }
        JsonNode imp = IntakeIT.importAndWait(first, op, csv.toString());
        var created =
            first.json(
                "POST",
                "/v1/campaigns",
                op,
                "{\"name\":\"Text then call\",\"channel\":\"sms\",\"provider\":\"twilio\","
                    + "\"audience\":{\"importId\":\""
                    + imp.get("id").asText()
                    + "\"},\"message\":\"Hi {{first_name}}, a winter offer\","
                    + "\"steps\":[{\"afterHours\":48,\"channel\":\"voice\","
                    + "\"message\":\"Hi {{first_name}}, calling about our winter offer.\"}]}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        id = IntakeIT.body(created).get("id").asText();
        assertThat(first.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode())
            .isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).until(() -> sandbox.log("mixed").size() == 3);
        String sent = id;
        // The texts are in the messages read model, their calls scheduled: a reply now counts.
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    IntakeIT.body(
                                first.get(
                                    "/v1/campaigns/" + sent + "/messages?status=scheduled", op))
                            .get("items")
                            .size()
                        == 3);
        assertThat(
                sandbox.reply(
                    "{\"tenant\":\"mixed\",\"from\":\""
                        + people.get(0)
                        + "\",\"to\":\"+15550100001\",\"body\":\"Thanks, not now\"}"))
            .isEqualTo(200);
        String campaign = id;
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    IntakeIT.body(first.get("/v1/campaigns/" + campaign, op))
                            .at("/counts/replied")
                            .asLong()
                        == 1);
      }
      clock.advance(Duration.ofHours(49));
      try (TestEngine second = TestEngine.start(dir, config, clock)) {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    sandbox.log("mixed").stream()
                            .filter(e -> e.get("messageId").asText().startsWith("CA"))
                            .count()
                        == 2);
        JsonNode done =
            CampaignLifecycleIT.awaitState(second, op, id, "completed", Duration.ofSeconds(30));
        assertThat(done.at("/counts/followUps/sent").asLong()).isEqualTo(2);
      }
      List<JsonNode> calls =
          sandbox.log("mixed").stream()
              .filter(e -> e.get("messageId").asText().startsWith("CA"))
              .toList();
      assertThat(calls.stream().map(e -> e.get("to").asText()))
          .containsExactlyInAnyOrder(people.get(1), people.get(2));
      assertThat(calls).allMatch(e -> e.get("body").asText().contains("calling about"));
      assertThat(calls).allMatch(e -> e.get("idempotencyKey").asText().endsWith(":1"));
    }
  }
}
