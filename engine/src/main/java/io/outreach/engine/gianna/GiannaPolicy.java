package io.outreach.engine.gianna;

import io.outreach.engine.tenant.AgentPolicy;
import java.util.List;
import java.util.Optional;

/**
 * What Gianna does with a classified reply, as a pure function of the classification and the
 * tenant's policy:
 *
 * <ul>
 *   <li>{@code opt_out} at or above the opt-out threshold (default 0.8): the person is opted out
 *       (an agent may add opt-outs, never remove one) and gets the one confirmation;
 *   <li>an automatic answer only if the tenant enabled it ({@code humanReview} false), the category
 *       is one it allows ({@code autoAnswer}, default {@code interested, question}), the confidence
 *       is at least the threshold (default 0.9) and there is an answer to send;
 *   <li>everything else, failures included, waits in the review queue with the drafted answer (the
 *       model's, else the tenant's default for the category), which a person may edit, approve or
 *       reject.
 * </ul>
 */
public final class GiannaPolicy {
  private GiannaPolicy() {}

  /** What Gianna does. */
  public enum Action {
    OPT_OUT,
    ANSWER,
    REVIEW
  }

  /** Gianna's verdict: the action, the answer it would send (if any) and why. */
  public record Verdict(Action action, String answer, String why) {}

  /** The verdict on {@code c} under {@code policy} (null: the defaults). */
  public static Verdict decide(Classification c, AgentPolicy policy, GiannaSettings settings) {
    if (c instanceof Classification.Failed f) {
      return new Verdict(Action.REVIEW, null, "not classified: " + f.reason());
    }
    Classification.Classified k = (Classification.Classified) c;
    double optOutAt =
        Optional.ofNullable(policy)
            .map(AgentPolicy::optOutThreshold)
            .orElse(settings.optOutThreshold());
    if (k.category() == ReplyCategory.OPT_OUT) {
      return k.confidence() >= optOutAt
          ? new Verdict(Action.OPT_OUT, null, "opt_out at " + k.confidence() + " >= " + optOutAt)
          : new Verdict(Action.REVIEW, null, "opt_out at " + k.confidence() + " < " + optOutAt);
    }
    String answer =
        k.draft() != null && !k.draft().isBlank()
            ? k.draft().strip()
            : settings.answers().get(k.category());
    double threshold =
        Optional.ofNullable(policy)
            .map(AgentPolicy::confidenceThreshold)
            .orElse(settings.confidenceThreshold());
    List<String> allowed =
        Optional.ofNullable(policy)
            .map(AgentPolicy::autoAnswer)
            .orElse(settings.autoAnswer().stream().map(ReplyCategory::code).toList());
    if (policy == null || policy.humanReview()) {
      return new Verdict(Action.REVIEW, answer, "human review is on");
    }
    if (!allowed.contains(k.category().code())) {
      return new Verdict(
          Action.REVIEW, answer, k.category().code() + " is not answered automatically");
    }
    if (k.confidence() < threshold) {
      return new Verdict(Action.REVIEW, answer, "confidence " + k.confidence() + " < " + threshold);
    }
    if (answer == null || answer.isBlank()) {
      return new Verdict(Action.REVIEW, null, "no answer drafted");
    }
    return new Verdict(Action.ANSWER, answer, "confidence " + k.confidence() + " >= " + threshold);
  }
}
