package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A national do-not-call copy older than 31 days holds every campaign send (nothing goes out, with
 * its own reason, and the engine reports it); loading a fresh copy lets the campaign go on by
 * itself. The copy is shared by all tenants, so this class has its own engine.
 */
class NationalCopyIT {
  private static TestEngine node;

  @BeforeAll
  static void start() {
    node = TestEngine.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void aStaleCopyHoldsSendsAndAFreshOneReleasesThem() {
    String platform = node.token("platform", Role.PLATFORM);
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    assertThat(
            node.send(
                    "POST",
                    "/v1/dnc/national?asOf=" + today.minusDays(40),
                    platform,
                    "text/csv",
                    "phone\n+12125559999\n")
                .statusCode())
        .isEqualTo(200);
    String op = node.tenant("stale");
    String id = CampaignLifecycleIT.launch(node, op, 347, 20, "");
    await()
        .during(Duration.ofSeconds(4))
        .atMost(Duration.ofSeconds(8))
        .until(() -> IntakeIT.body(node.sandboxLog("stale")).isEmpty());
    JsonNode held = IntakeIT.body(node.get("/v1/campaigns/" + id, op));
    assertThat(held.get("state").asText()).isEqualTo("running");
    assertThat(held.at("/counts/sent").asLong()).isZero();
    assertThat(held.at("/counts/pending").asLong()).isEqualTo(20);
    assertThat(node.get("/metrics", null).body())
        .contains("outreach_dnc_national_copy_age_days 40.0");

    assertThat(
            node.send(
                    "POST",
                    "/v1/dnc/national?asOf=" + today,
                    platform,
                    "text/csv",
                    "phone\n+12125559999\n")
                .statusCode())
        .isEqualTo(200);
    JsonNode done =
        CampaignLifecycleIT.awaitState(node, op, id, "completed", Duration.ofSeconds(60));
    assertThat(done.at("/counts/sent").asLong()).isEqualTo(20);
    assertThat(done.at("/counts/blocked/dncStale").asLong()).isZero();
  }
}
