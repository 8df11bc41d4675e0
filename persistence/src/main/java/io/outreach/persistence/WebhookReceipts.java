package io.outreach.persistence;

import java.sql.PreparedStatement;
import java.time.Instant;

/**
 * Stores provider webhooks before the engine answers them: a delivery the provider repeats (same
 * dedup key) changes nothing. The first delivery of each is also written to the audit trail, in
 * the same transaction.
 */
public final class WebhookReceipts {
  private final TenantJdbc tenantJdbc;

  public WebhookReceipts(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  /** One verified webhook delivery. */
  public record Receipt(
      String tenantId,
      String provider,
      String kind,
      String dedupKey,
      String subject,
      String payloadJson,
      String auditDetailJson) {}

  /** Stores {@code r}; answers false when the same delivery was stored before. */
  public boolean store(Receipt r) {
    return tenantJdbc.inTenant(
        r.tenantId(),
        c -> {
          Instant now = Instant.now();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "insert into webhook_receipts (tenant_id, provider, dedup_key, kind, received_at,"
                      + " payload) values (?, ?, ?, ?, ?, ?::jsonb) on conflict do nothing")) {
            ps.setString(1, r.tenantId());
            ps.setString(2, r.provider());
            ps.setString(3, r.dedupKey());
            ps.setString(4, r.kind());
            ps.setTimestamp(5, java.sql.Timestamp.from(now));
            ps.setString(6, r.payloadJson());
            if (ps.executeUpdate() == 0) {
              return false;
            }
          }
          AuditRepository.insert(
              c, r.tenantId(), now, r.provider(), "receipt." + r.kind(), r.subject(), r.auditDetailJson());
          return true;
        });
  }
}
