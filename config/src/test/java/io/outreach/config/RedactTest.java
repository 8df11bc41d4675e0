package io.outreach.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedactTest {
  @Test
  void phoneKeepsPrefixAndLastTwoDigits() {
    assertThat(Redact.phone("+15551234567")).isEqualTo("+1555*****67");
  }

  @Test
  void textMasksPhonesTokensAndBearerCredentials() {
    String jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    String out =
        Redact.text("sent to +15551234567 with " + jwt + " and Authorization: Bearer abc.def");
    assertThat(out)
        .doesNotContain("5551234567")
        .doesNotContain("eyJzdWIiOiJ4In0")
        .doesNotContain("abc.def")
        .contains("+1555*****67")
        .contains("eyJh****");
  }

  @Test
  void textLeavesOrdinaryNumbersAlone() {
    assertThat(Redact.text("imported 1000 rows in 12 ms")).isEqualTo("imported 1000 rows in 12 ms");
  }

  @Test
  void textLeavesActorUidsAlone() {
    assertThat(Redact.text("Actor[pekko://sys/user/a#-1960632832]"))
        .isEqualTo("Actor[pekko://sys/user/a#-1960632832]");
  }

  @Test
  void textMasksLocalFormattedNumbers() {
    assertThat(Redact.text("from (555) 123-4567 ok")).doesNotContain("123-4567");
  }
}
