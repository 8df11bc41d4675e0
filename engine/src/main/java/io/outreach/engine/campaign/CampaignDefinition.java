package io.outreach.engine.campaign;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.message.MessageTemplate;
import io.outreach.engine.message.TemplateException;
import java.time.Instant;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a campaign sends, to whom and when, as created through {@code POST /v1/campaigns}. {@code
 * provider}, {@code budgetCents} and {@code startAt} may be null: the tenant's first sender, the
 * tenant budget, and "at launch".
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CampaignDefinition(
    String name,
    Channel channel,
    String provider,
    Audience audience,
    String message,
    List<FollowUpStep> steps,
    SendWindow window,
    Long budgetCents,
    Instant startAt)
    implements CborSerializable {

  static final Set<String> PROVIDERS = Set.of("twilio", "signalhouse");
  static final int MAX_STEPS = 10;

  /**
   * Who receives the campaign: one import's leads, all of the tenant's, or the leads one enrichment
   * enriched (matched by the provider or found in the cache; what LUCI drafts campaigns for).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Audience(String importId, Boolean all, String enrichmentId)
      implements CborSerializable {

    /** One import's leads, or (with {@code all}) all of them. */
    public Audience(String importId, Boolean all) {
      this(importId, all, null);
    }

    /** The leads enrichment {@code enrichmentId} enriched. */
    public static Audience enriched(String enrichmentId) {
      return new Audience(null, null, enrichmentId);
    }

    boolean valid() {
      int kinds =
          (importId != null ? 1 : 0)
              + (Boolean.TRUE.equals(all) ? 1 : 0)
              + (enrichmentId != null ? 1 : 0);
      return kinds == 1;
    }
  }

  /**
   * A follow-up sent {@code afterHours} after the previous message to recipients who did not reply,
   * on {@code channel} ({@code null}: the campaign's own; a text campaign can follow up with a
   * call, and a call campaign with a text).
   *
   * <p>Its text is the author's {@code message}, or drafted by Cathy from the author's {@code
   * brief} when the campaign is created: then {@code drafter} names who drafted it (the model, or
   * {@code offline}) and, until a human approves it, {@code review} is the id of its item in the
   * review queue (null once approved, or when the tenant lets drafted follow-ups go without a
   * human).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record FollowUpStep(
      int afterHours, String message, Channel channel, String brief, String drafter, String review)
      implements CborSerializable {

    /** A follow-up the author wrote, on {@code channel}. */
    public FollowUpStep(int afterHours, String message, Channel channel) {
      this(afterHours, message, channel, null, null, null);
    }

    /** A follow-up on the campaign's own channel. */
    public FollowUpStep(int afterHours, String message) {
      this(afterHours, message, null);
    }

    /** A follow-up Cathy is to draft from {@code brief}. */
    public static FollowUpStep toDraft(int afterHours, String brief, Channel channel) {
      return new FollowUpStep(afterHours, null, channel, brief, null, null);
    }

    /** Whether Cathy is to draft this step (it has a brief and no text yet). */
    public boolean undrafted() {
      return message == null && brief != null;
    }

    /** This step with the text Cathy drafted, waiting for {@code review} (null: for no one). */
    public FollowUpStep drafted(String text, String by, String reviewId) {
      return new FollowUpStep(afterHours, text, channel, brief, by, reviewId);
    }
  }

  /** The longest brief a drafted follow-up may have. */
  public static final int MAX_BRIEF = 1000;

  /** The steps whose drafted text waits for a human, by review id (empty when none). */
  public Map<String, Integer> reviewsPending() {
    Map<String, Integer> pending = new LinkedHashMap<>();
    for (int i = 0; steps != null && i < steps.size(); i++) {
      if (steps.get(i).review() != null) {
        pending.put(steps.get(i).review(), i);
      }
    }
    return pending;
  }

  /** What a launch waits for while a drafted follow-up waits for a human; null when nothing. */
  public String reviewWaiting() {
    return reviewsPending().entrySet().stream()
        .findFirst()
        .map(
            w ->
                "the follow-up Cathy drafted for steps["
                    + w.getValue()
                    + "] waits for review "
                    + w.getKey()
                    + ": approve or reject it (POST /v1/reviews/{id}/approve or /reject)")
        .orElse(null);
  }

  /**
   * The definition once a human decided review {@code reviewId}: approved, its step sends {@code
   * text} (as the human left it); rejected ({@code text} null), the step is removed and the next
   * one follows the message before it. Unchanged when no step waits for that review.
   */
  public CampaignDefinition withReviewDecided(String reviewId, String text) {
    Integer at = reviewsPending().get(reviewId);
    if (at == null) {
      return this;
    }
    List<FollowUpStep> decided = new ArrayList<>(steps);
    FollowUpStep s = decided.get(at);
    if (text == null) {
      decided.remove((int) at);
    } else {
      decided.set(at, s.drafted(text, s.drafter(), null));
    }
    return withSteps(decided);
  }

  /** This definition with other follow-up steps. */
  public CampaignDefinition withSteps(List<FollowUpStep> other) {
    return new CampaignDefinition(
        name, channel, provider, audience, message, other, window, budgetCents, startAt);
  }

  /** Whether Cathy has steps to draft. */
  public boolean undrafted() {
    return steps != null && steps.stream().anyMatch(s -> s != null && s.undrafted());
  }

  /** The channel of step {@code step} (0 is the campaign's message). */
  public Channel channel(int step) {
    if (step == 0 || steps == null || step > steps.size()) {
      return channel;
    }
    Channel own = steps.get(step - 1).channel();
    return own == null ? channel : own;
  }

  /** Whether any of the campaign's messages is a call. */
  public boolean calls() {
    if (channel == Channel.VOICE) {
      return true;
    }
    return steps != null && steps.stream().anyMatch(s -> s != null && s.channel() == Channel.VOICE);
  }

  /** Local hours (in each recipient's zone) the campaign may send in; only narrows legal hours. */
  public record SendWindow(LocalTime start, LocalTime end) implements CborSerializable {}

  /** Every problem with this definition; empty when it can be created. */
  public List<String> problems(Instant now) {
    List<String> problems = new ArrayList<>();
    if (name == null || name.isBlank() || name.trim().length() > 200) {
      problems.add("name must be 1-200 characters");
    }
    if (channel == null) {
      problems.add("channel is required (sms or voice)");
    }
    if (provider != null && !PROVIDERS.contains(provider)) {
      problems.add("provider must be twilio or signalhouse");
    } else if (provider != null && !provider.equals("twilio") && calls()) {
      problems.add("calls go through twilio: a campaign with a voice step needs provider twilio");
    }
    if (audience == null || !audience.valid()) {
      problems.add(
          "audience must be one of {\"importId\": \"...\"}, {\"all\": true} or"
              + " {\"enrichmentId\": \"...\"}");
    }
    templateProblem("message", message, problems);
    if (steps != null) {
      if (steps.size() > MAX_STEPS) {
        problems.add("at most " + MAX_STEPS + " follow-up steps");
      }
      for (int i = 0; i < steps.size(); i++) {
        FollowUpStep s = steps.get(i);
        if (s == null || s.afterHours() < 1 || s.afterHours() > 24 * 30) {
          problems.add("steps[" + i + "].afterHours must be 1-720");
        }
        if (s != null && s.brief() != null) {
          briefProblem(i, s, problems);
        } else {
          templateProblem("steps[" + i + "].message", s == null ? null : s.message(), problems);
        }
      }
    }
    if (window != null
        && (window.start() == null
            || window.end() == null
            || !window.start().isBefore(window.end()))) {
      problems.add("window.start must be before window.end (HH:mm, recipient's local time)");
    }
    if (budgetCents != null && budgetCents < 0) {
      problems.add("budgetCents must not be negative");
    }
    if (startAt != null && startAt.isBefore(now.minusSeconds(60))) {
      problems.add("startAt must not be in the past");
    }
    return problems;
  }

  /**
   * A step with a brief: Cathy drafts its text, so it has none of its own until she has (then the
   * text must be a template like any other).
   */
  private static void briefProblem(int i, FollowUpStep s, List<String> problems) {
    String at = "steps[" + i + "]";
    if (s.brief().isBlank() || s.brief().length() > MAX_BRIEF) {
      problems.add(at + ".brief must be 1-" + MAX_BRIEF + " characters");
    }
    if (s.message() != null && s.drafter() == null) {
      problems.add(at + " has a message and a brief: write the message, or let Cathy draft it");
    } else if (s.message() != null) {
      templateProblem(at + ".message", s.message(), problems);
    }
  }

  private static void templateProblem(String field, String source, List<String> problems) {
    if (source == null || source.isBlank()) {
      problems.add(field + " is required");
      return;
    }
    try {
      MessageTemplate.parse(source);
    } catch (TemplateException e) {
      problems.add(field + ": " + e.getMessage());
    }
  }
}
