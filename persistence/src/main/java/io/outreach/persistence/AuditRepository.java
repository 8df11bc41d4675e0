package io.outreach.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The audit trail: every decision and change, newest first. Rows are written by projections inside
 * their own transactions; reads go through {@link TenantJdbc}, so a tenant sees only its own trail.
 */
public final class AuditRepository {
  private final TenantJdbc tenantJdbc;

  public AuditRepository(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  /** One audit row; {@code detail} is a JSON object. */
  public record AuditEntry(
      long id, Instant at, String actor, String action, String subject, String detail) {}

  /** A page of entries and the id to continue before, if there are more. */
  public record Page(List<AuditEntry> items, Optional<Long> nextBefore) {}

  /**
   * Entries of {@code tenantId} newest first, optionally only those about {@code subject}, starting
   * before id {@code before} (exclusive) when given.
   */
  public Page page(String tenantId, Optional<String> subject, Optional<Long> before, int limit) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select id, at, actor, action, subject, detail::text from audit_log"
                      + " where (?::text is null or subject = ?) and (?::bigint is null or id < ?)"
                      + " order by id desc limit ?")) {
            ps.setString(1, subject.orElse(null));
            ps.setString(2, subject.orElse(null));
            ps.setObject(3, before.orElse(null));
            ps.setObject(4, before.orElse(null));
            ps.setInt(5, limit + 1);
            List<AuditEntry> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                rows.add(
                    new AuditEntry(
                        rs.getLong(1),
                        rs.getTimestamp(2).toInstant(),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6)));
              }
            }
            if (rows.size() > limit) {
              List<AuditEntry> page = rows.subList(0, limit);
              return new Page(List.copyOf(page), Optional.of(page.get(limit - 1).id()));
            }
            return new Page(rows, Optional.empty());
          }
        });
  }

  /** An entry to append: when, who, what, about whom, and the detail (a JSON object). */
  record Row(Instant at, String actor, String action, String subject, String detailJson) {}

  /** Appends one entry on a connection already bound to {@code tenantId}. */
  static void insert(
      Connection c,
      String tenantId,
      Instant at,
      String actor,
      String action,
      String subject,
      String detailJson)
      throws SQLException {
    insert(c, tenantId, List.of(new Row(at, actor, action, subject, detailJson)));
  }

  /**
   * Appends the entries in their order on a connection already bound to {@code tenantId}, in one
   * round trip (a JDBC batch).
   */
  static void insert(Connection c, String tenantId, List<Row> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into audit_log (tenant_id, at, actor, action, subject, detail)"
                + " values (?, ?, ?, ?, ?, ?::jsonb)")) {
      for (Row r : rows) {
        ps.setString(1, tenantId);
        ps.setTimestamp(2, Timestamp.from(r.at()));
        ps.setString(3, r.actor());
        ps.setString(4, r.action());
        ps.setString(5, r.subject());
        ps.setString(6, r.detailJson());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }
}
