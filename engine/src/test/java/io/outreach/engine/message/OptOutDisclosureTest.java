package io.outreach.engine.message;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A text tells how to opt out exactly once. */
class OptOutDisclosureTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Big sale today! Reply STOP to opt out",
        "Big sale today! reply stop to end",
        "Text STOP to unsubscribe.",
        "Txt STOP to quit",
        "Msg&data rates may apply. Reply HELP for help, STOP to cancel.",
        "Sale! STOP to opt out",
        "Sale! STOP to opt-out",
        "Sale! Stop to unsubscribe",
        "Sale! STOP to end",
        "Sale! STOP=stop",
        "Sale! STOP2END",
        "Sale! Reply 'STOP' to be removed",
        "Sale! Reply “STOP” to be removed",
        "Sale! Reply with STOP any time",
        "Sale! Opt out: STOP",
        "Sale!\nreply stop",
      })
  void recognisesDisclosures(String body) {
    assertThat(OptOutDisclosure.hasDisclosure(body)).isTrue();
    assertThat(OptOutDisclosure.withDisclosure(body)).isEqualTo(body);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "We won't stop until you save!",
        "Stop by our store this weekend.",
        "Sale ends Sunday. Cancel anytime.",
        "Non-stop deals to end the year",
        "To unsubscribe, visit example.com",
      })
  void textWithoutADisclosure(String body) {
    assertThat(OptOutDisclosure.hasDisclosure(body)).isFalse();
  }

  @Test
  void appendsTheDisclosureOnItsOwnLine() {
    assertThat(OptOutDisclosure.withDisclosure("Hi Ann, 20% off today."))
        .isEqualTo("Hi Ann, 20% off today.\nReply STOP to opt out");
    assertThat(OptOutDisclosure.withDisclosure("")).isEqualTo("Reply STOP to opt out");
  }

  @Test
  void appendsExactlyOnce() {
    String once = OptOutDisclosure.withDisclosure("Hi Ann, stop by our store.");

    assertThat(OptOutDisclosure.withDisclosure(once)).isEqualTo(once);
    assertThat(OptOutDisclosure.withDisclosure(OptOutDisclosure.withDisclosure(once)))
        .isEqualTo(once);
    assertThat(once.split("Reply STOP", -1)).hasSize(2);
  }
}
