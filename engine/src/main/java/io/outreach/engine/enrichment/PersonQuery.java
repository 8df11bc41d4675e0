package io.outreach.engine.enrichment;

import io.outreach.engine.CborSerializable;

/**
 * One lead as it is sent to the enrichment provider: what Apollo matches a person by (its bulk
 * match's {@code details} entry). Null members are left out.
 */
public record PersonQuery(String firstName, String lastName, String email, String organizationName)
    implements CborSerializable {

  /**
   * Whether the provider can match a lead by these: an email, or a first and last name with a
   * company (a name alone matches nobody and would only use up the rate limit).
   */
  public boolean matchable() {
    return present(email) || (present(firstName) && present(lastName) && present(organizationName));
  }

  private static boolean present(String s) {
    return s != null && !s.isBlank();
  }
}
