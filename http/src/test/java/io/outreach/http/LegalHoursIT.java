package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Legal hours with the real rules: recipients in New York reached before 08:00 local are deferred
 * to 08:00 by a durable timer; the engine is stopped and started again while they wait, and each is
 * sent at the opening, not a moment early (judged on the campaign clock).
 */
class LegalHoursIT {
  @Test
  void aDeferredRecipientIsSentAtTheOpeningAfterARestartInBetween() throws Exception {
    try (StandaloneSandbox sandbox = StandaloneSandbox.start("sandbox-hours")) {
      Path dir = Files.createTempDirectory("outreach-hours-");
      Map<String, Object> config = new HashMap<>(sandbox.engineConfig());
      config.put("outreach.compliance.federal-hours.start", "08:00");
      config.put("outreach.compliance.federal-hours.end", "21:00");
      // 07:59:35 in New York on a weekday; the opening is 08:00:00 = 13:00:00Z.
      Instant opening = Instant.parse("2026-11-25T13:00:00Z");
      MovableClock clock = MovableClock.at(opening.minusSeconds(25));
      String id;
      String op;
      try (TestEngine first = TestEngine.start(dir, config, clock)) {
        first.json(
            "POST",
            "/v1/tenants",
            first.token("platform", Role.PLATFORM),
            "{\"id\":\"hours\",\"name\":\"Hours\",\"timezone\":\"America/New_York\",\"monthlyBudgetCents\":100000000}");
        op = first.token("hours", Role.OPERATOR);
        id = CampaignLifecycleIT.launch(first, op, 212, 5, "");
        String campaign = id;
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    IntakeIT.body(first.get("/v1/campaigns/" + campaign, op))
                            .at("/counts/deferred")
                            .asLong()
                        == 5);
        // The messages read model follows the journal a moment later.
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () -> {
                  JsonNode deferred =
                      IntakeIT.body(
                              first.get(
                                  "/v1/campaigns/" + campaign + "/messages?status=deferred", op))
                          .get("items");
                  assertThat(deferred).hasSize(5);
                  assertThat(deferred)
                      .allMatch(m -> Instant.parse(m.get("dueAt").asText()).equals(opening));
                  assertThat(deferred)
                      .allMatch(m -> m.get("reason").asText().equals("hours:federal"));
                });
        assertThat(sandbox.log("hours")).isEmpty();
      }
      assertThat(clock.instant()).as("restarted before the opening").isBefore(opening);
      try (TestEngine second = TestEngine.start(dir, config, clock)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> sandbox.log("hours").size() == 5);
        JsonNode done =
            CampaignLifecycleIT.awaitState(second, op, id, "completed", Duration.ofSeconds(30));
        assertThat(done.at("/counts/sent").asLong()).isEqualTo(5);
      }
      for (JsonNode e : sandbox.log("hours")) {
        Instant onCampaignClock = Instant.parse(e.get("at").asText()).plus(clock.offset());
        assertThat(onCampaignClock).as("sent at or after the opening").isAfterOrEqualTo(opening);
        assertThat(onCampaignClock).as("sent at the opening").isBefore(opening.plusSeconds(10));
      }
    }
  }
}
