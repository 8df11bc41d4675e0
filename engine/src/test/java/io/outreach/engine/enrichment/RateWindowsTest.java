package io.outreach.engine.enrichment;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Apollo's windows as LUCI reads them: an empty window is waited out to its UTC end. */
class RateWindowsTest {
  private static final Instant NOW = Instant.parse("2026-12-02T10:15:42Z");

  @Test
  void windowsWithCallsLeftLetTheNextCallGoNow() {
    assertThat(new RateWindows(3, 100, 1000).nextCallAt(NOW)).isEqualTo(NOW);
    assertThat(RateWindows.UNKNOWN.nextCallAt(NOW)).isEqualTo(NOW);
  }

  @Test
  void anEmptyWindowIsWaitedOutToItsEndTheWidestFirst() {
    assertThat(new RateWindows(0, 5, 5).nextCallAt(NOW))
        .isEqualTo(Instant.parse("2026-12-02T10:16:00Z"));
    assertThat(new RateWindows(0, 0, 5).nextCallAt(NOW))
        .isEqualTo(Instant.parse("2026-12-02T11:00:00Z"));
    assertThat(new RateWindows(7, 0, 0).nextCallAt(NOW))
        .isEqualTo(Instant.parse("2026-12-03T00:00:00Z"));
  }

  @Test
  void aThrottleWaitsItsRetryAfterElseTheWindowItNamesElseBacksOff() {
    assertThat(RateWindows.afterThrottle(Duration.ofSeconds(7), "per day", 1, NOW))
        .isEqualTo(Duration.ofSeconds(7));
    assertThat(
            RateWindows.afterThrottle(
                null,
                "The maximum number of api calls allowed for api/v1/people/match is 600 times per"
                    + " hour.",
                1,
                NOW))
        .isEqualTo(Duration.between(NOW, Instant.parse("2026-12-02T11:00:00Z")));
    assertThat(RateWindows.afterThrottle(null, "slow down", 1, NOW))
        .isEqualTo(Duration.ofSeconds(1));
    assertThat(RateWindows.afterThrottle(null, null, 3, NOW)).isEqualTo(Duration.ofSeconds(4));
    assertThat(RateWindows.backoff(20)).isEqualTo(Duration.ofSeconds(60));
  }
}
