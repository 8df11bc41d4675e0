package io.outreach.engine.compliance;

import io.outreach.engine.CborSerializable;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;

/**
 * Cathy's guardrails over a tenant's follow-ups (its policy {@code agentPolicies.cathy}, taken when
 * a campaign launches): at most {@code maxFollowUps} per recipient, at least {@code minSpacing}
 * since the person's last contact of any kind, and at most {@code dailyCap} follow-ups a day across
 * the tenant (none when null; days are the tenant's, {@code zone}).
 */
public record FollowUpPolicy(int maxFollowUps, Duration minSpacing, Integer dailyCap, String zone)
    implements CborSerializable {

  /** The agent whose guardrails these are. */
  public static final String AGENT = "cathy";

  /** Three follow-ups, a day apart at least, no daily cap. */
  public static final int DEFAULT_MAX = 3;

  public static final Duration DEFAULT_SPACING = Duration.ofHours(24);

  /** The spacing as a cap: one contact per {@code minSpacing}. */
  public FrequencyCap spacingCap() {
    return new FrequencyCap(1, minSpacing);
  }

  /** The start of the tenant's day that holds {@code now}. */
  public Instant dayStart(Instant now) {
    return ZonedDateTime.ofInstant(now, zoneId()).toLocalDate().atStartOfDay(zoneId()).toInstant();
  }

  /** The start of the tenant's next day. */
  public Instant nextDay(Instant now) {
    return ZonedDateTime.ofInstant(now, zoneId())
        .toLocalDate()
        .plusDays(1)
        .atStartOfDay(zoneId())
        .toInstant();
  }

  private ZoneId zoneId() {
    try {
      return zone == null ? ZoneOffset.UTC : ZoneId.of(zone);
    } catch (java.time.DateTimeException e) {
      return ZoneOffset.UTC;
    }
  }
}
