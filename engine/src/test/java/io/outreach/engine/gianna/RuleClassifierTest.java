package io.outreach.engine.gianna;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The offline rules: the documented phrases, their order, and determinism. */
class RuleClassifierTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "please don't text me again|opt_out|0.95",
        "Please dont text me again!|opt_out|0.95",
        "Stop texting me|opt_out|0.95",
        "Remove me from your list|opt_out|0.95",
        "take me off this list please|opt_out|0.95",
        "no more texts|opt_out|0.95",
        "Don\u2019t call me again|opt_out|0.95",
        "Leave me alone or I call my lawyer|opt_out|0.95",
        "I will call my lawyer|hostile|0.9",
        "this is a scam|hostile|0.9",
        "Wrong number|wrong_number|0.9",
        "You have the wrong person, no one by that name here|wrong_number|0.9",
        "Not interested|not_interested|0.85",
        "no thanks|not_interested|0.85",
        "Nope.|not_interested|0.85",
        "No|not_interested|0.8",
        "Yes!|interested|0.85",
        "sure, tell me more|interested|0.85",
        "Sounds good|interested|0.85",
        "What is the price?|question|0.75",
        "How does this work|question|0.75",
        "who is this?|question|0.75",
        "Thanks|other|0.5",
        "Passport renewal done|other|0.5",
        "Últimamente bien|other|0.5",
      })
  void documentedPhrases(String body, String category, double confidence) {
    Classification.Classified c = RuleClassifier.classify(body);
    assertThat(c.category().code()).isEqualTo(category);
    assertThat(c.confidence()).isEqualTo(confidence);
    assertThat(c.classifier()).isEqualTo(RuleClassifier.NAME);
    assertThat(c.usage()).isEqualTo(Classification.Usage.NONE);
  }

  @Property(tries = 300)
  void deterministicAndAlwaysAnAnswer(@ForAll String body) {
    Classification.Classified a = RuleClassifier.classify(body);
    assertThat(RuleClassifier.classify(body)).isEqualTo(a);
    assertThat(a.confidence()).isBetween(0.0, 1.0);
  }
}
