package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Nothing accepted is lost: an engine stopped in the middle of an enrichment, with another waiting
 * for approval, is started again on the same data; the running job finishes by itself, each lead
 * enriched and each batch charged once (the standalone Apollo twin outlives the engine and counts
 * the calls), and the waiting job is still in the review queue and runs once approved.
 */
class EnrichmentRecoveryIT {
  private static final int LEADS = 100;

  @Test
  void anInterruptedEnrichmentFinishesAfterARestartAndAWaitingOneStillWaits() throws Exception {
    try (StandaloneSandbox sandbox = StandaloneSandbox.start("enrichment-recovery-it")) {
      sandbox.faults("{\"latencyMs\":300}");
      Path dir = Files.createTempDirectory("outreach-enrichment-recovery-");
      Map<String, Object> extra = sandbox.engineConfig();
      String running;
      String waiting;
      String op;
      String reviewer;
      try (TestEngine first = TestEngine.start(dir, extra)) {
        op = EnrichmentIT.tenantWithLuci(first, "recover", null, null);
        reviewer = EnrichmentIT.tenantWithLuci(first, "recover-review", 0L, null);
        StringBuilder csv = new StringBuilder("email\n");
        for (int i = 0; i < LEADS; i++) {
          csv.append("r").append(i).append(".hale@recover.example\n");
        }
        String importId = EnrichmentIT.importLeads(first, op, csv.toString());
        String waitingImport =
            EnrichmentIT.importLeads(first, reviewer, "email\nw.hale@recover.example\n");
        waiting = EnrichmentIT.enrich(first, reviewer, "{\"importId\":\"" + waitingImport + "\"}");
        running = EnrichmentIT.enrich(first, op, "{\"importId\":\"" + importId + "\"}");
        await().atMost(Duration.ofSeconds(60)).until(() -> sandbox.calls("apollo", "200") >= 2);
      }
      long atStop = sandbox.calls("apollo", "200");
      assertThat(atStop).as("stopped mid-job").isLessThan(LEADS / 10);
      sandbox.faults("{}");

      try (TestEngine second = TestEngine.start(dir, extra)) {
        JsonNode done = EnrichmentIT.awaitStatus(second, op, running, "completed", "failed");
        assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
        assertThat(done.at("/counts/matched").asInt()).isEqualTo(LEADS);
        assertThat(done.get("creditsUsed").decimalValue()).isEqualByComparingTo("100");
        assertThat(done.get("costCents").asLong()).isEqualTo(200);
        // The call in flight at the stop may be made again (Apollo takes no idempotency key).
        assertThat(sandbox.calls("apollo", "200")).isBetween(10L, 11L);
        JsonNode luci = EnrichmentIT.agent(IntakeIT.body(second.get("/v1/spend", op)), "luci");
        assertThat(luci.get("spentCents").asLong()).as("each batch charged once").isEqualTo(200);
        assertThat(luci.get("reservedCents").asLong()).isZero();

        assertThat(
                IntakeIT.body(second.get("/v1/enrichments/" + waiting, reviewer))
                    .get("status")
                    .asText())
            .isEqualTo("awaiting_approval");
        JsonNode items = IntakeIT.body(second.get("/v1/reviews", reviewer)).get("items");
        assertThat(items).hasSize(1);
        assertThat(
                second
                    .json(
                        "POST",
                        "/v1/reviews/" + items.get(0).get("id").asText() + "/approve",
                        reviewer,
                        "")
                    .statusCode())
            .isEqualTo(200);
        assertThat(
                EnrichmentIT.awaitStatus(second, reviewer, waiting, "completed", "failed")
                    .at("/counts/matched")
                    .asInt())
            .isEqualTo(1);
      }
    }
  }
}
