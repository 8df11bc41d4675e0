package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Recipients waiting for a time never hold back those who may be contacted now. A national list of
 * 5,000 at 09:30 in New York: a third are in Los Angeles (06:30, outside the federal hours), and
 * 300 New Yorkers were texted by another campaign a moment ago (the 1-per-24-hours cap). All the
 * others go at once at the senders' full rate; the Californians go at 08:00 their time after an
 * engine restart in between, the capped ones a day after their first message, each exactly once.
 * Judged at a sandbox in its own actor system, on the campaign clock.
 */
class DeferralIT {
  private static final int RECIPIENTS = 5_000;
  private static final int PACIFIC = RECIPIENTS / 3;
  private static final int CAPPED = 300;
  private static final int SENDERS = 3;
  private static final int MPS = 25;
  // Wednesday 2026-11-25 14:30Z: 09:30 in New York, 06:30 in Los Angeles (opens 16:00Z).
  private static final Instant START = Instant.parse("2026-11-25T14:30:00Z");
  private static final Instant PACIFIC_OPENING = Instant.parse("2026-11-25T16:00:00Z");

  private final HttpClient http = HttpClient.newHttpClient();

  private static String phone(int i) {
    // Numbers 0..PACIFIC-1 in Los Angeles (213), the rest in New York (212); the capped ones are
    // the first New Yorkers.
    return CampaignLifecycleIT.phone(i < PACIFIC ? 213 : 212, i);
  }

