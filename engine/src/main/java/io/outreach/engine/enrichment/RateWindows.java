package io.outreach.engine.enrichment;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Optional;

/**
 * Apollo's fixed rate-limit windows as its last answer reported them ({@code
 * x-minute-requests-left}, {@code x-hourly-requests-left}, {@code x-daily-requests-left}; null when
 * a header was missing), and when the next call may go. Apollo does not say when a window starts;
 * LUCI takes them as aligned to UTC minutes, hours and days (decision record 111), so a window with
 * no calls left is waited out to its end.
 */
public record RateWindows(Integer minuteLeft, Integer hourLeft, Integer dayLeft) {
  public static final RateWindows UNKNOWN = new RateWindows(null, null, null);

  /** The first back-off after a 429 that names no wait; it doubles up to {@link #MAX_BACKOFF}. */
  static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);

  static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

  /**
   * When the next call may go: the end of the widest window that has no calls left, or {@code now}
   * when every window has some (or is not reported).
   */
  public Instant nextCallAt(Instant now) {
    if (exhausted(dayLeft)) {
      return windowEnd(ChronoUnit.DAYS, now);
    }
    if (exhausted(hourLeft)) {
      return windowEnd(ChronoUnit.HOURS, now);
    }
    if (exhausted(minuteLeft)) {
      return windowEnd(ChronoUnit.MINUTES, now);
    }
    return now;
  }

  /** The start of the next UTC {@code unit} (minute, hour or day) after {@code now}. */
  public static Instant windowEnd(ChronoUnit unit, Instant now) {
    return now.atZone(ZoneOffset.UTC).truncatedTo(unit).plus(1, unit).toInstant();
  }

  /**
   * How long to wait after a 429: its {@code Retry-After} when given; else to the end of the window
   * its message names ("600 times per hour"); else a back-off doubling with each 429 in a row from
   * one second up to a minute.
   */
  public static Duration afterThrottle(
      Duration retryAfter, String message, int inARow, Instant now) {
    if (retryAfter != null && !retryAfter.isNegative()) {
      return retryAfter;
    }
    Optional<ChronoUnit> window = named(message);
    if (window.isPresent()) {
      return Duration.between(now, windowEnd(window.get(), now));
    }
    return backoff(inARow);
  }

  /** One second doubled for each earlier attempt in a row, at most a minute. */
  public static Duration backoff(int inARow) {
    int doublings = Math.max(0, Math.min(inARow - 1, 6));
    Duration d = FIRST_BACKOFF.multipliedBy(1L << doublings);
    return d.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : d;
  }

  /** The window Apollo's 429 message names: "... per minute", "per hour", "per day". */
  static Optional<ChronoUnit> named(String message) {
    if (message == null) {
      return Optional.empty();
    }
    String m = message.toLowerCase(Locale.ROOT);
    if (m.contains("per day") || m.contains("per 24")) {
      return Optional.of(ChronoUnit.DAYS);
    }
    if (m.contains("per hour")) {
      return Optional.of(ChronoUnit.HOURS);
    }
    if (m.contains("per minute")) {
      return Optional.of(ChronoUnit.MINUTES);
    }
    return Optional.empty();
  }

  private static boolean exhausted(Integer left) {
    return left != null && left <= 0;
  }
}
