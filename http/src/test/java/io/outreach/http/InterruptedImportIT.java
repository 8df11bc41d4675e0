package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * An import interrupted by an engine stop resumes by itself when the engine comes back and ends
 * with exactly the counts of an uninterrupted run: no lead is lost or stored twice, because the
 * import is one transaction that is either committed with its outcome or not at all.
 */
class InterruptedImportIT {
  private static final int ROWS = 150_000;

  @Test
  void resumesExactlyAfterRestart() throws Exception {
    Path dir = Files.createTempDirectory("outreach-resume-");
    StringBuilder csv = new StringBuilder("first_name,phone\n");
    for (int i = 0; i < ROWS; i++) {
      // Unique valid numbers across many New York exchanges.
      csv.append("n")
          .append(i)
          .append(",+1212")
          .append(200 + i / 10_000)
          .append(String.format("%04d", i % 10_000))
          .append('\n');
    }
    String id;
    String token;
    try (TestEngine first = TestEngine.start(dir)) {
      String platform = first.token("platform", Role.PLATFORM);
      assertThat(
              first
                  .json(
                      "POST",
                      "/v1/tenants",
                      platform,
                      "{\"id\":\"acme\",\"name\":\"Acme\",\"timezone\":\"UTC\",\"monthlyBudgetCents\":100000000}")
                  .statusCode())
          .isEqualTo(201);
      token = first.token("acme", Role.OPERATOR);
      var r = first.csv("/v1/imports", token, csv.toString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
      id = IntakeIT.body(r).get("id").asText();
      // Stop while rows are being processed.
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .until(
              () -> IntakeIT.body(first.get("/v1/imports/" + id, token)).get("rows").asLong() > 0);
      assertThat(IntakeIT.body(first.get("/v1/imports/" + id, token)).get("status").asText())
          .isEqualTo("running");
      assertThat(IntakeIT.body(first.get("/v1/leads?limit=1", token)).get("items"))
          .as("nothing is visible mid-import")
          .isEmpty();
    }
    try (TestEngine second = TestEngine.start(dir)) {
      JsonNode done = IntakeIT.awaitImport(second, token, id);
      assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
      assertThat(done.get("rows").asLong()).isEqualTo(ROWS);
      assertThat(done.get("accepted").asLong()).isEqualTo(ROWS);
      assertThat(done.get("duplicates").asLong()).isZero();
      assertThat(done.get("rejected").asLong()).isZero();
    }
  }
}
