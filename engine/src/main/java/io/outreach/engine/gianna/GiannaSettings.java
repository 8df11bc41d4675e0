package io.outreach.engine.gianna;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Gianna's engine-wide settings ({@code outreach.gianna}): how many replies a tenant's Gianna
 * classifies in one pass and how many passes she runs at once, how often a failed classification is
 * tried again and how long it backs off, the defaults of the tenant's policy (the confidence an
 * automatic answer needs, the confidence at which a reply read as an opt-out is one, the categories
 * it may answer), and the answers it drafts when the classifier drafts none (the offline rules).
 */
public record GiannaSettings(
    int batch,
    int passesInFlight,
    int maxAttempts,
    Duration firstBackoff,
    Duration maxBackoff,
    double confidenceThreshold,
    double optOutThreshold,
    List<ReplyCategory> autoAnswer,
    Map<ReplyCategory, String> answers) {

  public GiannaSettings {
    if (batch < 1) {
      throw new IllegalArgumentException("outreach.gianna.batch must be at least 1: " + batch);
    }
    if (passesInFlight < 1) {
      throw new IllegalArgumentException(
          "outreach.gianna.passes-in-flight must be at least 1: " + passesInFlight);
    }
    autoAnswer = List.copyOf(autoAnswer);
    answers = Map.copyOf(answers);
  }

  /** {@code outreach.gianna} of {@code root}. */
  public static GiannaSettings from(Config root) {
    Config c = root.getConfig("outreach.gianna");
    Map<ReplyCategory, String> answers = new EnumMap<>(ReplyCategory.class);
    Config a = c.getConfig("answers");
    for (ReplyCategory cat : ReplyCategory.values()) {
      if (a.hasPath(cat.code())) {
        answers.put(cat, a.getString(cat.code()));
      }
    }
    return new GiannaSettings(
        c.getInt("batch"),
        c.getInt("passes-in-flight"),
        c.getInt("max-attempts"),
        c.getDuration("first-backoff"),
        c.getDuration("max-backoff"),
        c.getDouble("confidence-threshold"),
        c.getDouble("opt-out-threshold"),
        c.getStringList("auto-answer").stream()
            .map(s -> ReplyCategory.of(s).orElseThrow(() -> new IllegalArgumentException(s)))
            .toList(),
        answers);
  }

  /** The wait before attempt {@code attempt} (1-based) of a classification that failed. */
  public Duration backoff(int attempt) {
    long millis = firstBackoff.toMillis() << Math.min(20, Math.max(0, attempt - 1));
    return Duration.ofMillis(Math.min(millis, maxBackoff.toMillis()));
  }
}
