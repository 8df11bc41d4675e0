package io.outreach.engine.provider;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** {@link SignalHouseSignature} against the vector in TEST-VECTORS.md, and its replay window. */
class SignalHouseSignatureTest {
  private static final String SECRET = "sh_test_secret";
  private static final String TIMESTAMP = "1764086400000";
  private static final String BODY =
      "{\"event\":\"message.received\",\"data\":{\"from\":\"+12125550123\",\"to\":\"+15550100001\",\"text\":\"STOP\"}}";
  private static final String SIGNATURE =
      "b23269ace4aa66a822e62fb445724350cbb4015688aff13c73796f6ebed0e550";
  private static final Instant SENT = Instant.ofEpochMilli(1764086400000L);
  private static final Duration FIVE_MINUTES = SignalHouseSignature.MAX_AGE;

  @Test
  void signsTheKnownVector() {
    assertThat(SignalHouseSignature.sign(SECRET, TIMESTAMP, BODY)).isEqualTo(SIGNATURE);
  }

  @Test
  void verifiesAFreshDeliveryInEitherHexCase() {
    Instant now = SENT.plusSeconds(30);
    assertThat(SignalHouseSignature.verify(SECRET, TIMESTAMP, BODY, SIGNATURE, now, FIVE_MINUTES))
        .isTrue();
    assertThat(
            SignalHouseSignature.verify(
                SECRET,
                TIMESTAMP,
                BODY,
                SIGNATURE.toUpperCase(java.util.Locale.ROOT),
                now,
                FIVE_MINUTES))
        .isTrue();
  }

  @Test
  void refusesAnotherBodySecretOrTimestamp() {
    Instant now = SENT.plusSeconds(1);
    assertThat(
            SignalHouseSignature.verify(
                SECRET, TIMESTAMP, BODY.replace("STOP", "stop"), SIGNATURE, now, FIVE_MINUTES))
        .isFalse();
    assertThat(SignalHouseSignature.verify("other", TIMESTAMP, BODY, SIGNATURE, now, FIVE_MINUTES))
        .isFalse();
    assertThat(
            SignalHouseSignature.verify(
                SECRET, "1764086400001", BODY, SIGNATURE, now, FIVE_MINUTES))
        .isFalse();
    assertThat(SignalHouseSignature.verify(SECRET, TIMESTAMP, BODY, null, now, FIVE_MINUTES))
        .isFalse();
  }

  @Test
  void refusesAStaleTimestampEvenWhenCorrectlySigned() {
    assertThat(
            SignalHouseSignature.verify(
                SECRET, TIMESTAMP, BODY, SIGNATURE, SENT.plus(FIVE_MINUTES), FIVE_MINUTES))
        .isTrue();
    assertThat(
            SignalHouseSignature.verify(
                SECRET,
                TIMESTAMP,
                BODY,
                SIGNATURE,
                SENT.plus(FIVE_MINUTES).plusMillis(1),
                FIVE_MINUTES))
        .isFalse();
    assertThat(
            SignalHouseSignature.verify(
                SECRET,
                TIMESTAMP,
                BODY,
                SIGNATURE,
                SENT.minus(Duration.ofMinutes(6)),
                FIVE_MINUTES))
        .as("a timestamp far in the future")
        .isFalse();
  }

  @Test
  void refusesAnUnparsableTimestamp() {
    for (String ts :
        new String[] {"", "yesterday", "1764086400.000", "2025-11-25T16:00:00Z", null}) {
      assertThat(SignalHouseSignature.verify(SECRET, ts, BODY, SIGNATURE, SENT, FIVE_MINUTES))
          .as(String.valueOf(ts))
          .isFalse();
    }
  }
}
