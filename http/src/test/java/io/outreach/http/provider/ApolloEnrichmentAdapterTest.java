package io.outreach.http.provider;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.enrichment.BulkMatch;
import io.outreach.engine.enrichment.EnrichedPerson;
import io.outreach.engine.enrichment.RateWindows;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What Apollo's answers to a bulk match mean (PROVIDERS.md 2.3, 2.5): matches in the order asked
 * with null for nobody, credits as a decimal, the windows left from the headers; a 429 throttles
 * (its Retry-After when sent), a 5xx is unavailability, other refusals are final.
 */
class ApolloEnrichmentAdapterTest {

  private static BulkMatch answer(
      int status, String body, String retryAfter, Map<String, String> headers) {
    return ApolloEnrichmentAdapter.answer(
        new ProviderHttp.Response(status, body, Optional.ofNullable(retryAfter), headers), 3);
  }

  @Test
  void aSuccessReadsMatchesInOrderCreditsAsADecimalAndTheWindowsLeft() {
    BulkMatch m =
        answer(
            200,
            """
            {"status":"success","error_code":null,"error_message":null,
             "total_requested_enrichments":3,"unique_enriched_records":2,"missing_records":1,
             "credits_consumed":1.5,"request_id":-8935112356012325211,
             "matches":[
               {"id":"64a0","first_name":"Ann","last_name":"Lee","email":" Ann.Lee@Acme.example ",
                "email_status":"verified","title":"VP of Sales","state":"California",
                "city":"San Francisco","country":"United States",
                "linkedin_url":"http://www.linkedin.com/in/ann-lee",
                "organization":{"name":"Acme","primary_domain":"acme.example"}},
               null,
               {"id":"64a2","first_name":"Bo","state":"Bavaria","country":"Germany"}]}""",
            null,
            Map.of(
                "x-minute-requests-left",
                "0",
                "x-hourly-requests-left",
                "10",
                "x-daily-requests-left",
                "99"));
    assertThat(m).isInstanceOf(BulkMatch.Matched.class);
    BulkMatch.Matched matched = (BulkMatch.Matched) m;
    assertThat(matched.credits()).isEqualByComparingTo("1.5");
    assertThat(matched.windows()).isEqualTo(new RateWindows(0, 10, 99));
    assertThat(matched.people()).hasSize(3);
    EnrichedPerson ann = matched.people().get(0);
    assertThat(ann.email()).isEqualTo("ann.lee@acme.example");
    assertThat(ann.state()).isEqualTo("CA");
    assertThat(ann.organizationName()).isEqualTo("Acme");
    assertThat(ann.title()).isEqualTo("VP of Sales");
    assertThat(matched.people().get(1)).isNull();
    assertThat(matched.people().get(2).state()).as("not a US state").isNull();
  }

  @Test
  void a429ThrottlesWithItsRetryAfterAndItsMessage() {
    BulkMatch t =
        answer(
            429,
            "{\"message\":\"The maximum number of api calls allowed for api/v1/people/bulk_match"
                + " is 600 times per hour.\"}",
            "12",
            Map.of());
    assertThat(t)
        .isEqualTo(
            new BulkMatch.Throttled(
                Duration.ofSeconds(12),
                "The maximum number of api calls allowed for api/v1/people/bulk_match is 600"
                    + " times per hour."));
    assertThat(
            ((BulkMatch.Throttled) answer(429, "{\"message\":\"slow\"}", null, Map.of()))
                .retryAfter())
        .isNull();
  }

  @Test
  void refusalsAreFinalAndServerErrorsAreTriedAgain() {
    assertThat(
            answer(
                401,
                "Invalid API key. See https://docs.apollo.io/reference/authentication for how to"
                    + " authenticate.",
                null,
                Map.of()))
        .isEqualTo(
            new BulkMatch.Refused(
                401,
                "Invalid API key. See https://docs.apollo.io/reference/authentication for how to"
                    + " authenticate."));
    assertThat(answer(422, "{\"error\":\"too many\"}", null, Map.of()))
        .isEqualTo(new BulkMatch.Refused(422, "too many"));
    assertThat(answer(503, "{\"message\":\"down\"}", null, Map.of()))
        .isEqualTo(new BulkMatch.Unavailable("503: down"));
    assertThat(answer(200, "{\"status\":\"success\"}", null, Map.of()))
        .isInstanceOf(BulkMatch.Unavailable.class);
  }
}
