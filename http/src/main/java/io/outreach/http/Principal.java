package io.outreach.http;

import java.util.Arrays;
import java.util.Set;

/** The verified caller: who ({@code sub}), for which tenant, with which roles. */
public record Principal(String subject, String tenantId, Set<Role> roles) {

  /** Whether any of the caller's roles grants any of {@code required}. */
  public boolean hasAny(Role... required) {
    return roles.stream().anyMatch(r -> Arrays.stream(required).anyMatch(r::grants));
  }
}
