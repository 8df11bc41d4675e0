package io.outreach.persistence;

import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** Reads leads and erases them for privacy requests, always within one tenant. */
public final class LeadRepository {
  private static final String COLUMNS =
      "lead_id, seq, phone, email, first_name, last_name, company, address, city, state, zip,"
          + " timezones, consent_at, consent_source, attributes::text, import_id, created_at";

  private final TenantJdbc tenantJdbc;

  public LeadRepository(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  /** A stored lead; {@code attributes} is a JSON object. */
  public record Lead(
      UUID id,
      long seq,
      String phone,
      String email,
      String firstName,
      String lastName,
      String company,
      String address,
      String city,
      String state,
      String zip,
      List<String> timezones,
      Instant consentAt,
      String consentSource,
      String attributes,
      String importId,
      Instant createdAt) {}

  /** Leads in the order they were created, after position {@code afterSeq}. */
  public List<Lead> page(
      String tenantId, Optional<String> importId, Optional<Long> afterSeq, int limit) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select "
                      + COLUMNS
                      + " from leads where (?::text is null or import_id = ?)"
                      + " and seq > ? order by seq limit ?")) {
            ps.setString(1, importId.orElse(null));
            ps.setString(2, importId.orElse(null));
            ps.setLong(3, afterSeq.orElse(0L));
            ps.setInt(4, limit);
            return read(ps);
          }
        });
  }

  public Optional<Lead> get(String tenantId, UUID id) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("select " + COLUMNS + " from leads where lead_id = ?")) {
            ps.setObject(1, id);
            return read(ps).stream().findFirst();
          }
        });
  }

  /**
   * Erases a lead's personal data for a privacy request: the lead is deleted, its number stays
   * suppressed on the tenant's do-not-contact list (source {@code erasure}), and the audit trail
   * records the erasure without personal data. The tenant's stored uploads of finished imports,
   * which may hold the person (a stored file is not rewritten), are deleted with it; a running
   * import keeps its upload until it finishes. Answers false if there is no such lead.
   */
  public boolean erase(String tenantId, UUID id, String actor) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          String phone;
          try (PreparedStatement ps =
              c.prepareStatement("delete from leads where lead_id = ? returning phone")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return false;
              }
              phone = rs.getString(1);
            }
          }
          if (phone != null) {
            DncRepository.add(c, tenantId, phone, "lead erased on request", "erasure");
          }
          int uploads = PostgresUploadStore.deleteFinished(c, tenantId, java.time.Duration.ZERO);
          AuditRepository.insert(
              c,
              tenantId,
              Instant.now(),
              actor,
              "lead.erased",
              id.toString(),
              "{\"suppressed\":" + (phone != null) + ",\"uploadsDeleted\":" + uploads + "}");
          return true;
        });
  }

  private static List<Lead> read(PreparedStatement ps) throws SQLException {
    List<Lead> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Array zones = rs.getArray(12);
        Timestamp consent = rs.getTimestamp(13);
        out.add(
            new Lead(
                rs.getObject(1, UUID.class),
                rs.getLong(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getString(6),
                rs.getString(7),
                rs.getString(8),
                rs.getString(9),
                rs.getString(10),
                rs.getString(11),
                Arrays.asList((String[]) zones.getArray()),
                consent == null ? null : consent.toInstant(),
                rs.getString(14),
                rs.getString(15),
                rs.getString(16),
                rs.getTimestamp(17).toInstant()));
      }
    }
    return out;
  }
}
