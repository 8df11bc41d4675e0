package io.outreach.persistence;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;
import java.util.Objects;

/**
 * One writer per person: everything that reads or changes what may be sent to a person (a send-time
 * reservation, an opt-out, a do-not-contact entry) first takes that person's transaction-level
 * advisory lock, so across campaigns, agents and nodes those checks and changes happen one at a
 * time for a person, never check-then-act. Locks are taken in key order, so two transactions
 * locking overlapping sets cannot deadlock; they end with the transaction.
 */
final class PersonLocks {
  private PersonLocks() {}

  /** The lock key of a tenant's person: 64 bits of SHA-256 (collisions only make two wait). */
  static long key(String tenantId, String phone) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest((tenantId + "|" + phone).getBytes(StandardCharsets.UTF_8));
      long k = 0;
      for (int i = 0; i < 8; i++) {
        k = (k << 8) | (d[i] & 0xff);
      }
      return k;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Takes the locks of {@code phones} in {@code c}'s transaction, in key order. */
  static void lock(Connection c, String tenantId, Collection<String> phones) throws SQLException {
    Long[] keys =
        phones.stream()
            .filter(Objects::nonNull)
            .distinct()
            .map(p -> key(tenantId, p))
            .sorted()
            .distinct()
            .toArray(Long[]::new);
    if (keys.length == 0) {
      return;
    }
    // An aggregate over unnest calls the lock function row by row in array order.
    try (PreparedStatement ps =
        c.prepareStatement(
            "select count(pg_advisory_xact_lock(k)) from unnest(?::bigint[]) as t(k)")) {
      ps.setArray(1, c.createArrayOf("bigint", keys));
      ps.executeQuery().close();
    }
  }
}
