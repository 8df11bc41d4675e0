package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.http.sandbox.SandboxSettings;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * Apollo's limits are honoured from its headers, without a 429: against a twin that allows two bulk
 * matches a minute, a job of three calls waits for the next minute once the headers say the minute
 * has none left (so this test takes up to a minute).
 */
class ApolloLimitsIT {

  @Test
  void aWindowTheHeadersReportEmptyIsWaitedOut() throws Exception {
    try (StandaloneSandbox sandbox =
        StandaloneSandbox.start(
            "apollo-limits-it",
            SandboxSettings.DEFAULTS.withApolloLimits(
                new SandboxSettings.ApolloLimits(2, 1_000, 10_000)))) {
      try (TestEngine node =
          TestEngine.start(
              Files.createTempDirectory("outreach-apollo-limits-"), sandbox.engineConfig())) {
        String op = EnrichmentIT.tenantWithLuci(node, "limits", null, null);
        StringBuilder csv = new StringBuilder("email\n");
        for (int i = 0; i < 30; i++) {
          csv.append("l").append(i).append(".park@limits.example\n");
        }
        String id =
            EnrichmentIT.enrich(
                node,
                op,
                "{\"importId\":\"" + EnrichmentIT.importLeads(node, op, csv.toString()) + "\"}");
        JsonNode done = EnrichmentIT.awaitStatus(node, op, id, "completed", "failed");
        assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
        assertThat(done.at("/counts/matched").asInt()).isEqualTo(30);
        assertThat(sandbox.calls("apollo", "200")).isEqualTo(3);
        assertThat(sandbox.calls("apollo", "429")).as("never over the limit").isZero();
      }
    }
  }
}
