package io.outreach.http.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The Apollo twin in Apollo's shapes (PROVIDERS.md 2.2-2.5, 5): plain-text 401, at most 10 details,
 * made-up people predictable from the request, the count fields left out of a waterfall, the
 * rate-limit headers of each key's fixed windows and a 429 naming the window once one is used up.
 */
class ApolloTwinTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final class MovingClock extends Clock {
    Instant now = Instant.parse("2026-12-02T10:15:42Z");

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final MovingClock clock = new MovingClock();
  private final SandboxLog log = new SandboxLog(100, clock);
  private final ApolloTwin twin =
      new ApolloTwin(
          JSON,
          log,
          java.util.Set.of(SandboxSettings.APOLLO_TEST_KEY),
          new SandboxSettings.ApolloLimits(2, 100, 1000),
          clock);

  private TwinAnswer bulk(String key, Map<String, String> query, String body) {
    TwinAnswer.Call call = twin.bulkMatch(Optional.ofNullable(key), query, body);
    return call instanceof TwinAnswer.Call.Now now
        ? now.answer()
        : ((TwinAnswer.Call.Take) call).take().get();
  }

  @Test
  void anUnknownKeyIsRefusedInPlainText() {
    TwinAnswer a = bulk("wrong", Map.of(), "{\"details\":[{\"email\":\"a@b.example\"}]}");
    assertThat(a.status()).isEqualTo(401);
    assertThat(a.text()).startsWith("Invalid API key.");
    assertThat(bulk(null, Map.of(), "{}").status()).isEqualTo(401);
  }

  @Test
  void atMostTenDetailsAndPhonesNeedAWebhook() {
    StringBuilder eleven = new StringBuilder("{\"details\":[");
    for (int i = 0; i < 11; i++) {
      eleven.append(i == 0 ? "" : ",").append("{\"email\":\"p").append(i).append("@x.example\"}");
    }
    eleven.append("]}");
    assertThat(bulk(SandboxSettings.APOLLO_TEST_KEY, Map.of(), eleven.toString()).status())
        .isEqualTo(422);
    assertThat(bulk(SandboxSettings.APOLLO_TEST_KEY, Map.of(), "{\"details\":[]}").status())
        .isEqualTo(400);
    assertThat(
            bulk(
                    SandboxSettings.APOLLO_TEST_KEY,
                    Map.of("reveal_phone_number", "true"),
                    "{\"details\":[{\"email\":\"a@b.example\"}]}")
                .status())
        .isEqualTo(400);
  }

  @Test
  @SuppressWarnings("unchecked")
  void peopleArePredictableFromTheRequestAndUnmatchedAreNull() {
    TwinAnswer a =
        bulk(
            SandboxSettings.APOLLO_TEST_KEY,
            Map.of(),
            """
            {"details":[{"email":"dana.reyes@reyesco.example"},
                        {"email":"nomatch.x@reyesco.example"},
                        {"first_name":"Only","last_name":"Name"},
                        {"first_name":"Sam","last_name":"Ortiz","organization_name":"Ortizco"}]}""");
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.body())
        .containsEntry("total_requested_enrichments", 4)
        .containsEntry("unique_enriched_records", 2)
        .containsEntry("missing_records", 2)
        .containsEntry("credits_consumed", 2);
    List<Map<String, Object>> matches = (List<Map<String, Object>>) a.body().get("matches");
    assertThat(matches.get(0))
        .containsEntry("first_name", "Dana")
        .containsEntry("last_name", "Reyes")
        .containsEntry("email", "dana.reyes@reyesco.example");
    assertThat(((Map<String, Object>) matches.get(0).get("organization")).get("name"))
        .isEqualTo("Reyesco");
    assertThat(matches.get(1)).isNull();
    assertThat(matches.get(2)).as("a name alone matches nobody").isNull();
    assertThat(matches.get(3)).containsEntry("email", "sam.ortiz@ortizco.com");
    assertThat(a.body().get("request_id")).isInstanceOf(Long.class);
    assertThat(log.since(0, null, 10)).hasSize(4).allMatch(e -> e.provider().equals("apollo"));

    TwinAnswer again =
        bulk(
            SandboxSettings.APOLLO_TEST_KEY,
            Map.of(),
            "{\"details\":[{\"email\":\"dana.reyes@reyesco.example\"}]}");
    assertThat(((List<Map<String, Object>>) again.body().get("matches")).get(0).get("id"))
        .isEqualTo(matches.get(0).get("id"));
  }

  @Test
  void aWaterfallLeavesTheCountsOutAndNeedsAWebhook() {
    TwinAnswer a =
        bulk(
            SandboxSettings.APOLLO_TEST_KEY,
            Map.of("run_waterfall_email", "true", "webhook_url", "https://example.com/hook"),
            "{\"details\":[{\"email\":\"a.b@c.example\"}]}");
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.body())
        .containsKey("waterfall")
        .doesNotContainKeys("unique_enriched_records", "missing_records", "credits_consumed");
  }

  @Test
  void eachKeysWindowsAreCountedInTheHeadersAndAFullWindowIs429() {
    String one = "{\"details\":[{\"email\":\"a.b@c.example\"}]}";
    TwinAnswer first = bulk(SandboxSettings.APOLLO_TEST_KEY, Map.of(), one);
    assertThat(first.headers())
        .containsEntry("x-rate-limit-minute", "2")
        .containsEntry("x-minute-usage", "1")
        .containsEntry("x-minute-requests-left", "1")
        .containsEntry("x-hourly-requests-left", "99")
        .containsEntry("x-daily-requests-left", "999");
    assertThat(bulk(SandboxSettings.APOLLO_TEST_KEY, Map.of(), one).headers())
        .containsEntry("x-minute-requests-left", "0");
    TwinAnswer over = bulk(SandboxSettings.APOLLO_TEST_KEY, Map.of(), one);
    assertThat(over.status()).isEqualTo(429);
    assertThat((String) over.body().get("message")).contains("is 2 times per minute");
    assertThat(over.headers()).containsEntry("Retry-After", "19");

    clock.now = Instant.parse("2026-12-02T10:16:00Z");
    assertThat(bulk(SandboxSettings.APOLLO_TEST_KEY, Map.of(), one).headers())
        .as("a new minute")
        .containsEntry("x-minute-requests-left", "1")
        .containsEntry("x-hourly-requests-left", "97");
  }
}