  private static List<JsonNode> sandboxLog(StandaloneSandbox sandbox, String campaignId) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode e : sandbox.log("waits")) {
      if (e.get("idempotencyKey").asText().startsWith(campaignId + ":")) {
        out.add(e);
      }
    }
    return out;
  }

  /**
   * When each number was sent, on the campaign clock as it stands (the sandbox logs real time):
   * read before the clock moves again.
   */
  private static Map<String, Instant> onCampaignClock(List<JsonNode> log, MovableClock clock) {
    return log.stream()
        .collect(
            Collectors.toMap(
                e -> e.get("to").asText(),
                e -> Instant.parse(e.get("at").asText()).plus(clock.offset()),
                (a, b) -> a));
  }

  private static JsonNode campaign(TestEngine node, String op, String id) {
    return IntakeIT.body(node.get("/v1/campaigns/" + id, op));
  }

  private static String launch(TestEngine node, String op, String audience) {
    var created =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\"National\",\"channel\":\"sms\",\"audience\":"
                + audience
                + ",\"message\":\"Hi {{first_name}}\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = IntakeIT.body(created).get("id").asText();
    assertThat(node.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode())
        .isEqualTo(202);
    return id;
  }

  @Test
  void deferredRecipientsReleaseTheirSlotsAndGoWhenTheirTimeComesExactlyOnce() throws Exception {
    try (StandaloneSandbox sandbox = StandaloneSandbox.start("sandbox-waits")) {
      Path dir = Files.createTempDirectory("outreach-waits-");
      Map<String, Object> config = new HashMap<>(sandbox.engineConfig());
      config.put("outreach.compliance.federal-hours.start", "08:00");
      config.put("outreach.compliance.federal-hours.end", "21:00");
      MovableClock clock = MovableClock.at(START);
      String op;
      String national;
      Map<String, Instant> earlyAt;
      Instant firstContact;
      try (TestEngine first = TestEngine.start(dir, config, clock)) {
        first.json(
            "POST",
            "/v1/tenants",
            first.token("platform", Role.PLATFORM),
            "{\"id\":\"waits\",\"name\":\"Waits\",\"timezone\":\"America/New_York\",\"monthlyBudgetCents\":100000000}");
        StringBuilder senders = new StringBuilder("{\"senders\":[");
        for (int s = 1; s <= SENDERS; s++) {
          senders
              .append(s > 1 ? "," : "")
              .append("{\"provider\":\"twilio\",\"from\":\"+1555010000")
              .append(s)
              .append("\",\"kind\":\"short_code\",\"mps\":")
              .append(MPS)
              .append('}');
        }
        first.settings("waits", senders.append("]}").toString());
        op = first.token("waits", Role.OPERATOR);

        // Another campaign texts the first 300 New Yorkers now.
        StringBuilder early = new StringBuilder("first_name,phone\n");
        for (int i = PACIFIC; i < PACIFIC + CAPPED; i++) {
          early.append("E").append(i).append(',').append(phone(i)).append('\n');
        }
        String earlyImport = IntakeIT.importAndWait(first, op, early.toString()).get("id").asText();
        String earlyCampaign = launch(first, op, "{\"importId\":\"" + earlyImport + "\"}");
        CampaignLifecycleIT.awaitState(
            first, op, earlyCampaign, "completed", Duration.ofSeconds(60));
        earlyAt = onCampaignClock(sandboxLog(sandbox, earlyCampaign), clock);
        firstContact = earlyAt.values().stream().max(Instant::compareTo).orElseThrow();

        StringBuilder csv = new StringBuilder("first_name,phone\n");
        for (int i = 0; i < RECIPIENTS; i++) {
          csv.append("R").append(i).append(',').append(phone(i)).append('\n');
        }
        IntakeIT.importAndWait(first, op, csv.toString());
        national = launch(first, op, "{\"all\":true}");

        // Everyone who may be contacted now is, while the others wait (the clock stays before the
        // Pacific opening: about a minute passes).
        int now = RECIPIENTS - PACIFIC - CAPPED;
        await()
            .atMost(Duration.ofSeconds(150))
            .until(() -> sandboxLog(sandbox, national).size() >= now);
        assertThat(clock.instant()).isBefore(PACIFIC_OPENING);
        List<Instant> sent =
            sandboxLog(sandbox, national).stream()
                .map(e -> Instant.parse(e.get("at").asText()))
                .sorted()
                .toList();
        assertThat(sent).hasSize(now);
        double seconds =
            Duration.between(sent.get(0), sent.get(sent.size() - 1)).toMillis() / 1000.0;
        double rate = (sent.size() - 1) / seconds;
        System.out.printf(
            "DeferralIT: %d sends in %.1f s = %.1f/s while %d wait (senders allow %d/s)%n",
            sent.size(), seconds, rate, PACIFIC + CAPPED, SENDERS * MPS);
        assertThat(rate).as("sends/s while others wait").isGreaterThan(0.75 * SENDERS * MPS);

        // The campaign says what it waits for, and when.
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  JsonNode v = campaign(first, op, national);
                  assertThat(v.at("/counts/sent").asLong()).isEqualTo(now);
                  assertThat(v.at("/counts/deferred").asLong()).isEqualTo(PACIFIC + CAPPED);
                  assertThat(v.at("/counts/deferredBy/hours").asLong()).isEqualTo(PACIFIC);
                  assertThat(v.at("/counts/deferredBy/frequency").asLong()).isEqualTo(CAPPED);
                  assertThat(Instant.parse(v.get("nextDueAt").asText())).isEqualTo(PACIFIC_OPENING);
                  assertThat(v.get("blocksWaiting").asInt())
                      .isEqualTo(v.get("blocks").asInt() - v.get("blocksFinished").asInt());
                });
        // The calendar shows both waves: the Californians at their opening, the capped a day on.
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  JsonNode items =
                      IntakeIT.body(
                              first.get(
                                  "/v1/calendar?from="
                                      + START.minus(Duration.ofHours(1))
                                      + "&to="
                                      + START.plus(Duration.ofDays(2)),
                                  op))
                          .get("items");
                  Map<Instant, Long> waves = new HashMap<>();
                  items.forEach(
                      e -> {
                        if (e.get("kind").asText().equals("deferred")
                            && e.get("campaignId").asText().equals(national)) {
                          waves.merge(
                              Instant.parse(e.get("at").asText()),
                              e.get("count").asLong(),
                              Long::sum);
                        }
                      });
                  assertThat(waves).containsEntry(PACIFIC_OPENING, (long) PACIFIC);
                  assertThat(waves.values().stream().mapToLong(Long::longValue).sum())
                      .isEqualTo(PACIFIC + CAPPED);
                });
      }

      // Restarted after the Pacific opening: the Californians go, each once, not before 08:00.
      clock.advance(Duration.between(clock.instant(), PACIFIC_OPENING.plusSeconds(5)));
      try (TestEngine second = TestEngine.start(dir, config, clock)) {
        await()
            .atMost(Duration.ofSeconds(120))
            .until(() -> sandboxLog(sandbox, national).size() == RECIPIENTS - CAPPED);
        Map<String, Instant> at = onCampaignClock(sandboxLog(sandbox, national), clock);
        for (int i = 0; i < PACIFIC; i++) {
          assertThat(at.get(phone(i)))
              .as("Californian %d not before 08:00", i)
              .isAfterOrEqualTo(PACIFIC_OPENING);
        }
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  JsonNode v = campaign(second, op, national);
                  assertThat(v.at("/counts/deferredBy/hours").asLong()).isZero();
                  assertThat(v.at("/counts/deferred").asLong()).isEqualTo(CAPPED);
                  assertThat(Instant.parse(v.get("nextDueAt").asText()))
                      .isAfter(firstContact.plus(Duration.ofHours(23)));
                  assertThat(v.get("state").asText()).isEqualTo("running");
                });

        // A day after their first message the capped New Yorkers go too, and the campaign
        // completes.
        clock.advance(
            Duration.between(
                clock.instant(), firstContact.plus(Duration.ofHours(24)).plusSeconds(5)));
        JsonNode done =
            CampaignLifecycleIT.awaitState(
                second, op, national, "completed", Duration.ofSeconds(90));
        assertThat(done.at("/counts/sent").asLong()).isEqualTo(RECIPIENTS);
        assertThat(done.at("/counts/deferred").asLong()).isZero();
        assertThat(done.get("nextDueAt").isNull()).isTrue();
      }

      List<JsonNode> log = sandboxLog(sandbox, national);
      Map<String, Long> perNumber =
          log.stream()
              .collect(Collectors.groupingBy(e -> e.get("to").asText(), Collectors.counting()));
      assertThat(perNumber).hasSize(RECIPIENTS);
      assertThat(perNumber.values()).as("each recipient once").allMatch(n -> n == 1);
      assertThat(log).noneMatch(e -> e.path("duplicate").asBoolean());
      Map<String, Instant> at = onCampaignClock(log, clock);
      for (int i = PACIFIC; i < PACIFIC + CAPPED; i++) {
        assertThat(at.get(phone(i)))
            .as("capped %d a day after its first message", i)
            .isAfterOrEqualTo(earlyAt.get(phone(i)).plus(Duration.ofHours(24)));
      }
    }
  }
}
