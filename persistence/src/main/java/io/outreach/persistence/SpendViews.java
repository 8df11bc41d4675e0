package io.outreach.persistence;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The spend ledger as {@code GET /v1/spend} reads it: the tenant's buckets, what each campaign and
 * agent spent and holds, and the latest entries. Reads only; {@link SpendRepository} writes.
 */
public final class SpendViews {
  private final TenantJdbc tenantJdbc;

  public SpendViews(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  /** A bucket as {@code GET /v1/spend} shows it. */
  public record BucketView(
      String bucket, long limitMicros, long committedMicros, long reservedMicros) {}

  /** A ledger entry as {@code GET /v1/spend} shows it. */
  public record EntryView(
      long id,
      Instant at,
      String kind,
      String reservationId,
      String campaignId,
      String agent,
      long amountMicros,
      String detail) {}

  /** The tenant's buckets whose name starts with one of {@code prefixes}, by name. */
  public List<BucketView> buckets(String tenantId, List<String> prefixes) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select bucket, limit_micros, committed_micros, reserved_micros from"
                      + " spend_buckets where tenant_id = ? and bucket like any(?) order by"
                      + " bucket")) {
            ps.setString(1, tenantId);
            ps.setArray(2, c.createArrayOf("text", prefixes.stream().map(p -> p + "%").toArray()));
            List<BucketView> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new BucketView(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
              }
            }
            return out;
          }
        });
  }

  /** What one campaign or agent has spent and holds, over all its reservations. */
  public record OwnerView(String owner, long committedMicros, long reservedMicros) {}

  /**
   * Spent and held by campaign ({@code agents} false) or by agent (true), over all their
   * reservations, largest spend first.
   */
  public List<OwnerView> byOwner(String tenantId, boolean agents) {
    String owner = agents ? "agent" : "campaign_id";
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select "
                      + owner
                      + ", sum(committed_micros), sum(reserved_micros - committed_micros) from"
                      + " spend_reservations where tenant_id = ? and "
                      + owner
                      + " is not null group by 1 order by 2 desc, 1 limit 500")) {
            ps.setString(1, tenantId);
            List<OwnerView> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(new OwnerView(rs.getString(1), rs.getLong(2), rs.getLong(3)));
              }
            }
            return out;
          }
        });
  }

  /** The tenant's latest {@code limit} ledger entries (of one kind, if given), newest first. */
  public List<EntryView> entries(String tenantId, Optional<String> kind, int limit) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select id, at, kind, reservation_id, campaign_id, agent, amount_micros,"
                      + " detail::text from spend_entries where tenant_id = ? and (?::text is null"
                      + " or kind = ?) order by id desc limit ?")) {
            ps.setString(1, tenantId);
            ps.setString(2, kind.orElse(null));
            ps.setString(3, kind.orElse(null));
            ps.setInt(4, limit);
            List<EntryView> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new EntryView(
                        rs.getLong(1),
                        rs.getTimestamp(2).toInstant(),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getLong(7),
                        rs.getString(8)));
              }
            }
            return out;
          }
        });
  }
}
