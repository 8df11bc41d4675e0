package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An engine stopped in the middle of a campaign and started again on the same data: the campaign
 * completes with no API call, and the standalone sandbox (which outlives the engine) has received
 * every recipient exactly once; repeats carry the same idempotency key and are not delivered.
 */
class CampaignRecoveryIT {
  private static final int RECIPIENTS = 3000;

  @Test
  void campaignCompletesAfterRestartAndEachRecipientIsDeliveredOnce() throws Exception {
    try (StandaloneSandbox sandbox = StandaloneSandbox.start("sandbox-it")) {
      // Slow the provider so the engine stops with sends in flight.
      sandbox.faults("{\"latencyMs\":20}");

      Path dir = Files.createTempDirectory("outreach-campaign-recovery-");
      Map<String, Object> extra = sandbox.engineConfig();
      String id;
      String token;
      try (TestEngine first = TestEngine.start(dir, extra)) {
        first.json(
            "POST",
            "/v1/tenants",
            first.token("platform", Role.PLATFORM),
            "{\"id\":\"acme\",\"name\":\"Acme\",\"timezone\":\"UTC\",\"monthlyBudgetCents\":100000000}");
        token = first.token("acme", Role.OPERATOR);
        StringBuilder csv = new StringBuilder("first_name,phone\n");
        for (int i = 0; i < RECIPIENTS; i++) {
          csv.append("R")
              .append(i)
              .append(",+1212")
              .append(300 + i / 10_000)
              .append(String.format("%04d", i % 10_000))
              .append('\n');
        }
        JsonNode imp = IntakeIT.importAndWait(first, token, csv.toString());
        id =
            IntakeIT.body(
                    first.json(
                        "POST",
                        "/v1/campaigns",
                        token,
                        "{\"name\":\"Recover\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                            + imp.get("id").asText()
                            + "\"},\"message\":\"Hello {{first_name}}\"}"))
                .get("id")
                .asText();
        assertThat(first.json("POST", "/v1/campaigns/" + id + "/launch", token, null).statusCode())
            .isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).until(() -> sandbox.log("acme").size() > 300);
      }
      int atStop = sandbox.log("acme").size();
      assertThat(atStop).as("stopped mid-campaign").isLessThan(RECIPIENTS);

      try (TestEngine second = TestEngine.start(dir, extra)) {
        JsonNode[] c = new JsonNode[1];
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(500))
            .until(
                () -> {
                  c[0] = IntakeIT.body(second.get("/v1/campaigns/" + id, token));
                  return c[0].get("state").asText().equals("completed");
                });
        assertThat(c[0].at("/counts/sent").asLong()).isEqualTo(RECIPIENTS);
      }
      Map<String, Integer> delivered = new HashMap<>();
      for (JsonNode e : sandbox.log("acme")) {
        if (!e.path("duplicate").asBoolean(false)) {
          delivered.merge(e.get("to").asText(), 1, Integer::sum);
        }
      }
      assertThat(delivered).hasSize(RECIPIENTS);
      assertThat(delivered.values()).allMatch(n -> n == 1);
    }
  }
}
