package io.outreach.http;

import java.util.Locale;
import java.util.Optional;

/**
 * Roles carried in the token's {@code roles} claim. {@code admin} includes {@code operator}, which
 * includes {@code viewer}; {@code platform} (operators of the whole engine) is separate and
 * includes none of them.
 */
public enum Role {
  PLATFORM,
  ADMIN,
  OPERATOR,
  VIEWER;

  public String claim() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Role> fromClaim(String value) {
    for (Role r : values()) {
      if (r.claim().equals(value)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }

  /** Whether holding this role grants {@code required}. */
  public boolean grants(Role required) {
    if (this == required) {
      return true;
    }
    return switch (this) {
      case ADMIN -> required == OPERATOR || required == VIEWER;
      case OPERATOR -> required == VIEWER;
      default -> false;
    };
  }
}
