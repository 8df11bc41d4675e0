package io.outreach.persistence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * Each tenant's provider accounts ({@code provider_accounts}): the account's fields (ids and
 * secrets) sealed together by a {@link SecretBox}, bound to the tenant and provider. Changes are
 * audited in the same transaction, naming the provider and never a secret.
 */
public final class ProviderAccountRepository {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<TreeMap<String, String>> FIELDS = new TypeReference<>() {};

  private final TenantJdbc tenantJdbc;
  private final DataSource dataSource;
  private final SecretBox box;
  private final Clock clock;

  /** One stored account: its fields in clear (in memory only), and who last set it and when. */
  public record Account(
      String provider, Map<String, String> fields, Instant updatedAt, String updatedBy) {}

  /**
   * @param dataSource for the one query that spans tenants: which tenants have accounts (a rotation
   *     re-seals them all)
   */
  public ProviderAccountRepository(
      TenantJdbc tenantJdbc, DataSource dataSource, SecretBox box, Clock clock) {
    this.tenantJdbc = tenantJdbc;
    this.dataSource = dataSource;
    this.box = box;
    this.clock = clock;
  }

  private static String context(String tenantId, String provider) {
    return tenantId + "/" + provider;
  }

  /** Sets (replaces) the tenant's account at {@code provider}. */
  public Account put(String tenantId, String provider, Map<String, String> fields, String actor) {
    Instant now = clock.instant();
    byte[] sealed = box.seal(json(fields), context(tenantId, provider));
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "insert into provider_accounts (tenant_id, provider, sealed, updated_at,"
                      + " updated_by) values (?, ?, ?, ?, ?) on conflict (tenant_id, provider)"
                      + " do update set sealed = excluded.sealed, updated_at ="
                      + " excluded.updated_at, updated_by = excluded.updated_by")) {
            ps.setString(1, tenantId);
            ps.setString(2, provider);
            ps.setBytes(3, sealed);
            ps.setTimestamp(4, Timestamp.from(now));
            ps.setString(5, actor);
            ps.executeUpdate();
          }
          AuditRepository.insert(
              c,
              tenantId,
              now,
              actor,
              "provider-account.set",
              provider,
              "{\"provider\":\"" + provider + "\"}");
          return null;
        });
    return new Account(provider, Map.copyOf(fields), now, actor);
  }

  /** Removes the tenant's account at {@code provider}; false when it had none. */
  public boolean remove(String tenantId, String provider, String actor) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          int n;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "delete from provider_accounts where tenant_id = ? and provider = ?")) {
            ps.setString(1, tenantId);
            ps.setString(2, provider);
            n = ps.executeUpdate();
          }
          if (n > 0) {
            AuditRepository.insert(
                c,
                tenantId,
                clock.instant(),
                actor,
                "provider-account.removed",
                provider,
                "{\"provider\":\"" + provider + "\"}");
          }
          return n > 0;
        });
  }

  /** The tenant's account at {@code provider}, opened. */
  public Optional<Account> get(String tenantId, String provider) {
    return list(tenantId).stream().filter(a -> a.provider().equals(provider)).findFirst();
  }

  /** The tenant's accounts, opened, by provider name. */
  public List<Account> list(String tenantId) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          List<Account> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select provider, sealed, updated_at, updated_by from provider_accounts"
                      + " where tenant_id = ? order by provider")) {
            ps.setString(1, tenantId);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                String provider = rs.getString(1);
                out.add(
                    new Account(
                        provider,
                        fields(box.open(rs.getBytes(2), context(tenantId, provider))),
                        rs.getTimestamp(3).toInstant(),
                        rs.getString(4)));
              }
            }
          }
          return out;
        });
  }

  /**
   * Re-seals, under the current key, every account sealed under a previous one (a key rotation);
   * answers how many were re-sealed. Tenants are found through the journal (tenant ids are not
   * secret; the accounts table itself is only readable tenant by tenant).
   */
  public int resealAll() {
    int resealed = 0;
    for (String tenantId : tenantIds()) {
      resealed +=
          tenantJdbc.inTenant(
              tenantId,
              c -> {
                int n = 0;
                try (PreparedStatement read =
                        c.prepareStatement(
                            "select provider, sealed from provider_accounts where tenant_id = ?"
                                + " for update");
                    PreparedStatement write =
                        c.prepareStatement(
                            "update provider_accounts set sealed = ? where tenant_id = ? and"
                                + " provider = ?")) {
                  read.setString(1, tenantId);
                  try (ResultSet rs = read.executeQuery()) {
                    while (rs.next()) {
                      String provider = rs.getString(1);
                      byte[] sealed = rs.getBytes(2);
                      if (box.current(sealed)) {
                        continue;
                      }
                      String context = context(tenantId, provider);
                      write.setBytes(1, box.seal(box.open(sealed, context), context));
                      write.setString(2, tenantId);
                      write.setString(3, provider);
                      write.executeUpdate();
                      n++;
                    }
                  }
                }
                return n;
              });
    }
    return resealed;
  }

  /** Every tenant's accounts, opened (a start-up check in production). */
  public Map<String, List<Account>> all() {
    Map<String, List<Account>> out = new TreeMap<>();
    for (String tenantId : tenantIds()) {
      List<Account> accounts = list(tenantId);
      if (!accounts.isEmpty()) {
        out.put(tenantId, accounts);
      }
    }
    return out;
  }

  private List<String> tenantIds() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select distinct substr(persistence_id, 8) from event_journal"
                    + " where persistence_id like 'Tenant|%'")) {
      List<String> ids = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
      }
      return ids;
    } catch (SQLException e) {
      throw new DataAccessException("cannot list tenants", e);
    }
  }

  private static byte[] json(Map<String, String> fields) {
    try {
      return JSON.writeValueAsBytes(new TreeMap<>(fields));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, String> fields(byte[] json) {
    try {
      return Map.copyOf(JSON.readValue(new String(json, StandardCharsets.UTF_8), FIELDS));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a sealed account is not a field map", e);
    }
  }
}
