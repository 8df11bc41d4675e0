package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Work that waits on a timer resumes by itself: a campaign's follow-up step is due 48 hours after
 * the first message; the engine is stopped while it waits and started again on the same data after
 * the time has come (on the campaign clock), and the follow-ups go out with no API call, once each,
 * with their own idempotency keys.
 */
class FollowUpIT {
  @Test
  void aFollowUpWaitingOnItsTimerIsSentAfterARestart() throws Exception {
    try (StandaloneSandbox sandbox = StandaloneSandbox.start("sandbox-followup")) {
      Path dir = Files.createTempDirectory("outreach-followup-");
      Map<String, Object> extra = sandbox.engineConfig();
      // 16:00 UTC: 11:00 in New York, inside the legal hours (the real ones: this test keeps them).
      MovableClock clock = MovableClock.at(Instant.parse("2026-11-25T16:00:00Z"));
      Map<String, Object> legalHours =
          Map.of(
              "outreach.compliance.federal-hours.start",
              "08:00",
              "outreach.compliance.federal-hours.end",
              "21:00");
      Map<String, Object> config = new java.util.HashMap<>(extra);
      config.putAll(legalHours);
      String id;
      String op;
      try (TestEngine first = TestEngine.start(dir, config, clock)) {
        first.json(
            "POST",
            "/v1/tenants",
            first.token("platform", Role.PLATFORM),
            "{\"id\":\"follow\",\"name\":\"Follow\",\"timezone\":\"America/New_York\",\"monthlyBudgetCents\":100000000}");
        op = first.token("follow", Role.OPERATOR);
        id =
            CampaignLifecycleIT.launch(
                first,
                op,
                917,
                5,
                ",\"steps\":[{\"afterHours\":48,\"message\":\"Still keen, {{first_name}}?\"}]");
        await().atMost(Duration.ofSeconds(60)).until(() -> sandbox.log("follow").size() == 5);
        // The first messages are out; the campaign waits for its follow-ups.
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    IntakeIT.body(first.get("/v1/campaigns/" + id, op)).at("/counts/sent").asLong()
                        == 5);
        assertThat(IntakeIT.body(first.get("/v1/campaigns/" + id, op)).get("state").asText())
            .isEqualTo("running");
      }
      clock.advance(Duration.ofHours(49));
      try (TestEngine second = TestEngine.start(dir, config, clock)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> sandbox.log("follow").size() == 10);
        JsonNode done =
            CampaignLifecycleIT.awaitState(second, op, id, "completed", Duration.ofSeconds(30));
        assertThat(done.at("/counts/followUps/sent").asLong()).isEqualTo(5);
        assertThat(done.at("/counts/sent").asLong()).isEqualTo(5);
      }
      List<JsonNode> log = sandbox.log("follow");
      assertThat(log.stream().filter(e -> e.get("body").asText().startsWith("Still keen, R")))
          .hasSize(5);
      assertThat(log.stream().map(e -> e.get("idempotencyKey").asText()).distinct()).hasSize(10);
      assertThat(log.stream().filter(e -> e.get("idempotencyKey").asText().endsWith(":1")))
          .hasSize(5);
      assertThat(log).noneMatch(e -> e.path("duplicate").asBoolean(false));
    }
  }
}
