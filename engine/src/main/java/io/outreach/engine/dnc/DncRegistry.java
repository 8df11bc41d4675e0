package io.outreach.engine.dnc;

import java.time.LocalDate;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;

/**
 * Do-not-contact lookups the campaign pipeline uses (through the ComplianceGate): a tenant's own
 * list and the national registry copy shared by all tenants. Numbers are E.164.
 */
public interface DncRegistry {

  /** Why a number may not be contacted. */
  enum Listing {
    TENANT,
    NATIONAL
  }

  /** The numbers among {@code phones} that are listed, and where (tenant wins over national). */
  java.util.Map<String, Listing> listed(String tenantId, Collection<String> phones);

  /** The date of the national copy in force, if one was loaded. */
  Optional<LocalDate> nationalCopyAsOf();

  /** Convenience for a single number. */
  default Optional<Listing> listing(String tenantId, String phone) {
    return Optional.ofNullable(listed(tenantId, Set.of(phone)).get(phone));
  }
}
