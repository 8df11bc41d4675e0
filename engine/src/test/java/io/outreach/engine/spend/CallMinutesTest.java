package io.outreach.engine.spend;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Calls are billed in started minutes, as Twilio's {@code Duration} counts them. */
class CallMinutesTest {
  @Test
  void startedMinutesFromSeconds() {
    assertThat(CallMinutes.billed(0)).isZero();
    assertThat(CallMinutes.billed(1)).isEqualTo(1);
    assertThat(CallMinutes.billed(49)).isEqualTo(1);
    assertThat(CallMinutes.billed(60)).isEqualTo(1);
    assertThat(CallMinutes.billed(61)).isEqualTo(2);
    assertThat(CallMinutes.billed(600)).isEqualTo(10);
  }

  @Test
  void aCallIsEstimatedFromWhatItSays() {
    assertThat(CallMinutes.estimated("Hi Ann, this is Acme with a winter offer.")).isEqualTo(1);
    // 150 words are a minute of speech, plus the prompt: two started minutes.
    assertThat(CallMinutes.estimated("word ".repeat(150))).isEqualTo(2);
    assertThat(CallMinutes.estimated("")).isEqualTo(1);
  }

  @Test
  void aCallMayLastItsEstimateAndAMinuteMore() {
    assertThat(CallMinutes.limit("Hi Ann, this is Acme with a winter offer.")).isEqualTo(2);
    assertThat(CallMinutes.limit("word ".repeat(150))).isEqualTo(3);
  }
}
