package io.outreach.engine.intake;

import io.outreach.engine.CborSerializable;
import java.time.Instant;

/**
 * What an import processes: the stored upload of one tenant, and how to read its numbers ({@code
 * region} for numbers without a country code, {@code tenantTimezone} when a lead's zone cannot be
 * told otherwise).
 */
public record ImportSpec(
    String tenantId,
    String importId,
    String sha256,
    long bytes,
    String region,
    String tenantTimezone,
    Instant receivedAt)
    implements CborSerializable {

  /** The ImportJob entity id: the tenant and the import, never containing {@code |}. */
  public String entityId() {
    return ImportJob.entityId(tenantId, importId);
  }
}
