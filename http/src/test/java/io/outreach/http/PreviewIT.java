package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A campaign's preview is a dry run with no side effects, and it matches what the campaign then
 * does: the same eligible, blocked and deferred counts (do-not-contact, a template field missing,
 * the frequency cap of a person contacted by another campaign today, which defers them a day). The
 * calendar shows scheduled starts and follow-ups that are not due yet.
 */
class PreviewIT {
  private static TestEngine node;

  @BeforeAll
  static void start() {
    node = TestEngine.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static String phone(int i) {
    return "+1718" + (300 + i / 10_000) + String.format("%04d", i % 10_000);
  }

  @Test
  void thePreviewMatchesWhatTheCampaignThenDoes() {
    String op = node.tenant("preview");
    // Someone the tenant already texted today (1 per 24 h is the default cap).
    StringBuilder early = new StringBuilder("first_name,phone\nEarly," + phone(7) + "\n");
    String first =
        createAndLaunch(
            op, IntakeIT.importAndWait(node, op, early.toString()).get("id").asText(), null);
    CampaignLifecycleIT.awaitState(node, op, first, "completed", Duration.ofSeconds(60));

    StringBuilder csv = new StringBuilder("first_name,phone\n");
    for (int i = 0; i < 120; i++) {
      csv.append(i == 11 ? "" : "P" + i).append(',').append(phone(i)).append('\n');
    }
    // The early lead is deduplicated into its first import: the campaign goes to all leads.
    IntakeIT.importAndWait(node, op, csv.toString());
    node.json("POST", "/v1/dnc", op, "{\"phones\":[\"" + phone(3) + "\",\"" + phone(4) + "\"]}");
    String id = create(op, null, null);

    JsonNode preview = IntakeIT.body(node.get("/v1/campaigns/" + id + "/preview", op));
    assertThat(preview.get("recipients").asLong()).isEqualTo(120);
    assertThat(preview.at("/blocked/dnc").asLong()).isEqualTo(2);
    assertThat(preview.at("/blocked/invalid").asLong()).isEqualTo(1);
    assertThat(preview.at("/blocked/frequency").asLong()).isZero();
    assertThat(preview.get("eligible").asLong()).isEqualTo(117);
    // The cap (1 per 24 h) defers the early lead to a day after its first message.
    assertThat(preview.get("deferred").asLong()).isEqualTo(1);
    Instant capRoom = Instant.parse(preview.at("/deferredUntil/0/at").asText());
    assertThat(capRoom)
        .isBetween(
            Instant.now().plus(Duration.ofHours(23)), Instant.now().plus(Duration.ofHours(25)));
    long scheduled = 0;
    for (JsonNode slot : preview.get("schedule")) {
      scheduled += slot.get("count").asLong();
    }
    assertThat(scheduled).isEqualTo(117);
    assertThat(preview.get("estimatedCostCents").asLong())
        .as("117 one-segment messages at 0.83 cents")
        .isEqualTo(98);
    // No side effects: still a draft, nothing sent, no recipients taken.
    assertThat(IntakeIT.body(node.get("/v1/campaigns/" + id, op)).get("state").asText())
        .isEqualTo("draft");
    assertThat(IntakeIT.body(node.sandboxLog("preview")).size()).isEqualTo(1);

    assertThat(node.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode())
        .isEqualTo(202);
    JsonNode[] view = new JsonNode[1];
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              view[0] = IntakeIT.body(node.get("/v1/campaigns/" + id, op));
              JsonNode c = view[0].get("counts");
              // The block gives its slot back a moment after it reported the last outcome.
              return c.get("sent").asLong() + c.get("failed").asLong() == 116
                  && c.get("deferred").asLong() == 1
                  && view[0].get("blocksWaiting").asInt() == 1;
            });
    // Everyone else is done; the campaign runs on, waiting for the capped one, and says so.
    JsonNode counts = view[0].get("counts");
    assertThat(view[0].get("state").asText()).isEqualTo("running");
    assertThat(counts.at("/deferredBy/frequency").asLong()).isEqualTo(1);
    assertThat(counts.get("pending").asLong()).isEqualTo(1);
    assertThat(Instant.parse(view[0].get("nextDueAt").asText()))
        .isBetween(capRoom.minusSeconds(120), capRoom.plusSeconds(120));
    assertThat(view[0].get("blocksWaiting").asInt()).isEqualTo(1);
    assertThat(
            counts.get("sent").asLong()
                + counts.get("failed").asLong()
                + counts.get("deferred").asLong())
        .isEqualTo(preview.get("eligible").asLong());
    for (String reason : new String[] {"dnc", "invalid", "frequency", "optOut"}) {
      assertThat(counts.at("/blocked/" + reason).asLong())
          .as(reason)
          .isEqualTo(preview.at("/blocked/" + reason).asLong());
    }
    // After the launch the preview reads the snapshot, and says the same.
    assertThat(
            IntakeIT.body(node.get("/v1/campaigns/" + id + "/preview", op))
                .get("recipients")
                .asLong())
        .isEqualTo(120);
    assertThat(node.get("/v1/campaigns/cmp_00000000/preview", op).statusCode()).isEqualTo(404);
  }

  @Test
  void theCalendarShowsScheduledStartsAndFollowUpsNotYetDue() {
    String op = node.tenant("calendar");
    String importId =
        IntakeIT.importAndWait(
                node, op, "first_name,phone\nA," + phone(500) + "\nB," + phone(501) + "\n")
            .get("id")
            .asText();
    Instant later =
        Instant.now().plus(Duration.ofDays(3)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    String scheduled = createAndLaunch(op, importId, ",\"startAt\":\"" + later + "\"");
    assertThat(IntakeIT.body(node.get("/v1/campaigns/" + scheduled, op)).get("state").asText())
        .isEqualTo("scheduled");
    String withSteps =
        createAndLaunch(
            op, importId, ",\"steps\":[{\"afterHours\":24,\"message\":\"Again {{first_name}}\"}]");
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              JsonNode items = IntakeIT.body(node.get("/v1/calendar", op)).get("items");
              assertThat(items)
                  .anySatisfy(
                      e -> {
                        assertThat(e.get("kind").asText()).isEqualTo("campaign-start");
                        assertThat(e.get("campaignId").asText()).isEqualTo(scheduled);
                        assertThat(Instant.parse(e.get("at").asText())).isEqualTo(later);
                      });
              assertThat(items)
                  .anySatisfy(
                      e -> {
                        assertThat(e.get("kind").asText()).isEqualTo("follow-up");
                        assertThat(e.get("campaignId").asText()).isEqualTo(withSteps);
                        assertThat(e.get("step").asInt()).isEqualTo(1);
                        assertThat(e.get("count").asLong()).isEqualTo(2);
                      });
            });
    assertThat(
            node.get("/v1/calendar?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z", op)
                .statusCode())
        .isEqualTo(400);
    assertThat(node.get("/v1/calendar?from=yesterday", op).statusCode()).isEqualTo(400);
    assertThat(IntakeIT.body(node.get("/v1/calendar", node.tenant("calendar-other"))).get("items"))
        .isEmpty();
  }

  private static String create(String op, String importId, String extra) {
    var created =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\"Preview\",\"channel\":\"sms\",\"audience\":"
                + (importId == null ? "{\"all\":true}" : "{\"importId\":\"" + importId + "\"}")
                + ",\"message\":\"Hi {{first_name}}\""
                + (extra == null ? "" : extra)
                + "}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return IntakeIT.body(created).get("id").asText();
  }

  private static String createAndLaunch(String op, String importId, String extra) {
    String id = create(op, importId, extra);
    assertThat(node.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode())
        .isEqualTo(202);
    return id;
  }
}
