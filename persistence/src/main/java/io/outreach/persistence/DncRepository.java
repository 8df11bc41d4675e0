package io.outreach.persistence;

import io.outreach.engine.dnc.DncRegistry;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.postgresql.PGConnection;

/**
 * Do-not-contact numbers: each tenant's own list (under row-level security) and the national
 * registry copy, stored once for all tenants. Numbers are E.164.
 */
public final class DncRepository implements DncRegistry {
  private final TenantJdbc tenantJdbc;
  private final DataSource dataSource;

  public DncRepository(TenantJdbc tenantJdbc, DataSource dataSource) {
    this.tenantJdbc = tenantJdbc;
    this.dataSource = dataSource;
  }

  /** One number on a tenant's list. */
  public record Entry(String phone, String reason, String source, Instant createdAt) {}

  /** The national copy in force. */
  public record NationalCopy(LocalDate asOf, Instant loadedAt, long numbers) {}

  @Override
  public Map<String, Listing> listed(String tenantId, Collection<String> phones) {
    return tenantJdbc.inTenant(tenantId, c -> listed(c, phones));
  }

  /** {@link #listed} on a connection already bound to the tenant (inside a larger transaction). */
  static Map<String, Listing> listed(Connection c, Collection<String> phones) throws SQLException {
    String[] numbers = phones.toArray(String[]::new);
    Map<String, Listing> out = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "select phone, 'TENANT' from dnc_numbers where phone = any(?)"
                + " union all select phone, 'NATIONAL' from national_dnc where phone = any(?)")) {
      ps.setArray(1, c.createArrayOf("text", numbers));
      ps.setArray(2, c.createArrayOf("text", numbers));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Listing l = Listing.valueOf(rs.getString(2));
          out.merge(rs.getString(1), l, (a, b) -> a == Listing.TENANT ? a : b);
        }
      }
    }
    return out;
  }

  /** The as-of date of the national copy, read on {@code c}. */
  static Optional<LocalDate> nationalCopyAsOf(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("select as_of from national_dnc_copy where id = 1")) {
      return rs.next() ? Optional.of(rs.getDate(1).toLocalDate()) : Optional.empty();
    }
  }

  @Override
  public Optional<LocalDate> nationalCopyAsOf() {
    return nationalCopy().map(NationalCopy::asOf);
  }

  public Optional<NationalCopy> nationalCopy() {
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("select as_of, loaded_at, numbers from national_dnc_copy")) {
      return rs.next()
          ? Optional.of(
              new NationalCopy(
                  rs.getDate(1).toLocalDate(), rs.getTimestamp(2).toInstant(), rs.getLong(3)))
          : Optional.empty();
    } catch (SQLException e) {
      throw new DataAccessException("cannot read the national do-not-call copy", e);
    }
  }

  /** Adds numbers to a tenant's list; answers how many were new. */
  public int add(String tenantId, List<String> phones, String reason, String source) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          PersonLocks.lock(c, tenantId, phones);
          int added = 0;
          for (String phone : phones) {
            added += add(c, tenantId, phone, reason, source);
          }
          return added;
        });
  }

  static int add(Connection c, String tenantId, String phone, String reason, String source)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into dnc_numbers (tenant_id, phone, reason, source, created_at)"
                + " values (?, ?, ?, ?, now()) on conflict do nothing")) {
      ps.setString(1, tenantId);
      ps.setString(2, phone);
      ps.setString(3, reason);
      ps.setString(4, source);
      return ps.executeUpdate();
    }
  }

  public Optional<Entry> get(String tenantId, String phone) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select phone, reason, source, created_at from dnc_numbers where phone = ?")) {
            ps.setString(1, phone);
            return entry(ps);
          }
        });
  }

  /** Removes a number from a tenant's list; answers the removed entry. */
  public Optional<Entry> remove(String tenantId, String phone) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "delete from dnc_numbers where phone = ? and source <> 'erasure'"
                      + " returning phone, reason, source, created_at")) {
            ps.setString(1, phone);
            return entry(ps);
          }
        });
  }

  private static Optional<Entry> entry(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next()
          ? Optional.of(
              new Entry(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getTimestamp(4).toInstant()))
          : Optional.empty();
    }
  }

  /**
   * Replaces the national copy with {@code numbers} (E.164, one per line, already validated) in one
   * transaction: lookups see the old copy or the new one, never a mix.
   */
  public NationalCopy replaceNational(Reader numbers, LocalDate asOf) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        try (Statement st = c.createStatement()) {
          // Millions of numbers: longer than a request's statement may run (Database).
          st.execute("set local statement_timeout = 0");
          st.execute("create temporary table national_load (phone text) on commit drop");
        }
        c.unwrap(PGConnection.class)
            .getCopyAPI()
            .copyIn("copy national_load (phone) from stdin", numbers);
        long count;
        try (Statement st = c.createStatement()) {
          st.execute("delete from national_dnc");
          count =
              st.executeUpdate("insert into national_dnc select distinct phone from national_load");
        }
        Instant now = Instant.now();
        try (PreparedStatement ps =
            c.prepareStatement(
                "insert into national_dnc_copy (id, as_of, loaded_at, numbers) values (1, ?, ?, ?)"
                    + " on conflict (id) do update set as_of = excluded.as_of,"
                    + " loaded_at = excluded.loaded_at, numbers = excluded.numbers")) {
          ps.setDate(1, Date.valueOf(asOf));
          ps.setTimestamp(2, java.sql.Timestamp.from(now));
          ps.setLong(3, count);
          ps.executeUpdate();
        }
        c.commit();
        return new NationalCopy(asOf, now, count);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new DataAccessException("cannot replace the national do-not-call copy", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
