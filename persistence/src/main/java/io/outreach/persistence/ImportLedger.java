package io.outreach.persistence;

import io.outreach.engine.intake.ImportJob;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Optional;

/**
 * The {@code imports} table: which upload became which import, so the same content (SHA-256) or the
 * same {@code Idempotency-Key} answers with the existing import. A failed import releases its
 * content and key, so they may be uploaded again.
 */
public final class ImportLedger {
  private final TenantJdbc tenantJdbc;

  public ImportLedger(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  /** The live (not failed) import of this tenant with this key, if any. */
  public Optional<String> byIdempotencyKey(String tenantId, String key) {
    return find(tenantId, "idempotency_key", key);
  }

  /** The live (not failed) import of this tenant with this content, if any. */
  public Optional<String> bySha256(String tenantId, String sha256) {
    return find(tenantId, "sha256", sha256);
  }

  private Optional<String> find(String tenantId, String column, String value) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select import_id from imports where "
                      + column
                      + " = ? and status <> 'failed'")) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
          }
        });
  }

  /**
   * Records a new running import and marks it as work to resume after a crash. Answers the existing
   * import's id instead when the same content or key won a race.
   */
  public Optional<String> register(
      String tenantId, String importId, String sha256, Optional<String> idempotencyKey) {
    try {
      tenantJdbc.inTenant(
          tenantId,
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "insert into imports (tenant_id, import_id, sha256, idempotency_key, status,"
                        + " created_at) values (?, ?, ?, ?, 'running', now())")) {
              ps.setString(1, tenantId);
              ps.setString(2, importId);
              ps.setString(3, sha256);
              ps.setString(4, idempotencyKey.orElse(null));
              ps.executeUpdate();
            }
            ResumableWorkRepository.add(
                c, ImportJob.ENTITY_TYPE_KEY.name(), ImportJob.entityId(tenantId, importId));
            return null;
          });
      return Optional.empty();
    } catch (DataAccessException e) {
      if (!"23505".equals(e.sqlState())) {
        throw e;
      }
      Optional<String> existing =
          idempotencyKey
              .flatMap(k -> byIdempotencyKey(tenantId, k))
              .or(() -> bySha256(tenantId, sha256));
      return Optional.of(existing.orElseThrow(() -> e));
    }
  }

  /** Marks a registered import failed and no longer resumable. */
  public void markFailed(String tenantId, String importId) {
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("update imports set status = 'failed' where import_id = ?")) {
            ps.setString(1, importId);
            ps.executeUpdate();
          }
          ResumableWorkRepository.remove(
              c, ImportJob.ENTITY_TYPE_KEY.name(), ImportJob.entityId(tenantId, importId));
          return null;
        });
  }
}
