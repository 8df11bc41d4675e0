package io.outreach.engine.tenant;

import java.util.regex.Pattern;

/** Tenant ids are lowercase slugs of 3 to 40 characters: letters, digits, inner hyphens. */
public final class TenantId {
  private static final Pattern SLUG = Pattern.compile("[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]");

  private TenantId() {}

  public static boolean isValid(String id) {
    return id != null && SLUG.matcher(id).matches() && !id.contains("--");
  }

  /** Why {@code id} is not a tenant id, for error messages. */
  public static String rule() {
    return "a tenant id is 3-40 lowercase letters, digits and single inner hyphens";
  }
}
