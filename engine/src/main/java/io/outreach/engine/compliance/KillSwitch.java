package io.outreach.engine.compliance;

import io.outreach.engine.CborSerializable;
import java.time.Instant;
import java.util.Locale;

/**
 * An engaged stop: while it exists, no contact it covers starts. {@code target} names what is
 * stopped within the scope: a tenant id, a campaign id, an agent name or a channel name; a platform
 * switch covers everything.
 */
public record KillSwitch(String id, Scope scope, String target, String engagedBy, Instant engagedAt)
    implements CborSerializable {

  /** What a kill switch stops. */
  public enum Scope {
    PLATFORM,
    TENANT,
    CAMPAIGN,
    AGENT,
    CHANNEL;

    public String code() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Whether this switch stops {@code contact}. */
  public boolean covers(Contact contact) {
    return switch (scope) {
      case PLATFORM -> true;
      case TENANT -> target.equals(contact.tenantId());
      case CAMPAIGN -> target.equals(contact.campaignId());
      case AGENT -> target.equals(contact.agent());
      // A lookup that contacts no one (an enrichment) has no channel: no channel switch covers it.
      case CHANNEL ->
          contact.channel() != null && target.equalsIgnoreCase(contact.channel().name());
    };
  }
}
