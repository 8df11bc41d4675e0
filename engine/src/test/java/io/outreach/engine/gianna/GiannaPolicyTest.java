package io.outreach.engine.gianna;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.outreach.engine.gianna.GiannaPolicy.Action;
import io.outreach.engine.tenant.AgentPolicy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Gianna's policy as a pure function: thresholds, the allowed set, human review, failures. */
class GiannaPolicyTest {
  private final GiannaSettings settings = GiannaSettings.from(ConfigFactory.load());

  private static Classification of(ReplyCategory c, double confidence, String draft) {
    return new Classification.Classified(
        c, confidence, draft, "anthropic", Classification.Usage.NONE);
  }

  private static AgentPolicy auto() {
    return new AgentPolicy(true, false, null, null);
  }

  @Test
  void defaultsComeFromReferenceConf() {
    assertThat(settings.confidenceThreshold()).isEqualTo(0.9);
    assertThat(settings.optOutThreshold()).isEqualTo(0.8);
    assertThat(settings.autoAnswer())
        .containsExactly(ReplyCategory.INTERESTED, ReplyCategory.QUESTION);
    assertThat(settings.backoff(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(settings.backoff(10)).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void anAnswerGoesOutOnlyEnabledAllowedAndConfident() {
    var q = of(ReplyCategory.QUESTION, 0.95, "Yes, we do.");
    assertThat(GiannaPolicy.decide(q, auto(), settings).action()).isEqualTo(Action.ANSWER);
    assertThat(GiannaPolicy.decide(q, auto(), settings).answer()).isEqualTo("Yes, we do.");
    // Human review on (the initial policy), a category not allowed, too little confidence.
    assertThat(GiannaPolicy.decide(q, AgentPolicy.initial("gianna"), settings).action())
        .isEqualTo(Action.REVIEW);
    assertThat(GiannaPolicy.decide(q, null, settings).action()).isEqualTo(Action.REVIEW);
    var onlyInterested =
        new AgentPolicy(
            true, false, null, null, null, List.of("interested"), null, null, null, null, null);
    assertThat(GiannaPolicy.decide(q, onlyInterested, settings).action()).isEqualTo(Action.REVIEW);
    assertThat(GiannaPolicy.decide(of(ReplyCategory.QUESTION, 0.89, "x"), auto(), settings))
        .extracting(GiannaPolicy.Verdict::action)
        .isEqualTo(Action.REVIEW);
    var lower = new AgentPolicy(true, false, 0.7, null);
    assertThat(
            GiannaPolicy.decide(of(ReplyCategory.QUESTION, 0.75, null), lower, settings).answer())
        .as("no draft: the tenant's default answer for the category")
        .startsWith("Thanks for your question");
    // Never wrong numbers or hostile replies by default.
    assertThat(GiannaPolicy.decide(of(ReplyCategory.HOSTILE, 0.99, "x"), auto(), settings).action())
        .isEqualTo(Action.REVIEW);
    // Allowed and confident but nothing to say: a human decides.
    var anything =
        new AgentPolicy(
            true, false, null, null, null, List.of("other"), null, null, null, null, null);
    assertThat(GiannaPolicy.decide(of(ReplyCategory.OTHER, 0.99, ""), anything, settings).action())
        .isEqualTo(Action.REVIEW);
  }

  @Test
  void optOutsAtTheThresholdAreOptOutsWhateverTheReviewSetting() {
    assertThat(
            GiannaPolicy.decide(
                    of(ReplyCategory.OPT_OUT, 0.8, null), AgentPolicy.initial("gianna"), settings)
                .action())
        .isEqualTo(Action.OPT_OUT);
    assertThat(
            GiannaPolicy.decide(of(ReplyCategory.OPT_OUT, 0.79, null), auto(), settings).action())
        .isEqualTo(Action.REVIEW);
    var strict = new AgentPolicy(true, false, null, null, null, null, 0.95, null, null, null, null);
    assertThat(GiannaPolicy.decide(of(ReplyCategory.OPT_OUT, 0.9, null), strict, settings).action())
        .isEqualTo(Action.REVIEW);
  }

  @Test
  void aFailureIsNeverAGuess() {
    var failed = Classification.Failed.finalFailure("malformed output: {", "anthropic", null);
    GiannaPolicy.Verdict v = GiannaPolicy.decide(failed, auto(), settings);
    assertThat(v.action()).isEqualTo(Action.REVIEW);
    assertThat(v.answer()).isNull();
    assertThat(v.why()).contains("malformed output");
  }
}
